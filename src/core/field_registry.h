// The field registry: every FlowRecord field with its names and numbers in every format flowkit
// speaks. Declared once in fields.def; this header gives typed access by FieldId.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <variant>

#include "core/flow_record.h"

namespace flowkit {

enum class FieldId : uint16_t {
#define FK_FLOW(id, ...) id,
#define FK_DIR(id, ...) id,
#define FK_FLOW_DERIVED(id, ...) id,
#define FK_DIR_DERIVED(id, ...) id,
#include "core/fields.def"
#undef FK_FLOW
#undef FK_DIR
#undef FK_FLOW_DERIVED
#undef FK_DIR_DERIVED
  kCount
};

enum class FieldScope : uint8_t {
  kFlow,       // one value per flow
  kDirection,  // one value per direction; reverse is `<name>_rev` / reverse IPFIX element
};

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
};

// A field value: unsigned integers (enums included) as uint64_t.
using FieldValue = std::variant<std::monostate, uint64_t, double, IpAddress, MacAddress, Timestamp>;

// Placeholder for flowkit's own IPFIX Private Enterprise Number; exporters substitute the one
// configured.
inline constexpr uint32_t kPen = 0xffffffff;
// RFC 5103 reverse information elements.
inline constexpr uint32_t kReversePen = 29305;

struct FieldInfo {
  FieldId id;
  std::string_view name;  // CSV column and JSON key
  FieldScope scope;
  FieldType type;
  bool derived;                 // computed from other fields; cannot be set
  uint16_t ipfix_id;            // 0: no IPFIX element
  uint16_t ipfix_id_v6;         // element for IPv6 flows where it differs (addresses, ICMP)
  uint32_t ipfix_pen;           // 0 = IANA, kPen = flowkit's enterprise number
  uint16_t nf9_type;            // NetFlow v9 field type; 0: none
  std::string_view nfdump;      // nfdump filter keyword; empty: none
  std::string_view clickhouse;  // ClickHouse column type
  std::string_view description;

  FieldValue (*get)(const FlowRecord&, Direction);
  // Returns false when the value has the wrong type or does not fit. nullptr when derived.
  bool (*set)(FlowRecord&, Direction, const FieldValue&);
  bool (*present)(const FlowRecord&, Direction);
};

// All fields in declaration order.
std::span<const FieldInfo> all_fields();
const FieldInfo& field_info(FieldId id);
// By JSON/CSV name, with or without the `_rev` suffix (which sets *dir).
const FieldInfo* find_field(std::string_view name, Direction* dir = nullptr);

// Whether the field has a value for that direction of this record. A direction field of the
// reverse direction is present only for biflows with reverse packets (packets and bytes: for
// every biflow).
bool field_present(const FieldInfo& f, const FlowRecord& r, Direction d);

// The name of an enum value (end_reason, tunnel_type), or "" when the field is not an enum.
std::string_view enum_name(FieldType type, uint64_t value);
std::optional<uint64_t> enum_value(FieldType type, std::string_view name);

}  // namespace flowkit
