// FragmentTracker: gives IP fragments the ports (ICMP: the type and code) of their datagram so
// that every fragment is
// counted in the flow it belongs to. Only the first fragment carries the transport header; later
// fragments are looked up by (addresses, protocol, IP id). A fragment that arrives before its
// first fragment is held aside and handed back once the first arrives, or with no ports when it
// never does. Overlapping and impossible fragments are counted, never dropped.
//
// Datagrams live in reused slots found through an open-addressing index, so a fragment costs no
// allocation, and their number is bounded: a flood of fragments of distinct datagrams makes the
// oldest be forgotten early (counted), not the memory grow.
#pragma once

#include <cstdint>
#include <deque>
#include <vector>

#include "core/timestamp.h"
#include "meter/flow_key.h"
#include "meter/probe_index.h"
#include "packet/packet_view.h"

namespace flowkit::meter {

struct FragmentStats {
  uint64_t fragments = 0;    // fragment packets seen
  uint64_t held = 0;         // arrived before their first fragment
  uint64_t orphaned = 0;     // never saw their first fragment: counted without ports
  uint64_t overlapping = 0;  // overlap bytes already covered in their datagram
  uint64_t bad = 0;          // beyond 65535 bytes or empty with more-fragments set
  uint64_t evicted = 0;      // datagrams forgotten before their timeout: too many at once
};

struct HeldFragment {
  packet::PacketView view;
  int64_t ts;
  uint32_t interface;
};

class FragmentTracker {
 public:
  struct Options {
    int64_t timeout_ns = 30'000'000'000;  // how long a datagram's ports are remembered
    size_t max_held = 65536;              // beyond this, fragments go on without ports
    size_t max_datagrams = 262144;        // remembered at once; beyond, the oldest is forgotten
  };
  // `secret` keys the datagram index's hash, for the reason HashSecret gives; the meter passes
  // its flow table's.
  FragmentTracker(Options options, const HashSecret& secret);

  // For a fragment (v.is_fragment). Returns true when the caller should count it now (ports
  // filled in when known); false when it was held. Afterwards held fragments may be ready (their
  // first fragment came, or their datagram was forgotten): drain them with pop_ready().
  bool on_fragment(packet::PacketView& v, int64_t ts, uint32_t interface);
  // Forgets datagrams older than the timeout; their held fragments become ready without ports.
  void expire(int64_t now);
  // The earliest time at which expire() has something to do (INT64_MAX: nothing remembered).
  int64_t next_deadline() const {
    return by_age_.empty() ? INT64_MAX
                           : saturating_add(slots_[by_age_.front()].created, opt_.timeout_ns + 1);
  }
  // Makes every held fragment ready (end of input).
  void release_all();
  bool pop_ready(HeldFragment& out);

  const FragmentStats& stats() const { return stats_; }
  size_t held_now() const { return held_count_; }
  size_t datagrams_now() const { return by_age_.size(); }

 private:
  struct Range {
    uint32_t begin, end;
  };
  struct Datagram {
    // Addresses, protocol and IP version, and the IP id in the flow label's place: a datagram is
    // named like a flow without ports, and hashed and compared as one.
    FlowKey key;
    uint32_t hash;
    int64_t created;
    bool first_seen;
    bool has_ports;
    uint16_t src_port, dst_port;
    uint8_t icmp_type, icmp_code;  // the flow key of ICMP reads them
    uint8_t ranges_used;
    Range ranges[8];
    std::vector<HeldFragment> held;  // rare: only fragments that overtook their first
  };

  // The slot of the datagram with key `k`, added (as created at `ts`) when absent.
  uint32_t find_or_add(const FlowKey& k, uint32_t hash, int64_t ts);
  // Forgets the oldest datagram: its held fragments become ready without ports.
  void forget_oldest();
  void grow_index();
  void check_overlap(Datagram& d, const packet::PacketView& v);
  void make_ready(Datagram& d, bool orphan);

  Options opt_;
  HashSecret secret_;
  std::vector<Datagram> slots_;
  std::vector<uint32_t> free_;
  std::vector<IndexEntry> index_;  // ids are slot + 1; a power of two, at most half full
  // Slots in the order their datagrams were created, which is the order in which they end.
  std::deque<uint32_t> by_age_;
  std::deque<HeldFragment> ready_;
  size_t held_count_ = 0;
  FragmentStats stats_;
};

}  // namespace flowkit::meter
