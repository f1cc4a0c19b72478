// LineWriter: nfdump's default `-o line` layout, so that nfdump users read flowkit's output
// at a glance. A biflow is one line with `<->` and the packets and bytes of both directions.
// IPv6 addresses are condensed to 16 characters and their ports follow a '.', as nfdump
// prints them. Ends with nfdump's summary line.
#pragma once

#include "core/flow_sink.h"
#include "export/text_output.h"

namespace flowkit::exporter {

class LineWriter : public FlowSink {
 public:
  // `bare`: no header and no summary (nfdump -q).
  explicit LineWriter(TextOutput& out, bool bare = false);
  void write(std::span<const FlowRecord> records) override;
  // Writes the summary line, then flushes.
  Status flush() override;

 private:
  TextOutput& out_;
  bool bare_;
  uint64_t flows_ = 0, packets_ = 0, bytes_ = 0;
  Timestamp first_{INT64_MAX}, last_{INT64_MIN};
};

// nfdump's protocol column: "TCP", "UDP", "ICMP6", ... or the number.
std::string_view protocol_name(uint8_t protocol);

}  // namespace flowkit::exporter
