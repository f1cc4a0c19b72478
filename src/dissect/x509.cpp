#include "dissect/x509.h"

#include <cstring>
#include <string_view>

namespace flowkit::dissect {

namespace {

constexpr uint8_t kInteger = 0x02, kBitString = 0x03, kOid = 0x06, kUtf8 = 0x0c, kPrintable = 0x13,
                  kT61 = 0x14, kIa5 = 0x16, kUtcTime = 0x17, kGeneralizedTime = 0x18,
                  kUniversal = 0x1c, kBmp = 0x1e, kSequence = 0x30, kSet = 0x31, kVersion = 0xa0;
constexpr uint8_t kCommonName[] = {0x55, 0x04, 0x03};  // 2.5.4.3

// One DER element: its tag and contents.
struct Tlv {
  uint8_t tag = 0;
  std::span<const uint8_t> value;
};

// Reads the element at the front of `b` and moves past it; false when it does not fit.
bool next(std::span<const uint8_t>& b, Tlv& t) {
  if (b.size() < 2 || (b[0] & 0x1f) == 0x1f) return false;  // no multi-byte tags here
  t.tag = b[0];
  size_t len = b[1], at = 2;
  if (len & 0x80) {
    size_t n = len & 0x7f;
    if (n == 0 || n > 4 || b.size() < 2 + n) return false;
    len = 0;
    for (size_t i = 0; i < n; ++i) len = len << 8 | b[2 + i];
    at += n;
  }
  if (len > b.size() - at) return false;
  t.value = b.subspan(at, len);
  b = b.subspan(at + len);
  return true;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += char(c);
  } else if (c < 0x800) {
    out += char(0xc0 | c >> 6);
    out += char(0x80 | (c & 0x3f));
  } else if (c < 0x10000) {
    out += char(0xe0 | c >> 12);
    out += char(0x80 | (c >> 6 & 0x3f));
    out += char(0x80 | (c & 0x3f));
  } else if (c < 0x110000) {
    out += char(0xf0 | c >> 18);
    out += char(0x80 | (c >> 12 & 0x3f));
    out += char(0x80 | (c >> 6 & 0x3f));
    out += char(0x80 | (c & 0x3f));
  }
}

// A directory string as UTF-8 (T61 read as Latin-1, as OpenSSL reads it).
std::string text(const Tlv& t) {
  std::string out;
  auto v = t.value;
  switch (t.tag) {
    case kUtf8:
    case kPrintable:
    case kIa5:
      out.assign(reinterpret_cast<const char*>(v.data()), v.size());
      break;
    case kT61:
      for (uint8_t c : v) append_utf8(out, c);
      break;
    case kBmp:
      for (size_t i = 0; i + 1 < v.size(); i += 2) append_utf8(out, uint32_t(v[i]) << 8 | v[i + 1]);
      break;
    case kUniversal:
      for (size_t i = 0; i + 3 < v.size(); i += 4)
        append_utf8(out, uint32_t(v[i]) << 24 | uint32_t(v[i + 1]) << 16 | uint32_t(v[i + 2]) << 8 |
                             v[i + 3]);
      break;
    default:
      break;
  }
  return out;
}

// The first common name of a Name (a SEQUENCE of SETs of attribute SEQUENCEs).
std::string common_name(std::span<const uint8_t> name) {
  Tlv set, attr, oid, value;
  while (next(name, set)) {
    if (set.tag != kSet) return {};
    auto attrs = set.value;
    while (next(attrs, attr)) {
      auto a = attr.value;
      if (attr.tag != kSequence || !next(a, oid) || !next(a, value)) return {};
      if (oid.tag == kOid && oid.value.size() == sizeof kCommonName &&
          std::memcmp(oid.value.data(), kCommonName, sizeof kCommonName) == 0)
        return text(value);
    }
  }
  return {};
}

// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

// UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ (RFC 5280 4.1.2.5).
bool seconds(const Tlv& t, uint64_t& out) {
  std::string_view s(reinterpret_cast<const char*>(t.value.data()), t.value.size());
  size_t year_digits = t.tag == kUtcTime ? 2 : t.tag == kGeneralizedTime ? 4 : 0;
  if (!year_digits || s.size() != year_digits + 11 || s.back() != 'Z') return false;
  int v[7] = {};
  size_t at = 0;
  for (int i = 0; i < 6; ++i) {
    size_t n = i == 0 ? year_digits : 2;
    for (size_t k = 0; k < n; ++k) {
      char c = s[at++];
      if (c < '0' || c > '9') return false;
      v[i] = v[i] * 10 + (c - '0');
    }
  }
  int year = year_digits == 2 ? (v[0] < 50 ? 2000 + v[0] : 1900 + v[0]) : v[0];
  if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 || v[4] > 59 || v[5] > 60)
    return false;
  int64_t t0 = days_from_civil(year, unsigned(v[1]), unsigned(v[2])) * 86400 + v[3] * 3600 +
               v[4] * 60 + v[5];
  if (t0 < 0) return false;
  out = uint64_t(t0);
  return true;
}

struct KeyName {
  std::string_view oid;  // DER contents, as hex
  std::string_view name;
};
// Public key algorithms by OpenSSL's long names.
constexpr KeyName kKeyNames[] = {
    {"2a864886f70d010101", "rsaEncryption"},
    {"2a864886f70d01010a", "rsassaPss"},
    {"2a8648ce3d0201", "id-ecPublicKey"},
    {"2a8648ce380401", "dsaEncryption"},
    {"2a864886f70d010301", "dhKeyAgreement"},
    {"2b6570", "ED25519"},
    {"2b6571", "ED448"},
    {"2b656e", "X25519"},
    {"2b656f", "X448"},
};

std::string oid_name(std::span<const uint8_t> oid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : oid) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  for (const KeyName& k : kKeyNames)
    if (k.oid == hex) return std::string(k.name);
  // Dotted: the first byte holds two arcs, the rest base-128 numbers.
  if (oid.empty()) return {};
  std::string out = std::to_string(oid[0] / 40) + "." + std::to_string(oid[0] % 40);
  uint64_t arc = 0;
  for (size_t i = 1; i < oid.size(); ++i) {
    arc = arc << 7 | (oid[i] & 0x7f);
    if (!(oid[i] & 0x80)) {
      out += "." + std::to_string(arc);
      arc = 0;
    }
  }
  return out;
}

}  // namespace

bool read_x509(std::span<const uint8_t> der, CertificateFields& out) {
  Tlv cert, tbs, t;
  if (!next(der, cert) || cert.tag != kSequence) return false;
  auto c = cert.value;
  if (!next(c, tbs) || tbs.tag != kSequence) return false;
  auto b = tbs.value;
  if (!next(b, t)) return false;
  if (t.tag == kVersion && !next(b, t)) return false;  // then the serial number
  if (t.tag != kInteger) return false;
  Tlv sig, issuer, validity, subject, spki;
  if (!next(b, sig) || !next(b, issuer) || !next(b, validity) || !next(b, subject) ||
      !next(b, spki))
    return false;
  if (issuer.tag != kSequence || validity.tag != kSequence || subject.tag != kSequence ||
      spki.tag != kSequence)
    return false;
  out.issuer_cn = common_name(issuer.value);
  out.subject_cn = common_name(subject.value);
  Tlv before, after;
  auto v = validity.value;
  if (next(v, before) && next(v, after) && seconds(before, out.not_before) &&
      seconds(after, out.not_after))
    out.has_validity = true;
  Tlv alg, oid, key;
  auto k = spki.value;
  if (next(k, alg) && alg.tag == kSequence && next(k, key) && key.tag == kBitString) {
    auto a = alg.value;
    if (next(a, oid) && oid.tag == kOid) out.key_algorithm = oid_name(oid.value);
  }
  return true;
}

}  // namespace flowkit::dissect
