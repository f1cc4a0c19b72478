#include "dissect/tcp.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/byte_io.h"

namespace flowkit::dissect {
namespace {

using Bytes = std::vector<uint8_t>;

// A TCP header with these fields (and MSS, window scale and SACK permitted on SYNs).
Bytes tcp_header(uint32_t seq, uint8_t flags, uint16_t window) {
  Bytes h(20, 0);
  store_be32(h.data() + 4, seq);
  h[13] = flags;
  store_be16(h.data() + 14, window);
  if (flags & 0x02) {
    h.insert(h.end(), {2, 4, 0x05, 0xb4, 1, 3, 3, 7, 4, 2, 0, 0});
  }
  h[12] = uint8_t(h.size() / 4 << 4);
  return h;
}

TEST(TcpTrack, HandshakeOptionsAndSegments) {
  TcpTrack t{};
  constexpr int64_t ms = 1'000'000;
  auto seg = [&](int d, uint32_t seq, uint8_t flags, uint32_t len, int64_t ts,
                 uint16_t window = 500) {
    Bytes h = tcp_header(seq, flags, window);
    t.update(h, d, flags, uint32_t(40 + h.size() - 20 + len), len, ts, ts == 0);
  };
  seg(0, 100, 0x02, 0, 0);            // SYN
  seg(0, 100, 0x02, 0, 1 * ms);       // the SYN again: the round trip starts here
  seg(1, 900, 0x12, 0, 21 * ms);      // SYN-ACK
  seg(0, 101, 0x10, 0, 26 * ms);      // ACK
  seg(0, 101, 0x18, 100, 30 * ms);    // bytes 101-200
  seg(0, 301, 0x18, 100, 31 * ms);    // 301-400: 201-300 are missing
  seg(0, 201, 0x18, 100, 32 * ms);    // 201-300 a millisecond later: reordered
  seg(0, 101, 0x18, 100, 300 * ms);   // 101-200 again, long after: retransmitted
  seg(0, 400, 0x10, 1, 400 * ms);     // a keep-alive: neither
  seg(1, 901, 0x10, 0, 401 * ms, 0);  // a zero window
  seg(1, 901, 0x14, 0, 402 * ms, 0);  // RST: its window means nothing
  FlowRecord r;
  r.fwd.packets = 7;
  r.rev.packets = 3;
  t.to_record(r);
  EXPECT_EQ(r.app.tcp_syn_size, 52);
  EXPECT_EQ(r.app.tcp_rtt_server, 20'000u);
  EXPECT_EQ(r.app.tcp_rtt_client, 5'000u);
  EXPECT_EQ(r.fwd.tcp_out_of_order, 1u);
  EXPECT_EQ(r.fwd.tcp_retransmitted, 2u);  // the repeated SYN too, as Wireshark counts it
  EXPECT_EQ(r.rev.tcp_zero_windows, 1u);
  EXPECT_EQ(r.fwd.tcp_mss, 1460);
  EXPECT_EQ(r.fwd.tcp_win_scale, 7);
  EXPECT_EQ(r.fwd.tcp_init_win, 500);
  // MSS (2), NOP (1), window scale (3), SACK permitted (4): bits 0x20, 0x40, 0x10, 0x08.
  EXPECT_EQ(r.fwd.tcp_options, 0x78u);
}

}  // namespace
}  // namespace flowkit::dissect
