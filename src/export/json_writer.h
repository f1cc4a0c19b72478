// JsonWriter: one JSON object per flow per line (JSON lines). Keys are the registry names (they
// follow CESNET FlowTest's fields.yml where a field exists there); the reverse direction of a
// biflow uses the suffix `_rev`. Fields without a value in a record are left out.
#pragma once

#include "core/flow_sink.h"
#include "export/field_format.h"
#include "export/text_output.h"

namespace flowkit::exporter {

class JsonWriter : public FlowSink {
 public:
  explicit JsonWriter(TextOutput& out) : out_(out), layout_(TextStyle::kJson, true) {}
  void write(std::span<const FlowRecord> records) override;
  Status flush() override { return out_.flush(); }

 private:
  TextOutput& out_;
  RecordLayout layout_;
};

}  // namespace flowkit::exporter
