// TLS (and SSL 2.0-compatible ClientHellos) over TCP and DTLS over UDP: versions, SNI, ALPN,
// cipher suite, the JA3, JA3S and JA4 fingerprints, and the server certificate's names, validity
// and key type when it is sent in clear (TLS and DTLS 1.2 and older).
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <ctime>

#include "dissect/protocols.h"
#include "dissect/x509.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;
constexpr uint8_t kHandshake = 22;
constexpr uint8_t kClientHello = 1, kServerHello = 2, kHelloVerifyRequest = 3, kCertificate = 11;
constexpr uint16_t kExtSni = 0, kExtGroups = 10, kExtPointFormats = 11, kExtSigAlgs = 13,
                   kExtAlpn = 16, kExtVersions = 43;

// GREASE values (RFC 8701): 0x?a?a with both bytes equal. Fingerprints leave them out.
bool grease(uint16_t v) {
  return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

// A digest fetched once per thread with its context: EVP_Digest would fetch the algorithm and
// take OpenSSL's global locks on every call.
struct Digest {
  EVP_MD* md;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  explicit Digest(const char* name) : md(EVP_MD_fetch(nullptr, name, nullptr)) {}
  ~Digest() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
};

std::string digest_hex(Digest& d, std::string_view s, size_t digits) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (!d.md || EVP_DigestInit_ex2(d.ctx, d.md, nullptr) != 1 ||
      EVP_DigestUpdate(d.ctx, s.data(), s.size()) != 1 || EVP_DigestFinal_ex(d.ctx, out, &n) != 1)
    return {};
  return to_hex({out, n}).substr(0, digits);
}

std::string md5_hex(std::string_view s) {
  static thread_local Digest md5("MD5");
  return digest_hex(md5, s, 32);
}

std::string sha256_hex12(std::string_view s) {
  static thread_local Digest sha256("SHA256");
  return digest_hex(sha256, s, 12);
}

void put_decimal(std::string& out, uint32_t x) {
  char digits[10];
  out.append(digits, std::to_chars(digits, digits + sizeof digits, x).ptr);
}

// "a-b-c" of the values but GREASE (JA3's lists). With to_chars, as hex_list: fmt's parsing of the
// format for every value cost more than the digits.
template <class T>
void dash_list(std::string& out, const T& values) {
  bool first = true;
  for (auto v : values) {
    const uint32_t x = v;
    if (x <= 0xffff && grease(uint16_t(x))) continue;
    if (!first) out += '-';
    put_decimal(out, x);
    first = false;
  }
}

// "0a0b,0c0d" of the values as hex, four digits at least (JA4's lists; SSL 2.0's three-byte
// ciphers take as many more as they need).
template <class T>
void hex_list(std::string& out, const std::vector<T>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out += ',';
    char digits[8];
    char* end = std::to_chars(digits, digits + sizeof digits, uint32_t(values[i]), 16).ptr;
    if (end - digits < 4) out.append(size_t(4 - (end - digits)), '0');
    out.append(digits, end);
  }
}

struct Hello {
  uint16_t version = 0;
  std::vector<uint32_t> ciphers;  // SSL 2.0's cipher specs have three bytes
  std::vector<uint16_t> extensions, groups, sig_algs, versions;
  std::vector<uint8_t> point_formats;
  std::string_view sni;
  std::vector<std::string_view> alpn;
  void clear() {
    version = 0;
    ciphers.clear();
    extensions.clear();
    groups.clear();
    sig_algs.clear();
    versions.clear();
    point_formats.clear();
    sni = {};
    alpn.clear();
  }
};

void read_u16_list(Reader r, std::vector<uint16_t>& out, size_t len_bytes) {
  size_t n = len_bytes == 1 ? r.u8() : r.u16();
  Reader list = r.sub(n);
  while (list.left() >= 2) out.push_back(list.u16());
}

// The extensions block of a hello (after its fixed part).
void read_extensions(Reader& r, Hello& h) {
  if (r.left() < 2) return;
  Reader exts = r.sub(r.u16());
  while (exts.left() >= 4) {
    uint16_t type = exts.u16();
    Reader e = exts.sub(exts.u16());
    if (!exts.ok()) break;
    h.extensions.push_back(type);
    switch (type) {
      case kExtSni: {
        Reader list = e.sub(e.u16());
        while (list.left() >= 3) {
          uint8_t name_type = list.u8();
          auto name = list.bytes(list.u16());
          if (name_type == 0 && list.ok()) {
            h.sni = as_text(name);
            break;
          }
        }
        break;
      }
      case kExtGroups:
        read_u16_list(e, h.groups, 2);
        break;
      case kExtPointFormats: {
        auto pf = e.bytes(e.u8());
        h.point_formats.assign(pf.begin(), pf.end());
        break;
      }
      case kExtSigAlgs:
        read_u16_list(e, h.sig_algs, 2);
        break;
      case kExtAlpn: {
        Reader list = e.sub(e.u16());
        while (list.left() >= 1) {
          auto p = list.bytes(list.u8());
          if (list.ok()) h.alpn.push_back(as_text(p));
        }
        break;
      }
      case kExtVersions:
        // The ClientHello lists versions; the ServerHello names one.
        if (e.left() == 2)
          h.versions.push_back(e.u16());
        else
          read_u16_list(e, h.versions, 1);
        break;
      default:
        break;
    }
  }
}

std::string ja3(const Hello& h) {
  static thread_local std::string s;  // its room kept from hello to hello
  s.clear();
  put_decimal(s, h.version);
  s += ',';
  dash_list(s, h.ciphers);
  s += ',';
  dash_list(s, h.extensions);
  s += ',';
  dash_list(s, h.groups);
  s += ',';
  dash_list(s, h.point_formats);
  return md5_hex(s);
}

// Which protocol carries the handshake: JA4's first letter, and DTLS's ClientHello has a cookie.
enum class Carrier : char { kTls = 't', kQuic = 'q', kDtls = 'd' };

// FoxIO's JA4 (https://github.com/FoxIO-LLC/ja4, JA4 TLS client fingerprint).
std::string ja4(const Hello& h, Carrier carrier) {
  uint16_t v = h.version;
  // DTLS counts down (0xfeff is 1.0, 0xfefd 1.2): the highest is the smallest.
  bool dtls = v >> 8 == 0xfe;
  for (uint16_t x : h.versions)
    if (!grease(x) && (dtls ? x < v : x > v)) v = x;
  std::string_view ver = v == 0x0304   ? "13"
                         : v == 0x0303 ? "12"
                         : v == 0x0302 ? "11"
                         : v == 0x0301 ? "10"
                         : v == 0x0300 ? "s3"
                         : v == 0x0002 ? "s2"
                         : v == 0xfeff ? "d1"
                         : v == 0xfefd ? "d2"
                         : v == 0xfefc ? "d3"
                                       : "00";
  // Scratch kept per thread: a hello's lists are rebuilt into room the last one left.
  static thread_local std::vector<uint32_t> ciphers;
  static thread_local std::vector<uint16_t> exts, sorted;
  static thread_local std::string list;
  ciphers.clear();
  exts.clear();
  sorted.clear();
  list.clear();
  for (uint32_t x : h.ciphers)
    if (x > 0xffff || !grease(uint16_t(x))) ciphers.push_back(x);
  for (uint16_t x : h.extensions)
    if (!grease(x)) exts.push_back(x);
  std::string alpn = "00";
  if (!h.alpn.empty() && !h.alpn[0].empty()) {
    std::string_view a = h.alpn[0];
    auto alnum = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; };
    if (alnum(a.front()) && alnum(a.back())) {
      alpn = {a.front(), a.back()};
    } else {
      std::string hex = to_hex({reinterpret_cast<const uint8_t*>(a.data()), a.size()});
      alpn = {hex.front(), hex.back()};
    }
  }
  std::string out =
      fmt::format("{}{}{}{:02}{:02}{}_", char(carrier), ver, h.sni.empty() ? 'i' : 'd',
                  std::min<size_t>(ciphers.size(), 99), std::min<size_t>(exts.size(), 99), alpn);
  std::sort(ciphers.begin(), ciphers.end());
  hex_list(list, ciphers);
  out += ciphers.empty() ? std::string(12, '0') : sha256_hex12(list);
  out += '_';
  for (uint16_t x : exts)
    if (x != kExtSni && x != kExtAlpn) sorted.push_back(x);
  std::sort(sorted.begin(), sorted.end());
  list.clear();
  hex_list(list, sorted);
  if (!h.sig_algs.empty()) {
    list += '_';
    hex_list(list, h.sig_algs);
  }
  out += sorted.empty() ? std::string(12, '0') : sha256_hex12(list);
  return out;
}

void read_certificate(std::span<const uint8_t> der, Results& out) {
  static thread_local CertificateFields c;
  c = {};
  if (!read_x509(der, c)) return;
  if (!c.subject_cn.empty()) out.set(FieldId::kTlsSubjectCn, c.subject_cn);
  if (!c.issuer_cn.empty()) out.set(FieldId::kTlsIssuerCn, c.issuer_cn);
  if (c.has_validity) {
    out.set(FieldId::kTlsValidityNotBefore, c.not_before);
    out.set(FieldId::kTlsValidityNotAfter, c.not_after);
  }
  if (!c.key_algorithm.empty()) out.set(FieldId::kTlsPublicKeyAlg, c.key_algorithm);
}

void client_hello(Reader r, Results& out, Hello& h, Carrier carrier) {
  h.clear();
  h.version = r.u16();
  r.skip(32);
  r.skip(r.u8());                                 // session id
  if (carrier == Carrier::kDtls) r.skip(r.u8());  // cookie
  Reader ciphers = r.sub(r.u16());
  while (ciphers.left() >= 2) h.ciphers.push_back(ciphers.u16());
  r.skip(r.u8());  // compression methods
  read_extensions(r, h);
  if (!r.ok() && h.ciphers.empty()) return;
  // The client's first choice: the head of supported_versions (as sent, GREASE included, as
  // ipfixprobe reports it), else legacy_version.
  out.set(FieldId::kTlsClientVersion, h.versions.empty() ? h.version : h.versions[0]);
  if (!h.sni.empty()) out.set(FieldId::kTlsSni, h.sni);
  if (!h.alpn.empty() && !out.has(FieldId::kTlsAlpn)) out.set(FieldId::kTlsAlpn, h.alpn[0]);
  out.set(FieldId::kTlsJa3, ja3(h));
  out.set(FieldId::kTlsJa4, ja4(h, carrier));
}

void server_hello(Reader r, Results& out, Hello& h) {
  if (out.has(FieldId::kTlsServerVersion)) return;  // after a HelloRetryRequest: the first
  h.clear();
  h.version = r.u16();
  r.skip(32);
  // TLS 1.3 drafts before 22 have neither a session id nor a compression method here.
  bool early_draft = h.version >> 8 == 0x7f && (h.version & 0xff) < 22;
  if (!early_draft) r.skip(r.u8());
  uint16_t cipher = r.u16();
  if (!early_draft) r.skip(1);
  read_extensions(r, h);
  if (!r.ok() && cipher == 0) return;
  out.set(FieldId::kTlsServerVersion, h.versions.empty() ? h.version : h.versions[0]);
  out.set(FieldId::kTlsCipherSuite, cipher);
  if (!h.alpn.empty()) out.set(FieldId::kTlsAlpn, h.alpn[0]);
  std::string s = fmt::format("{},{},", h.version, cipher);
  std::vector<uint16_t> exts;
  for (uint16_t x : h.extensions)
    if (!grease(x)) exts.push_back(x);
  dash_list(s, exts);
  out.set(FieldId::kTlsJa3s, md5_hex(s));
}

// An SSL 2.0 record header's ClientHello (RFC 6101 appendix E.2): cipher specs of 3 bytes.
// JA3 takes the specs as numbers and has no extensions.
bool sslv2_client_hello(std::span<const uint8_t> data, Results& out, Hello& h) {
  if (data.size() < 11 || !(data[0] & 0x80) || data[2] != kClientHello) return false;
  Reader r(data.subspan(3));
  h.clear();
  h.version = r.u16();
  uint16_t specs = r.u16();
  r.skip(2);  // session id length
  r.skip(2);  // challenge length
  Reader s = r.sub(specs);
  while (s.left() >= 3) h.ciphers.push_back(s.u24());
  if (!r.ok()) return false;
  out.set(FieldId::kTlsClientVersion, h.version);
  out.set(FieldId::kTlsJa3, ja3(h));
  out.set(FieldId::kTlsJa4, ja4(h, Carrier::kTls));
  return true;
}

// One whole handshake message of TLS or DTLS; true once its direction has said all that it says
// in clear and is read here: the client after its hello, the server after its certificate (or
// after its hello when version 1.3 encrypts the rest of its flight). A HelloVerifyRequest (DTLS)
// is followed by the client's hello again.
bool handshake_message(uint8_t type, Reader m, Results& out, Hello& hello, Carrier carrier) {
  switch (type) {
    case kClientHello:
      client_hello(m, out, hello, carrier);
      return out.has(FieldId::kTlsClientVersion);
    case kServerHello: {
      server_hello(m, out, hello);
      if (hello.versions.size() != 1) return false;
      uint16_t v = hello.versions[0];
      return carrier == Carrier::kDtls ? v == 0xfefc : v >= 0x0304;
    }
    case kCertificate: {
      Reader list = m.sub(m.u24());
      auto first = list.bytes(list.u24());
      if (list.ok()) read_certificate(first, out);
      return true;
    }
    default:
      return type >= 12;  // ServerKeyExchange, ServerHelloDone...: past the certificate
  }
}

class Tls final : public Dissector {
 public:
  Protocol protocol() const override { return kTls; }

  bool claims(const Packet& p) const override {
    auto b = p.payload;
    if (p.protocol != kProtoTcp || b.size() < 6) return false;
    if (b[0] == kHandshake && b[1] == 3 && b[2] <= 4 &&
        (b[5] == kClientHello || b[5] == kServerHello))
      return true;
    return (b[0] & 0x80) && b[2] == kClientHello && b[3] <= 3;  // SSL 2.0 header
  }

  // Each direction's handshake records are read again as they grow, until the direction has
  // said what it will say in clear. state[0]: bit d once direction d is read to its end.
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> data) const override {
    int d = int(p.dir);
    if (f.state[0] >> d & 1) return f.state[0] != 3;
    static thread_local std::string handshake;
    static thread_local Hello hello;
    handshake.clear();
    bool finished = f.stream[d].ended;
    if (data.size() >= 3 && data[0] & 0x80 && data[2] == kClientHello) {
      sslv2_client_hello(data, f.results, hello);
      finished = true;
    }
    // Handshake messages may span records: join the records' bodies first.
    Reader r(data);
    while (!finished && r.left() >= 5) {
      uint8_t type = r.u8();
      r.skip(2);
      uint16_t len = r.u16();
      if (r.left() < len) break;  // the rest of the record comes later
      auto body = r.bytes(len);
      if (type != kHandshake) {
        finished = true;  // ChangeCipherSpec, an alert or data: the clear part is over
        break;
      }
      handshake.append(as_text(body));
    }
    Reader h(std::span(reinterpret_cast<const uint8_t*>(handshake.data()), handshake.size()));
    while (h.left() >= 4) {
      uint8_t type = h.u8();
      uint32_t len = h.u24();
      if (h.left() < len) break;
      if (handshake_message(type, h.sub(len), f.results, hello, Carrier::kTls)) finished = true;
    }
    if (finished) f.state[0] |= 1u << d;
    return f.state[0] != 3;
  }
};

// DTLS (RFC 6347, 9147): TLS's handshake in datagrams. Each record carries an epoch and a
// sequence number, each handshake message a fragment offset, and the ClientHello a cookie; a
// server may answer the first ClientHello with a HelloVerifyRequest and the client send it
// again, cookie added. What is read is what TLS reads, from epoch 0 only (later epochs are
// encrypted). A message larger than a datagram comes in fragments, which are joined in order in
// the direction's stream buffer.
class Dtls final : public Dissector {
 public:
  Protocol protocol() const override { return kTls; }

  // DTLS 1.0, 1.2, 1.3 record versions, and OpenSSL's pre-RFC 0x0100 (DTLS1_BAD_VER).
  static bool dtls_version(uint8_t hi, uint8_t lo) {
    return (hi == 0xfe && (lo == 0xff || lo == 0xfd || lo == 0xfc)) || (hi == 1 && lo == 0);
  }

  // CAPWAP (RFC 5415) puts a 4-byte preamble, type 1, before each DTLS record; DTLS's content
  // types are 20-25, so a first byte of 1 tells them apart.
  static std::span<const uint8_t> records(std::span<const uint8_t> b) {
    return b.size() > 4 && b[0] == 1 && b[4] == kHandshake ? b.subspan(4) : b;
  }

  bool claims(const Packet& p) const override {
    auto b = records(p.payload);
    return p.protocol == kProtoUdp && b.size() >= 25 && b[0] == kHandshake &&
           dtls_version(b[1], b[2]) && b[3] == 0 && b[4] == 0 &&
           (b[13] == kClientHello || b[13] == kServerHello || b[13] == kHelloVerifyRequest);
  }

  // state[0]: bit d once direction d has said what it says in clear; state[1]: datagrams read.
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> data) const override {
    int d = int(p.dir);
    if (++f.state[1] > kMaxDatagrams) return false;
    if (f.state[0] >> d & 1) return f.state[0] != 3;
    bool finished = false;
    Reader r(records(data));
    while (!finished && r.left() >= 13) {
      uint8_t type = r.u8();
      uint8_t hi = r.u8(), lo = r.u8();
      uint16_t epoch = r.u16();
      r.skip(6);  // sequence number
      Reader body = r.sub(r.u16());
      if (!r.ok() || !dtls_version(hi, lo)) break;
      if (type != kHandshake || epoch != 0) {
        finished = true;  // ChangeCipherSpec, an alert, or encrypted: the clear part is over
        break;
      }
      while (!finished && body.left() >= 12) {
        uint8_t msg = body.u8();
        uint32_t len = body.u24();
        body.skip(2);  // message sequence
        uint32_t offset = body.u24();
        auto fragment = body.bytes(body.u24());
        if (!body.ok()) break;
        finished = message(f, d, msg, len, offset, fragment);
      }
    }
    if (finished) f.state[0] |= 1u << d;
    return f.state[0] != 3;
  }

 private:
  static constexpr uint64_t kMaxDatagrams = 24;

  // One handshake message's fragment: true once the direction is done.
  static bool message(FlowContext& f, int d, uint8_t type, uint32_t len, uint32_t offset,
                      std::span<const uint8_t> fragment) {
    static thread_local Hello hello;
    std::span<const uint8_t> whole = fragment;
    if (offset != 0 || fragment.size() != len) {
      // Joined in order, as senders send them (a certificate, a post-quantum ClientHello).
      std::string& joined = f.stream[d].bytes;
      if (len > kMaxStream) return false;
      if (offset == 0) joined.clear();
      if (offset != joined.size()) return false;
      joined.append(as_text(fragment));
      if (joined.size() < len) return false;
      whole = {reinterpret_cast<const uint8_t*>(joined.data()), len};
    }
    return handshake_message(type, Reader(whole), f.results, hello, Carrier::kDtls);
  }
};

}  // namespace

std::unique_ptr<Dissector> make_tls() {
  return std::make_unique<Tls>();
}

std::unique_ptr<Dissector> make_dtls() {
  return std::make_unique<Dtls>();
}

bool read_client_hello(std::span<const uint8_t> handshake, Results& out) {
  Reader r(handshake);
  if (r.u8() != kClientHello) return false;
  uint32_t len = r.u24();
  if (r.left() < len) return false;
  static thread_local Hello hello;
  client_hello(r.sub(len), out, hello, Carrier::kQuic);
  return true;
}

std::string to_hex(std::span<const uint8_t> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s(b.size() * 2, '0');
  for (size_t i = 0; i < b.size(); ++i) {
    s[2 * i] = kDigits[b[i] >> 4];
    s[2 * i + 1] = kDigits[b[i] & 15];
  }
  return s;
}

}  // namespace flowkit::dissect
