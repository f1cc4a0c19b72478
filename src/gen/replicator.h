// Replicator: builds a large benchmark capture with real traffic shapes out of small real
// captures. Each input is read into memory once and played `copies` times; every copy gets its
// own hosts (a keyed rewrite of IP and MAC addresses) and its own start offset, and all
// (input, copy) streams are merged into one time-ordered Ethernet stream.
//
// Inputs: pcap or pcapng with Ethernet, raw IP, BSD loopback (null) or Linux cooked (SLL, SLL2)
// framing; the last four are re-framed as Ethernet. Other link types are skipped with a note.
// Memory: the inputs' total size; the output is streamed.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"
#include "gen/pcap_writer.h"
#include "gen/traffic_generator.h"

namespace flowkit::gen {

struct ReplicateOptions {
  std::vector<std::string> inputs;
  uint32_t copies = 2;
  uint64_t seed = 1;
  Timestamp start = kDefaultStart;  // every input is rebased to start here
  double spread_seconds = 1.0;      // each (input, copy) stream starts U[0, spread) later
  // Idle gaps inside an input longer than this shrink to it, so that merged or years-long
  // captures do not stretch the output; 0 keeps all gaps.
  double max_gap_seconds = 600;
};

struct ReplicateStats {
  uint64_t packets = 0;
  uint64_t bytes = 0;          // frame bytes written
  uint64_t input_packets = 0;  // loaded, per copy
  uint64_t inputs_used = 0;
  uint64_t not_rewritten = 0;      // output packets without an IP header to rewrite (ARP, ...)
  std::vector<std::string> notes;  // skipped inputs and packets, read errors
};

// The address rewrite of one copy: a bijection on unicast addresses that keeps an address's
// class (private ranges, loopback, CGNAT, link-local, documentation and public space stay what
// they are) and its subnet structure (the low octet's 0 and 255 too). Copy 0 is the identity;
// other copies of the same address differ. Multicast, broadcast, unspecified and IPv6 loopback
// (::1, which has no other loopback address to go to) are never changed.
class AddressMap {
 public:
  AddressMap(uint64_t seed, uint32_t copy);
  void map_v4(uint8_t* addr) const;
  void map_v6(uint8_t* addr) const;
  void map_mac(uint8_t* mac) const;
  bool identity() const { return copy_ == 0; }

 private:
  uint32_t copy_;
  uint32_t key4_;
  uint8_t shift4_;  // 1..253: rotation of the low octet within 1..254
  uint8_t key6_[16];
  uint8_t key_mac_[3];
};

// Rewrites, in place, the source and destination MACs and the IPv4/IPv6 addresses of an
// Ethernet frame (through VLAN/QinQ, MPLS and PPPoE), and of the packets it tunnels (IP-in-IP,
// GRE, VXLAN, Teredo, GTP-U), so that flow meters that key on inner headers see distinct hosts
// too. Checksums that cover what changed (IPv4 header; TCP, UDP and ICMPv6 in unfragmented
// packets and first fragments; outer UDP and GRE over rewritten tunnel payloads) are updated
// incrementally (RFC 1624): right ones stay right, wrong ones stay wrong.
// Returns false when no IP header was found (the MACs are still rewritten).
bool rewrite_frame(uint8_t* frame, size_t caplen, const AddressMap& map);

struct ReplicaPacket {
  Timestamp ts;
  uint32_t caplen = 0;
  uint32_t wirelen = 0;
};

class Replicator {
 public:
  // Loads every input. Fails when an input cannot be opened or nothing usable was loaded;
  // unsupported link types and read errors inside a file become notes.
  static Result<std::unique_ptr<Replicator>> open(const ReplicateOptions& options);
  ~Replicator();
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  // The next packet in time order (timestamps never decrease); false at the end.
  bool peek(ReplicaPacket* meta);
  // Writes the packet of the last peek(), rewritten, to out (caplen bytes) and moves on.
  // REQUIRES: peek() returned true.
  void take(uint8_t* out);

  uint64_t total_packets() const;  // what the output will hold
  const ReplicateStats& stats() const;

 private:
  struct Impl;
  explicit Replicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

Result<ReplicateStats> write_replicated_pcap(const ReplicateOptions& options,
                                             const std::string& path,
                                             const PcapWriterOptions& writer_options = {},
                                             const ProgressFn& progress = {});

}  // namespace flowkit::gen
