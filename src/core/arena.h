// Arena: the memory behind a batch of records' strings and lists. Allocation bumps a pointer in
// a block; reset() forgets every allocation but keeps the blocks, so a meter or decoder that
// fills one batch after another allocates nothing once its arena has grown to the largest batch.
// Not thread-safe; a batch and its arena travel together.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/flow_record.h"

namespace flowkit {

class Arena {
 public:
  explicit Arena(size_t block_size = 64 << 10) : block_size_(block_size) {}
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;
  Arena(Arena&&) = default;
  Arena& operator=(Arena&&) = default;

  // n bytes aligned to `align` (a power of two, at most alignof(std::max_align_t)).
  void* allocate(size_t n, size_t align = alignof(std::max_align_t));
  // A copy of s in the arena (an empty view for an empty s).
  std::string_view copy(std::string_view s);
  // Forgets every allocation; keeps the blocks for the next batch.
  void reset();
  // Bytes handed out since the last reset.
  size_t used() const { return used_; }

 private:
  struct Block {
    std::unique_ptr<std::byte[]> data;
    size_t size;
  };
  size_t block_size_;
  std::vector<Block> blocks_;
  size_t current_ = 0;  // block being filled
  size_t offset_ = 0;   // within it
  size_t used_ = 0;
};

// A deep copy of r whose strings and lists live in `arena` (for a sink that keeps records beyond
// the batch they came in).
FlowRecord copy_record(const FlowRecord& r, Arena& arena);
// The same in place: r's strings and lists are copied into `arena` and r points at the copies.
void own_values(FlowRecord& r, Arena& arena);
// The same into `to`, a copy of `from` just made: what to copy is read from `from`, whose lines
// are in the cache, not from `to`, whose lines are still being written.
void own_values(const FlowRecord& from, FlowRecord& to, Arena& arena);

// Sets a list field to n value-initialised items in the arena and returns them (laid out as the
// field's item struct), for decoders that fill lists item by item.
void* make_list(const struct FieldInfo& f, FlowRecord& r, Direction d, uint32_t n, Arena& arena);

}  // namespace flowkit
