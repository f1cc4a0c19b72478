// libFuzzer target for the meter: the input is a sequence of packets, each a 2-byte length and a
// 1-byte time step before the frame bytes, metered with small caches and timeouts so that
// eviction, expiry and the fragment tracker (its own eviction too) all run. Packet conservation
// must hold.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <vector>

#include "meter/meter.h"

namespace {
class Count : public flowkit::FlowSink {
 public:
  void write(std::span<const flowkit::FlowRecord> records) override {
    for (const auto& r : records) packets += r.packets();
  }
  uint64_t packets = 0;
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  flowkit::meter::MeterOptions o;
  o.max_flows = 4;
  o.idle_timeout_ns = 2'000'000'000;
  o.active_timeout_ns = 3'000'000'000;
  o.tcp_end_timeout_ns = 1'000'000'000;
  o.fragments.max_held = 3;
  o.fragments.max_datagrams = 3;
  o.fragments.timeout_ns = 2'000'000'000;
  o.key.biflow = size % 2 == 0;
  // nDPI's module takes milliseconds to build, once per meter: dissect_fuzz covers its use.
  o.dissect &= ~uint32_t(flowkit::dissect::kAppLabel);
  Count sink;
  flowkit::meter::Meter m(o, sink);
  int64_t t = 0;
  size_t i = 0;
  while (i + 3 <= size) {
    size_t len = size_t(data[i]) << 8 | data[i + 1];
    t += int64_t(data[i + 2]) * 100'000'000;
    i += 3;
    if (len > size - i) len = size - i;
    flowkit::capture::RawPacket p;
    p.ts = flowkit::Timestamp{t};
    p.data = data + i;
    p.caplen = p.wirelen = uint32_t(len);
    p.linktype = 1;
    m.process(std::span(&p, 1));
    i += len;
  }
  m.flush();
  if (sink.packets != m.stats().decoded) std::abort();
  return 0;
}
