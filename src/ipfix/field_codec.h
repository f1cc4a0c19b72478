// Field codec: the bytes of one field of a FlowRecord in an IPFIX/NetFlow v9 data record, both
// ways, generated from the field registry so that every field is handled and none twice.
// Strings and lists are variable-length fields (RFC 7011 7): a 1-byte length below 255, else 255
// and a 2-byte length. Lists are RFC 6313 basicList (items of one field) or subTemplateList
// (items of several fields, described by a template of their own).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/arena.h"
#include "core/flow_record.h"
#include "ipfix/information_elements.h"

namespace flowkit::ipfix {

// RFC 6313 structured data semantics: flowkit's lists keep their order.
inline constexpr uint8_t kListOrdered = 4;
inline constexpr uint8_t kListUndefined = 0xff;

// How one list field's items go on the wire: the elements of an item, and for a
// subTemplateList the id of the template that lists them.
struct ListLayout {
  FieldId field{};
  uint16_t template_id = 0;
  std::vector<Element> items;
};

struct EncodeContext {
  Timestamp system_init;              // kSysUpTime elements count from it
  std::span<const ListLayout> lists;  // a layout per list field
  bool empty_variable = false;        // write strings and lists empty (an oversized record)
};

// Bytes field e of r takes on the wire: e.length, or for a variable-length element its length
// prefix and content.
size_t encoded_size(const FlowRecord& r, const Element& e, const EncodeContext& ctx);
// Writes the field and returns the bytes written (encoded_size's answer).
size_t encode_field(const FlowRecord& r, const Element& e, uint8_t* out, const EncodeContext& ctx);

struct DecodeContext {
  Arena* arena = nullptr;  // where strings go
  Timestamp system_init;   // for kSysUpTime elements; 0: unknown
  Timestamp export_time;   // the message's, for kDeltaMicroseconds elements
};

// Milliseconds since the epoch as a time; false beyond what nanoseconds in an int64 hold (the
// year 2262): a value no exporter sends, unless hostile.
inline bool millis_to_time(uint64_t ms, Timestamp* out) {
  if (ms > uint64_t(INT64_MAX / 1'000'000)) return false;
  *out = Timestamp{int64_t(ms) * 1'000'000};
  return true;
}

// A field's reader, looked up once (a decoder compiles its templates into these).
using FieldDecoder = bool (*)(FlowRecord& r, Direction dir, const uint8_t* in, uint16_t len,
                              IeType type, const DecodeContext& ctx);
// nullptr for fields that cannot be received (derived ones).
FieldDecoder field_decoder(const FieldRef& ref);

// Reads `len` bytes received for field ref into r, and marks it present. Accepts reduced-size
// encodings of integers (RFC 7011 6.2) and either address length; returns false when the length
// cannot be right for the field or the value cannot be read here (a list, a sysUpTime time
// without the exporter's boot time): the caller counts it and skips the field.
bool decode_field(FlowRecord& r, const FieldRef& ref, const uint8_t* in, uint16_t len,
                  const DecodeContext& ctx);
// The same for one field of a list's item.
bool decode_item_field(void* item, const ItemInfo& info, IeType type, const uint8_t* in,
                       uint16_t len, const DecodeContext& ctx);

// Reads an RFC 7011 variable-length field's length at p (n bytes available): sets *len and
// *header; false when the bytes end first.
bool read_varlen(const uint8_t* p, size_t n, size_t* len, size_t* header);

}  // namespace flowkit::ipfix
