#include "core/arena.h"

#include <bit>
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

// The columns whose values can point outside the record, found once, by where their presence
// bit is: a record costs a loop over the bits it has set, not over every such column.
struct VariableColumns {
  const Column* flow[64] = {};    // by bit of FlowRecord::present
  const Column* dir[2][64] = {};  // by bit of DirectionRecord::present, per direction
  uint64_t flow_mask = 0, dir_mask[2] = {};
  std::vector<Column> unflagged;  // without a presence bit (none today): looked at each time
};

const VariableColumns& variable_columns() {
  static const VariableColumns columns = [] {
    VariableColumns out;
    for (const Column& c : all_columns()) {
      const FieldInfo& f = *c.field;
      if (f.derived ||
          (f.type != FieldType::kUtf8 && f.type != FieldType::kBytes && f.type != FieldType::kList))
        continue;
      if (f.presence != Presence::kSet) {
        out.unflagged.push_back(c);
        continue;
      }
      int bit = std::countr_zero(f.bit);
      if (f.scope == FieldScope::kFlow) {
        out.flow[bit] = &c;
        out.flow_mask |= f.bit;
      } else {
        out.dir[int(c.dir)][bit] = &c;
        out.dir_mask[int(c.dir)] |= f.bit;
      }
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

void own_value(FlowRecord& r, const Column& c, Arena& arena) {
  FieldValue v = c.field->get(r, c.dir);
  if (!empty_value(v)) c.field->set(r, c.dir, deep_copy(v, arena));
}

}  // namespace

void own_values(FlowRecord& r, Arena& arena) {
  // An unset value is empty whether or not the field is present; a field whose presence bit is
  // clear is skipped without building its value.
  const VariableColumns& v = variable_columns();
  for (uint64_t m = r.present & v.flow_mask; m; m &= m - 1)
    own_value(r, *v.flow[std::countr_zero(m)], arena);
  for (int d = 0; d < 2; ++d) {
    for (uint64_t m = (d ? r.rev : r.fwd).present & v.dir_mask[d]; m; m &= m - 1)
      own_value(r, *v.dir[d][std::countr_zero(m)], arena);
  }
  for (const Column& c : v.unflagged) own_value(r, c, arena);
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
