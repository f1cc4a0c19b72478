// libFuzzer target for the packet decoder. The first input byte picks the link type; the rest is
// the frame. Every layer must stay inside the bytes given (ASan) and leave a sane verdict, and
// decode()'s shortcut must agree with the general decoder.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "packet/decoder.h"

namespace {
constexpr uint32_t kLinkTypes[] = {1,   0,   101, 228, 229, 113, 276, 9, 50,
                                   104, 108, 127, 105, 107, 100, 8,   12};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint32_t linktype = kLinkTypes[data[0] % std::size(kLinkTypes)];
  for (bool decap : {true, false}) {
    flowkit::packet::PacketView v, general;
    std::memset(&v, 0xa5, sizeof v);
    std::memset(&general, 0xa5, sizeof general);
    flowkit::packet::DecodeOptions o;
    o.decapsulate = decap;
    flowkit::packet::decode(data + 1, uint32_t(size - 1), uint32_t(size - 1), linktype, o, v);
    // decode()'s shortcut for plain frames must give what the general walk gives.
    flowkit::packet::decode_general(data + 1, uint32_t(size - 1), uint32_t(size - 1), linktype, o,
                                    general);
    if (std::memcmp(&v, &general, sizeof v) != 0) std::abort();
    if (v.skip == flowkit::packet::SkipReason::kNone && v.ip_version != 4 && v.ip_version != 6)
      std::abort();
    if (v.payload_offset > size - 1 || v.payload_len > size - 1 - v.payload_offset) std::abort();
  }
  return 0;
}
