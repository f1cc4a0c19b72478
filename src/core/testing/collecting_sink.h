// A FlowSink for tests: keeps a deep copy of every record it is given, in order.
#pragma once

#include <vector>

#include "core/arena.h"
#include "core/flow_sink.h"

namespace flowkit::testing {

class CollectingSink : public FlowSink {
 public:
  void write(std::span<const FlowRecord> records) override {
    for (const FlowRecord& r : records) flows.push_back(copy_record(r, arena));
  }
  Arena arena;  // the kept records' strings and lists
  std::vector<FlowRecord> flows;
};

}  // namespace flowkit::testing
