#include "export/json_writer.h"

namespace flowkit::exporter {

void JsonWriter::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) layout_.write(out_, r);
}

}  // namespace flowkit::exporter
