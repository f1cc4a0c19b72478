#include "core/field_registry.h"

#include <limits>
#include <type_traits>

namespace flowkit {

namespace {

template <class T>
FieldValue to_value(const T& v) {
  if constexpr (std::is_enum_v<T>) {
    return uint64_t(v);
  } else if constexpr (std::is_integral_v<T>) {
    return uint64_t(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return double(v);
  } else {
    return v;
  }
}

template <class T>
struct Underlying {
  using type = T;
};
template <class T>
requires std::is_enum_v<T>
struct Underlying<T> {
  using type = std::underlying_type_t<T>;
};

template <class T>
bool from_value(const FieldValue& v, T& out) {
  if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
    using U = typename Underlying<T>::type;
    const uint64_t* u = std::get_if<uint64_t>(&v);
    if (!u || *u > uint64_t(std::numeric_limits<U>::max())) return false;
    out = T(U(*u));
    return true;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (const double* d = std::get_if<double>(&v)) {
      out = *d;
      return true;
    }
    if (const uint64_t* u = std::get_if<uint64_t>(&v)) {
      out = double(*u);
      return true;
    }
    return false;
  } else {
    const T* p = std::get_if<T>(&v);
    if (!p) return false;
    out = *p;
    return true;
  }
}

const FieldInfo kFields[] = {
#define FK_FLOW(id, name, type, lv, pres, ipfix, ipfix6, pen, nf9, nfd, ch, text)              \
  {FieldId::id,                                                                                \
   name,                                                                                       \
   FieldScope::kFlow,                                                                          \
   FieldType::type,                                                                            \
   false,                                                                                      \
   ipfix,                                                                                      \
   ipfix6,                                                                                     \
   pen,                                                                                        \
   nf9,                                                                                        \
   nfd,                                                                                        \
   ch,                                                                                         \
   text,                                                                                       \
   []([[maybe_unused]] const FlowRecord& r, Direction) -> FieldValue { return to_value(lv); }, \
   []([[maybe_unused]] FlowRecord& r, Direction, const FieldValue& v) {                        \
     return from_value(v, lv);                                                                 \
   },                                                                                          \
   []([[maybe_unused]] const FlowRecord& r, Direction) -> bool { return pres; }},
#define FK_FLOW_DERIVED(id, name, type, expr, pres, ipfix, ipfix6, pen, nf9, nfd, ch, text)      \
  {FieldId::id,                                                                                  \
   name,                                                                                         \
   FieldScope::kFlow,                                                                            \
   FieldType::type,                                                                              \
   true,                                                                                         \
   ipfix,                                                                                        \
   ipfix6,                                                                                       \
   pen,                                                                                          \
   nf9,                                                                                          \
   nfd,                                                                                          \
   ch,                                                                                           \
   text,                                                                                         \
   []([[maybe_unused]] const FlowRecord& r, Direction) -> FieldValue { return to_value(expr); }, \
   nullptr,                                                                                      \
   []([[maybe_unused]] const FlowRecord& r, Direction) -> bool { return pres; }},
#define FK_DIR(id, name, type, lv, pres, ipfix, ipfix6, pen, nf9, nfd, ch, text) \
  {FieldId::id,                                                                  \
   name,                                                                         \
   FieldScope::kDirection,                                                       \
   FieldType::type,                                                              \
   false,                                                                        \
   ipfix,                                                                        \
   ipfix6,                                                                       \
   pen,                                                                          \
   nf9,                                                                          \
   nfd,                                                                          \
   ch,                                                                           \
   text,                                                                         \
   []([[maybe_unused]] const FlowRecord& r, Direction dir) -> FieldValue {       \
     const DirectionRecord& d = r.dir(dir);                                      \
     (void)d;                                                                    \
     return to_value(lv);                                                        \
   },                                                                            \
   []([[maybe_unused]] FlowRecord& r, Direction dir, const FieldValue& v) {      \
     DirectionRecord& d = r.dir(dir);                                            \
     (void)d;                                                                    \
     return from_value(v, lv);                                                   \
   },                                                                            \
   []([[maybe_unused]] const FlowRecord& r, Direction dir) -> bool {             \
     const DirectionRecord& d = r.dir(dir);                                      \
     (void)d;                                                                    \
     return pres;                                                                \
   }},
#define FK_DIR_DERIVED(id, name, type, expr, pres, ipfix, ipfix6, pen, nf9, nfd, ch, text) \
  {FieldId::id,                                                                            \
   name,                                                                                   \
   FieldScope::kDirection,                                                                 \
   FieldType::type,                                                                        \
   true,                                                                                   \
   ipfix,                                                                                  \
   ipfix6,                                                                                 \
   pen,                                                                                    \
   nf9,                                                                                    \
   nfd,                                                                                    \
   ch,                                                                                     \
   text,                                                                                   \
   []([[maybe_unused]] const FlowRecord& r, Direction dir) -> FieldValue {                 \
     const DirectionRecord& d = r.dir(dir);                                                \
     return to_value(expr);                                                                \
   },                                                                                      \
   nullptr,                                                                                \
   []([[maybe_unused]] const FlowRecord& r, Direction dir) -> bool {                       \
     const DirectionRecord& d = r.dir(dir);                                                \
     (void)d;                                                                              \
     return pres;                                                                          \
   }},
#include "core/fields.def"
#undef FK_FLOW
#undef FK_DIR
#undef FK_FLOW_DERIVED
#undef FK_DIR_DERIVED
};

static_assert(std::size(kFields) == size_t(FieldId::kCount));

}  // namespace

std::span<const FieldInfo> all_fields() {
  return kFields;
}

const FieldInfo& field_info(FieldId id) {
  return kFields[size_t(id)];
}

const FieldInfo* find_field(std::string_view name, Direction* dir) {
  Direction d = Direction::kForward;
  std::string_view base = name;
  if (base.size() > 4 && base.substr(base.size() - 4) == "_rev") {
    base.remove_suffix(4);
    d = Direction::kReverse;
  }
  for (const FieldInfo& f : kFields) {
    if (f.name == name) {
      if (dir) *dir = Direction::kForward;
      return &f;
    }
  }
  for (const FieldInfo& f : kFields) {
    if (f.name == base && f.scope == FieldScope::kDirection) {
      if (dir) *dir = d;
      return &f;
    }
  }
  return nullptr;
}

bool field_present(const FieldInfo& f, const FlowRecord& r, Direction d) {
  if (f.scope == FieldScope::kDirection && d == Direction::kReverse) {
    if (!r.biflow) return false;
    if (f.id == FieldId::kPackets || f.id == FieldId::kBytes) return true;
    if (r.rev.packets == 0) return false;
  }
  return f.present(r, d);
}

std::string_view enum_name(FieldType type, uint64_t value) {
  if (type == FieldType::kEndReason && value < std::size(kEndReasonNames))
    return kEndReasonNames[value];
  if (type == FieldType::kTunnelType && value < std::size(kTunnelTypeNames))
    return kTunnelTypeNames[value];
  return {};
}

std::optional<uint64_t> enum_value(FieldType type, std::string_view name) {
  std::span<const std::string_view> names;
  if (type == FieldType::kEndReason) names = kEndReasonNames;
  if (type == FieldType::kTunnelType) names = kTunnelTypeNames;
  for (size_t i = 0; i < names.size(); ++i)
    if (names[i] == name) return i;
  return std::nullopt;
}

}  // namespace flowkit
