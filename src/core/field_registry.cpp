#include "core/field_registry.h"

#include <algorithm>
#include <array>
#include <limits>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

namespace flowkit {

// A value's own record flag, for the presence rules that read one: a decoder that sets a MAC
// address makes the direction's MACs present.
void set_presence(Presence p, FieldScope scope, uint64_t bit, FlowRecord& r, Direction dir) {
  DirectionRecord& d = r.dir(dir);
  switch (p) {
    case Presence::kMac:
      d.has_mac = true;
      break;
    case Presence::kVlan:
      d.vlan_depth = std::max<uint8_t>(d.vlan_depth, 1);
      break;
    case Presence::kVlanInner:
      d.vlan_depth = 2;
      break;
    case Presence::kMpls1:
    case Presence::kMpls2:
    case Presence::kMpls3:
      d.mpls_depth = std::max<uint8_t>(d.mpls_depth, uint8_t(int(p) - int(Presence::kMpls1) + 1));
      break;
    case Presence::kStats:
      r.has_stats = true;
      break;
    case Presence::kSet:
      if (scope == FieldScope::kFlow)
        r.present |= bit;
      else
        d.present |= uint32_t(bit);
      break;
    default:  // rules that read the record's own values (protocol, IP version, tunnel type)
      break;
  }
}

namespace {

using enum IeType;
using enum IeSemantics;

template <class T>
struct IsList : std::false_type {};
template <class T>
struct IsList<List<T>> : std::true_type {
  using Item = T;
};

template <class T>
FieldValue to_value(const T& v, [[maybe_unused]] FieldId id) {
  if constexpr (std::is_enum_v<T> || std::is_integral_v<T>) {
    return uint64_t(v);
  } else if constexpr (std::is_floating_point_v<T>) {
    return double(v);
  } else if constexpr (IsList<T>::value) {
    return ListRef{v.items, v.size, &field_info(id)};
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
  } else if constexpr (IsList<T>::value) {
    const ListRef* l = std::get_if<ListRef>(&v);
    if (!l) return false;
    out = T{static_cast<const typename IsList<T>::Item*>(l->items), l->size};
    return true;
  } else {
    const T* p = std::get_if<T>(&v);
    if (!p) return false;
    out = *p;
    return true;
  }
}

// The item type of a list field (void for other fields), from an accessor of the field.
template <class F>
using ValueOf = std::remove_cvref_t<std::invoke_result_t<F, FlowRecord&, DirectionRecord&>>;

template <class F>
constexpr uint32_t item_size_of(F) {
  if constexpr (IsList<ValueOf<F>>::value)
    return sizeof(typename IsList<ValueOf<F>>::Item);
  else
    return 0;
}

template <class F>
constexpr auto init_items_of(F) {
  if constexpr (IsList<ValueOf<F>>::value) {
    return +[](void* p, uint32_t n) {
      std::uninitialized_value_construct_n(static_cast<typename IsList<ValueOf<F>>::Item*>(p), n);
    };
  } else {
    return static_cast<void (*)(void*, uint32_t)>(nullptr);
  }
}

// ---- List items ---------------------------------------------------------------------------

struct ItemRow {
  FieldId list;
  ItemInfo info;
};

#define IE(...) \
  IpfixSpec {   \
    __VA_ARGS__ \
  }
#define NF9(...) \
  Netflow9Spec { \
    __VA_ARGS__  \
  }

const ItemRow kItemRows[] = {
#define FK_ITEM(list, Item, num, name, type, value, ipfix, text)      \
  {FieldId::list,                                                     \
   {num, name, FieldType::type, ipfix, text,                          \
    [](const void* p) -> FieldValue {                                 \
      [[maybe_unused]] const Item& it = *static_cast<const Item*>(p); \
      return to_value(value, FieldId::list);                          \
    },                                                                \
    [](void* p, const FieldValue& v) {                                \
      [[maybe_unused]] Item& it = *static_cast<Item*>(p);             \
      return from_value(v, value);                                    \
    }}},
#include "core/fields.def"
};

// Built on first use, so that other files' static initialisers may use the registry.
const std::vector<ItemInfo>& items() {
  static const std::vector<ItemInfo> v = [] {
    std::vector<ItemInfo> out;
    for (const ItemRow& row : kItemRows) out.push_back(row.info);
    return out;
  }();
  return v;
}

// The items of a list field: FK_ITEM lines of one list stand together in fields.def.
std::span<const ItemInfo> items_of(FieldId list) {
  size_t begin = 0, n = 0;
  for (size_t i = 0; i < std::size(kItemRows); ++i) {
    if (kItemRows[i].list != list) continue;
    if (n == 0) begin = i;
    ++n;
  }
  return std::span<const ItemInfo>(items()).subspan(begin, n);
}

// ---- Fields -------------------------------------------------------------------------------

std::vector<FieldInfo> build_fields() {
  return {
#define FK_FIELD(num, id, name, scope, type, value, presence, ipfix, nf9, ch, text)             \
  FieldInfo{FieldId::id,                                                                        \
            name,                                                                               \
            FieldScope::scope,                                                                  \
            FieldType::type,                                                                    \
            false,                                                                              \
            Presence::presence,                                                                 \
            presence_bit(FieldId::id),                                                          \
            ipfix,                                                                              \
            nf9,                                                                                \
            ch,                                                                                 \
            text,                                                                               \
            items_of(FieldId::id),                                                              \
            item_size_of([]([[maybe_unused]] FlowRecord & r,                                    \
                            [[maybe_unused]] DirectionRecord & d) -> auto& { return value; }),  \
            init_items_of([]([[maybe_unused]] FlowRecord & r,                                   \
                             [[maybe_unused]] DirectionRecord & d) -> auto& { return value; }), \
            [](const FlowRecord& r, Direction dir) -> FieldValue {                              \
              [[maybe_unused]] const DirectionRecord& d = r.dir(dir);                           \
              return to_value(value, FieldId::id);                                              \
            },                                                                                  \
            [](FlowRecord& r, Direction dir, const FieldValue& v) {                             \
              [[maybe_unused]] DirectionRecord& d = r.dir(dir);                                 \
              if (!from_value(v, value)) return false;                                          \
              set_presence(Presence::presence, FieldScope::scope, presence_bit(FieldId::id), r, \
                           dir);                                                                \
              return true;                                                                      \
            }},
#define FK_DERIVED(num, id, name, scope, type, value, presence, ipfix, nf9, ch, text) \
  FieldInfo{FieldId::id,                                                              \
            name,                                                                     \
            FieldScope::scope,                                                        \
            FieldType::type,                                                          \
            true,                                                                     \
            Presence::presence,                                                       \
            0,                                                                        \
            ipfix,                                                                    \
            nf9,                                                                      \
            ch,                                                                       \
            text,                                                                     \
            {},                                                                       \
            0,                                                                        \
            nullptr,                                                                  \
            [](const FlowRecord& r, Direction dir) -> FieldValue {                    \
              [[maybe_unused]] const DirectionRecord& d = r.dir(dir);                 \
              return to_value(value, FieldId::id);                                    \
            },                                                                        \
            nullptr},
#include "core/fields.def"
  };
}

const std::vector<FieldInfo>& fields() {
  static const std::vector<FieldInfo> v = build_fields();
  return v;
}

constexpr uint16_t kIds[] = {
#define FK_FIELD(num, ...) num,
#define FK_DERIVED(num, ...) num,
#include "core/fields.def"
};
constexpr uint16_t kMaxId = *std::max_element(std::begin(kIds), std::end(kIds));
// Field id -> position in fields(); -1 for ids no field has.
constexpr auto kIndexOf = [] {
  std::array<int16_t, kMaxId + 1> a{};
  a.fill(-1);
  for (size_t i = 0; i < std::size(kIds); ++i) a[kIds[i]] = int16_t(i);
  return a;
}();

constexpr bool ids_unique() {
  for (size_t i = 0; i < std::size(kIds); ++i)
    for (size_t j = i + 1; j < std::size(kIds); ++j)
      if (kIds[i] == kIds[j]) return false;
  return true;
}
static_assert(ids_unique(), "two fields in fields.def share an id");

constexpr int count_set(FieldScope scope) {
  int n = 0;
  for (const auto& row : registry_detail::kPresenceRows)
    n += row.scope == scope && row.presence == Presence::kSet;
  return n;
}
static_assert(count_set(FieldScope::kFlow) <= 64, "FlowRecord::present has 64 bits");
static_assert(count_set(FieldScope::kDir) <= 32, "DirectionRecord::present has 32 bits");

const AltElement kAlts[] = {
#define FK_ALT(field, element, type) {FieldId::field, element, type},
#include "core/fields.def"
};

const NfdumpAlias kAliases[] = {
#define FK_NFDUMP(field, qualifier, keyword, ...) \
  {FieldId::field, NfdumpQualifier::qualifier, keyword __VA_OPT__(, ) __VA_ARGS__},
#include "core/fields.def"
};

const std::vector<Column>& columns() {
  static const std::vector<Column> v = [] {
    std::vector<Column> c;
    for (const FieldInfo& f : fields()) {
      c.push_back({&f, Direction::kForward});
      if (f.scope == FieldScope::kDir) c.push_back({&f, Direction::kReverse});
    }
    return c;
  }();
  return v;
}

#undef IE
#undef NF9

}  // namespace

bool operator==(const ListRef& a, const ListRef& b) {
  if (a.size != b.size) return false;
  if (a.size == 0) return true;
  const FieldInfo* f = a.field ? a.field : b.field;
  if (!f || f->item_size == 0) return a.items == b.items;
  auto* pa = static_cast<const uint8_t*>(a.items);
  auto* pb = static_cast<const uint8_t*>(b.items);
  for (uint32_t i = 0; i < a.size; ++i)
    for (const ItemInfo& item : f->items)
      if (item.get(pa + i * f->item_size) != item.get(pb + i * f->item_size)) return false;
  return true;
}

std::span<const FieldInfo> all_fields() {
  return fields();
}

const FieldInfo& field_info(FieldId id) {
  return fields()[size_t(kIndexOf[size_t(id)])];
}

size_t field_index(FieldId id) {
  return size_t(kIndexOf[size_t(id)]);
}

const FieldInfo* find_field(uint16_t id) {
  if (id > kMaxId || kIndexOf[id] < 0) return nullptr;
  return &fields()[size_t(kIndexOf[id])];
}

const FieldInfo* find_field(std::string_view name, Direction* dir) {
  Direction d = Direction::kForward;
  std::string_view base = name;
  if (base.size() > 4 && base.substr(base.size() - 4) == "_rev") {
    base.remove_suffix(4);
    d = Direction::kReverse;
  }
  for (const FieldInfo& f : fields()) {
    if (f.name == name) {
      if (dir) *dir = Direction::kForward;
      return &f;
    }
  }
  for (const FieldInfo& f : fields()) {
    if (f.name == base && f.scope == FieldScope::kDir) {
      if (dir) *dir = d;
      return &f;
    }
  }
  return nullptr;
}

std::span<const AltElement> alt_elements() {
  return kAlts;
}

std::span<const NfdumpAlias> nfdump_aliases() {
  return kAliases;
}

std::span<const Column> all_columns() {
  return columns();
}

namespace {

// Every condition that holds, a bit per Presence (kSet excluded).
uint32_t condition_bits(const FlowRecord& r, Direction dir) {
  const DirectionRecord& d = r.dir(dir);
  auto bit = [](Presence p, bool holds) { return uint32_t(holds) << int(p); };
  return bit(Presence::kAlways, true) | bit(Presence::kTcp, r.protocol == 6) |
         bit(Presence::kIcmp, is_icmp(r.protocol)) | bit(Presence::kIpv6, r.ip_version == 6) |
         bit(Presence::kMac, d.has_mac) | bit(Presence::kVlan, d.vlan_depth >= 1) |
         bit(Presence::kVlanInner, d.vlan_depth >= 2) | bit(Presence::kMpls1, d.mpls_depth >= 1) |
         bit(Presence::kMpls2, d.mpls_depth >= 2) | bit(Presence::kMpls3, d.mpls_depth >= 3) |
         bit(Presence::kTunnel, r.tunnel_type != TunnelType::kNone) |
         bit(Presence::kVxlan,
             r.tunnel_type == TunnelType::kVxlan || r.tunnel_type == TunnelType::kGeneve) |
         bit(Presence::kStats, r.has_stats);
}

}  // namespace

bool condition_holds(Presence p, const FlowRecord& r, Direction dir) {
  return condition_bits(r, dir) >> int(p) & 1;
}

void mark_present(const FieldInfo& f, FlowRecord& r, Direction d) {
  set_presence(f.presence, f.scope, f.bit, r, d);
}

namespace {

bool is_v6_value(const IpAddress& a) {
  return !a.is_v4();
}
template <class T>
bool is_v6_value(const T&) {
  return false;
}

}  // namespace

RecordShape shape_of(const FlowRecord& r) {
  RecordShape s;
  s.conditions = condition_bits(r, Direction::kForward);
  if (r.biflow) {
    s.conditions |= uint64_t(condition_bits(r, Direction::kReverse)) << 16 | uint64_t(1) << 32;
    if (r.rev.packets) s.conditions |= uint64_t(1) << 33;
  }
  s.flow_present = r.present;
  s.dir_present = r.fwd.present | uint64_t(r.biflow ? r.rev.present : 0) << 32;
  int n = 0;
  for (Direction dir : {Direction::kForward, Direction::kReverse}) {
    [[maybe_unused]] const DirectionRecord& d = r.dir(dir);
#define FK_FIELD(num, id, name, scope, type, value, ...)                     \
  if (FieldScope::scope == FieldScope::kDir || dir == Direction::kForward) { \
    s.ipv6_values |= uint64_t(is_v6_value(value)) << n;                      \
    n += FieldType::type == FieldType::kIp;                                  \
  }
#include "core/fields.def"
  }
  return s;
}

bool uses_ipv6_element(const FieldInfo& f, const FlowRecord& r, Direction d) {
  if (f.type != FieldType::kIp) return r.ip_version == 6;
  FieldValue v = f.get(r, d);
  const IpAddress* a = std::get_if<IpAddress>(&v);
  return a && !a->is_v4();
}

PresenceView::PresenceView(const FlowRecord& r) {
  uint32_t fwd = condition_bits(r, Direction::kForward) | 1u << int(Presence::kSet);
  flow_ = {fwd, r.present};
  dir_[0] = {fwd, r.fwd.present};
  // The reverse direction of a biflow without reverse packets has its zero counters only.
  if (r.biflow && r.rev.packets) {
    dir_[1] = {condition_bits(r, Direction::kReverse) | 1u << int(Presence::kSet), r.rev.present};
  }
  counters_only_ = r.biflow && !r.rev.packets;
}

size_t PresenceView::hash() const {
  uint64_t h = uint64_t(flow_.conditions) | uint64_t(dir_[0].conditions) << 16 |
               uint64_t(dir_[1].conditions) << 32 | uint64_t(counters_only_) << 48;
  for (uint64_t w : {flow_.present, dir_[0].present, dir_[1].present})
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
  return size_t(h ^ h >> 29);
}

bool field_present(const FieldInfo& f, const FlowRecord& r, Direction d) {
  return PresenceView(r).has(f, d);
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

uint16_t natural_length(IeType t) {
  switch (t) {
    case kUnsigned8:
    case kSigned8:
    case kBoolean:
      return 1;
    case kUnsigned16:
    case kSigned16:
      return 2;
    case kUnsigned32:
    case kSigned32:
    case kFloat32:
    case kDateTimeSeconds:
    case kIpv4Address:
    case kSysUpTime:
    case kDeltaMicroseconds:
      return 4;
    case kMacAddress:
      return 6;
    case kUnsigned64:
    case kSigned64:
    case kFloat64:
    case kDateTimeMilliseconds:
    case kDateTimeMicroseconds:
    case kDateTimeNanoseconds:
      return 8;
    case kIpv6Address:
      return 16;
    case kOctetArray:
    case kString:
    case kBasicList:
    case kSubTemplateList:
    case kSubTemplateMultiList:
      return 0xffff;
  }
  return 0xffff;
}

std::string_view ie_type_name(IeType t) {
  switch (t) {
    case kOctetArray:
      return "octetArray";
    case kUnsigned8:
      return "unsigned8";
    case kUnsigned16:
      return "unsigned16";
    case kUnsigned32:
      return "unsigned32";
    case kUnsigned64:
      return "unsigned64";
    case kSigned8:
      return "signed8";
    case kSigned16:
      return "signed16";
    case kSigned32:
      return "signed32";
    case kSigned64:
      return "signed64";
    case kFloat32:
      return "float32";
    case kFloat64:
      return "float64";
    case kBoolean:
      return "boolean";
    case kMacAddress:
      return "macAddress";
    case kString:
      return "string";
    case kDateTimeSeconds:
      return "dateTimeSeconds";
    case kDateTimeMilliseconds:
      return "dateTimeMilliseconds";
    case kDateTimeMicroseconds:
      return "dateTimeMicroseconds";
    case kDateTimeNanoseconds:
      return "dateTimeNanoseconds";
    case kIpv4Address:
      return "ipv4Address";
    case kIpv6Address:
      return "ipv6Address";
    case kBasicList:
      return "basicList";
    case kSubTemplateList:
      return "subTemplateList";
    case kSubTemplateMultiList:
      return "subTemplateMultiList";
    case kSysUpTime:
      return "unsigned32";  // milliseconds of sysUpTime
    case kDeltaMicroseconds:
      return "unsigned32";  // microseconds before the export time
  }
  return "octetArray";
}

std::string_view ie_semantics_name(IeSemantics s) {
  switch (s) {
    case kQuantity:
      return "quantity";
    case kTotalCounter:
      return "totalCounter";
    case kDeltaCounter:
      return "deltaCounter";
    case kIdentifier:
      return "identifier";
    case kFlags:
      return "flags";
    case IeSemantics::kList:
      return "list";
    case kDefault:
      break;
  }
  return "default";
}

std::string_view field_type_name(FieldType t) {
  switch (t) {
    case FieldType::kU8:
      return "uint8";
    case FieldType::kU16:
      return "uint16";
    case FieldType::kU32:
      return "uint32";
    case FieldType::kU64:
      return "uint64";
    case FieldType::kF64:
      return "float64";
    case FieldType::kIp:
      return "ip address";
    case FieldType::kMac:
      return "mac address";
    case FieldType::kTime:
      return "timestamp";
    case FieldType::kEndReason:
      return "end reason";
    case FieldType::kTunnelType:
      return "tunnel type";
    case FieldType::kUtf8:
      return "string";
    case FieldType::kBytes:
      return "bytes";
    case FieldType::kList:
      return "list";
  }
  return "?";
}

}  // namespace flowkit
