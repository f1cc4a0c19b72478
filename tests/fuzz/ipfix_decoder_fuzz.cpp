// libFuzzer target for the IPFIX / NetFlow v9 / v5 decoder: the input is a sequence of messages
// (2-byte length, then the bytes) decoded by one Decoder, so that templates from earlier
// messages meet data sets of later ones.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ipfix/decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  flowkit::ipfix::Decoder dec;
  std::vector<flowkit::FlowRecord> out;
  flowkit::Arena arena;
  size_t i = 0;
  while (i + 2 <= size) {
    size_t len = size_t(data[i]) << 8 | data[i + 1];
    i += 2;
    if (len > size - i) len = size - i;
    dec.decode(std::span(data + i, len), out, arena);
    i += len;
    if (out.size() > 10000) {
      out.clear();
      arena.reset();
    }
  }
  return 0;
}
