// PacketSource: where packets come from (pcap/pcapng files, live interfaces). Sources hand out
// packets in batches so that the meter's loop makes one virtual call per batch, not per packet.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"

namespace flowkit::capture {

// LINKTYPE_* values (https://www.tcpdump.org/linktypes.html) that the decoder understands.
enum LinkType : uint32_t {
  kLinkNull = 0,  // BSD loopback, host-order address family
  kLinkEthernet = 1,
  kLinkPpp = 9,
  kLinkRaw = 101,  // raw IPv4/IPv6 (DLT_RAW is 12 or 14 on some systems)
  kLinkPppHdlc = 50,
  kLinkCHdlc = 104,
  kLinkIeee80211 = 105,
  kLinkLoop = 108,  // OpenBSD loopback, network-order address family
  kLinkLinuxSll = 113,
  kLinkRadiotap = 127,
  kLinkIpv4 = 228,
  kLinkIpv6 = 229,
  kLinkLinuxSll2 = 276,
};

struct RawPacket {
  Timestamp ts;
  const uint8_t* data = nullptr;  // caplen bytes, valid until the next read_batch() call
  uint32_t caplen = 0;
  uint32_t wirelen = 0;    // length on the wire (>= caplen when the capture was snapped)
  uint32_t linktype = 0;   // LINKTYPE_* of the packet's interface
  uint32_t interface = 0;  // index into PacketSource::interfaces()
};

struct InterfaceInfo {
  std::string name;  // pcapng if_name, the interface name live, else the file name
  uint32_t linktype = 0;
  bool device = false;  // `name` is the interface's own (live, pcapng if_name), not the file's
};

struct SourceStats {
  uint64_t packets = 0;       // packets handed out
  uint64_t bytes_read = 0;    // file bytes consumed (for progress)
  uint64_t bytes_total = 0;   // file bytes in all inputs, 0 when unknown (live)
  uint64_t bad_records = 0;   // corrupt/truncated records skipped or ending a file
  uint64_t kernel_drops = 0;  // live: packets the kernel dropped
  uint64_t filtered = 0;      // files: packets a filter dropped (FilteredSource)
};

class PacketSource {
 public:
  virtual ~PacketSource() = default;
  // Fills up to out.size() packets in time order (per input); returns how many. 0 means the
  // source is exhausted when finished(); otherwise that nothing is ready yet (live: nothing
  // arrived before the poll timeout; a filtered file: a long stretch was dropped). Data pointers
  // of earlier batches become invalid.
  virtual size_t read_batch(std::span<RawPacket> out) = 0;
  // True once no more packets will come.
  virtual bool finished() const = 0;
  // Problems worth telling the user (a truncated file, an unreadable block), in order.
  virtual std::vector<std::string> take_warnings() { return {}; }
  // Every interface seen so far, in the order first defined. The list only grows (a pcapng
  // file may define interfaces between packets); RawPacket::interface indexes it.
  virtual const std::vector<InterfaceInfo>& interfaces() const = 0;
  virtual SourceStats stats() const = 0;
  // True when RawPacket::data stays valid for the source's whole lifetime, not only until the
  // next read_batch() (a memory-mapped file). MergedSource uses it to refill one input in the
  // middle of a batch without copying; a consumer may use it to keep packets without copies.
  virtual bool stable_data() const { return false; }
};

}  // namespace flowkit::capture
