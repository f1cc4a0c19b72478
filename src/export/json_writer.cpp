#include "export/json_writer.h"

#include "core/field_registry.h"
#include "export/field_format.h"

namespace flowkit::exporter {

void JsonWriter::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) {
    char sep = '{';
    for (const FieldInfo& f : all_fields()) {
      for (Direction d : {Direction::kForward, Direction::kReverse}) {
        if (f.scope == FieldScope::kFlow && d == Direction::kReverse) break;
        if (!field_present(f, r, d)) continue;
        out_.put(sep);
        sep = ',';
        out_.put('"');
        out_.put(f.name);
        if (d == Direction::kReverse) out_.put("_rev");
        out_.put("\":");
        put_field_value(out_, f, r, d, true);
      }
    }
    out_.put(sep == '{' ? "{}\n" : "}\n");
  }
}

}  // namespace flowkit::exporter
