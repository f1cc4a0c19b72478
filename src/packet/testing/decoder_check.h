// For tests and the fuzz target: decode()'s shortcut against the general decoder.
#pragma once

#include <cstdint>
#include <cstring>

#include "packet/decoder.h"

namespace flowkit::packet::testing {

// Decodes the frame with decode() and with decode_general(), each into a view first filled with
// the same garbage, so that a field one of them leaves unset shows too. True when the two views
// are byte-identical.
inline bool shortcut_agrees(const uint8_t* data, uint32_t caplen, uint32_t wirelen,
                            uint32_t linktype, const DecodeOptions& options) {
  PacketView fast, general;
  std::memset(static_cast<void*>(&fast), 0xa5, sizeof fast);
  std::memset(static_cast<void*>(&general), 0xa5, sizeof general);
  decode(data, caplen, wirelen, linktype, options, fast);
  decode_general(data, caplen, wirelen, linktype, options, general);
  return std::memcmp(&fast, &general, sizeof fast) == 0;
}

}  // namespace flowkit::packet::testing
