#include "export/csv_writer.h"

namespace flowkit::exporter {

CsvWriter::CsvWriter(TextOutput& out, bool biflow, bool header)
    : out_(out), layout_(TextStyle::kCsv, biflow) {
  if (!header) return;
  for (const std::string& name : layout_.names()) {
    if (&name != &layout_.names().front()) out_.put(',');
    out_.put(name);
  }
  out_.put('\n');
}

void CsvWriter::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) layout_.write(out_, r);
}

}  // namespace flowkit::exporter
