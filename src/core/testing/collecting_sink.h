// A FlowSink for tests: keeps every record it is given, in order.
#pragma once

#include <vector>

#include "core/flow_sink.h"

namespace flowkit::testing {

class CollectingSink : public FlowSink {
 public:
  void write(std::span<const FlowRecord> records) override {
    flows.insert(flows.end(), records.begin(), records.end());
  }
  std::vector<FlowRecord> flows;
};

}  // namespace flowkit::testing
