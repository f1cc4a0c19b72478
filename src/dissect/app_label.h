// Application labels from nDPI (Debian's libndpi 4.2): "TLS.Google", "DNS", "HTTP.Facebook",
// and the category ("Web", "Network", "Media"...), as ndpiReader names them. nDPI reads IP
// packets; the labeler rebuilds a minimal IP header in front of the transport bytes the meter
// hands over, so that it works on the same capped bytes in both thread modes. Built only when
// libndpi is (FLOWKIT_HAVE_NDPI); otherwise a flow gets no label.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/arena.h"
#include "core/flow_record.h"

namespace flowkit::dissect {

struct Packet;
class Results;

class AppLabeler {
 public:
  // Returns null when nDPI is not built in or cannot start.
  static std::unique_ptr<AppLabeler> create();
  ~AppLabeler();

  // A flow's nDPI state, from the pool (zeroed for a new flow).
  void* new_flow();
  void free_flow(void* flow);
  // Feeds a packet of the flow; returns false once the label is final.
  bool packet(void* flow, const Packet& p, uint32_t& packets);
  // The flow's label and category into r (strings in `arena`); gives up on an undetected flow
  // with nDPI's guess by ports.
  void finish(void* flow, FlowRecord& r, Arena& arena);
  // The same, once the label is final, into a flow's results.
  void label(void* flow, Results& out);
  // A flow nDPI never saw (no payload): its guess by protocol, addresses and ports.
  void guess(FlowRecord& r, Arena& arena);
  size_t flow_bytes() const;

 private:
  AppLabeler() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowkit::dissect
