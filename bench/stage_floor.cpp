// The meter's first stage on its own: how long flowkit takes to read a capture (read() and
// walking the records), to read and decode it, and to read, decode and key it, with nothing
// counted. bench/meter_vs_nfpcapd.sh runs it beside the whole meter. With two threads the
// first stage runs on a core of its own, so its time is the floor of the two-thread run: the
// whole meter cannot finish before its reader does.
//
// usage: stage_floor FILE read|decode|key     prints the packets handed on
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "capture/pcap_file_reader.h"
#include "meter/meter.h"

namespace {

using namespace flowkit;

int usage() {
  std::fprintf(stderr, "usage: stage_floor FILE read|decode|key\n");
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) return usage();
  const std::string stage = argv[2];
  if (stage != "read" && stage != "decode" && stage != "key") return usage();
  auto reader = capture::PcapFileReader::open(argv[1]);
  if (!reader) {
    std::fprintf(stderr, "stage_floor: %s\n", reader.status().message().c_str());
    return 1;
  }
  capture::PacketSource& source = **reader;
  meter::MeterOptions options;
  meter::PacketPreparer preparer(options);
  std::vector<capture::RawPacket> raw(256);
  std::vector<meter::DecodedPacket> decoded(raw.size());
  uint64_t packets = 0, bytes = 0;
  for (size_t n; (n = source.read_batch(raw)) != 0 || !source.finished();) {
    packets += n;
    if (stage == "read") {
      for (size_t i = 0; i < n; ++i) bytes += raw[i].caplen;
      continue;
    }
    preparer.prepare(std::span(raw.data(), n), decoded.data(), stage == "key");
    for (size_t i = 0; i < n; ++i) bytes += decoded[i].view.ip_bytes;
  }
  std::printf("%s: %llu packets, %llu bytes\n", stage.c_str(), (unsigned long long)packets,
              (unsigned long long)bytes);
  return 0;
}
