// FlowTable: the meter's flow cache. Flow states live in fixed-size, cache-line aligned slots in
// chunks (stable addresses, no per-flow allocation) and are found through an open-addressing
// index of (hash, id) pairs with linear probing. Flows are ordered for expiry without scanning:
//   - a timer wheel for the idle timeout, driven by packet time (or wall time live). A flow sits
//     in the bucket of the deadline it had when it was filed (last packet + idle timeout); a
//     packet only updates last_seen, and a flow found in a due bucket with a later deadline is
//     filed again. So there is no list work per packet, a flow is reported at most one bucket
//     (idle timeout / 256) after it idled out, and the earliest bucket's first flow not used
//     since it was filed is the least recently used one (to bucket precision): the eviction
//     victim when the cache is full. Whether a packet still belongs to its flow is decided
//     exactly by the meter, from last_seen.
//   - an age list per kind (active flows by start, closing TCP flows by close time), each an
//     exact timer queue because all timeouts of one kind are equal.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "core/huge_region.h"
#include "meter/flow_key.h"
#include "meter/probe_index.h"

namespace flowkit::meter {

inline constexpr uint32_t kNoFlow = 0;  // ids start at 1

// What every packet updates: one cache line for both directions. `last` outlives an active
// timeout's restart (packets 0), so the flow's idleness is still known.
struct DirCounters {
  uint64_t packets;
  uint64_t bytes;
  int64_t first;  // ns
  int64_t last;
};

// What the first packet of a direction sets (MAC addresses: see FlowState).
struct DirAttributes {
  uint32_t flow_label;
  uint16_t interface;
  uint16_t vlan_id;
  uint8_t tos, ttl, icmp_type, icmp_code;
  uint8_t has_mac : 1, vlan_depth : 2;
} __attribute__((packed));
static_assert(sizeof(DirAttributes) == 13);

enum class AgeList : uint8_t { kActive = 0, kClosing = 1 };

// 192 bytes, three cache lines. A packet of a known flow touches only lines 0 and 1: line 0 to
// find the flow (and its flags), line 1 for the counters. Line 2 is for the first packet of a
// direction and for expiry. MAC addresses are kept for the forward direction; a reverse direction
// whose addresses are not the forward ones swapped keeps its own in the flow's extension.
struct alignas(64) FlowState {
  FlowKey key;
  uint32_t hash32;
  uint32_t ext;  // index into the meter's extension pool (tunnel, MPLS, QinQ...), 0: none
  uint8_t tcp_flags[2];
  uint8_t ttl_min[2], ttl_max[2];
  uint8_t fwd_endpoint;  // key endpoint (0/1) that sent the flow's first packet; a whole byte,
                         // as every packet reads it
  uint8_t age_list : 1;  // AgeList
  uint8_t in_age_list : 1;
  uint8_t fin_mask : 2;  // bit d: FIN seen in direction d
  uint8_t closing : 1;
  uint8_t app_done : 1;  // no payload dissector wants more of the flow's packets
  uint32_t app;          // the flow's dissection slot (dissect::Dissection), 0: none

  alignas(64) DirCounters dir[2];

  uint32_t wheel_prev, wheel_next;
  uint32_t age_prev, age_next;
  int64_t age_time;       // start (active list) or close time (closing list)
  uint16_t wheel_bucket;  // the timer wheel bucket the flow is filed in (a wheel has < 2^16)
  uint8_t src_mac[6], dst_mac[6];  // forward direction
  DirAttributes attr[2];

  // Last packet of either direction.
  int64_t last_seen() const { return dir[0].last > dir[1].last ? dir[0].last : dir[1].last; }
};
static_assert(sizeof(FlowState) == 192, "keep a flow in three cache lines");
static_assert(offsetof(FlowState, wheel_prev) == 128, "per-packet fields in lines 0 and 1");

class FlowTable {
 public:
  // REQUIRES: max_flows >= 1, idle_timeout_ns > 0. `extra_bytes` are reserved after each
  // FlowState (per-flow metadata of the meter's; see extra()).
  FlowTable(size_t max_flows, int64_t idle_timeout_ns, size_t extra_bytes = 0);
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // Finds the flow with this key, or creates it when `create` (the caller ensures !full()). A
  // created flow has its key and hash set, everything else zero (extra bytes included), is filed
  // in the wheel as last used at `now`, and is in no age list. Returns kNoFlow when absent and
  // not created, which includes the system refusing memory for a new flow: the caller then
  // ends a flow to make room, as when the cache is full.
  uint32_t find_or_insert(const FlowKey& key, uint64_t hash, bool create, int64_t now,
                          bool* inserted) {
    uint32_t h = uint32_t(hash);
    *inserted = false;
    for (size_t i = h & mask_;; i = (i + 1) & mask_) {
      const IndexEntry& s = index_[i];
      if (s.id == kNoFlow) return create ? insert(key, h, i, now, inserted) : kNoFlow;
      if (s.hash32 == h && at(s.id).key == key) return s.id;
    }
  }
  // Removes the flow from the index and every list and frees its slot.
  void erase(uint32_t id);
  // Hints the memory system that a lookup of this hash comes soon. Always inlined: GCC takes a
  // function that only prefetches for a pure one and drops calls to it.
  [[gnu::always_inline]] void prefetch_index(uint64_t hash) const {
    __builtin_prefetch(&index_[uint32_t(hash) & mask_]);
  }

  FlowState& at(uint32_t id) { return *reinterpret_cast<FlowState*>(slot_ptr(id)); }
  const FlowState& at(uint32_t id) const {
    return *reinterpret_cast<const FlowState*>(slot_ptr(id));
  }
  uint8_t* extra(uint32_t id) { return slot_ptr(id) + sizeof(FlowState); }
  const uint8_t* extra(uint32_t id) const { return slot_ptr(id) + sizeof(FlowState); }
  size_t size() const { return size_; }
  bool full() const { return size_ >= max_flows_; }

  // Calls expired(id) for every flow whose last packet is more than the idle timeout before
  // `now`, in due buckets (the callback must erase it); refiles the others found there.
  template <class Fn>
  void expire_idle(int64_t now, Fn&& expired);
  // After expire_idle(now): the earliest time at which it has buckets to visit again.
  int64_t next_idle_check(int64_t now) const {
    int64_t t;
    return __builtin_mul_overflow(tick_of(now) + 1, tick_ns_, &t) ? INT64_MAX : t;
  }
  // The least recently used flow (to bucket precision), or kNoFlow when empty.
  uint32_t eviction_victim();

  void age_push_back(AgeList list, uint32_t id, int64_t time);
  void age_remove(uint32_t id);
  uint32_t age_head(AgeList list) const { return age_head_[int(list)]; }

  // Calls fn(id) for every flow (fn may erase it).
  template <class Fn>
  void for_each(Fn&& fn) {
    for (Bucket& b : wheel_) {
      for (uint32_t id = b.head; id != kNoFlow;) {
        uint32_t next = at(id).wheel_next;
        fn(id);
        id = next;
      }
    }
  }

  // Bytes held by slots and index (what the flows in the table cost).
  size_t memory_bytes() const;

 private:
  static constexpr size_t kLine = 64;  // cache line
  size_t index_size() const { return index_ ? mask_ + 1 : 0; }
  uint8_t* slot_ptr(uint32_t id) const { return slots_.data() + size_t(id - 1) * slot_size_; }
  // Adds a flow for `key` at index entry `i`, the empty one its lookup ended on.
  uint32_t insert(const FlowKey& key, uint32_t h, size_t i, int64_t now, bool* inserted);
  uint32_t allocate();
  // After the system refused memory, the next 4096 attempts to grow fail at once: a failed
  // attempt costs a mapping and page faults, too much to repeat for every new flow.
  bool memory_may_grow() {
    if (refusals_left_ == 0) return true;
    --refusals_left_;
    return false;
  }
  void memory_refused() {
    if (refusals_left_ == 0) refusals_left_ = 4096;
  }
  bool grow_index();
  struct Bucket {
    uint32_t head = kNoFlow, tail = kNoFlow;
  };
  int64_t tick_of(int64_t t) const {
    return t >= 0 ? t / tick_ns_ : -((-t + tick_ns_ - 1) / tick_ns_);
  }
  size_t bucket_index(int64_t deadline) const {
    return size_t(uint64_t(tick_of(deadline)) % wheel_.size());
  }
  void wheel_unlink(FlowState& f, uint32_t id);
  void wheel_file(FlowState& f, uint32_t id, int64_t last_used);

  size_t max_flows_;
  size_t slot_size_;
  size_t size_ = 0;
  // Both on huge pages: they are read at random (see core/huge_region.h).
  HugeRegion index_region_;
  IndexEntry* index_ = nullptr;
  size_t mask_ = 0;           // index entries - 1
  HugeRegion slots_;          // slot id i at (i - 1) * slot_size_; ids are handed out in order
  uint32_t next_unused_ = 1;  // ids never handed out start here
  uint32_t refusals_left_ = 0;
  uint32_t free_head_ = kNoFlow;
  int64_t idle_ns_;
  int64_t tick_ns_;
  std::vector<Bucket> wheel_;
  int64_t done_tick_ = INT64_MIN;  // buckets up to this tick have been expired
  uint32_t age_head_[2] = {kNoFlow, kNoFlow};
  uint32_t age_tail_[2] = {kNoFlow, kNoFlow};
};

template <class Fn>
void FlowTable::expire_idle(int64_t now, Fn&& expired) {
  // Bucket t holds deadlines in [t, t + 1) ticks: it is due once now reaches tick t + 1.
  int64_t last_due = tick_of(now) - 1;
  if (done_tick_ == INT64_MIN) done_tick_ = last_due;
  if (last_due <= done_tick_) return;
  int64_t from = done_tick_ + 1;
  // After a jump longer than the wheel, one turn visits every bucket.
  if (last_due - from >= int64_t(wheel_.size())) from = last_due - int64_t(wheel_.size()) + 1;
  for (int64_t t = from; t <= last_due; ++t) {
    Bucket& b = wheel_[size_t(uint64_t(t) % wheel_.size())];
    uint32_t id = b.head;
    while (id != kNoFlow) {
      FlowState& f = at(id);
      uint32_t next = f.wheel_next;
      int64_t last = f.last_seen();
      if (last < now - idle_ns_) {
        expired(id);
      } else {
        wheel_unlink(f, id);
        wheel_file(f, id, last);
      }
      id = next;
    }
  }
  done_tick_ = last_due;
}

}  // namespace flowkit::meter
