// Field codec: the bytes of one field of a FlowRecord in an IPFIX/NetFlow v9 data record, both
// ways, generated from the field registry so that every field is handled and none twice.
#pragma once

#include <cstdint>

#include "core/flow_record.h"
#include "ipfix/information_elements.h"

namespace flowkit::ipfix {

// Writes element e's value of r into out (e.length bytes, network byte order).
void encode_field(const FlowRecord& r, const Element& e, uint8_t* out);

// Reads `len` bytes received for field ref into r. Accepts reduced-size encodings of integers
// (RFC 7011 6.2) and either address length; returns false when the length cannot be right for
// the field (the caller counts it and skips the field).
bool decode_field(FlowRecord& r, const FieldRef& ref, const uint8_t* in, uint16_t len);

}  // namespace flowkit::ipfix
