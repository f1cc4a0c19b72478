// FlowSink: where finished flow records go (a writer, an exporter, a store). Sources hand records
// over in batches; a sink never knows whether a meter or a collector made them.
#pragma once

#include <span>

#include "core/flow_record.h"
#include "core/result.h"

namespace flowkit {

class FlowSink {
 public:
  virtual ~FlowSink() = default;
  // Takes a batch of finished flows. The span is valid only during the call.
  virtual void write(std::span<const FlowRecord> records) = 0;
  // Time has passed (packet time metering a file, wall time live): a sink that batches output
  // may send what has waited long enough.
  virtual void tick(Timestamp /*now*/) {}
  // Pushes out anything buffered; reports the first error the sink met (disk full, peer gone).
  virtual Status flush() { return {}; }
};

}  // namespace flowkit
