#include "export/field_format.h"

namespace flowkit::exporter {

namespace {

void put_value(TextOutput& out, FieldType type, const FieldValue& v, bool json);

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
        put_value(out, info.type, info.get(item), true);
      }
      out.put(sep == '{' ? "{}" : "}");
    }
  }
  out.put(']');
}

void put_value(TextOutput& out, FieldType type, const FieldValue& v, bool json) {
  if (const uint64_t* u = std::get_if<uint64_t>(&v)) {
    std::string_view name = enum_name(type, *u);
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
  } else if (const std::string_view* s = std::get_if<std::string_view>(&v)) {
    if (type == FieldType::kBytes) {
      if (json) out.put('"');
      out.put_hex(*s);
      if (json) out.put('"');
    } else if (json) {
      out.put_json_string(*s);
    } else {
      out.put_csv_string(*s);
    }
  } else if (const ListRef* l = std::get_if<ListRef>(&v)) {
    if (json) {
      put_list(out, *l);
    } else {
      // CSV: the list's JSON text, quoted as one cell.
      size_t mark = out.mark();
      put_list(out, *l);
      out.quote_csv_since(mark);
    }
  } else if (json) {
    out.put("null");
  }
}

}  // namespace

void put_field_value(TextOutput& out, const FieldInfo& f, const FlowRecord& r, Direction d,
                     bool json) {
  put_value(out, f.type, f.get(r, d), json);
}

}  // namespace flowkit::exporter
