#include "export/field_format.h"

namespace flowkit::exporter {

void put_field_value(TextOutput& out, const FieldInfo& f, const FlowRecord& r, Direction d,
                     bool json) {
  FieldValue v = f.get(r, d);
  if (const uint64_t* u = std::get_if<uint64_t>(&v)) {
    std::string_view name = enum_name(f.type, *u);
    if (name.empty()) {
      out.put_u64(*u);
    } else if (json) {
      out.put_json_string(name);
    } else {
      out.put(name);
    }
  } else if (const double* x = std::get_if<double>(&v)) {
    out.put_double(*x);
  } else if (const IpAddress* a = std::get_if<IpAddress>(&v)) {
    if (json) out.put('"');
    out.put_ip(*a);
    if (json) out.put('"');
  } else if (const MacAddress* m = std::get_if<MacAddress>(&v)) {
    if (json) out.put('"');
    out.put_mac(*m);
    if (json) out.put('"');
  } else if (const Timestamp* t = std::get_if<Timestamp>(&v)) {
    if (json) out.put('"');
    out.put_iso8601(*t);
    if (json) out.put('"');
  } else if (json) {
    out.put("null");
  }
}

}  // namespace flowkit::exporter
