// CsvWriter: every registry field as a column, header row first. Biflows get a `_rev` column
// for each per-direction field. Cells of fields without a value in a record are empty.
#pragma once

#include "core/flow_sink.h"
#include "export/field_format.h"
#include "export/text_output.h"

namespace flowkit::exporter {

class CsvWriter : public FlowSink {
 public:
  // Writes the header row at once, so even a run without flows gives a readable file (unless
  // `header` is false: rows that another writer's header heads).
  CsvWriter(TextOutput& out, bool biflow, bool header = true);
  void write(std::span<const FlowRecord> records) override;
  Status flush() override { return out_.flush(); }

 private:
  TextOutput& out_;
  RecordLayout layout_;
};

}  // namespace flowkit::exporter
