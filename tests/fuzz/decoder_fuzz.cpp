// libFuzzer target for the packet decoder. The first input byte picks the link type; the rest is
// the frame. Every layer must stay inside the bytes given (ASan) and leave a sane verdict, and
// decode()'s shortcut must agree with the general decoder.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "packet/decoder.h"
#include "packet/testing/decoder_check.h"

namespace {
constexpr uint32_t kLinkTypes[] = {1,   0,   101, 228, 229, 113, 276, 9, 50,
                                   104, 108, 127, 105, 107, 100, 8,   12};
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  uint32_t linktype = kLinkTypes[data[0] % std::size(kLinkTypes)];
  for (bool decap : {true, false}) {
    flowkit::packet::PacketView v;
    flowkit::packet::DecodeOptions o;
    o.decapsulate = decap;
    flowkit::packet::decode(data + 1, uint32_t(size - 1), uint32_t(size - 1), linktype, o, v);
    if (!flowkit::packet::testing::shortcut_agrees(data + 1, uint32_t(size - 1), uint32_t(size - 1),
                                                   linktype, o))
      std::abort();
    if (v.skip == flowkit::packet::SkipReason::kNone && v.ip_version != 4 && v.ip_version != 6)
      std::abort();
    if (v.payload_offset > size - 1 || v.payload_len > size - 1 - v.payload_offset) std::abort();
  }
  return 0;
}
