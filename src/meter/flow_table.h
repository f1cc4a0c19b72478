// FlowTable: the meter's flow cache. Flow states live in fixed-size chunks (stable addresses,
// no per-flow allocation) and are found through an open-addressing index of (hash, slot) pairs
// with linear probing. Two intrusive lists order the flows for expiry without scanning:
//   - the LRU list, by last use: its head is the first to idle out or to be evicted;
//   - an age list per kind (active flows by start, closing TCP flows by close time): its head
//     is the first to reach the active or TCP-end timeout.
// All timeouts of one kind are equal, so each list is an exact timer queue with O(1) operations.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "meter/flow_key.h"

namespace flowkit::meter {

inline constexpr uint32_t kNoFlow = 0;  // slot numbers start at 1

struct DirState {
  uint64_t packets;
  uint64_t bytes;
  int64_t first;  // ns
  int64_t last;
  uint32_t flow_label;
  uint16_t interface;
  uint8_t tcp_flags, tos, ttl, ttl_min, ttl_max, icmp_type, icmp_code;
  uint8_t has_mac;
  uint8_t vlan_depth;
  uint16_t vlan_id;
  uint8_t src_mac[6];
  uint8_t dst_mac[6];
};

enum class AgeList : uint8_t { kActive = 0, kClosing = 1 };

struct FlowState {
  FlowKey key;
  uint32_t hash32;
  uint32_t lru_prev, lru_next;
  uint32_t age_prev, age_next;
  uint32_t ext;          // index into the meter's extension pool (tunnel, MPLS, QinQ), 0: none
  uint32_t stats;        // index into the meter's statistics pool, 0: none
  uint8_t fwd_endpoint;  // key endpoint (0/1) that sent the flow's first packet
  AgeList age_list;
  uint8_t fin_mask;  // bit d: FIN seen in direction d
  uint8_t closing;
  int64_t age_time;   // start (active list) or close time (closing list)
  int64_t last_seen;  // last packet of either direction
  DirState dir[2];
};

class FlowTable {
 public:
  // REQUIRES: max_flows >= 1.
  explicit FlowTable(size_t max_flows);
  FlowTable(const FlowTable&) = delete;
  FlowTable& operator=(const FlowTable&) = delete;

  // Finds the flow with this key, or creates it when `create` (the caller ensures size() <
  // max_flows). A created flow has a zeroed state with key and hash set, is at the LRU tail
  // and in no age list. Returns kNoFlow when absent and not created.
  uint32_t find_or_insert(const FlowKey& key, uint64_t hash, bool create, bool* inserted);
  // Removes the flow from the index and every list and frees its slot.
  void erase(uint32_t id);

  FlowState& at(uint32_t id) { return *reinterpret_cast<FlowState*>(slot_ptr(id)); }
  size_t size() const { return size_; }
  size_t max_flows() const { return max_flows_; }
  bool full() const { return size_ >= max_flows_; }

  void touch(uint32_t id);  // moves to the LRU tail
  uint32_t lru_head() const { return lru_head_; }

  void age_push_back(AgeList list, uint32_t id, int64_t time);
  void age_remove(uint32_t id);
  uint32_t age_head(AgeList list) const { return age_head_[int(list)]; }
  uint32_t age_next(uint32_t id) { return at(id).age_next; }

  // Bytes held by states and index (what an active flow costs without metadata).
  size_t memory_bytes() const;

 private:
  struct Slot {
    uint32_t hash32;
    uint32_t id;  // kNoFlow: empty
  };
  static constexpr size_t kChunkShift = 12;  // 4096 states per chunk
  static constexpr size_t kChunkSize = size_t(1) << kChunkShift;

  uint8_t* slot_ptr(uint32_t id) {
    uint32_t i = id - 1;
    return chunks_[i >> kChunkShift].get() + (i & (kChunkSize - 1)) * sizeof(FlowState);
  }
  uint32_t allocate();
  void grow_index();
  void lru_unlink(FlowState& f, uint32_t id);
  void lru_append(FlowState& f, uint32_t id);

  size_t max_flows_;
  size_t size_ = 0;
  std::vector<Slot> index_;
  size_t mask_ = 0;
  std::vector<std::unique_ptr<uint8_t[]>> chunks_;
  uint32_t next_unused_ = 1;  // ids never handed out start here
  uint32_t free_head_ = kNoFlow;
  uint32_t lru_head_ = kNoFlow, lru_tail_ = kNoFlow;
  uint32_t age_head_[2] = {kNoFlow, kNoFlow};
  uint32_t age_tail_[2] = {kNoFlow, kNoFlow};
};

}  // namespace flowkit::meter
