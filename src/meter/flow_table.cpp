#include "meter/flow_table.h"

#include <cstring>

namespace flowkit::meter {

FlowTable::FlowTable(size_t max_flows) : max_flows_(max_flows < 1 ? 1 : max_flows) {
  index_.assign(1024, Slot{0, kNoFlow});
  mask_ = index_.size() - 1;
}

uint32_t FlowTable::allocate() {
  uint32_t id;
  if (free_head_ != kNoFlow) {
    id = free_head_;
    free_head_ = at(id).lru_next;
  } else {
    id = next_unused_++;
    if (((id - 1) >> kChunkShift) >= chunks_.size())
      chunks_.emplace_back(new uint8_t[kChunkSize * sizeof(FlowState)]);
  }
  std::memset(slot_ptr(id), 0, sizeof(FlowState));
  return id;
}

void FlowTable::grow_index() {
  std::vector<Slot> old = std::move(index_);
  index_.assign(old.size() * 2, Slot{0, kNoFlow});
  mask_ = index_.size() - 1;
  for (const Slot& s : old) {
    if (s.id == kNoFlow) continue;
    size_t i = s.hash32 & mask_;
    while (index_[i].id != kNoFlow) i = (i + 1) & mask_;
    index_[i] = s;
  }
}

uint32_t FlowTable::find_or_insert(const FlowKey& key, uint64_t hash, bool create, bool* inserted) {
  uint32_t h = uint32_t(hash);
  size_t i = h & mask_;
  for (;;) {
    const Slot& s = index_[i];
    if (s.id == kNoFlow) break;
    if (s.hash32 == h && at(s.id).key == key) {
      *inserted = false;
      return s.id;
    }
    i = (i + 1) & mask_;
  }
  *inserted = false;
  if (!create) return kNoFlow;
  // Keep the load under 70% so probe sequences stay short.
  if ((size_ + 1) * 10 > index_.size() * 7) {
    grow_index();
    i = h & mask_;
    while (index_[i].id != kNoFlow) i = (i + 1) & mask_;
  }
  uint32_t id = allocate();
  FlowState& f = at(id);
  f.key = key;
  f.hash32 = h;
  index_[i] = Slot{h, id};
  ++size_;
  lru_append(f, id);
  *inserted = true;
  return id;
}

void FlowTable::erase(uint32_t id) {
  FlowState& f = at(id);
  // Backward-shift deletion keeps every remaining entry reachable from its home slot.
  size_t i = f.hash32 & mask_;
  while (index_[i].id != id) i = (i + 1) & mask_;
  size_t hole = i;
  for (size_t j = (hole + 1) & mask_; index_[j].id != kNoFlow; j = (j + 1) & mask_) {
    size_t home = index_[j].hash32 & mask_;
    // Move j into the hole unless its home lies cyclically in (hole, j].
    bool home_between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
    if (!home_between) {
      index_[hole] = index_[j];
      hole = j;
    }
  }
  index_[hole] = Slot{0, kNoFlow};
  lru_unlink(f, id);
  age_remove(id);
  --size_;
  f.lru_next = free_head_;
  free_head_ = id;
}

void FlowTable::lru_unlink(FlowState& f, uint32_t id) {
  if (f.lru_prev)
    at(f.lru_prev).lru_next = f.lru_next;
  else if (lru_head_ == id)
    lru_head_ = f.lru_next;
  if (f.lru_next)
    at(f.lru_next).lru_prev = f.lru_prev;
  else if (lru_tail_ == id)
    lru_tail_ = f.lru_prev;
  f.lru_prev = f.lru_next = kNoFlow;
}

void FlowTable::lru_append(FlowState& f, uint32_t id) {
  f.lru_prev = lru_tail_;
  f.lru_next = kNoFlow;
  if (lru_tail_)
    at(lru_tail_).lru_next = id;
  else
    lru_head_ = id;
  lru_tail_ = id;
}

void FlowTable::touch(uint32_t id) {
  if (lru_tail_ == id) return;
  FlowState& f = at(id);
  lru_unlink(f, id);
  lru_append(f, id);
}

void FlowTable::age_push_back(AgeList list, uint32_t id, int64_t time) {
  age_remove(id);
  FlowState& f = at(id);
  int l = int(list);
  f.age_list = list;
  f.age_time = time;
  f.age_prev = age_tail_[l];
  f.age_next = kNoFlow;
  if (age_tail_[l])
    at(age_tail_[l]).age_next = id;
  else
    age_head_[l] = id;
  age_tail_[l] = id;
}

void FlowTable::age_remove(uint32_t id) {
  FlowState& f = at(id);
  int l = int(f.age_list);
  bool member = f.age_prev || f.age_next || age_head_[l] == id;
  if (!member) return;
  if (f.age_prev)
    at(f.age_prev).age_next = f.age_next;
  else
    age_head_[l] = f.age_next;
  if (f.age_next)
    at(f.age_next).age_prev = f.age_prev;
  else
    age_tail_[l] = f.age_prev;
  f.age_prev = f.age_next = kNoFlow;
}

size_t FlowTable::memory_bytes() const {
  return chunks_.size() * kChunkSize * sizeof(FlowState) + index_.size() * sizeof(Slot);
}

}  // namespace flowkit::meter
