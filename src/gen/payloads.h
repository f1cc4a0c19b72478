// Application payloads for the traffic generator: DNS messages, TLS 1.3 hellos and HTTP/1.1
// heads, built byte-exact into caller buffers (no allocation) so that dissectors such as
// tshark's parse them without complaint. Pure functions of their arguments: the generator
// rebuilds a payload whenever it needs its bytes again instead of storing it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace flowkit::gen {

// Real host names of popular sites and services, used for DNS questions, TLS SNI and HTTP Host.
std::span<const std::string_view> host_names();

constexpr uint16_t kDnsTypeA = 1;
constexpr uint16_t kDnsTypeTxt = 16;
constexpr uint16_t kDnsTypeAaaa = 28;
constexpr uint16_t kDnsTypeHttps = 65;

// A DNS query for `name` (RD set) with an EDNS0 OPT record advertising `edns_size`.
// REQUIRES: out has room for name.size() + 40 bytes.
size_t build_dns_query(uint8_t* out, uint16_t id, std::string_view name, uint16_t qtype,
                       uint16_t edns_size);

// The response to that query: `rcode` (0 NOERROR, 3 NXDOMAIN) and one answer per address in
// `addresses` (4 bytes each for A, 16 for AAAA; ignored for other types), name-compressed.
// REQUIRES: out has room for name.size() + 40 + count * 28 bytes.
size_t build_dns_response(uint8_t* out, uint16_t id, std::string_view name, uint16_t qtype,
                          uint8_t rcode, std::span<const uint8_t> addresses, uint32_t ttl,
                          uint16_t edns_size);

// A TXT response of about `target_len` bytes (SPF, site-verification and DKIM-like strings):
// large enough to need IP fragmentation. Deterministic in `seed`.
// REQUIRES: out has room for target_len + 300 bytes.
size_t build_dns_txt_response(uint8_t* out, uint16_t id, std::string_view name, uint64_t seed,
                              size_t target_len);

// The browser or library a client's TLS stack imitates; changes cipher suites, extensions,
// GREASE and padding (and so JA3/JA4).
enum class TlsProfile : uint8_t { kChrome, kFirefox, kCurl, kCount };

struct ClientHelloParams {
  std::string_view sni;
  TlsProfile profile = TlsProfile::kChrome;
  bool offer_h2 = true;  // ALPN "h2","http/1.1"; else "http/1.1" only
  uint64_t seed = 0;     // random, session id, key share
};
// A TLS record holding a ClientHello offering TLS 1.3 and 1.2. At most 600 bytes.
size_t build_client_hello(uint8_t* out, const ClientHelloParams& params);

// ServerHello (TLS 1.3, echoing the session id of the ClientHello with the same seed) followed
// by a ChangeCipherSpec record, as servers in middlebox-compatibility mode send. 133 bytes.
size_t build_server_hello(uint8_t* out, uint64_t seed, uint16_t cipher_suite);

// The client's ChangeCipherSpec and encrypted Finished records after the server's first flight.
constexpr size_t kClientFinishedSize = 6 + 5 + 53;
size_t build_client_finished(uint8_t* out, uint64_t seed);

// TLS application-data framing: a plaintext of n bytes travels in ceil(n / 16384) records of
// at most 16384 + 17 bytes (content type and AEAD tag) behind 5-byte headers.
constexpr uint32_t kTlsMaxPlain = 16384;
constexpr uint32_t kTlsRecordOverhead = 5 + 17;
inline uint64_t tls_wire_size(uint64_t plain) {
  return plain + (plain + kTlsMaxPlain - 1) / kTlsMaxPlain * kTlsRecordOverhead;
}

// HTTP/1.1 request head; a positive body_len makes it a POST with that Content-Length.
// REQUIRES: out has room for 1024 bytes.
size_t build_http_request(char* out, std::string_view host, std::string_view path,
                          std::string_view user_agent, uint32_t body_len);
// HTTP/1.1 response head for `status` (200, 301, 304, 404) with the given body length.
// REQUIRES: out has room for 512 bytes.
size_t build_http_response(char* out, int status, std::string_view content_type, uint32_t body_len,
                           std::string_view host);

}  // namespace flowkit::gen
