#include "dissect/tcp.h"

#include "core/byte_io.h"
#include "core/field_registry.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kAck = 0x10;
constexpr uint8_t kEnd = 0, kNop = 1, kMss = 2, kWindowScale = 3;
// A gap filled sooner than this after the segment past it is reordering, not loss (Wireshark's
// out-of-order rule, with its 3 ms floor when the handshake's round trip is unknown).
constexpr int64_t kMinReorderNs = 3'000'000;

// a < b in sequence space (RFC 9293 section 3.4: comparisons modulo 2^32).
bool before(uint32_t a, uint32_t b) {
  return int32_t(a - b) < 0;
}

}  // namespace

void TcpTrack::update(std::span<const uint8_t> l4, int d, uint8_t flags, uint32_t ip_bytes,
                      uint32_t payload, int64_t ts, bool first) {
  if (l4.size() < 20) return;
  size_t header = std::min<size_t>(size_t(l4[12] >> 4) * 4, l4.size());
  uint32_t seq = load_be32(l4.data() + 4);
  uint16_t window = load_be16(l4.data() + 14);
  Dir& s = dir[d];
  // The round trip runs from the last SYN the server answered (a repeated SYN restarts it).
  if (d == 0 && (flags & (kSyn | kAck)) == kSyn && !syn_ack_ts) syn_ts = ts;
  bool syn = flags & kSyn && !(syn_seen >> d & 1);
  if (syn) {
    syn_seen |= uint8_t(1 << d);
    s.window = window;
    if (first && flags == kSyn) syn_size = uint16_t(ip_bytes);
    // The handshake's times as the meter sees them: SYN to SYN-ACK is the way to the server
    // and back, SYN-ACK to the client's ACK the way to the client and back.
    if (d == 1 && flags & kAck && syn_ts && ts >= syn_ts) {
      syn_ack_ts = ts;
      rtt_server_us = uint32_t(std::min<int64_t>((ts - syn_ts) / 1000, UINT32_MAX));
    }
  } else if (d == 0 && syn_ack_ts && !handshake_done && flags & kAck && ts >= syn_ack_ts) {
    handshake_done = true;
    rtt_client_us = uint32_t(std::min<int64_t>((ts - syn_ack_ts) / 1000, UINT32_MAX));
  }
  for (size_t i = 20; i < header;) {
    uint8_t kind = l4[i];
    if (kind == kEnd) break;
    // Kind k is bit 7 - k % 8 of byte k / 8 (the first byte the lowest), as ipfixprobe keeps it.
    if (kind < 64) options[d] |= uint64_t(1) << ((kind & 0xf8) + (7 - (kind & 7)));
    if (kind == kNop) {
      ++i;
      continue;
    }
    if (i + 1 >= header) break;
    uint8_t len = l4[i + 1];
    if (len < 2 || i + len > header) break;
    if (syn && kind == kMss && len == 4) s.mss = load_be16(l4.data() + i + 2);
    if (syn && kind == kWindowScale && len == 3) s.win_scale = l4[i + 2];
    i += len;
  }
  // A zero window is a receiver that is full; a RST's window means nothing.
  if (window == 0 && !(flags & (kSyn | kRst | kFin))) ++s.zero_windows;
  // Sequence space: SYN and FIN take one number each.
  uint32_t len = payload + (flags & kSyn ? 1 : 0) + (flags & kFin ? 1 : 0);
  if (!s.seq_known) {
    s.seq_known = true;
    s.next = seq + len;
    s.next_ts = ts;
    return;
  }
  if (len == 0) return;
  // A keep-alive: one byte (or none) just below what was sent.
  if (payload <= 1 && seq == s.next - 1 && !(flags & (kSyn | kFin))) return;
  uint32_t end = seq + len;
  if (!before(seq, s.next)) {
    s.next = end;
    s.next_ts = ts;
    return;
  }
  // Bytes below the highest sent: soon after the highest came, and not ending where it ends,
  // the segment was reordered (out of order); otherwise it is a retransmission. These are
  // Wireshark's rules (tcp.analysis.out_of_order, .retransmission), so counts compare.
  int64_t reorder_ns =
      std::max<int64_t>(kMinReorderNs, int64_t(rtt_server_us + rtt_client_us) * 1000);
  if (ts - s.next_ts < reorder_ns && end != s.next)
    ++s.out_of_order;
  else
    ++s.retransmitted;
  if (before(s.next, end)) {
    s.next = end;
    s.next_ts = ts;
  }
}

void TcpTrack::restart() {
  for (Dir& s : dir) s.retransmitted = s.out_of_order = s.zero_windows = 0;
}

void TcpTrack::to_record(FlowRecord& r) const {
  auto mark = [&](FieldId id, Direction d) { mark_present(field_info(id), r, d); };
  for (int d = 0; d < 2; ++d) {
    Direction dir_id = Direction(d);
    DirectionRecord& o = r.dir(dir_id);
    const Dir& s = dir[d];
    if (!o.packets) continue;
    o.tcp_options = options[d];
    o.tcp_retransmitted = s.retransmitted;
    o.tcp_out_of_order = s.out_of_order;
    o.tcp_zero_windows = s.zero_windows;
    for (FieldId id : {FieldId::kTcpOptions, FieldId::kTcpRetransmitted, FieldId::kTcpOutOfOrder,
                       FieldId::kTcpZeroWindows})
      mark(id, dir_id);
    if (syn_seen >> d & 1) {
      o.tcp_init_win = s.window;
      mark(FieldId::kTcpInitWin, dir_id);
      if (s.mss) {
        o.tcp_mss = s.mss;
        mark(FieldId::kTcpMss, dir_id);
      }
      if (s.win_scale || options[d] & (uint64_t(1) << (7 - kWindowScale))) {
        o.tcp_win_scale = s.win_scale;
        mark(FieldId::kTcpWinScale, dir_id);
      }
    }
  }
  if (syn_size) {
    r.app.tcp_syn_size = syn_size;
    mark(FieldId::kTcpSynSize, Direction::kForward);
  }
  if (syn_ack_ts) {
    r.app.tcp_rtt_server = rtt_server_us;
    mark(FieldId::kTcpRttServer, Direction::kForward);
  }
  if (handshake_done) {
    r.app.tcp_rtt_client = rtt_client_us;
    mark(FieldId::kTcpRttClient, Direction::kForward);
  }
}

}  // namespace flowkit::dissect
