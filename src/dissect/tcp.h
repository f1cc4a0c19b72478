// What TCP headers say about a connection, without payload: the option kinds each direction
// used, the SYN's size, and each SYN's MSS, window scale and window. Kept in the flow's slot of
// the meter's table (not a Dissection slot), because every TCP packet updates it.
#pragma once

#include <cstdint>
#include <span>

#include "core/flow_record.h"

namespace flowkit::dissect {

struct TcpOptions {
  uint64_t options[2];  // ipfixprobe's bitmap (fields.def, tcp_options)
  uint16_t mss[2], window[2];
  uint8_t win_scale[2];
  uint8_t syn_seen;  // bit d: direction d's SYN was read
  uint16_t syn_size;

  // A packet of direction d; `l4` is its TCP header (its length checked by the decoder).
  // `first` says it is the flow's first packet, whose SYN gives tcp_syn_size.
  void update(std::span<const uint8_t> l4, int d, uint8_t flags, uint32_t ip_bytes, bool first);
  void to_record(FlowRecord& r) const;
};

}  // namespace flowkit::dissect
