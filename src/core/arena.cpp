#include "core/arena.h"

#include <cstring>

#include "core/field_registry.h"

namespace flowkit {

void* Arena::allocate(size_t n, size_t align) {
  for (;;) {
    if (current_ < blocks_.size()) {
      Block& b = blocks_[current_];
      size_t start = (offset_ + align - 1) & ~(align - 1);
      if (start + n <= b.size) {
        offset_ = start + n;
        used_ += n;
        return b.data.get() + start;
      }
      ++current_;
      offset_ = 0;
      continue;
    }
    size_t size = std::max(block_size_, n + align);
    blocks_.push_back({std::make_unique<std::byte[]>(size), size});
    current_ = blocks_.size() - 1;
    offset_ = 0;
  }
}

std::string_view Arena::copy(std::string_view s) {
  if (s.empty()) return {};
  char* p = static_cast<char*>(allocate(s.size(), 1));
  std::memcpy(p, s.data(), s.size());
  return {p, s.size()};
}

void Arena::reset() {
  current_ = 0;
  offset_ = 0;
  used_ = 0;
}

namespace {

// The value with its strings (and its items' strings) copied into the arena.
FieldValue deep_copy(const FieldValue& v, Arena& arena) {
  if (const std::string_view* s = std::get_if<std::string_view>(&v)) return arena.copy(*s);
  const ListRef* l = std::get_if<ListRef>(&v);
  if (!l || l->size == 0 || !l->field) return v;
  const FieldInfo& f = *l->field;
  void* items = arena.allocate(size_t(f.item_size) * l->size);
  f.init_items(items, l->size);
  for (uint32_t i = 0; i < l->size; ++i) {
    const void* from = static_cast<const uint8_t*>(l->items) + size_t(i) * f.item_size;
    void* to = static_cast<uint8_t*>(items) + size_t(i) * f.item_size;
    for (const ItemInfo& item : f.items) item.set(to, deep_copy(item.get(from), arena));
  }
  return ListRef{items, l->size, &f};
}

}  // namespace

namespace {

// The columns whose values can point outside the record, found once: a record with none of them
// set costs one load per column.
std::span<const Column> variable_columns() {
  static const std::vector<Column> columns = [] {
    std::vector<Column> out;
    for (const Column& c : all_columns()) {
      const FieldInfo& f = *c.field;
      if (!f.derived &&
          (f.type == FieldType::kUtf8 || f.type == FieldType::kBytes || f.type == FieldType::kList))
        out.push_back(c);
    }
    return out;
  }();
  return columns;
}

bool empty_value(const FieldValue& v) {
  if (const std::string_view* s = std::get_if<std::string_view>(&v)) return s->empty();
  const ListRef* l = std::get_if<ListRef>(&v);
  return !l || l->size == 0;
}

}  // namespace

void own_values(FlowRecord& r, Arena& arena) {
  // An unset value is empty whether or not the field is present; a field with a presence bit
  // that is clear is skipped without building its value.
  for (const Column& c : variable_columns()) {
    const FieldInfo& f = *c.field;
    if (f.presence == Presence::kSet) {
      uint64_t bits = f.scope == FieldScope::kFlow   ? r.present
                      : c.dir == Direction::kForward ? r.fwd.present
                                                     : r.rev.present;
      if (!(bits & f.bit)) continue;
    }
    FieldValue v = c.field->get(r, c.dir);
    if (!empty_value(v)) f.set(r, c.dir, deep_copy(v, arena));
  }
}

FlowRecord copy_record(const FlowRecord& r, Arena& arena) {
  FlowRecord out = r;
  own_values(out, arena);
  return out;
}

void* make_list(const FieldInfo& f, FlowRecord& r, Direction d, uint32_t n, Arena& arena) {
  void* items = n ? arena.allocate(size_t(f.item_size) * n) : nullptr;
  if (n) f.init_items(items, n);
  f.set(r, d, ListRef{items, n, &f});
  return items;
}

}  // namespace flowkit
