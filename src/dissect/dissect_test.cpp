#include "dissect/dissect.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/byte_io.h"
#include "dissect/app_label.h"

namespace flowkit::dissect {
namespace {

using Bytes = std::vector<uint8_t>;

void be16(Bytes& b, uint16_t v) {
  b.push_back(uint8_t(v >> 8));
  b.push_back(uint8_t(v));
}
void be24(Bytes& b, uint32_t v) {
  b.push_back(uint8_t(v >> 16));
  be16(b, uint16_t(v));
}
void text(Bytes& b, std::string_view s) {
  b.insert(b.end(), s.begin(), s.end());
}
// b with a 1-, 2- or 3-byte length in front.
Bytes prefixed(const Bytes& b, int len_bytes) {
  Bytes out;
  if (len_bytes == 1) out.push_back(uint8_t(b.size()));
  if (len_bytes == 2) be16(out, uint16_t(b.size()));
  if (len_bytes == 3) be24(out, uint32_t(b.size()));
  out.insert(out.end(), b.begin(), b.end());
  return out;
}
void append(Bytes& b, const Bytes& more) {
  b.insert(b.end(), more.begin(), more.end());
}

// 10.0.0.1 and 10.0.0.2 as the meter holds them (IPv4-mapped IPv6).
constexpr uint8_t kAddr[2][16] = {{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1},
                                  {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2}};

// Every dissector but nDPI's labels, whose wish for more packets would hide theirs.
constexpr uint32_t kPayloadDissectors = kAllProtocols & ~uint32_t(kAppLabel);

// A flow fed packet by packet, as the meter feeds it: TCP segments carry sequence numbers.
class Flow {
 public:
  explicit Flow(uint8_t protocol, uint32_t protocols = kPayloadDissectors,
                uint16_t client_port = 40000, uint16_t server_port = 443)
      : d_(protocols), protocol_(protocol), ports_{client_port, server_port} {}

  // A segment of `dir` at its next sequence number (or at `seq` when given).
  bool send(Direction dir, const Bytes& payload, int64_t seq = -1) {
    int d = int(dir);
    Bytes l4(protocol_ == 6 ? 20 : 8, 0);
    store_be16(l4.data(), ports_[d]);
    store_be16(l4.data() + 2, ports_[1 - d]);
    uint32_t s = seq >= 0 ? uint32_t(seq) : next_[d];
    if (protocol_ == 6) {
      store_be32(l4.data() + 4, s);
      l4[12] = 0x50;
    }
    next_[d] = s + uint32_t(payload.size());
    Packet p{0, dir, protocol_, 4, kAddr[d], kAddr[1 - d], ports_[d], ports_[1 - d], l4, payload};
    return d_.packet(slot_, p);
  }
  FlowRecord record() {
    FlowRecord r;
    r.fwd.packets = r.rev.packets = 10;
    d_.finish(slot_, r, arena_);
    return r;
  }
  Dissection& dissection() { return d_; }
  uint32_t slot() const { return slot_; }

 private:
  Dissection d_;
  uint8_t protocol_;
  uint16_t ports_[2];
  uint32_t next_[2] = {1000, 5000};
  uint32_t slot_ = 0;
  Arena arena_;
};

// ---- DNS ---------------------------------------------------------------------------------------

Bytes dns_name(std::initializer_list<std::string_view> labels) {
  Bytes b;
  for (std::string_view l : labels) {
    b.push_back(uint8_t(l.size()));
    text(b, l);
  }
  b.push_back(0);
  return b;
}

Bytes dns_query(uint16_t id) {
  Bytes b;
  be16(b, id);
  be16(b, 0x0100);
  be16(b, 1);
  be16(b, 0);
  be16(b, 0);
  be16(b, 0);
  append(b, dns_name({"www", "example", "org"}));
  be16(b, 1);
  be16(b, 1);
  return b;
}

// The response: the question, a CNAME (its name by pointer to the question), an A record.
Bytes dns_response(uint16_t id) {
  Bytes b = dns_query(id);
  store_be16(b.data() + 2, 0x8180);
  store_be16(b.data() + 6, 2);
  be16(b, 0xc00c);  // www.example.org
  be16(b, 5);
  be16(b, 1);
  be16(b, 0);
  be16(b, 300);
  Bytes cname = dns_name({"web"});
  cname.pop_back();
  be16(cname, 0xc010);  // web.example.org
  append(b, prefixed(cname, 2));
  be16(b, 0xc00c);
  be16(b, 1);
  be16(b, 1);
  be16(b, 0);
  be16(b, 60);
  append(b, prefixed({192, 0, 2, 7}, 2));
  return b;
}

TEST(Dns, QueryAndResponseOverUdp) {
  Flow f(17, kPayloadDissectors, 40000, 53);
  EXPECT_TRUE(f.send(Direction::kForward, dns_query(0x1234)));
  EXPECT_FALSE(f.send(Direction::kReverse, dns_response(0x1234)));  // nothing more wanted
  FlowRecord r = f.record();
  EXPECT_EQ(r.app.dns_id, 0x1234);
  EXPECT_EQ(r.fwd.dns_flags, 0x0100);
  EXPECT_EQ(r.rev.dns_flags, 0x8180);
  EXPECT_EQ(r.app.dns_query_name, "www.example.org");
  EXPECT_EQ(r.app.dns_query_type, 1);
  EXPECT_EQ(r.app.dns_query_class, 1);
  EXPECT_EQ(r.app.dns_rcode, 0);
  ASSERT_EQ(r.dns_resp_rr.size, 2u);
  EXPECT_EQ(r.dns_resp_rr.items[0].name, "www.example.org");
  EXPECT_EQ(r.dns_resp_rr.items[0].type, 5);
  EXPECT_EQ(r.dns_resp_rr.items[0].ttl, 300u);
  EXPECT_EQ(r.dns_resp_rr.items[0].data, "web.example.org");
  EXPECT_EQ(r.dns_resp_rr.items[1].data, "192.0.2.7");
  EXPECT_EQ(r.dns_resp_rr.items[1].ttl, 60u);
}

TEST(Dissection, AFinishedFlowKeepsItsValuesPackedAndItsContextGoesBack) {
  Flow f(17, kPayloadDissectors, 40000, 53);
  size_t empty = f.dissection().memory_bytes();
  f.send(Direction::kForward, dns_query(9));
  uint32_t context = f.slot();
  EXPECT_FALSE(f.send(Direction::kReverse, dns_response(9)));
  EXPECT_NE(f.slot(), context);  // the values packed, the context free for the next flow
  // A caller that feeds more anyway is told again that nothing more is wanted.
  EXPECT_FALSE(f.send(Direction::kReverse, dns_response(9)));
  // Each record of the flow (an active timeout makes several) gets the values.
  for (int i = 0; i < 2; ++i) {
    FlowRecord r = f.record();
    EXPECT_EQ(r.app.dns_query_name, "www.example.org");
    ASSERT_EQ(r.dns_resp_rr.size, 2u);
    EXPECT_EQ(r.dns_resp_rr.items[1].data, "192.0.2.7");
  }
  uint32_t slot = f.slot();
  size_t held = f.dissection().memory_bytes();
  f.dissection().release(slot);
  EXPECT_EQ(slot, 0u);
  EXPECT_LT(f.dissection().memory_bytes(), held);
  EXPECT_GE(f.dissection().memory_bytes(), empty);
}

TEST(Dns, OverTcpAcrossSegmentsWithARetransmission) {
  Flow f(6, kPayloadDissectors, 40000, 53);
  Bytes q = prefixed(dns_query(7), 2);
  Bytes head(q.begin(), q.begin() + 9), tail(q.begin() + 9, q.end());
  f.send(Direction::kForward, head);
  f.send(Direction::kForward, head, 1000);  // the same bytes again
  f.send(Direction::kForward, tail);
  FlowRecord r = f.record();
  EXPECT_EQ(r.app.dns_id, 7);
  EXPECT_EQ(r.app.dns_query_name, "www.example.org");
}

TEST(Dns, APointerLoopGivesNoName) {
  Bytes b = dns_query(9);
  b.resize(12);
  be16(b, 0xc00c);  // the name points at itself
  be16(b, 1);
  be16(b, 1);
  Flow f(17, kPayloadDissectors, 40000, 53);
  f.send(Direction::kForward, b);
  FlowRecord r = f.record();
  EXPECT_EQ(r.app.dns_id, 9);
  EXPECT_FALSE(r.present & field_info(FieldId::kDnsReqQueryName).bit);
}

// ---- HTTP --------------------------------------------------------------------------------------

Bytes str(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

TEST(Http, RequestSplitOverSegmentsAndItsResponse) {
  Flow f(6, kPayloadDissectors, 40000, 80);
  f.send(Direction::kForward, str("DELETE /items/7 HTTP/1.1\r\nHost: api.exa"));
  f.send(Direction::kForward,
         str("mple.org\r\nUser-Agent: curl/8.0\r\nReferer: http://a/\r\n\r\n"));
  EXPECT_FALSE(f.send(Direction::kReverse,
                      str("HTTP/1.1 404 Not Found\r\ncontent-type: text/html\r\n\r\n<html>")));
  FlowRecord r = f.record();
  EXPECT_EQ(r.app.http_method, "DELETE");
  EXPECT_EQ(r.app.http_method_id, 32);
  EXPECT_EQ(r.app.http_url, "/items/7");
  EXPECT_EQ(r.app.http_host, "api.example.org");
  EXPECT_EQ(r.app.http_agent, "curl/8.0");
  EXPECT_EQ(r.app.http_referer, "http://a/");
  EXPECT_EQ(r.app.http_status_code, 404);
  EXPECT_EQ(r.app.http_content_type, "text/html");
}

TEST(Http, AGapEndsTheStream) {
  Flow f(6, kPayloadDissectors, 40000, 80);
  f.send(Direction::kForward, str("GET / HTTP/1.1\r\nHost: a"));
  f.send(Direction::kForward, str("Agent: x\r\n\r\n"), 99999);  // a segment past a gap
  FlowRecord r = f.record();
  // The head never completed in order: what arrived in order is read, nothing after the gap.
  EXPECT_EQ(r.app.http_method, "GET");
  EXPECT_EQ(r.app.http_host, "a");
  EXPECT_FALSE(r.present & field_info(FieldId::kHttpAgent).bit);
}

TEST(Http, NotHttpIsNotClaimed) {
  Flow f(6, kHttp, 40000, 80);
  for (int i = 0; i < 15; ++i) EXPECT_TRUE(f.send(Direction::kForward, str("hello there\r\n")));
  EXPECT_FALSE(f.send(Direction::kForward, str("hello there\r\n")));  // declined for good
  EXPECT_EQ(f.record().present, 0u);
}

// ---- TLS ---------------------------------------------------------------------------------------

Bytes u16_list(std::initializer_list<uint16_t> v) {
  Bytes b;
  for (uint16_t x : v) be16(b, x);
  return b;
}

Bytes extension(uint16_t type, const Bytes& body) {
  Bytes b;
  be16(b, type);
  append(b, prefixed(body, 2));
  return b;
}

// The ClientHello of FoxIO's JA4 README example (t13d1516h2_8daaf6152771_e5627efa2ab1), with
// GREASE values added where browsers put them. As DTLS 1.3 offers it, the handshake message
// alone: legacy version DTLS 1.2, a cookie, DTLS's versions.
Bytes example_client_hello(bool dtls = false) {
  Bytes h;
  be16(h, dtls ? 0xfefd : 0x0303);
  h.insert(h.end(), 32, 0x11);                        // random
  h.push_back(0);                                     // session id
  if (dtls) append(h, prefixed(Bytes(20, 0xcc), 1));  // cookie
  append(h, prefixed(u16_list({0x0a0a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
                               0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035}),
                     2));
  append(h, prefixed({0}, 1));  // compression: null
  Bytes exts;
  append(exts, extension(0x1a1a, {}));
  Bytes sni;
  sni.push_back(0);
  append(sni, prefixed(str("example.com"), 2));
  append(exts, extension(0x0000, prefixed(sni, 2)));
  append(exts, extension(0x0017, {}));
  append(exts, extension(0xff01, {0}));
  append(exts, extension(0x000a, prefixed(u16_list({0x2a2a, 0x001d, 0x0017, 0x0018}), 2)));
  append(exts, extension(0x000b, prefixed({0}, 1)));
  append(exts, extension(0x0023, {}));
  Bytes alpn;
  append(alpn, prefixed(str("h2"), 1));
  append(alpn, prefixed(str("http/1.1"), 1));
  append(exts, extension(0x0010, prefixed(alpn, 2)));
  append(exts, extension(0x0005, {1, 0, 0, 0, 0}));
  append(exts, extension(0x000d, prefixed(u16_list({0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501,
                                                    0x0806, 0x0601}),
                                          2)));
  append(exts, extension(0x0012, {}));
  append(exts, extension(0x0033, prefixed({}, 2)));
  append(exts, extension(0x002d, prefixed({1}, 1)));
  append(exts, extension(0x002b, prefixed(dtls ? u16_list({0x3a3a, 0xfefc, 0xfefd})
                                               : u16_list({0x3a3a, 0x0304, 0x0303}),
                                          1)));
  append(exts, extension(0x001b, prefixed({0, 2}, 1)));
  append(exts, extension(0x4469, {}));
  append(exts, extension(0x0015, Bytes(10, 0)));  // padding
  append(h, prefixed(exts, 2));
  Bytes msg{1};
  append(msg, prefixed(h, 3));
  if (dtls) return msg;
  Bytes record{22, 3, 1};
  append(record, prefixed(msg, 2));
  return record;
}

TEST(Tls, Ja4OfFoxIosExampleAndTheClientHelloFields) {
  Flow f(6);
  Bytes hello = example_client_hello();
  // Split in three segments, as a large ClientHello is.
  f.send(Direction::kForward, Bytes(hello.begin(), hello.begin() + 10));
  f.send(Direction::kForward, Bytes(hello.begin() + 10, hello.begin() + 100));
  f.send(Direction::kForward, Bytes(hello.begin() + 100, hello.end()));
  FlowRecord r = f.record();
  EXPECT_EQ(r.app.tls_ja4, "t13d1516h2_8daaf6152771_e5627efa2ab1");
  EXPECT_EQ(r.app.tls_sni, "example.com");
  EXPECT_EQ(r.app.tls_alpn, "h2");
  // The head of supported_versions, GREASE and all (what FlowTest expects).
  EXPECT_EQ(r.app.tls_client_version, 0x3a3a);
  EXPECT_EQ(r.app.tls_ja3.size(), 32u);
}

TEST(Tls, TruncatedHellosNeverReadPastTheirEnd) {
  Bytes hello = example_client_hello();
  for (size_t cut = 9; cut < hello.size(); cut += 7) {
    Bytes part(hello.begin(), hello.begin() + cut);
    // The record header claims the full length: the rest never comes.
    Flow f(6);
    f.send(Direction::kForward, part);
    FlowRecord r = f.record();
    EXPECT_FALSE(r.present & field_info(FieldId::kTlsJa4).bit) << cut;
    // The header says less than is there: the hello is read as cut short.
    Bytes lying = part;
    store_be16(lying.data() + 3, uint16_t(cut - 5));
    uint32_t body = uint32_t(cut - 9);
    lying[6] = uint8_t(body >> 16);
    store_be16(lying.data() + 7, uint16_t(body));
    Flow g(6);
    g.send(Direction::kForward, lying);
    g.record();
  }
}

// A DTLS record of epoch 0 holding one fragment of handshake message `msg` (type, 3-byte length,
// body, as TLS has it).
Bytes dtls_record(const Bytes& msg, uint32_t offset, uint32_t length) {
  Bytes frag{msg[0], msg[1], msg[2], msg[3], 0, 0};  // message sequence 0
  be24(frag, offset);
  be24(frag, length);
  frag.insert(frag.end(), msg.begin() + 4 + offset, msg.begin() + 4 + offset + length);
  Bytes record{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0};  // epoch 0, sequence 0
  append(record, prefixed(frag, 2));
  return record;
}

TEST(Dtls, AClientHelloInFragmentsAfterAHelloVerifyRequest) {
  Bytes hello = example_client_hello(true);
  uint32_t len = uint32_t(hello.size() - 4);
  Bytes verify{3, 0, 0, 23, 0xfe, 0xff};
  append(verify, prefixed(Bytes(20, 0xcc), 1));
  for (bool capwap : {false, true}) {
    Flow f(17, kPayloadDissectors, 40000, capwap ? 5246 : 4433);
    Bytes preamble = capwap ? Bytes{1, 0, 0, 0} : Bytes{};
    auto send = [&](Direction d, const Bytes& record) {
      Bytes datagram = preamble;
      append(datagram, record);
      return f.send(d, datagram);
    };
    EXPECT_TRUE(send(Direction::kForward, dtls_record(hello, 0, len)));
    EXPECT_TRUE(send(Direction::kReverse, dtls_record(verify, 0, uint32_t(verify.size() - 4))));
    // The hello again, cookie and all, in two fragments of two datagrams.
    EXPECT_TRUE(send(Direction::kForward, dtls_record(hello, 0, 100)));
    EXPECT_TRUE(send(Direction::kForward, dtls_record(hello, 100, len - 100)));
    FlowRecord r = f.record();
    EXPECT_EQ(r.app.tls_ja4, "dd3d1516h2_8daaf6152771_e5627efa2ab1") << capwap;
    EXPECT_EQ(r.app.tls_sni, "example.com");
    EXPECT_EQ(r.app.tls_client_version, 0x3a3a);
  }
  // The fragments alone, the first missing: nothing is made of the second.
  Flow g(17);
  g.send(Direction::kForward, dtls_record(hello, 100, len - 100));
  EXPECT_FALSE(g.record().present & field_info(FieldId::kTlsSni).bit);
}

// ---- The rest ----------------------------------------------------------------------------------

TEST(Ssh, BannersOfBothSides) {
  Flow f(6, kPayloadDissectors, 40000, 22);
  f.send(Direction::kReverse, str("SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n"));
  EXPECT_FALSE(f.send(Direction::kForward, str("SSH-2.0-PuTTY_Release_0.78\r\n")));
  FlowRecord r = f.record();
  EXPECT_EQ(r.rev.banner, "SSH-2.0-OpenSSH_9.2p1 Debian-2");
  EXPECT_EQ(r.fwd.banner, "SSH-2.0-PuTTY_Release_0.78");
}

TEST(WireGuard, HandshakeGivesBothPeers) {
  Flow f(17, kPayloadDissectors, 40000, 51820);
  Bytes init(148, 0), resp(92, 0);
  init[0] = 1;
  store_le32(init.data() + 4, 0x11223344);
  resp[0] = 2;
  store_le32(resp.data() + 4, 0x55667788);
  store_le32(resp.data() + 8, 0x11223344);
  f.send(Direction::kForward, init);
  f.send(Direction::kReverse, resp);
  FlowRecord r = f.record();
  EXPECT_EQ(r.app.wg_src_peer, 0x11223344u);
  EXPECT_EQ(r.app.wg_dst_peer, 0x55667788u);
  EXPECT_EQ(r.app.wg_conf_level, 100);
}

TEST(AppLabel, NdpiNamesADnsQuery) {
  if (!AppLabeler::create()) GTEST_SKIP() << "built without libndpi (apt-get install libndpi-dev)";
  Flow f(17, kAppLabel, 40000, 53);
  f.send(Direction::kForward, dns_query(5));
  f.send(Direction::kReverse, dns_response(5));
  FlowRecord r = f.record();
  EXPECT_EQ(r.app.app_label, "DNS");
  EXPECT_EQ(r.app.app_category, "Network");
  // A flow nDPI never saw gets its guess by port.
  Dissection d(kAppLabel);
  Arena arena;
  FlowRecord silent;
  silent.protocol = 6;
  silent.src_port = 50000;
  silent.dst_port = 443;
  d.finish(0, silent, arena);
  EXPECT_EQ(silent.app.app_label, "TLS");
}

TEST(Protocols, NamesAndErrors) {
  EXPECT_EQ(parse_protocols("all").value(), uint32_t(kAllProtocols));
  EXPECT_EQ(parse_protocols("none").value(), 0u);
  EXPECT_EQ(parse_protocols("dns,tls").value(), uint32_t(kDns | kTls));
  auto bad = parse_protocols("dns,smtp");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown dissector 'smtp'"), std::string::npos);
  EXPECT_NE(bad.status().message().find("ovpn"), std::string::npos);
}

TEST(Dissection, SlotsAreReusedWithNothingLeftOver) {
  Dissection d(kPayloadDissectors);
  Arena arena;
  uint32_t slot = 0;
  Bytes l4(8, 0);
  Bytes q = dns_query(1);
  Packet p{0, Direction::kForward, 17, 4, kAddr[0], kAddr[1], 40000, 53, l4, q};
  d.packet(slot, p);
  uint32_t first = slot;
  d.release(slot);
  EXPECT_EQ(slot, 0u);
  Bytes other = str("not a protocol at all");
  Packet p2{0, Direction::kForward, 17, 4, kAddr[0], kAddr[1], 40001, 9999, l4, other};
  d.packet(slot, p2);
  EXPECT_EQ(slot, first);
  FlowRecord r;
  d.finish(slot, r, arena);
  EXPECT_EQ(r.present, 0u);  // the previous flow's DNS values are gone
}

}  // namespace
}  // namespace flowkit::dissect
