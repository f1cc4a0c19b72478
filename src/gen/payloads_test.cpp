#include "gen/payloads.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "gen/test_util.h"

namespace flowkit::gen {
namespace {

using testing::be16;

// Extensions of a ClientHello record by type, after checking every length field.
std::map<uint16_t, std::vector<uint8_t>> hello_extensions(const uint8_t* p, size_t n,
                                                          size_t* handshake_len) {
  std::map<uint16_t, std::vector<uint8_t>> ext;
  EXPECT_GE(n, 9u);
  EXPECT_EQ(p[0], 22);
  EXPECT_EQ(be16(p + 3) + 5u, n);
  EXPECT_EQ(p[5], 1);  // ClientHello
  size_t hs = size_t(p[6]) << 16 | size_t(p[7]) << 8 | p[8];
  EXPECT_EQ(hs + 9, n);
  *handshake_len = hs + 4;
  size_t off = 9 + 2 + 32;
  off += 1 + p[off];         // session id
  off += 2 + be16(p + off);  // cipher suites
  off += 1 + p[off];         // compression methods
  size_t end = off + 2 + be16(p + off);
  EXPECT_EQ(end, n);
  off += 2;
  while (off + 4 <= end) {
    uint16_t type = be16(p + off), len = be16(p + off + 2);
    EXPECT_LE(off + 4 + len, end);
    ext[type].assign(p + off + 4, p + off + 4 + len);
    off += 4 + len;
  }
  EXPECT_EQ(off, end);
  return ext;
}

TEST(ClientHello, CarriesSniAlpnAndTls13ForEveryProfile) {
  for (int prof = 0; prof < int(TlsProfile::kCount); ++prof) {
    for (bool h2 : {true, false}) {
      uint8_t buf[1024];
      ClientHelloParams p;
      p.sni = "www.example.org";
      p.profile = TlsProfile(prof);
      p.offer_h2 = h2;
      p.seed = 42 + prof;
      size_t n = build_client_hello(buf, p);
      ASSERT_LE(n, 600u);
      size_t hs_len;
      auto ext = hello_extensions(buf, n, &hs_len);
      ASSERT_TRUE(ext.count(0));
      const auto& sni = ext[0];
      ASSERT_EQ(sni.size(), 5u + 15u);
      EXPECT_EQ(std::string(sni.begin() + 5, sni.end()), "www.example.org");
      ASSERT_TRUE(ext.count(16));
      std::string alpn(ext[16].begin() + 2, ext[16].end());
      EXPECT_EQ(alpn, h2 ? std::string("\x02h2\x08http/1.1") : std::string("\x08http/1.1"));
      ASSERT_TRUE(ext.count(43));
      const auto& sv = ext[43];
      bool has13 = false;
      for (size_t i = 1; i + 1 < sv.size(); i += 2) has13 |= be16(&sv[i]) == 0x0304;
      EXPECT_TRUE(has13);
      EXPECT_TRUE(ext.count(51));  // key_share
      if (TlsProfile(prof) == TlsProfile::kChrome) {
        EXPECT_TRUE(hs_len >= 512 || hs_len < 256) << hs_len;
      }
    }
  }
}

TEST(ServerHello, Tls13WithEchoedSessionIdAndCcs) {
  uint8_t ch[1024], sh[256];
  ClientHelloParams p;
  p.sni = "a.example";
  p.seed = 99;
  build_client_hello(ch, p);
  size_t n = build_server_hello(sh, 99, 0x1301);
  ASSERT_EQ(n, 133u);
  EXPECT_EQ(be16(sh + 3) + 5u, n - 6);
  EXPECT_EQ(sh[5], 2);
  // Session id length and bytes at 5 + 4 + 2 + 32 in both hellos.
  EXPECT_EQ(0, std::memcmp(ch + 43, sh + 43, 33));
  const uint8_t ccs[] = {20, 3, 3, 0, 1, 1};
  EXPECT_EQ(0, std::memcmp(sh + n - 6, ccs, 6));
}

TEST(TlsFraming, WireSize) {
  EXPECT_EQ(tls_wire_size(0), 0u);
  EXPECT_EQ(tls_wire_size(1), 23u);
  EXPECT_EQ(tls_wire_size(16384), 16384u + 22);
  EXPECT_EQ(tls_wire_size(16385), 16385u + 44);
}

std::string read_name(const uint8_t* msg, size_t& off) {
  std::string name;
  while (msg[off]) {
    if ((msg[off] & 0xc0) == 0xc0) {
      size_t ptr = be16(msg + off) & 0x3fff;
      off += 2;
      return name + "->" + read_name(msg, ptr);
    }
    if (!name.empty()) name += '.';
    name.append(reinterpret_cast<const char*>(msg + off + 1), msg[off]);
    off += 1 + msg[off];
  }
  ++off;
  return name;
}

TEST(Dns, QueryAndResponseMatch) {
  uint8_t q[256], r[512];
  size_t qn = build_dns_query(q, 0xbeef, "www.wikipedia.org", kDnsTypeA, 1232);
  EXPECT_EQ(be16(q), 0xbeef);
  EXPECT_EQ(be16(q + 2), 0x0100);
  EXPECT_EQ(be16(q + 4), 1);
  size_t off = 12;
  EXPECT_EQ(read_name(q, off), "www.wikipedia.org");
  EXPECT_EQ(be16(q + off), kDnsTypeA);
  EXPECT_EQ(qn, off + 4 + 11);  // question type/class, OPT record

  const uint8_t addrs[8] = {93, 184, 216, 34, 93, 184, 216, 35};
  size_t rn = build_dns_response(r, 0xbeef, "www.wikipedia.org", kDnsTypeA, 0, addrs, 300, 1232);
  EXPECT_EQ(be16(r), 0xbeef);
  EXPECT_EQ(be16(r + 2), 0x8180);
  EXPECT_EQ(be16(r + 6), 2);
  EXPECT_EQ(rn, qn + 2 * 16);
  off = qn - 11;
  EXPECT_EQ(be16(r + off), 0xc00c);
  EXPECT_EQ(be16(r + off + 10), 4);
  EXPECT_EQ(r[off + 12], 93);

  size_t nx = build_dns_response(r, 1, "wpad.lan", kDnsTypeA, 3, addrs, 300, 1232);
  EXPECT_EQ(be16(r + 2) & 15, 3);
  EXPECT_EQ(be16(r + 6), 0);
  EXPECT_GT(nx, 12u);
}

TEST(Dns, LargeTxtResponseIsWellFormedAndNearTarget) {
  std::vector<uint8_t> buf(8000);
  for (size_t target : {1600u, 3000u, 4300u}) {
    size_t n = build_dns_txt_response(buf.data(), 7, "example.com", target * 31, target);
    EXPECT_LE(n, target + 16);
    EXPECT_GE(n, target - 64);
    uint16_t answers = be16(&buf[6]);
    size_t off = 12;
    read_name(buf.data(), off);
    off += 4;
    for (uint16_t i = 0; i < answers; ++i) {
      ASSERT_EQ(be16(&buf[off]), 0xc00c);
      ASSERT_EQ(be16(&buf[off + 2]), kDnsTypeTxt);
      uint16_t rdlen = be16(&buf[off + 10]);
      ASSERT_EQ(buf[off + 12] + 1u, rdlen);  // one character-string filling the rdata
      off += 12 + rdlen;
    }
    EXPECT_EQ(off + 11, n);  // then the OPT record
  }
}

TEST(Http, HeadsAreWellFormed) {
  char buf[1024];
  size_t n = build_http_request(buf, "deb.debian.org", "/debian/", "curl/7.88.1", 0);
  std::string req(buf, n);
  EXPECT_EQ(req.rfind("GET /debian/ HTTP/1.1\r\nHost: deb.debian.org\r\n", 0), 0u);
  EXPECT_TRUE(req.ends_with("\r\n\r\n"));
  n = build_http_request(buf, "h", "/up", "ua", 1234);
  EXPECT_NE(std::string(buf, n).find("POST /up HTTP/1.1"), std::string::npos);
  EXPECT_NE(std::string(buf, n).find("Content-Length: 1234\r\n"), std::string::npos);
  n = build_http_response(buf, 200, "text/html", 5000, "h");
  EXPECT_NE(std::string(buf, n).find("Content-Length: 5000\r\n"), std::string::npos);
  n = build_http_response(buf, 304, "", 0, "h");
  EXPECT_EQ(std::string(buf, n).find("Content-Length"), std::string::npos);
}

}  // namespace
}  // namespace flowkit::gen
