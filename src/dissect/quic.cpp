// QUIC Initial packets (RFC 9000, 9001; RFC 9369 for version 2; the drafts' salts): the client's
// Initial is protected with keys any observer can derive from its Destination Connection ID, so
// the ClientHello it carries gives the SNI, ALPN and fingerprints as over TCP.
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>

#include <cstring>

#include "core/byte_io.h"
#include "dissect/protocols.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kProtoUdp = 17;
constexpr size_t kMinInitial = 1200;  // a client's Initial datagrams are padded to this at least
constexpr uint64_t kMaxInitials = 4;  // client Initials read before giving up on the hello

struct Version {
  uint32_t version;
  uint8_t salt[20];
  bool v2;  // version 2: "quicv2" labels, Initial is long-header type 1
};

// The initial salts, by version (RFC 9001 5.2, RFC 9369 3.3.1, and the drafts').
constexpr uint8_t kSaltV1[20] = {0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
                                 0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a};
constexpr uint8_t kSaltV2[20] = {0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
                                 0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9};
constexpr uint8_t kSaltV2Draft[20] = {0xa7, 0x07, 0xc2, 0x03, 0xa5, 0x9b, 0x47, 0x18, 0x4a, 0x1d,
                                      0x62, 0xca, 0x57, 0x04, 0x06, 0xea, 0x7a, 0xe3, 0xe5, 0xd3};
constexpr uint8_t kSaltDraft29[20] = {0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
                                      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99};
constexpr uint8_t kSaltDraft23[20] = {0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
                                      0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02};
// Google QUIC with TLS, T050 and T051.
constexpr uint8_t kSaltT050[20] = {0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
                                   0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10};
constexpr uint8_t kSaltT051[20] = {0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
                                   0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d};
constexpr uint8_t kSaltDraft22[20] = {0x7f, 0xbc, 0xdb, 0x0e, 0x7c, 0x66, 0xbb, 0xe9, 0x19, 0x3a,
                                      0x96, 0xcd, 0x21, 0x51, 0x9e, 0xbd, 0x7a, 0x02, 0x64, 0x4a};

// The salt of a version, or null for versions whose Initials this cannot read.
const uint8_t* salt_of(uint32_t v, bool* v2) {
  *v2 = false;
  if (v == 1) return kSaltV1;
  if (v == 0x6b3343cf) {
    *v2 = true;
    return kSaltV2;
  }
  if (v == 0x709a50c4) {  // version 2, draft 00
    *v2 = true;
    return kSaltV2Draft;
  }
  if ((v >> 8) == 0xff0000) {  // IETF drafts
    uint32_t d = v & 0xff;
    if (d >= 33) return kSaltV1;
    if (d >= 29) return kSaltDraft29;
    if (d >= 23) return kSaltDraft23;
    if (d == 22) return kSaltDraft22;
    return nullptr;
  }
  if (v == 0xfaceb001) return kSaltDraft22;  // mvfst
  if (v == 0xfaceb002 || v == 0xfaceb00e) return kSaltDraft23;
  if (v == 0x54303530) return kSaltT050;
  if (v == 0x54303531) return kSaltT051;
  // A reserved version (0x?a?a?a?a) that a client sends to provoke version negotiation: its
  // Initial is sealed with draft 29's salt, as quic-go seals it and Wireshark opens it (the
  // AEAD tag tells when the guess is wrong).
  if ((v & 0x0f0f0f0f) == 0x0a0a0a0a) return kSaltDraft29;
  return nullptr;
}

bool hmac_sha256(std::span<const uint8_t> key, std::span<const uint8_t> data, uint8_t out[32]) {
  // One HMAC-SHA256 context per thread, keyed anew for each call: EVP_Q_mac fetched the
  // algorithm and the digest and made a context every time (five times per Initial: 130,000 of
  // the dissectors' million allocations on the nDPI captures replicated 20 times).
  struct Mac {
    EVP_MAC* mac = EVP_MAC_fetch(nullptr, "HMAC", nullptr);
    EVP_MAC_CTX* ctx = nullptr;
    Mac() {
      char digest[] = "SHA256";
      const OSSL_PARAM params[] = {
          OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
          OSSL_PARAM_construct_end()};
      if (mac && (ctx = EVP_MAC_CTX_new(mac)) && EVP_MAC_CTX_set_params(ctx, params) != 1) {
        EVP_MAC_CTX_free(ctx);
        ctx = nullptr;
      }
    }
    ~Mac() {
      EVP_MAC_CTX_free(ctx);
      EVP_MAC_free(mac);
    }
  };
  static thread_local Mac m;
  size_t n = 0;
  return m.ctx && EVP_MAC_init(m.ctx, key.data(), key.size(), nullptr) == 1 &&
         EVP_MAC_update(m.ctx, data.data(), data.size()) == 1 &&
         EVP_MAC_final(m.ctx, out, &n, 32) == 1 && n == 32;
}

// HKDF-Expand-Label (RFC 8446 7.1) of at most 32 bytes: one HMAC block.
bool expand_label(const uint8_t secret[32], std::string_view label, uint8_t* out, size_t len) {
  uint8_t info[64];
  size_t n = 0;
  info[n++] = 0;
  info[n++] = uint8_t(len);
  info[n++] = uint8_t(6 + label.size());
  std::memcpy(info + n, "tls13 ", 6);
  n += 6;
  std::memcpy(info + n, label.data(), label.size());
  n += label.size();
  info[n++] = 0;     // no context
  info[n++] = 0x01;  // T(1)
  uint8_t t[32];
  if (!hmac_sha256({secret, 32}, {info, n}, t)) return false;
  std::memcpy(out, t, len);
  return true;
}

struct Keys {
  uint8_t key[16], iv[12], hp[16];
};

bool client_keys(std::span<const uint8_t> dcid, const uint8_t* salt, bool v2, Keys& k) {
  uint8_t initial[32], client[32];
  if (!hmac_sha256({salt, 20}, dcid, initial)) return false;  // HKDF-Extract
  if (!expand_label(initial, "client in", client, 32)) return false;
  return expand_label(client, v2 ? "quicv2 key" : "quic key", k.key, 16) &&
         expand_label(client, v2 ? "quicv2 iv" : "quic iv", k.iv, 12) &&
         expand_label(client, v2 ? "quicv2 hp" : "quic hp", k.hp, 16);
}

// A variable-length integer (RFC 9000 16); false when it runs past the end.
bool varint(std::span<const uint8_t> b, size_t& at, uint64_t& v) {
  if (at >= b.size()) return false;
  size_t n = size_t(1) << (b[at] >> 6);
  if (at + n > b.size()) return false;
  v = b[at] & 0x3f;
  for (size_t i = 1; i < n; ++i) v = v << 8 | b[at + i];
  at += n;
  return true;
}

// A context and the two ciphers, fetched once per thread (EVP_aes_128_gcm() and the like are
// looked up again by every EVP_*Init_ex, under OpenSSL's global locks).
struct CipherCtx {
  EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
  EVP_CIPHER* ecb = EVP_CIPHER_fetch(nullptr, "AES-128-ECB", nullptr);
  EVP_CIPHER* gcm = EVP_CIPHER_fetch(nullptr, "AES-128-GCM", nullptr);
  ~CipherCtx() {
    EVP_CIPHER_CTX_free(ctx);
    EVP_CIPHER_free(ecb);
    EVP_CIPHER_free(gcm);
  }
};

// Removes header protection and the AEAD from the Initial at the start of `dgram` into
// `plain`; false when it is not a client Initial this version's keys open.
bool open_initial(std::span<const uint8_t> dgram, std::vector<uint8_t>& plain, uint32_t* version) {
  if (dgram.size() < 7 || !(dgram[0] & 0x80)) return false;
  uint32_t v = load_be32(dgram.data() + 1);
  bool v2;
  const uint8_t* salt = salt_of(v, &v2);
  if (!salt || ((dgram[0] >> 4) & 3) != (v2 ? 1 : 0)) return false;
  size_t at = 5;
  size_t dcid_len = dgram[at++];
  if (dcid_len > 20 || at + dcid_len >= dgram.size()) return false;
  std::span<const uint8_t> dcid = dgram.subspan(at, dcid_len);
  at += dcid_len;
  size_t scid_len = dgram[at++];
  if (scid_len > 20) return false;
  at += scid_len;
  uint64_t token_len, length;
  if (!varint(dgram, at, token_len) || token_len > dgram.size()) return false;
  at += size_t(token_len);
  if (!varint(dgram, at, length)) return false;
  size_t pn_at = at;
  if (length < 20 || pn_at + length > dgram.size()) return false;
  Keys k;
  if (!client_keys(dcid, salt, v2, k)) return false;
  static thread_local CipherCtx c;
  // Header protection (RFC 9001 5.4): a mask from the sample 4 bytes after the packet number.
  uint8_t mask[16];
  int n = 0;
  if (!c.ctx || !c.ecb || !c.gcm || EVP_EncryptInit_ex(c.ctx, c.ecb, nullptr, k.hp, nullptr) != 1)
    return false;
  EVP_CIPHER_CTX_set_padding(c.ctx, 0);
  if (EVP_EncryptUpdate(c.ctx, mask, &n, dgram.data() + pn_at + 4, 16) != 1 || n != 16)
    return false;
  uint8_t first = dgram[0] ^ (mask[0] & 0x0f);
  size_t pn_len = (first & 3) + 1;
  uint8_t header[1 + 4 + 1 + 20 + 1 + 20 + 8 + 8 + 4 + 64];
  size_t header_len = pn_at + pn_len;
  if (header_len > sizeof header) return false;
  std::memcpy(header, dgram.data(), header_len);
  header[0] = first;
  uint64_t pn = 0;
  for (size_t i = 0; i < pn_len; ++i) {
    header[pn_at + i] ^= mask[1 + i];
    pn = pn << 8 | header[pn_at + i];
  }
  uint8_t nonce[12];
  std::memcpy(nonce, k.iv, 12);
  for (int i = 0; i < 8; ++i) nonce[11 - i] ^= uint8_t(pn >> (8 * i));
  size_t body = size_t(length) - pn_len;
  if (body < 16) return false;
  size_t text = body - 16;
  const uint8_t* cipher = dgram.data() + header_len;
  plain.resize(text);
  if (EVP_DecryptInit_ex(c.ctx, c.gcm, nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_IVLEN, 12, nullptr) != 1 ||
      EVP_DecryptInit_ex(c.ctx, nullptr, nullptr, k.key, nonce) != 1 ||
      EVP_DecryptUpdate(c.ctx, nullptr, &n, header, int(header_len)) != 1 ||
      EVP_DecryptUpdate(c.ctx, plain.data(), &n, cipher, int(text)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.ctx, EVP_CTRL_GCM_SET_TAG, 16, const_cast<uint8_t*>(cipher + text)) !=
          1)
    return false;
  int last = 0;
  if (EVP_DecryptFinal_ex(c.ctx, plain.data() + n, &last) != 1) return false;
  *version = v;
  return true;
}

class Quic final : public Dissector {
 public:
  Protocol protocol() const override { return kQuic; }

  bool claims(const Packet& p) const override {
    bool v2;
    return p.protocol == kProtoUdp && p.dir == Direction::kForward &&
           p.payload.size() >= kMinInitial && (p.payload[0] & 0xc0) == 0xc0 &&
           salt_of(load_be32(p.payload.data() + 1), &v2);
  }

  // The client's CRYPTO bytes are gathered in stream[0] by offset, the ranges that came in
  // stream[1] (as pairs of 32-bit offsets); state[0] counts the client's Initials.
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> data) const override {
    if (p.dir != Direction::kForward) return true;
    static thread_local std::vector<uint8_t> plain;
    uint32_t version;
    if (!open_initial(data, plain, &version)) return ++f.state[0] < kMaxInitials;
    f.results.set(FieldId::kQuicVersion, version);
    std::string& crypto = f.stream[0].bytes;
    std::string& ranges = f.stream[1].bytes;
    for (size_t at = 0; at < plain.size();) {
      // PADDING (a zero byte each) fills most of an Initial: skipped as a run.
      while (at < plain.size() && plain[at] == 0) ++at;
      if (at == plain.size()) break;
      uint64_t type;
      if (!varint(plain, at, type)) break;
      if (type == 0x00 || type == 0x01) continue;  // PADDING, PING
      if (type == 0x02 || type == 0x03) {          // ACK: largest, delay, range count, ranges
        uint64_t x, count;
        if (!varint(plain, at, x) || !varint(plain, at, x) || !varint(plain, at, count) ||
            !varint(plain, at, x) || count > plain.size())
          break;
        bool ok = true;
        for (uint64_t i = 0; ok && i < 2 * count; ++i) ok = varint(plain, at, x);
        if (type == 0x03)
          for (int i = 0; ok && i < 3; ++i) ok = varint(plain, at, x);
        if (!ok) break;
        continue;
      }
      // Only CRYPTO frames are read (Google's T05x number them 0x08); anything else ends it.
      if (type != (version >> 24 == 'T' ? 0x08 : 0x06)) break;
      uint64_t off, len;
      if (!varint(plain, at, off) || !varint(plain, at, len) || len > plain.size() - at ||
          off + len > kMaxStream)
        break;
      if (crypto.size() < off + len) crypto.resize(size_t(off + len));
      std::memcpy(crypto.data() + off, plain.data() + at, size_t(len));
      uint32_t range[2] = {uint32_t(off), uint32_t(off + len)};
      ranges.append(reinterpret_cast<const char*>(range), sizeof range);
      at += size_t(len);
    }
    // The bytes from 0 that every range together covers.
    size_t covered = 0;
    for (bool grew = true; grew;) {
      grew = false;
      for (size_t i = 0; i + 8 <= ranges.size(); i += 8) {
        uint32_t r[2];
        std::memcpy(r, ranges.data() + i, 8);
        if (r[0] <= covered && r[1] > covered) {
          covered = r[1];
          grew = true;
        }
      }
    }
    std::span<const uint8_t> hello(reinterpret_cast<const uint8_t*>(crypto.data()), covered);
    if (read_client_hello(hello, f.results)) return false;
    return ++f.state[0] < kMaxInitials;
  }
};

}  // namespace

std::unique_ptr<Dissector> make_quic() {
  return std::make_unique<Quic>();
}

}  // namespace flowkit::dissect
