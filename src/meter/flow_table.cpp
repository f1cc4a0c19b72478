#include "meter/flow_table.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

namespace flowkit::meter {

FlowTable::FlowTable(size_t max_flows, int64_t idle_timeout_ns, size_t extra_bytes)
    : max_flows_(std::clamp<size_t>(max_flows, 1, UINT32_MAX - 1)),  // ids are 32-bit
      slot_size_((sizeof(FlowState) + extra_bytes + kLine - 1) / kLine * kLine),
      slots_(max_flows_ * slot_size_),
      idle_ns_(idle_timeout_ns > 0 ? idle_timeout_ns : 1),
      // 256 buckets per idle timeout: a flow is reported at most 1/256 of it late.
      tick_ns_(std::max<int64_t>(idle_ns_ / 256, 1'000'000)),
      wheel_(size_t(idle_ns_ / tick_ns_ + 4)) {
  // Address space for every flow the cache may hold; where the system grants less, the cache
  // holds what fits, and then makes room as when it is full (see find_or_insert()).
  for (size_t n = max_flows_ / 2; !slots_.data() && n >= 1024; n /= 2)
    slots_ = HugeRegion(n * slot_size_);
  if (!grow_index()) std::abort();  // not even 8 KiB: nothing sensible is left to do
}

uint32_t FlowTable::allocate() {
  uint32_t id;
  if (free_head_ != kNoFlow) {
    id = free_head_;
    free_head_ = at(id).wheel_next;
    std::memset(slot_ptr(id), 0, slot_size_);
    return id;
  }
  // Fresh slots come zeroed.
  size_t need = size_t(next_unused_) * slot_size_;
  if (need > slots_.committed() && (!memory_may_grow() || !slots_.commit(need))) {
    memory_refused();
    return kNoFlow;
  }
  return next_unused_++;
}

bool FlowTable::grow_index() {
  const size_t old_size = index_size();
  const size_t size = old_size ? old_size * 2 : 1024;
  HugeRegion region(size * sizeof(IndexEntry));
  if (!region.commit(size * sizeof(IndexEntry))) return false;
  HugeRegion old_region = std::move(index_region_);
  const IndexEntry* old = index_;
  index_region_ = std::move(region);
  index_ = reinterpret_cast<IndexEntry*>(index_region_.data());  // zeroed: every slot kNoFlow
  mask_ = size - 1;
  probe_rehash(old, old_size, index_, mask_);
  return true;
}

uint32_t FlowTable::insert(const FlowKey& key, uint32_t h, size_t i, int64_t now, bool* inserted) {
  // Keep the load under 70% so probe sequences stay short. Out of memory, a fuller index still
  // works as long as one entry stays empty.
  if ((size_ + 1) * 10 > index_size() * 7) {
    if (memory_may_grow() && grow_index()) {
      i = probe_empty(index_, mask_, h);
    } else {
      memory_refused();
      if (size_ + 2 > index_size()) return kNoFlow;
    }
  }
  uint32_t id = allocate();
  if (id == kNoFlow) return kNoFlow;
  FlowState& f = at(id);
  f.key = key;
  f.hash32 = h;
  index_[i] = IndexEntry{h, id};
  ++size_;
  wheel_file(f, id, now);
  *inserted = true;
  return id;
}

void FlowTable::erase(uint32_t id) {
  FlowState& f = at(id);
  probe_erase(index_, mask_, probe_find_id(index_, mask_, f.hash32, id));
  wheel_unlink(f, id);
  age_remove(id);
  --size_;
  f.wheel_next = free_head_;
  free_head_ = id;
}

void FlowTable::wheel_unlink(FlowState& f, uint32_t id) {
  Bucket& b = wheel_[f.wheel_bucket];
  if (f.wheel_prev)
    at(f.wheel_prev).wheel_next = f.wheel_next;
  else if (b.head == id)
    b.head = f.wheel_next;
  if (f.wheel_next)
    at(f.wheel_next).wheel_prev = f.wheel_prev;
  else if (b.tail == id)
    b.tail = f.wheel_prev;
  f.wheel_prev = f.wheel_next = kNoFlow;
}

void FlowTable::wheel_file(FlowState& f, uint32_t id, int64_t last_used) {
  f.wheel_bucket = uint16_t(bucket_index(last_used + idle_ns_));
  Bucket& b = wheel_[f.wheel_bucket];
  f.wheel_prev = b.tail;
  f.wheel_next = kNoFlow;
  if (b.tail)
    at(b.tail).wheel_next = id;
  else
    b.head = id;
  b.tail = id;
}

uint32_t FlowTable::eviction_victim() {
  if (size_ == 0) return kNoFlow;
  // From the bucket of the earliest deadline on: a flow used since it was filed moves to the
  // bucket of its new deadline; the first one that was not is the victim. After one turn every
  // flow has been filed anew, so the second turn finds one.
  size_t start = done_tick_ == INT64_MIN ? 0 : size_t(uint64_t(done_tick_ + 1) % wheel_.size());
  for (size_t k = 0; k < 2 * wheel_.size(); ++k) {
    size_t bucket = (start + k) % wheel_.size();
    Bucket& b = wheel_[bucket];
    while (b.head != kNoFlow) {
      uint32_t id = b.head;
      FlowState& f = at(id);
      int64_t last = f.last_seen();
      if (bucket_index(last + idle_ns_) == bucket) return id;  // not used since it was filed
      wheel_unlink(f, id);
      wheel_file(f, id, last);
    }
  }
  return kNoFlow;
}

void FlowTable::age_push_back(AgeList list, uint32_t id, int64_t time) {
  age_remove(id);
  FlowState& f = at(id);
  int l = int(list);
  f.age_list = uint8_t(list);
  f.in_age_list = 1;
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
  if (!f.in_age_list) return;
  int l = int(f.age_list);
  if (f.age_prev)
    at(f.age_prev).age_next = f.age_next;
  else
    age_head_[l] = f.age_next;
  if (f.age_next)
    at(f.age_next).age_prev = f.age_prev;
  else
    age_tail_[l] = f.age_prev;
  f.age_prev = f.age_next = kNoFlow;
  f.in_age_list = 0;
}

size_t FlowTable::memory_bytes() const {
  return slots_.committed() + index_region_.committed();
}

}  // namespace flowkit::meter
