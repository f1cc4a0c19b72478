#include "ipfix/field_codec.h"

#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/byte_io.h"

namespace flowkit::ipfix {

namespace {

// Seconds from the NTP epoch (1900) to the UNIX epoch (1970).
constexpr uint64_t kNtpOffset = 2208988800ull;

void put_uint(uint8_t* o, uint16_t len, uint64_t v) {
  switch (len) {
    case 1:
      o[0] = uint8_t(v);
      return;
    case 2:
      store_be16(o, uint16_t(v));
      return;
    case 4:
      store_be32(o, uint32_t(v));
      return;
    case 8:
      store_be64(o, v);
      return;
    default:
      for (int i = len - 1; i >= 0; --i) {
        o[i] = uint8_t(v);
        v >>= 8;
      }
  }
}

uint64_t get_uint(const uint8_t* in, uint16_t len) {
  uint64_t v = 0;
  for (uint16_t i = 0; i < len; ++i) v = v << 8 | in[i];
  return v;
}

template <class T>
requires std::is_integral_v<T> || std::is_enum_v<T>
void put(uint8_t* o, const Element& e, T v) {
  put_uint(o, e.length, uint64_t(v));
}

void put(uint8_t* o, const Element& e, double v) {
  if (e.type == DataType::kFloat64) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    store_be64(o, bits);
  } else {
    put_uint(o, e.length, v > 0 ? uint64_t(std::llround(v)) : 0);
  }
}

void put(uint8_t* o, const Element& e, const IpAddress& a) {
  std::memcpy(o, e.length == 4 ? a.v4_bytes() : a.bytes(), e.length);
}

void put(uint8_t* o, const Element&, const MacAddress& m) {
  std::memcpy(o, m.b.data(), 6);
}

void put(uint8_t* o, const Element& e, Timestamp t) {
  if (e.type == DataType::kDateTimeMilliseconds) {
    store_be64(o, uint64_t(t.millis()));
    return;
  }
  // NTP form: seconds since 1900, then the fraction of a second in units of 2^-32 s.
  uint64_t sub = uint64_t(t.subsec_ns());
  if (e.type == DataType::kDateTimeMicroseconds) sub -= sub % 1000;
  uint64_t frac = (sub << 32) / 1'000'000'000;
  // RFC 7011 6.1.9: a microsecond time leaves the 11 lowest fraction bits zero (the reader
  // rounds to the nearest microsecond).
  if (e.type == DataType::kDateTimeMicroseconds) frac &= ~uint64_t(0x7ff);
  store_be32(o, uint32_t(uint64_t(t.seconds()) + kNtpOffset));
  store_be32(o + 4, uint32_t(frac));
}

template <class T>
requires std::is_integral_v<T> || std::is_enum_v<T>
bool get(const uint8_t* in, uint16_t len, DataType, T& out) {
  using U = std::conditional_t<std::is_enum_v<T>, uint8_t, T>;
  if (len == 0 || len > 8) return false;
  uint64_t v = get_uint(in, len);
  if (v > uint64_t(U(~U(0)))) return false;
  out = T(U(v));
  return true;
}

bool get(const uint8_t* in, uint16_t len, DataType type, double& out) {
  if (type == DataType::kFloat64 && len == 8) {
    uint64_t bits = load_be64(in);
    std::memcpy(&out, &bits, 8);
    return true;
  }
  if (len == 0 || len > 8) return false;
  out = double(get_uint(in, len));
  return true;
}

bool get(const uint8_t* in, uint16_t len, DataType, IpAddress& out) {
  if (len == 4)
    out = IpAddress::v4(in);
  else if (len == 16)
    out = IpAddress::v6(in);
  else
    return false;
  return true;
}

bool get(const uint8_t* in, uint16_t len, DataType, MacAddress& out) {
  if (len != 6) return false;
  std::memcpy(out.b.data(), in, 6);
  return true;
}

bool get(const uint8_t* in, uint16_t len, DataType type, Timestamp& out) {
  if (len != 8) return false;
  if (type == DataType::kDateTimeMilliseconds) {
    out = Timestamp{int64_t(load_be64(in)) * 1'000'000};
    return true;
  }
  int64_t secs = int64_t(load_be32(in)) - int64_t(kNtpOffset);
  uint64_t frac = load_be32(in + 4);
  int64_t ns = int64_t((frac * 1'000'000'000 + (uint64_t(1) << 31)) >> 32);
  if (type == DataType::kDateTimeMicroseconds) ns = (ns + 500) / 1000 * 1000;
  out = Timestamp{secs * kNanosPerSecond + ns};
  return true;
}

using EncodeFn = void (*)(const FlowRecord&, Direction, uint8_t*, const Element&);
using DecodeFn = bool (*)(FlowRecord&, Direction, const uint8_t*, uint16_t, DataType);

const EncodeFn kEncoders[] = {
#define FK_FLOW(id, name, type, lv, ...) \
  +[](const FlowRecord& r, Direction, uint8_t* o, const Element& e) { put(o, e, lv); },
#define FK_DIR(id, name, type, lv, ...)                                   \
  +[](const FlowRecord& r, Direction dir, uint8_t* o, const Element& e) { \
    [[maybe_unused]] const DirectionRecord& d = r.dir(dir);               \
    put(o, e, lv);                                                        \
  },
#define FK_FLOW_DERIVED FK_FLOW
#define FK_DIR_DERIVED FK_DIR
#include "core/fields.def"
#undef FK_FLOW
#undef FK_DIR
#undef FK_FLOW_DERIVED
#undef FK_DIR_DERIVED
};

const DecodeFn kDecoders[] = {
#define FK_FLOW(id, name, type, lv, ...)                                     \
  +[](FlowRecord& r, Direction, const uint8_t* in, uint16_t n, DataType t) { \
    return get(in, n, t, lv);                                                \
  },
#define FK_DIR(id, name, type, lv, ...)                                          \
  +[](FlowRecord& r, Direction dir, const uint8_t* in, uint16_t n, DataType t) { \
    [[maybe_unused]] DirectionRecord& d = r.dir(dir);                            \
    return get(in, n, t, lv);                                                    \
  },
#define FK_FLOW_DERIVED(...) nullptr,
#define FK_DIR_DERIVED(...) nullptr,
#include "core/fields.def"
#undef FK_FLOW
#undef FK_DIR
#undef FK_FLOW_DERIVED
#undef FK_DIR_DERIVED
};

static_assert(std::size(kEncoders) == size_t(FieldId::kCount));
static_assert(std::size(kDecoders) == size_t(FieldId::kCount));

}  // namespace

void encode_field(const FlowRecord& r, const Element& e, uint8_t* out) {
  kEncoders[size_t(e.field)](r, e.dir, out, e);
}

bool decode_field(FlowRecord& r, const FieldRef& ref, const uint8_t* in, uint16_t len) {
  if (ref.field == FieldId::kIcmpTypeCode) {  // NetFlow's and IPFIX's type * 256 + code
    if (len != 2) return false;
    DirectionRecord& d = r.dir(ref.dir);
    d.icmp_type = in[0];
    d.icmp_code = in[1];
    return true;
  }
  if (ref.field == FieldId::kMplsLabel1 || ref.field == FieldId::kMplsLabel2 ||
      ref.field == FieldId::kMplsLabel3) {
    if (len != 3) return false;
    DirectionRecord& d = r.dir(ref.dir);
    int n = int(ref.field) - int(FieldId::kMplsLabel1);
    d.mpls_label[n] = load_be24(in);
    if (d.mpls_depth < n + 1) d.mpls_depth = uint8_t(n + 1);
    return true;
  }
  DecodeFn fn = kDecoders[size_t(ref.field)];
  if (!fn) return false;
  if (!fn(r, ref.dir, in, len, ref.type)) return false;
  // Presence that the record keeps in flags of its own.
  DirectionRecord& d = r.dir(ref.dir);
  switch (ref.field) {
    case FieldId::kSrcMac:
    case FieldId::kDstMac:
      d.has_mac = true;
      break;
    case FieldId::kVlanId:
      d.vlan_depth = std::max<uint8_t>(d.vlan_depth, 1);
      break;
    case FieldId::kVlanIdInner:
      d.vlan_depth = 2;
      break;
    default:
      break;
  }
  return true;
}

}  // namespace flowkit::ipfix
