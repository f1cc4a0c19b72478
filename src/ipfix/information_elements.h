// Information elements: how each registry field is carried in IPFIX (RFC 7011/7012) and NetFlow
// v9 (RFC 3954). The numbers come from the field registry (src/core/fields.def); this module adds
// the IANA data types and encoding lengths, the RFC 5103 reverse elements (PEN 29305 for IANA
// elements, bit 14 of the id for enterprise ones) and the lookup a decoder needs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/field_registry.h"

namespace flowkit::ipfix {

// RFC 7012 abstract data types, numbered as RFC 5610's informationElementDataType.
enum class DataType : uint8_t {
  kOctetArray = 0,
  kUnsigned8 = 1,
  kUnsigned16 = 2,
  kUnsigned32 = 3,
  kUnsigned64 = 4,
  kFloat64 = 10,
  kMacAddress = 12,
  kString = 13,
  kDateTimeSeconds = 14,
  kDateTimeMilliseconds = 15,
  kDateTimeMicroseconds = 16,
  kDateTimeNanoseconds = 17,
  kIpv4Address = 18,
  kIpv6Address = 19,
};

// RFC 5610 informationElementSemantics.
enum class Semantics : uint8_t {
  kDefault = 0,
  kQuantity = 1,
  kTotalCounter = 2,
  kDeltaCounter = 3,
  kIdentifier = 4,
  kFlags = 5,
};

enum class TimePrecision : uint8_t { kMilliseconds, kMicroseconds, kNanoseconds };

// The placeholder PEN's default: RFC 5612's enterprise number for documentation. Deployments
// that register their own pass it with --export-pen.
inline constexpr uint32_t kDefaultPen = 32473;

// One element of a template: the field it carries and how.
struct Element {
  uint16_t id = 0;   // without the enterprise bit
  uint32_t pen = 0;  // 0: IANA
  uint16_t length = 0;
  DataType type = DataType::kOctetArray;
  FieldId field = FieldId::kCount;
  Direction dir = Direction::kForward;
};

struct ElementOptions {
  uint32_t pen = kDefaultPen;  // flowkit's enterprise elements
  TimePrecision time = TimePrecision::kMilliseconds;
};

// The element that carries field f in direction d of an IP version `ip_version` flow, or nothing
// when the field has no IPFIX element (derived JSON conveniences).
std::optional<Element> ipfix_element(const FieldInfo& f, Direction d, int ip_version,
                                     const ElementOptions& options);

// Field for an (id, pen) pair received in a template: the direction is reverse for PEN 29305 and
// for enterprise ids with bit 14 set. Elements flowkit does not know give nothing.
struct FieldRef {
  FieldId field;
  Direction dir;
  DataType type;  // as flowkit sends it; receivers decode by length
};
std::optional<FieldRef> find_element(uint16_t id, uint32_t pen, uint32_t own_pen);

DataType data_type_of(const FieldInfo& f, int ip_version, TimePrecision time);
Semantics semantics_of(const FieldInfo& f);
std::string_view data_type_name(DataType t);

}  // namespace flowkit::ipfix
