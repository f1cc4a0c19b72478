#include "core/arena.h"

#include <algorithm>
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
    // Not zeroed (make_unique would): a reset arena hands out used bytes anyway, and zeroing
    // fresh blocks was the meter's largest cost of writing the store on the nDPI captures.
    blocks_.push_back({std::unique_ptr<std::byte[]>(new std::byte[size]), size});
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
  // Where the column's value is a string_view member of the record, its offset (else -1): the
  // view is replaced in place, without a FieldValue round trip through get() and set() (which
  // took 5% of a run that stores application labels).
  int32_t flow_view[64], dir_view[2][64];
  uint64_t flow_mask = 0, dir_mask[2] = {};
  std::vector<Column> unflagged;  // without a presence bit (none today): looked at each time
};

template <class V>
const std::string_view* view_member(V&& v) {
  if constexpr (std::is_lvalue_reference_v<V> &&
                std::is_same_v<std::remove_cvref_t<V>, std::string_view>)
    return &v;
  return nullptr;
}

// The offset of a column's string_view member in FlowRecord, or -1.
int32_t view_offset(const Column& c) {
  static const FlowRecord probe;
  const std::string_view* at = nullptr;
  switch (c.field->id) {
#define FK_FIELD(num, id, name, scope, type, value, ...)          \
  case FieldId::id: {                                             \
    [[maybe_unused]] const FlowRecord& r = probe;                 \
    [[maybe_unused]] const DirectionRecord& d = probe.dir(c.dir); \
    at = view_member(value);                                      \
    break;                                                        \
  }
#include "core/fields.def"
    default:
      break;
  }
  const auto* base = reinterpret_cast<const char*>(&probe);
  const auto* p = reinterpret_cast<const char*>(at);
  return at && p >= base && p < base + sizeof(FlowRecord) ? int32_t(p - base) : -1;
}

const VariableColumns& variable_columns() {
  static const VariableColumns columns = [] {
    VariableColumns out;
    std::fill(std::begin(out.flow_view), std::end(out.flow_view), -1);
    for (auto& views : out.dir_view) std::fill(std::begin(views), std::end(views), -1);
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
        out.flow_view[bit] = view_offset(c);
        out.flow_mask |= f.bit;
      } else {
        out.dir[int(c.dir)][bit] = &c;
        out.dir_view[int(c.dir)][bit] = view_offset(c);
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

void own_value(const FlowRecord& from, FlowRecord& to, const Column& c, int32_t view,
               Arena& arena) {
  if (view >= 0) {
    const auto& s =
        *reinterpret_cast<const std::string_view*>(reinterpret_cast<const char*>(&from) + view);
    if (!s.empty())
      *reinterpret_cast<std::string_view*>(reinterpret_cast<char*>(&to) + view) = arena.copy(s);
    return;
  }
  FieldValue v = c.field->get(from, c.dir);
  if (!empty_value(v)) c.field->set(to, c.dir, deep_copy(v, arena));
}

}  // namespace

void own_values(FlowRecord& r, Arena& arena) {
  own_values(r, r, arena);
}

void own_values(const FlowRecord& from, FlowRecord& to, Arena& arena) {
  // An unset value is empty whether or not the field is present; a field whose presence bit is
  // clear is skipped without building its value.
  const VariableColumns& v = variable_columns();
  for (uint64_t m = from.present & v.flow_mask; m; m &= m - 1) {
    const int bit = std::countr_zero(m);
    own_value(from, to, *v.flow[bit], v.flow_view[bit], arena);
  }
  for (int d = 0; d < 2; ++d) {
    for (uint64_t m = (d ? from.rev : from.fwd).present & v.dir_mask[d]; m; m &= m - 1) {
      const int bit = std::countr_zero(m);
      own_value(from, to, *v.dir[d][bit], v.dir_view[d][bit], arena);
    }
  }
  for (const Column& c : v.unflagged) own_value(from, to, c, -1, arena);
}

FlowRecord copy_record(const FlowRecord& r, Arena& arena) {
  FlowRecord out = r;
  own_values(r, out, arena);
  return out;
}

void* make_list(const FieldInfo& f, FlowRecord& r, Direction d, uint32_t n, Arena& arena) {
  void* items = n ? arena.allocate(size_t(f.item_size) * n) : nullptr;
  if (n) f.init_items(items, n);
  f.set(r, d, ListRef{items, n, &f});
  return items;
}

}  // namespace flowkit
