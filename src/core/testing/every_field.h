// Records with a value in every field, for tests that carry records through a format and back
// (text writers, IPFIX over every transport, the store): strings with quotes, commas, line
// breaks, control and non-ASCII characters; lists; IPv4 and IPv6; times to the nanosecond;
// doubles of every kind; values near each type's top.
#pragma once

#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "core/field_registry.h"

namespace flowkit::testing {

inline const DnsAnswer kAnswers[] = {
    {"example.com", 1, 1, 300, "93.184.216.34"},
    {"caf\xc3\xa9.example \xe2\x9c\x93", 5, 1, 0, ""},
    {"", 28, 1, 4294967295u, "2001:db8::\"quoted\", with\nnewline\x01\t\\"}};

// The largest value the field's IPFIX element holds, when it carries an unsigned integer
// (reduced-size encoding, and fixed octet arrays such as MPLS's three bytes, included); 0
// otherwise.
inline uint64_t ipfix_limit(const FieldInfo& f) {
  IeType t = f.ipfix.type;
  bool integer = t >= IeType::kUnsigned8 && t <= IeType::kUnsigned64;
  bool octets = t == IeType::kOctetArray && f.ipfix.length > 0 && f.ipfix.length <= 8;
  if (f.ipfix.id == kNoElement || !(integer || octets)) return 0;
  uint16_t len = f.ipfix.length ? f.ipfix.length : natural_length(t);
  return len >= 8 ? UINT64_MAX : (uint64_t(1) << (8 * len)) - 1;
}

// A value of the field's type that differs from field to field (so that a column written under
// another's name shows), near the top of what the field's member and its IPFIX element hold.
inline FieldValue value_for(const FieldInfo& f, Direction d, int variant, std::mt19937_64& rng) {
  uint64_t salt = uint64_t(f.id) * 2 + uint64_t(d) + uint64_t(variant) * 1000;
  uint64_t limit = ipfix_limit(f);
  auto fit = [&](uint64_t v) { return limit && v > limit ? limit - salt % (limit / 2 + 1) : v; };
  switch (f.type) {
    case FieldType::kU8:
      return fit(1 + salt % 254);
    case FieldType::kU16:
      return fit(60000 + salt % 5000);
    case FieldType::kU32:
      return fit(4'000'000'000u + salt);
    case FieldType::kU64:
      return fit(18'000'000'000'000'000'000u + salt);
    case FieldType::kF64: {
      if (limit) return double(fit(65535 - salt % 1000));  // carried as an integer
      const double kinds[] = {0.1 + 0.2, 1234.5, 1e-7, 86.66666666666667, 1e21, 0.001, 65535};
      return kinds[(salt + rng()) % std::size(kinds)] * (1 + double(salt % 3));
    }
    case FieldType::kIp: {
      uint8_t b[16];
      for (uint8_t& x : b) x = uint8_t(rng());
      if (variant) b[4] = b[5] = b[6] = b[7] = 0;  // a run of zero groups: "::"
      return variant == 0 ? IpAddress::v4(uint32_t(rng())) : IpAddress::v6(b);
    }
    case FieldType::kMac: {
      MacAddress m;
      for (uint8_t& x : m.b) x = uint8_t(rng());
      return m;
    }
    case FieldType::kTime:
      return Timestamp{1'700'000'000'000'000'000 + int64_t(rng() % 1'000'000'000'000) +
                       (variant ? 1 : 0)};  // variant 1: nanoseconds
    case FieldType::kEndReason:
      return uint64_t(1 + salt % 5);
    case FieldType::kTunnelType:
      return uint64_t(1 + salt % 6);
    case FieldType::kUtf8:
      return std::string_view(variant ? "eth0 \"uplink\", \xc3\xa9\n\x02" : "wlan0");
    case FieldType::kBytes:
      return std::string_view("\x00\xff,\"\n", 5);
    case FieldType::kList:
      return ListRef{kAnswers, variant ? 3u : 1u, &f};
  }
  return {};
}

// Biflows with every field set: one TCP over IPv4 (variant 0), one ICMPv6 (variant 1). Between
// them every column but the derived ones has a value. Strings and lists are static.
inline std::vector<FlowRecord> every_field_records() {
  std::mt19937_64 rng(9);
  std::vector<FlowRecord> out;
  for (int variant : {0, 1}) {
    FlowRecord r;
    r.biflow = true;
    for (const FieldInfo& f : all_fields()) {
      if (f.derived) continue;
      for (Direction d : {Direction::kForward, Direction::kReverse}) {
        if (f.scope == FieldScope::kFlow && d == Direction::kReverse) break;
        EXPECT_TRUE(f.set(r, d, value_for(f, d, variant, rng))) << f.name;
      }
    }
    r.protocol = variant ? 58 : 6;
    r.ip_version = variant ? 6 : 4;
    out.push_back(r);
  }
  return out;
}

}  // namespace flowkit::testing
