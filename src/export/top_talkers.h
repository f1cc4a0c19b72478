// TopTalkers: a sink that counts bytes, packets and flows per host (as source or destination of
// either direction) and reports the busiest hosts.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "core/flow_sink.h"

namespace flowkit::exporter {

struct HostTotals {
  IpAddress host;
  uint64_t bytes = 0;  // sent and received
  uint64_t packets = 0;
  uint64_t flows = 0;
};

class TopTalkers : public FlowSink {
 public:
  void write(std::span<const FlowRecord> records) override;
  // The n hosts with the most bytes, busiest first (ties: by address).
  std::vector<HostTotals> top(size_t n) const;
  // A small table for the terminal.
  std::string format(size_t n) const;

 private:
  struct Hash {
    size_t operator()(const IpAddress& a) const;
  };
  std::unordered_map<IpAddress, HostTotals, Hash> hosts_;
};

}  // namespace flowkit::exporter
