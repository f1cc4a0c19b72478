// The field registry: every FlowRecord field with its permanent id, its names and numbers in
// every format flowkit speaks, and the rules that decide when it has a value. Declared once in
// fields.def; this header gives typed access to it. Templates, decoders' presence flags, the CSV
// header, JSON keys, docs/fields.md and the query language's keywords are derived from it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "core/flow_record.h"

namespace flowkit {

// Permanent field ids: files, templates and APIs name fields by them. An id is never changed or
// reused once a release has written it (field_registry_test.cpp holds every id ever assigned).
enum class FieldId : uint16_t {
#define FK_FIELD(num, id, ...) id = num,
#define FK_DERIVED(num, id, ...) id = num,
#include "core/fields.def"
};

enum class FieldScope : uint8_t {
  kFlow,  // one value per flow
  kDir,   // one value per direction; reverse is `<name>_rev` / the reverse IPFIX element
};

// How flowkit holds a value.
enum class FieldType : uint8_t {
  kU8,
  kU16,
  kU32,
  kU64,
  kF64,
  kIp,
  kMac,
  kTime,
  kEndReason,
  kTunnelType,
  kUtf8,   // UTF-8 text (std::string_view into the batch's arena)
  kBytes,  // a byte string (the same; written as hex in text formats)
  kList,   // a list of records (ListRef; the item's fields are FK_ITEM lines)
};

// RFC 7012 abstract data types, numbered as RFC 5610's informationElementDataType.
enum class IeType : uint8_t {
  kOctetArray = 0,
  kUnsigned8 = 1,
  kUnsigned16 = 2,
  kUnsigned32 = 3,
  kUnsigned64 = 4,
  kSigned8 = 5,
  kSigned16 = 6,
  kSigned32 = 7,
  kSigned64 = 8,
  kFloat32 = 9,
  kFloat64 = 10,
  kBoolean = 11,
  kMacAddress = 12,
  kString = 13,
  kDateTimeSeconds = 14,
  kDateTimeMilliseconds = 15,
  kDateTimeMicroseconds = 16,
  kDateTimeNanoseconds = 17,
  kIpv4Address = 18,
  kIpv6Address = 19,
  kBasicList = 20,
  kSubTemplateList = 21,
  kSubTemplateMultiList = 22,
  // Not an RFC 5610 type: milliseconds of the exporter's uptime in an unsigned32
  // (flowStartSysUpTime/flowEndSysUpTime, NetFlow v9's FIRST/LAST_SWITCHED), which a reader
  // turns into a time with the exporter's boot time (systemInitTimeMilliseconds).
  kSysUpTime = 255,
  // Not an RFC 5610 type either: microseconds before the message's export time in an unsigned32
  // (flowStartDeltaMicroseconds, flowEndDeltaMicroseconds).
  kDeltaMicroseconds = 254,
};

// RFC 7012 / RFC 5610 informationElementSemantics.
enum class IeSemantics : uint8_t {
  kDefault = 0,
  kQuantity = 1,
  kTotalCounter = 2,
  kDeltaCounter = 3,
  kIdentifier = 4,
  kFlags = 5,
  kList = 6,
};

// When a field has a value. Every condition reads the record (or the direction); kSet fields
// carry a presence bit of their own, set when something fills them.
enum class Presence : uint8_t {
  kAlways,
  kTcp,        // protocol 6
  kIcmp,       // protocol 1 or 58
  kIpv6,       // ip_version 6
  kMac,        // the direction's frames had Ethernet addresses
  kVlan,       // at least one 802.1Q tag
  kVlanInner,  // QinQ
  kMpls1,      // at least one MPLS label
  kMpls2,
  kMpls3,
  kTunnel,  // the flow came through a tunnel
  kVxlan,   // ... whose outermost layer is VXLAN or Geneve
  kStats,   // packet size and inter-arrival statistics were computed
  kSet,     // the field's own bit
  kCount
};

// The bit of a kSet field in FlowRecord::present (flow fields) or DirectionRecord::present
// (direction fields): its position among the kSet fields of its scope. Internal to a process
// (files and templates name fields by id), so adding a field may move it.
namespace registry_detail {
struct PresenceRow {
  FieldId id;
  FieldScope scope;
  Presence presence;
};
inline constexpr PresenceRow kPresenceRows[] = {
#define FK_FIELD(num, id, name, scope, type, value, presence, ...) \
  {FieldId::id, FieldScope::scope, Presence::presence},
#include "core/fields.def"
};
}  // namespace registry_detail

constexpr uint64_t presence_bit(FieldId id) {
  FieldScope scope = FieldScope::kFlow;
  for (const auto& row : registry_detail::kPresenceRows)
    if (row.id == id) scope = row.scope;
  int n = 0;
  for (const auto& row : registry_detail::kPresenceRows) {
    if (row.id == id) return row.presence == Presence::kSet ? uint64_t(1) << n : 0;
    if (row.scope == scope && row.presence == Presence::kSet) ++n;
  }
  return 0;
}

// Flowkit's own IPFIX Private Enterprise Number, as a placeholder: exporters substitute the one
// configured.
inline constexpr uint32_t kPen = 0xffffffff;
// RFC 5103 reverse information elements.
inline constexpr uint32_t kReversePen = 29305;
// Ids that are not IPFIX elements.
inline constexpr uint16_t kNoElement = 0;

// How a field travels in IPFIX. `length` 0 is the natural length of `type` (65535, variable,
// for strings and lists); a smaller one is RFC 7011's reduced-size encoding.
struct IpfixSpec {
  uint16_t id = kNoElement;
  uint16_t id_v6 = kNoElement;  // the element for IPv6 values (addresses) or flows (ICMP)
  uint32_t pen = 0;             // 0: IANA; kPen: flowkit's enterprise number
  IeType type = IeType::kOctetArray;
  uint16_t length = 0;
  IeSemantics semantics = IeSemantics::kDefault;
};

// How a field travels in NetFlow v9 (RFC 3954): its field type (0: v9 does not carry it), and
// the length and type where they differ from IPFIX's.
struct Netflow9Spec {
  uint16_t id = 0;
  uint16_t length = 0;
  std::optional<IeType> type;
};

// A field value. Unsigned integers (enums included) as uint64_t; strings and byte strings as
// views into the record's arena; lists as ListRef.
using FieldValue = std::variant<std::monostate, uint64_t, double, IpAddress, MacAddress, Timestamp,
                                std::string_view, ListRef>;

struct ItemInfo;

struct FieldInfo {
  FieldId id;
  std::string_view name;  // CSV column and JSON key
  FieldScope scope;
  FieldType type;
  bool derived;  // computed from other fields; cannot be set
  Presence presence;
  uint64_t bit;  // kSet: the field's bit in FlowRecord::present or DirectionRecord::present
  IpfixSpec ipfix;
  Netflow9Spec nf9;
  std::string_view clickhouse;  // ClickHouse 18.16 column type
  std::string_view description;
  // kList: the fields of one item, the bytes of one item in the arena, and a function that
  // value-initialises n items there.
  std::span<const ItemInfo> items;
  uint32_t item_size;
  void (*init_items)(void* items, uint32_t n);

  FieldValue (*get)(const FlowRecord&, Direction);
  // Returns false when the value has the wrong type or does not fit. nullptr when derived.
  // Marks the field present (its own bit, or the record flag its presence rule reads).
  bool (*set)(FlowRecord&, Direction, const FieldValue&);
};

// One field of a list's item (a DNS answer's name, type, TTL...).
struct ItemInfo {
  uint16_t num;  // permanent within its list
  std::string_view name;
  FieldType type;
  IpfixSpec ipfix;
  std::string_view description;
  FieldValue (*get)(const void* item);
  bool (*set)(void* item, const FieldValue&);
};

// An alternative IPFIX element that a decoder reads into a field: flowStartSeconds,
// ...Microseconds, ...Nanoseconds and ...SysUpTime for `first`, say.
struct AltElement {
  FieldId field;
  uint16_t id;
  IeType type;
};

// nfdump filter keywords. A keyword names a field with a qualifier: `src ip`, `dst port`,
// `in if`, `router ip`, `next ip`. The bare keyword (`ip`, `port`, `as`, `if`) means either of
// the fields that carry it with the qualifiers src/dst or in/out. `value`, when set, is implied
// (`inet` is ip_version 4).
enum class NfdumpQualifier : uint8_t { kNone, kSrc, kDst, kIn, kOut, kRouter, kNext, kBgpNext };
struct NfdumpAlias {
  FieldId field;
  NfdumpQualifier qualifier;
  std::string_view keyword;
  Direction dir = Direction::kForward;  // `out packets` names the reverse direction
  std::optional<uint64_t> value;
};

// All fields in declaration order.
std::span<const FieldInfo> all_fields();
// REQUIRES: id names a field (every FieldId enumerator does).
const FieldInfo& field_info(FieldId id);
// A field by its id number (files, templates, APIs); nullptr for ids flowkit does not know.
const FieldInfo* find_field(uint16_t id);
// By JSON/CSV name, with or without the `_rev` suffix (which sets *dir).
const FieldInfo* find_field(std::string_view name, Direction* dir = nullptr);
// Position of a field in all_fields(): a dense index for tables beside the registry.
size_t field_index(FieldId id);

std::span<const AltElement> alt_elements();
std::span<const NfdumpAlias> nfdump_aliases();

// A (field, direction) pair: one CSV column, one JSON key, one template element.
struct Column {
  const FieldInfo* field;
  Direction dir;
};
// Every column in registry order: each field, and after a direction field its reverse. Flow
// fields have no reverse column.
std::span<const Column> all_columns();
// The column of a field in one direction.
inline Column column(FieldId id, Direction dir = Direction::kForward) {
  return {&field_info(id), dir};
}

// Whether the field has a value for that direction of this record. A direction field of the
// reverse direction is present only for biflows with reverse packets (packets and bytes: for
// every biflow).
bool field_present(const FieldInfo& f, const FlowRecord& r, Direction d);
// The same answers for every field of one record, with the rules evaluated once (writers and
// encoders ask about every field).
class PresenceView {
 public:
  explicit PresenceView(const FlowRecord& r);
  bool has(const FieldInfo& f, Direction d) const {
    if (f.scope == FieldScope::kFlow) return flow_.has(f);
    if (d == Direction::kReverse && counters_only_)
      return f.id == FieldId::kPackets || f.id == FieldId::kBytes;
    return dir_[int(d)].has(f);
  }
  // Records with equal views have the same fields: writers cache their layout by it.
  friend bool operator==(const PresenceView&, const PresenceView&) = default;
  size_t hash() const;

 private:
  struct Bits {
    uint32_t conditions = 0;  // bit per Presence that holds (kSet: always)
    uint64_t present = 0;     // the kSet fields' own bits
    bool has(const FieldInfo& f) const {
      return (conditions >> int(f.presence) & 1) &&
             (f.presence != Presence::kSet || present & f.bit);
    }
    friend bool operator==(const Bits&, const Bits&) = default;
  };
  Bits flow_;
  Bits dir_[2];
  bool counters_only_ = false;
};
// Whether a presence rule holds for this direction of r (ignoring the biflow rule above; false
// for kSet, whose answer is the field's own bit).
bool condition_holds(Presence p, const FlowRecord& r, Direction d);
// Marks f present in direction d of r: its own bit, or the record flag its rule reads (a MAC
// address makes the direction's MACs present). FieldInfo::set does this; decoders that write
// values directly call it.
void mark_present(const FieldInfo& f, FlowRecord& r, Direction d);
// The same from a field's registry facts (for code generated per field, where they are constants).
void set_presence(Presence p, FieldScope scope, uint64_t bit, FlowRecord& r, Direction dir);

// What decides which fields a record has, packed for a template cache's key: every condition of
// both directions, the presence bits, and which address fields hold IPv6 addresses (they are
// carried by other elements than IPv4 ones).
struct RecordShape {
  uint64_t conditions = 0;  // fwd bits 0-15, rev 16-31, biflow 32, reverse packets 33
  uint64_t flow_present = 0;
  uint64_t dir_present = 0;  // fwd low half, rev high half
  uint64_t ipv6_values = 0;
  friend bool operator==(const RecordShape&, const RecordShape&) = default;
};
RecordShape shape_of(const FlowRecord& r);
// Whether the IPv6 form of f's element applies to r: the value's own family for addresses, the
// flow's IP version for the rest (ICMP).
bool uses_ipv6_element(const FieldInfo& f, const FlowRecord& r, Direction d);

// The name of an enum value (end_reason, tunnel_type), or "" when the field is not an enum.
std::string_view enum_name(FieldType type, uint64_t value);
std::optional<uint64_t> enum_value(FieldType type, std::string_view name);

// The natural length in bytes of an IPFIX type on the wire; 65535 (variable) for strings,
// octet arrays and lists.
uint16_t natural_length(IeType t);
std::string_view ie_type_name(IeType t);
std::string_view ie_semantics_name(IeSemantics s);
std::string_view field_type_name(FieldType t);

}  // namespace flowkit
