// LibpcapFileReader: one pcap or pcapng file read through libpcap
// (pcap_open_offline_with_tstamp_precision, nanoseconds). The comparison path for benchmarks and
// tests (`--reader libpcap`): it is slower than PcapFileReader (libpcap copies each packet into
// its buffer and we copy it again, because libpcap reuses its buffer on every call) and it knows
// no pcapng interfaces: every packet is on interface 0, and libpcap refuses pcapng files whose
// interfaces have different link types.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "capture/packet_arena.h"
#include "capture/packet_source.h"
#include "core/result.h"

typedef struct pcap pcap_t;

namespace flowkit::capture {

// The LINKTYPE_* value (what files store) of a libpcap DLT_* value (what libpcap returns); they
// differ for a few types such as DLT_RAW.
uint32_t linktype_from_dlt(int dlt);

class LibpcapFileReader final : public PacketSource {
 public:
  // Opens `path` ("-": standard input). Fails with libpcap's message (and a hint for compressed
  // files).
  static Result<std::unique_ptr<LibpcapFileReader>> open(const std::string& path);
  ~LibpcapFileReader() override;
  LibpcapFileReader(const LibpcapFileReader&) = delete;
  LibpcapFileReader& operator=(const LibpcapFileReader&) = delete;

  // Packet data are copies, valid until the next read_batch().
  size_t read_batch(std::span<RawPacket> out) override;
  bool finished() const override { return done_; }
  std::vector<std::string> take_warnings() override;
  // One interface named after the path, with the file's link type.
  const std::vector<InterfaceInfo>& interfaces() const override { return interfaces_; }
  SourceStats stats() const override;

 private:
  LibpcapFileReader(pcap_t* pcap, std::string name, uint64_t size);

  pcap_t* pcap_;
  std::string name_;
  uint32_t linktype_;
  bool done_ = false;
  PacketArena arena_;
  std::vector<InterfaceInfo> interfaces_;
  std::vector<std::string> warnings_;
  uint64_t packets_ = 0;
  uint64_t bytes_total_ = 0;
  uint64_t bytes_read_ = 0;
  uint64_t bad_records_ = 0;
};

}  // namespace flowkit::capture
