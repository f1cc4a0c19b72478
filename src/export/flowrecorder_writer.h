// FlowRecorderWriter: flowRecorder's CSV (github.com/mattjhayes/flowRecorder), column for column:
// 18 columns for uniflows, 44 for biflows (the 18 over both directions, then 13 f_ and 13 b_
// statistics). Times are epoch seconds as Python prints a float; sizes are IP total lengths;
// standard deviations are population ones. A direction without packets is all zeros.
#pragma once

#include "core/flow_sink.h"
#include "export/text_output.h"

namespace flowkit::exporter {

class FlowRecorderWriter : public FlowSink {
 public:
  FlowRecorderWriter(TextOutput& out, bool biflow);
  void write(std::span<const FlowRecord> records) override;
  Status flush() override { return out_.flush(); }

 private:
  void put_direction(const DirectionRecord& d);
  TextOutput& out_;
  bool biflow_;
};

}  // namespace flowkit::exporter
