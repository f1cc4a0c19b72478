#include "export/field_format.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <type_traits>
#include <variant>

namespace flowkit::exporter {

namespace {

// A list as JSON: an array with an object per item.
void put_list(TextOutput& out, const ListRef& l) {
  out.put('[');
  if (l.field) {
    const FieldInfo& f = *l.field;
    for (uint32_t i = 0; i < l.size; ++i) {
      const void* item = static_cast<const uint8_t*>(l.items) + size_t(i) * f.item_size;
      if (i) out.put(',');
      char sep = '{';
      for (const ItemInfo& info : f.items) {
        out.put(sep);
        sep = ',';
        out.put_json_string(info.name);
        out.put(':');
        put_value(out, info.type, info.get(item), TextStyle::kJson);
      }
      out.put(sep == '{' ? "{}" : "}");
    }
  }
  out.put(']');
}

// Most bytes a fixed-size value takes as text, quotes included (an IPv6 address is the longest).
constexpr size_t kMaxValue = TextOutput::kMaxIp + 2;

// Whether values of this type are written straight into reserved room (else through
// TextOutput's checked calls: strings and lists have no bound).
constexpr bool fixed_size(FieldType t) {
  return t != FieldType::kUtf8 && t != FieldType::kBytes && t != FieldType::kList;
}

// Text that JSON quotes and CSV leaves bare (it never holds a comma, quote or line break).
template <TextStyle S, class Fn>
char* quoted(char* p, Fn&& fn) {
  if constexpr (S == TextStyle::kJson) *p++ = '"';
  p = fn(p);
  if constexpr (S == TextStyle::kJson) *p++ = '"';
  return p;
}

template <TextStyle S>
void put_string(TextOutput& out, FieldType type, std::string_view s) {
  if (type == FieldType::kBytes) {
    if constexpr (S == TextStyle::kJson) out.put('"');
    out.put_hex(s);
    if constexpr (S == TextStyle::kJson) out.put('"');
  } else if constexpr (S == TextStyle::kJson) {
    out.put_json_string(s);
  } else if constexpr (S == TextStyle::kText) {
    out.put_escaped(s);
  } else {
    out.put_csv_string(s);
  }
}

template <TextStyle S>
void put_list_value(TextOutput& out, const ListRef& l) {
  if constexpr (S != TextStyle::kCsv) {
    put_list(out, l);
  } else {
    size_t mark = out.mark();
    put_list(out, l);
    out.quote_csv_since(mark);
  }
}

// A value as its member, or a FieldValue alternative, holds it, written at p: fixed-size values
// into kMaxValue bytes of room there; the others (strings, lists) are committed through `out`,
// which then gives the new end. `type` tells enums from numbers and byte strings from text;
// `id` names the list field of a List member.
template <TextStyle S, class V>
char* write_member(char* p, TextOutput& out, FieldType type, const V& v,
                   [[maybe_unused]] FieldId id) {
  if constexpr (std::is_enum_v<V> || std::is_integral_v<V>) {
    if (type == FieldType::kEndReason || type == FieldType::kTunnelType) {
      std::string_view name = enum_name(type, uint64_t(v));
      if (!name.empty())
        return quoted<S>(p, [&](char* q) { return std::copy(name.begin(), name.end(), q); });
    }
    return TextOutput::write_u64(p, uint64_t(v));
  } else if constexpr (std::is_floating_point_v<V>) {
    return TextOutput::write_double(p, double(v));
  } else if constexpr (std::is_same_v<V, IpAddress>) {
    return quoted<S>(p, [&](char* q) { return TextOutput::write_ip(q, v); });
  } else if constexpr (std::is_same_v<V, MacAddress>) {
    return quoted<S>(p, [&](char* q) { return TextOutput::write_mac(q, v); });
  } else if constexpr (std::is_same_v<V, Timestamp>) {
    return quoted<S>(p, [&](char* q) { return out.write_iso8601(q, v); });
  } else if constexpr (std::is_same_v<V, std::monostate>) {
    if constexpr (S == TextStyle::kJson) p = std::copy_n("null", 4, p);
    return p;
  } else {
    out.commit(p);
    if constexpr (std::is_same_v<V, std::string_view>) {
      put_string<S>(out, type, v);
    } else if constexpr (std::is_same_v<V, ListRef>) {
      put_list_value<S>(out, v);
    } else {
      put_list_value<S>(out, ListRef{v.items, v.size, &field_info(id)});
    }
    return out.room(0);
  }
}

template <TextStyle S>
void put_value_as(TextOutput& out, FieldType type, const FieldValue& v) {
  std::visit(
      [&](const auto& x) {
        out.commit(write_member<S>(out.room(kMaxValue), out, type, x, FieldId{}));
      },
      v);
}

template <TextStyle S>
PutField writer_of(FieldId id) {
  switch (id) {
#define FK_WRITER(id, type, value)                                            \
  case FieldId::id:                                                           \
    return [](char* p, TextOutput& out, const FlowRecord& r, Direction dir) { \
      [[maybe_unused]] const DirectionRecord& d = r.dir(dir);                 \
      return write_member<S>(p, out, FieldType::type, value, FieldId::id);    \
    };
#define FK_FIELD(num, id, name, scope, type, value, ...) FK_WRITER(id, type, value)
#define FK_DERIVED(num, id, name, scope, type, value, ...) FK_WRITER(id, type, value)
#include "core/fields.def"
#undef FK_WRITER
  }
  return nullptr;
}

// Text pieces are copied 32 bytes at a time (a fixed-size copy the compiler inlines), so each
// plan's text ends with that much slack, and room for a piece is its length plus kCopy.
constexpr size_t kCopy = 32;
// Distinct layouts kept before starting over (records with hostile presence bits can make many).
constexpr size_t kMaxPlans = 4096;

char* copy_text(char* p, const char* text, size_t n) {
  if (n <= kCopy) {
    std::memcpy(p, text, kCopy);
  } else {
    std::memcpy(p, text, n);
  }
  return p + n;
}

}  // namespace

PutField field_writer(const FieldInfo& f, TextStyle style) {
  switch (style) {
    case TextStyle::kJson:
      return writer_of<TextStyle::kJson>(f.id);
    case TextStyle::kText:
      return writer_of<TextStyle::kText>(f.id);
    default:
      return writer_of<TextStyle::kCsv>(f.id);
  }
}

void put_value(TextOutput& out, FieldType type, const FieldValue& v, TextStyle style) {
  switch (style) {
    case TextStyle::kJson:
      return put_value_as<TextStyle::kJson>(out, type, v);
    case TextStyle::kText:
      return put_value_as<TextStyle::kText>(out, type, v);
    default:
      return put_value_as<TextStyle::kCsv>(out, type, v);
  }
}

std::optional<FieldValue> parse_value(FieldType type, std::string_view text, Arena& arena) {
  const char* end = text.data() + text.size();
  switch (type) {
    case FieldType::kEndReason:
    case FieldType::kTunnelType:
      if (auto v = enum_value(type, text)) return FieldValue(*v);
      [[fallthrough]];
    case FieldType::kU8:
    case FieldType::kU16:
    case FieldType::kU32:
    case FieldType::kU64: {
      uint64_t v;
      auto r = std::from_chars(text.data(), end, v);
      if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
      return FieldValue(v);
    }
    case FieldType::kF64: {
      double v;
      auto r = std::from_chars(text.data(), end, v);
      if (r.ec != std::errc() || r.ptr != end) return std::nullopt;
      return FieldValue(v);
    }
    case FieldType::kIp:
      if (auto a = IpAddress::parse(text)) return FieldValue(*a);
      return std::nullopt;
    case FieldType::kMac:
      if (auto m = MacAddress::parse(text)) return FieldValue(*m);
      return std::nullopt;
    case FieldType::kTime:
      if (auto t = parse_iso8601(text)) return FieldValue(*t);
      return std::nullopt;
    case FieldType::kUtf8:
      return FieldValue(arena.copy(text));
    case FieldType::kBytes: {
      if (text.size() % 2) return std::nullopt;
      auto* out = static_cast<char*>(arena.allocate(text.size() / 2 + 1, 1));
      for (size_t i = 0; i < text.size(); i += 2) {
        uint8_t byte;
        auto r = std::from_chars(text.data() + i, text.data() + i + 2, byte, 16);
        if (r.ec != std::errc() || r.ptr != text.data() + i + 2) return std::nullopt;
        out[i / 2] = char(byte);
      }
      return FieldValue(std::string_view(out, text.size() / 2));
    }
    case FieldType::kList:
      return std::nullopt;
  }
  return std::nullopt;
}

RecordLayout::RecordLayout(TextStyle style, bool reverse) : style_(style) {
  for (const Column& c : all_columns()) {
    if (c.dir == Direction::kReverse && !reverse) continue;
    columns_.push_back(c);
    names_.push_back(std::string(c.field->name) + (c.dir == Direction::kReverse ? "_rev" : ""));
    writers_.push_back(field_writer(*c.field, style));
  }
}

RecordLayout::Plan RecordLayout::make_plan(const PresenceView& view) const {
  Plan plan;
  std::string pending;  // text not yet given to a step
  bool json = style_ == TextStyle::kJson;
  for (size_t i = 0; i < columns_.size(); ++i) {
    const Column& c = columns_[i];
    if (!json && i) pending += ',';
    if (!view.has(*c.field, c.dir)) continue;
    if (json) pending += (plan.steps.empty() ? "{\"" : ",\"") + names_[i] + "\":";
    plan.steps.push_back({uint32_t(plan.text.size()), uint32_t(pending.size()), 0,
                          !fixed_size(c.field->type), c.dir, writers_[i]});
    plan.text += pending;
    pending.clear();
  }
  if (json) pending = plan.steps.empty() ? "{}" : "}";
  pending += '\n';
  plan.end_at = uint32_t(plan.text.size());
  plan.end_len = uint32_t(pending.size());
  plan.text += pending;
  plan.text.append(kCopy, '\0');
  // Room from each step to the next step that writes through `out` (or the end), taken once.
  size_t need = plan.end_len + kCopy;
  for (size_t i = plan.steps.size(); i-- > 0;) {
    Step& s = plan.steps[i];
    s.room_after = uint32_t(need);
    need = s.variable ? s.text_len + kCopy : need + s.text_len + kCopy + kMaxValue;
  }
  plan.room = uint32_t(need);
  return plan;
}

void RecordLayout::write(TextOutput& out, const FlowRecord& r) {
  PresenceView view(r);
  // Records in a row mostly have the same fields.
  if (!last_ || !(view == last_->first)) {
    auto it = plans_.find(view);
    if (it == plans_.end()) {
      if (plans_.size() >= kMaxPlans) plans_.clear();
      it = plans_.emplace(view, make_plan(view)).first;
    }
    last_ = &*it;
  }
  const Plan& plan = last_->second;
  const char* text = plan.text.data();
  char* p = out.room(plan.room);
  for (const Step& s : plan.steps) {
    p = copy_text(p, text + s.text_at, s.text_len);
    p = s.put(p, out, r, s.dir);
    if (s.variable) {
      out.commit(p);
      p = out.room(s.room_after);
    }
  }
  out.commit(copy_text(p, text + plan.end_at, plan.end_len));
  out.end_record();
}

}  // namespace flowkit::exporter
