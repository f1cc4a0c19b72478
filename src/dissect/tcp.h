// What TCP headers say about a connection, without payload: the option kinds each direction
// used, the SYN's size, each SYN's MSS, window scale and window, the handshake's round-trip
// times, and each direction's retransmitted, out-of-order and zero-window segments. Kept in the
// flow's slot of the meter's table (not a Dissection slot), because every TCP packet updates it.
#pragma once

#include <cstdint>
#include <span>

#include "core/flow_record.h"

namespace flowkit::dissect {

struct TcpTrack {
  struct Dir {
    uint32_t next;    // sequence number after the highest byte seen
    int64_t next_ts;  // when the segment that set `next` came
    uint32_t retransmitted, out_of_order, zero_windows;
    uint16_t mss, window;
    uint8_t win_scale;
    bool seq_known;
  };
  uint64_t options[2];  // ipfixprobe's bitmap (fields.def, tcp_options)
  Dir dir[2];
  int64_t syn_ts, syn_ack_ts;  // of the forward SYN and the reverse SYN-ACK; 0 until seen
  uint32_t rtt_server_us, rtt_client_us;
  uint16_t syn_size;
  uint8_t syn_seen;  // bit d: direction d's SYN was read
  bool handshake_done;

  // A packet of direction d at `ts`; `l4` is its TCP header (its length checked by the
  // decoder), `payload` the segment's payload bytes. `first` says it is the flow's first packet,
  // whose SYN gives tcp_syn_size.
  void update(std::span<const uint8_t> l4, int d, uint8_t flags, uint32_t ip_bytes,
              uint32_t payload, int64_t ts, bool first);
  void to_record(FlowRecord& r) const;
  // A new record of the same flow (active timeout): the counts start again.
  void restart();
};

}  // namespace flowkit::dissect
