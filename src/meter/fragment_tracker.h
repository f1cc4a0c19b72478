// FragmentTracker: gives IP fragments the ports of their datagram so that every fragment is
// counted in the flow it belongs to. Only the first fragment carries the transport header; later
// fragments are looked up by (addresses, protocol, IP id). A fragment that arrives before its
// first fragment is held aside and handed back once the first arrives, or with no ports when it
// never does. Overlapping and impossible fragments are counted, never dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "core/timestamp.h"
#include "packet/packet_view.h"

namespace flowkit::meter {

struct FragmentStats {
  uint64_t fragments = 0;    // fragment packets seen
  uint64_t held = 0;         // arrived before their first fragment
  uint64_t orphaned = 0;     // never saw their first fragment: counted without ports
  uint64_t overlapping = 0;  // overlap bytes already covered in their datagram
  uint64_t bad = 0;          // beyond 65535 bytes or empty with more-fragments set
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
  };
  // `hash_seed` seeds the datagram table's hash, for the reason HashSecret (meter/flow_key.h)
  // gives; the meter derives it from its flow table's secret.
  FragmentTracker(Options options, uint64_t hash_seed)
      : opt_(options), datagrams_(0, KeyHash{hash_seed}) {}

  // For a fragment (v.is_fragment). Returns true when the caller should count it now (ports
  // filled in when known); false when it was held. After a first fragment, held fragments of
  // its datagram become ready: drain them with pop_ready().
  bool on_fragment(packet::PacketView& v, int64_t ts, uint32_t interface);
  // Forgets datagrams older than the timeout; their held fragments become ready without ports.
  void expire(int64_t now);
  // The earliest time at which expire() has something to do (INT64_MAX: nothing held).
  int64_t next_deadline() const {
    return by_age_.empty() ? INT64_MAX : saturating_add(by_age_.front().first, opt_.timeout_ns + 1);
  }
  // Makes every held fragment ready (end of input).
  void release_all();
  bool pop_ready(HeldFragment& out);

  const FragmentStats& stats() const { return stats_; }
  size_t held_now() const { return held_count_; }

 private:
  struct Key {
    uint8_t src[16];
    uint8_t dst[16];
    uint32_t id;
    uint8_t protocol;
    uint8_t ip_version;
    uint16_t pad;
    bool operator==(const Key& o) const;
  };
  struct KeyHash {
    uint64_t seed;
    size_t operator()(const Key& k) const;
  };
  struct Range {
    uint32_t begin, end;
  };
  struct Datagram {
    int64_t created;
    bool first_seen = false;
    bool has_ports = false;
    uint16_t src_port = 0, dst_port = 0;
    uint8_t ranges_used = 0;
    Range ranges[8];
    std::vector<HeldFragment> held;  // rare: only fragments that overtook their first
  };

  void check_overlap(Datagram& d, const packet::PacketView& v);
  void make_ready(Datagram& d, bool orphan);

  Options opt_;
  std::unordered_map<Key, Datagram, KeyHash> datagrams_;
  std::deque<std::pair<int64_t, Key>> by_age_;
  std::deque<HeldFragment> ready_;
  size_t held_count_ = 0;
  FragmentStats stats_;
};

}  // namespace flowkit::meter
