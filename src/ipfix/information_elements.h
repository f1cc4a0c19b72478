// Information elements: how each registry field is carried in IPFIX (RFC 7011/7012) and NetFlow
// v9 (RFC 3954). Every number and type comes from the field registry (src/core/fields.def); this
// module adds the RFC 5103 reverse elements (PEN 29305 for IANA elements, bit 14 of the id for
// enterprise ones), the choice among a field's elements (IPv4 or IPv6 form, time precision) and
// the lookup a decoder needs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/field_registry.h"

namespace flowkit::ipfix {

enum class TimePrecision : uint8_t { kMilliseconds, kMicroseconds, kNanoseconds };

// The placeholder PEN's default: RFC 5612's enterprise number for documentation. Deployments
// that register their own pass it with --export-pen.
inline constexpr uint32_t kDefaultPen = 32473;
inline constexpr uint16_t kEnterpriseBit = 0x8000;
inline constexpr uint16_t kReverseBit = 0x4000;  // reverse form of an enterprise element
inline constexpr uint16_t kVarLen = 0xffff;      // a template's length of a variable field

// One element of a template: the field it carries and how.
struct Element {
  uint16_t id = 0;      // without the enterprise bit
  uint32_t pen = 0;     // 0: IANA
  uint16_t length = 0;  // kVarLen: variable (strings, lists)
  IeType type = IeType::kOctetArray;
  FieldId field{};
  Direction dir = Direction::kForward;
};

struct ElementOptions {
  uint32_t pen = kDefaultPen;  // flowkit's enterprise elements
  TimePrecision time = TimePrecision::kMilliseconds;
};

// The IPFIX element that carries field f in direction d, in its IPv6 form when `v6`
// (uses_ipv6_element); nothing when the field has no IPFIX element.
std::optional<Element> ipfix_element(const FieldInfo& f, Direction d, bool v6,
                                     const ElementOptions& options);
// The NetFlow v9 element of field f (forward only: v9 has no reverse elements); nothing when v9
// does not carry it.
std::optional<Element> netflow9_element(const FieldInfo& f, bool v6);
// The element of one field of a list's item (always flowkit's or IANA's, forward).
Element item_element(const ItemInfo& item, const ElementOptions& options);

// flowkit's own elements, each once (both directions of direction fields, and the fields of
// list items), for RFC 5610 type records and docs/flowkit-elements.xml.
struct EnterpriseElement {
  std::string name;  // flowkit_<field>[_rev], flowkit_<list>_<item>
  Element element;
  IeSemantics semantics;
  std::string description;
};
std::vector<EnterpriseElement> enterprise_elements(const ElementOptions& options);

// Field for an (id, pen) pair received in a template: the direction is reverse for PEN 29305 and
// for enterprise ids with bit 14 set; `type` is the type flowkit reads it as (an alternative
// element, such as flowStartSeconds, has its own). Elements flowkit does not know give nothing.
struct FieldRef {
  FieldId field;
  Direction dir;
  IeType type;
};
std::optional<FieldRef> find_element(uint16_t id, uint32_t pen, uint32_t own_pen);

}  // namespace flowkit::ipfix
