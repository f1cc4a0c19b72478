#include "export/csv_writer.h"

#include "core/field_registry.h"
#include "export/field_format.h"

namespace flowkit::exporter {

namespace {
// Calls fn(field, direction) for each column in order.
template <class Fn>
void for_each_column(bool biflow, Fn&& fn) {
  for (const FieldInfo& f : all_fields()) {
    fn(f, Direction::kForward);
    if (biflow && f.scope == FieldScope::kDir) fn(f, Direction::kReverse);
  }
}
}  // namespace

CsvWriter::CsvWriter(TextOutput& out, bool biflow) : out_(out), biflow_(biflow) {
  bool first = true;
  for_each_column(biflow_, [&](const FieldInfo& f, Direction d) {
    if (!first) out_.put(',');
    first = false;
    out_.put(f.name);
    if (d == Direction::kReverse) out_.put("_rev");
  });
  out_.put('\n');
}

void CsvWriter::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) {
    bool first = true;
    for_each_column(biflow_, [&](const FieldInfo& f, Direction d) {
      if (!first) out_.put(',');
      first = false;
      if (field_present(f, r, d)) put_field_value(out_, f, r, d, false);
    });
    out_.put('\n');
  }
}

}  // namespace flowkit::exporter
