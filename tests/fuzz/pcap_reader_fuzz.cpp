// libFuzzer target for the pcap/pcapng reader: the input is a whole capture file in memory.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "capture/pcap_file_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r =
      flowkit::capture::PcapFileReader::from_bytes(std::vector<uint8_t>(data, data + size), "fuzz");
  if (!r.ok()) return 0;
  std::vector<flowkit::capture::RawPacket> batch(64);
  while ((*r)->read_batch(batch) > 0) {
  }
  return 0;
}
