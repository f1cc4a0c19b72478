// FlowSink: where finished flow records go (a writer, an exporter, a store). Sources hand records
// over in batches; a sink never knows whether a meter or a collector made them.
#pragma once

#include <span>
#include <vector>

#include "core/arena.h"
#include "core/flow_record.h"
#include "core/result.h"

namespace flowkit {

class FlowSink {
 public:
  virtual ~FlowSink() = default;
  // Takes a batch of finished flows. The span is valid only during the call.
  virtual void write(std::span<const FlowRecord> records) = 0;
  // Takes a batch whose strings and lists live in `arena` (or in memory that outlives the sink:
  // literals, open databases) and leaves both empty for the next batch. A sink that keeps records
  // beyond the call swaps them for vectors of its own instead of copying 1 KB per record (the
  // store's writer does: the copy cost the meter a tenth of its time on flow-heavy captures).
  virtual void take(std::vector<FlowRecord>& records, Arena& arena) {
    write(records);
    records.clear();
    arena.reset();
  }
  // Time has passed (packet time metering a file, wall time live): a sink that batches output
  // may send what has waited long enough.
  virtual void tick(Timestamp /*now*/) {}
  // Pushes out anything buffered; reports the first error the sink met (disk full, peer gone).
  virtual Status flush() { return {}; }
};

// Drops every record, for runs that only want the summary (`-o none`).
class NullSink : public FlowSink {
 public:
  void write(std::span<const FlowRecord>) override {}
};

// Hands every batch, tick and flush to each sink in turn; flush() reports the first error.
class Tee : public FlowSink {
 public:
  explicit Tee(std::vector<FlowSink*> sinks) : sinks_(std::move(sinks)) {}
  void write(std::span<const FlowRecord> records) override {
    for (FlowSink* s : sinks_) s->write(records);
  }
  void take(std::vector<FlowRecord>& records, Arena& arena) override {
    if (sinks_.size() == 1) return sinks_.front()->take(records, arena);
    FlowSink::take(records, arena);
  }
  void tick(Timestamp now) override {
    for (FlowSink* s : sinks_) s->tick(now);
  }
  Status flush() override {
    Status first;
    for (FlowSink* s : sinks_) {
      Status st = s->flush();
      if (first.ok() && !st.ok()) first = st;
    }
    return first;
  }

 private:
  std::vector<FlowSink*> sinks_;
};

}  // namespace flowkit
