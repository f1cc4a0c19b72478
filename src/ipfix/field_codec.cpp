#include "ipfix/field_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/byte_io.h"
#include "core/field_registry.h"

namespace flowkit::ipfix {

namespace {

// Seconds from the NTP epoch (1900) to the UNIX epoch (1970).
constexpr uint64_t kNtpOffset = 2208988800ull;
constexpr size_t kMaxVarLen = 65535;

template <class T>
struct IsList : std::false_type {};
template <class T>
struct IsList<List<T>> : std::true_type {};

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

size_t varlen_header(size_t n) {
  return n < 255 ? 1 : 3;
}

size_t put_varlen_header(uint8_t* o, size_t n) {
  if (n < 255) {
    o[0] = uint8_t(n);
    return 1;
  }
  o[0] = 255;
  store_be16(o + 1, uint16_t(n));
  return 3;
}

const ListLayout* layout_of(const EncodeContext& ctx, FieldId field) {
  for (const ListLayout& l : ctx.lists)
    if (l.field == field) return &l;
  return nullptr;
}

// ---- Sizes ------------------------------------------------------------------------------------

size_t value_size(const Element& e, const FieldValue& v, const EncodeContext& ctx);

size_t list_content_size(const Element& e, const ListRef& l, const EncodeContext& ctx) {
  const ListLayout* layout = layout_of(ctx, e.field);
  if (!layout || !l.field) return 0;
  const FieldInfo& f = *l.field;
  bool basic = e.type == IeType::kBasicList;
  size_t n = 3;  // semantic, then a template id (or the basicList's field id)
  if (basic) n += 2 + (layout->items[0].pen ? 4 : 0);
  // An oversized record's list goes empty, but as a list: RFC 6313 wants its header.
  if (ctx.empty_variable) return n;
  for (uint32_t i = 0; i < l.size; ++i) {
    const void* item = static_cast<const uint8_t*>(l.items) + size_t(i) * f.item_size;
    for (size_t k = 0; k < layout->items.size(); ++k)
      n += value_size(layout->items[k], f.items[k].get(item), ctx);
  }
  return n;
}

size_t value_size(const Element& e, const FieldValue& v, const EncodeContext& ctx) {
  if (e.length != kVarLen) return e.length;
  size_t n = 0;
  if (const std::string_view* s = std::get_if<std::string_view>(&v))
    n = ctx.empty_variable ? 0 : std::min(s->size(), kMaxVarLen);
  else if (const ListRef* l = std::get_if<ListRef>(&v))
    n = std::min(list_content_size(e, *l, ctx), kMaxVarLen);
  return varlen_header(n) + n;
}

template <class T>
size_t size_of(const Element& e, const T& v, const EncodeContext& ctx) {
  if (e.length != kVarLen) return e.length;
  if constexpr (std::is_same_v<T, std::string_view>) {
    return value_size(e, v, ctx);
  } else if constexpr (IsList<T>::value) {
    return value_size(e, ListRef{v.items, v.size, &field_info(e.field)}, ctx);
  } else {
    return 0;
  }
}

// ---- Writing ----------------------------------------------------------------------------------

size_t put(uint8_t* o, const Element& e, const FieldValue& v, const EncodeContext& ctx);

template <class T>
requires std::is_integral_v<T> || std::is_enum_v<T> size_t put(uint8_t* o, const Element& e, T v,
                                                               const EncodeContext&) {
  put_uint(o, e.length, uint64_t(v));
  return e.length;
}

size_t put(uint8_t* o, const Element& e, double v, const EncodeContext&) {
  if (e.type == IeType::kFloat64) {
    uint64_t bits;
    std::memcpy(&bits, &v, 8);
    store_be64(o, bits);
  } else if (e.type == IeType::kFloat32) {
    float f = float(v);
    uint32_t bits;
    std::memcpy(&bits, &f, 4);
    store_be32(o, bits);
  } else {
    put_uint(o, e.length, v > 0 ? uint64_t(std::llround(v)) : 0);
  }
  return e.length;
}

size_t put(uint8_t* o, const Element& e, const IpAddress& a, const EncodeContext&) {
  std::memcpy(o, e.length == 4 ? a.v4_bytes() : a.bytes(), e.length == 4 ? 4 : 16);
  return e.length;
}

size_t put(uint8_t* o, const Element& e, const MacAddress& m, const EncodeContext&) {
  std::memcpy(o, m.b.data(), 6);
  return e.length;
}

size_t put(uint8_t* o, const Element& e, Timestamp t, const EncodeContext& ctx) {
  switch (e.type) {
    case IeType::kDateTimeMilliseconds:
      store_be64(o, uint64_t(t.millis()));
      return 8;
    case IeType::kDateTimeSeconds:
      store_be32(o, uint32_t(t.seconds()));
      return 4;
    case IeType::kSysUpTime: {
      int64_t ms = t.millis() - ctx.system_init.millis();
      store_be32(o, ms > 0 ? uint32_t(ms) : 0);
      return 4;
    }
    default:
      break;
  }
  // NTP form: seconds since 1900, then the fraction of a second in units of 2^-32 s.
  uint64_t sub = uint64_t(t.subsec_ns());
  if (e.type == IeType::kDateTimeMicroseconds) sub -= sub % 1000;
  uint64_t frac = (sub << 32) / 1'000'000'000;
  // RFC 7011 6.1.9: a microsecond time leaves the 11 lowest fraction bits zero (the reader
  // rounds to the nearest microsecond).
  if (e.type == IeType::kDateTimeMicroseconds) frac &= ~uint64_t(0x7ff);
  store_be32(o, uint32_t(uint64_t(t.seconds()) + kNtpOffset));
  store_be32(o + 4, uint32_t(frac));
  return 8;
}

size_t put(uint8_t* o, const Element& e, std::string_view s, const EncodeContext& ctx) {
  if (e.length != kVarLen) {  // a fixed-length string element: padded with zeros
    size_t n = std::min<size_t>(s.size(), e.length);
    if (n) std::memcpy(o, s.data(), n);
    std::memset(o + n, 0, e.length - n);
    return e.length;
  }
  size_t n = ctx.empty_variable ? 0 : std::min(s.size(), kMaxVarLen);
  size_t h = put_varlen_header(o, n);
  if (n) std::memcpy(o + h, s.data(), n);  // an empty view may have no data at all
  return h + n;
}

size_t put(uint8_t* o, const Element& e, const ListRef& l, const EncodeContext& ctx) {
  size_t n = std::min(list_content_size(e, l, ctx), kMaxVarLen);
  size_t h = put_varlen_header(o, n);
  if (n == 0) return h;
  const ListLayout& layout = *layout_of(ctx, e.field);
  const FieldInfo& f = *l.field;
  uint8_t* p = o + h;
  *p++ = kListOrdered;
  if (e.type == IeType::kBasicList) {
    const Element& item = layout.items[0];
    store_be16(p, uint16_t(item.id | (item.pen ? kEnterpriseBit : 0)));
    store_be16(p + 2, item.length);
    p += 4;
    if (item.pen) {
      store_be32(p, item.pen);
      p += 4;
    }
  } else {
    store_be16(p, layout.template_id);
    p += 2;
  }
  for (uint32_t i = 0; i < (ctx.empty_variable ? 0 : l.size); ++i) {
    const void* item = static_cast<const uint8_t*>(l.items) + size_t(i) * f.item_size;
    for (size_t k = 0; k < layout.items.size(); ++k)
      p += put(p, layout.items[k], f.items[k].get(item), ctx);
  }
  return h + n;
}

template <class T>
size_t put(uint8_t* o, const Element& e, const List<T>& l, const EncodeContext& ctx) {
  return put(o, e, ListRef{l.items, l.size, &field_info(e.field)}, ctx);
}

size_t put(uint8_t* o, const Element& e, const FieldValue& v, const EncodeContext& ctx) {
  return std::visit(
      [&](const auto& x) -> size_t {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, std::monostate>)
          return 0;
        else
          return put(o, e, x, ctx);
      },
      v);
}

// ---- Reading ----------------------------------------------------------------------------------

template <class T>
requires std::is_integral_v<T> || std::is_enum_v<T>
bool get(const uint8_t* in, uint16_t len, IeType, const DecodeContext&, T& out) {
  using U = std::conditional_t<std::is_enum_v<T>, uint8_t, T>;
  if (len == 0 || len > 8) return false;
  uint64_t v = get_uint(in, len);
  if (v > uint64_t(U(~U(0)))) return false;
  out = T(U(v));
  return true;
}

bool get(const uint8_t* in, uint16_t len, IeType type, const DecodeContext&, double& out) {
  if (type == IeType::kFloat64 && len == 8) {
    uint64_t bits = load_be64(in);
    std::memcpy(&out, &bits, 8);
    return true;
  }
  if ((type == IeType::kFloat32 || type == IeType::kFloat64) && len == 4) {
    uint32_t bits = load_be32(in);
    float f;
    std::memcpy(&f, &bits, 4);
    out = f;
    return true;
  }
  if (len == 0 || len > 8) return false;
  out = double(get_uint(in, len));
  return true;
}

bool get(const uint8_t* in, uint16_t len, IeType, const DecodeContext&, IpAddress& out) {
  if (len == 4)
    out = IpAddress::v4(in);
  else if (len == 16)
    out = IpAddress::v6(in);
  else
    return false;
  return true;
}

bool get(const uint8_t* in, uint16_t len, IeType, const DecodeContext&, MacAddress& out) {
  if (len != 6) return false;
  std::memcpy(out.b.data(), in, 6);
  return true;
}

bool get(const uint8_t* in, uint16_t len, IeType type, const DecodeContext& ctx, Timestamp& out) {
  switch (type) {
    case IeType::kDateTimeMilliseconds:
      return len == 8 && millis_to_time(load_be64(in), &out);
    case IeType::kDateTimeSeconds:
      if (len != 4) return false;
      out = Timestamp::from_seconds(load_be32(in));
      return true;
    case IeType::kSysUpTime:
      return len == 4 && ctx.system_init.is_set() &&
             !__builtin_add_overflow(ctx.system_init.ns, int64_t(load_be32(in)) * 1'000'000,
                                     &out.ns);
    case IeType::kDeltaMicroseconds:
      if (len != 4 || !ctx.export_time.is_set()) return false;
      out = Timestamp{ctx.export_time.ns - int64_t(load_be32(in)) * 1'000};  // no overflow: 32 bits
      return true;
    case IeType::kDateTimeMicroseconds:
    case IeType::kDateTimeNanoseconds:
      break;
    default:
      return false;
  }
  if (len != 8) return false;
  int64_t secs = int64_t(load_be32(in)) - int64_t(kNtpOffset);
  uint64_t frac = load_be32(in + 4);
  int64_t ns = int64_t((frac * 1'000'000'000 + (uint64_t(1) << 31)) >> 32);
  if (type == IeType::kDateTimeMicroseconds) ns = (ns + 500) / 1000 * 1000;
  out = Timestamp{secs * kNanosPerSecond + ns};
  return true;
}

bool get(const uint8_t* in, uint16_t len, IeType, const DecodeContext& ctx, std::string_view& out) {
  if (!ctx.arena) return false;
  // A fixed-length string element is padded with zeros (RFC 7011 6.1.6 leaves it open).
  std::string_view s(reinterpret_cast<const char*>(in), len);
  if (size_t z = s.find('\0'); z != std::string_view::npos) s = s.substr(0, z);
  out = ctx.arena->copy(s);
  return true;
}

template <class T>
bool get(const uint8_t*, uint16_t, IeType, const DecodeContext&, List<T>&) {
  return false;  // lists need their templates: the decoder reads them
}

bool get_value(const uint8_t* in, uint16_t len, IeType type, const DecodeContext& ctx, FieldType ft,
               FieldValue& out) {
  // Reads the element as flowkit's type T and stores it in `out`.
  auto read = [&]<class T>(T value) {
    if (!get(in, len, type, ctx, value)) return false;
    out = value;
    return true;
  };
  switch (ft) {
    case FieldType::kF64:
      return read(0.0);
    case FieldType::kIp:
      return read(IpAddress{});
    case FieldType::kMac:
      return read(MacAddress{});
    case FieldType::kTime:
      return read(Timestamp{});
    case FieldType::kUtf8:
    case FieldType::kBytes:
      return read(std::string_view{});
    case FieldType::kList:
      return false;
    default:
      return read(uint64_t{0});
  }
}

// ---- The tables -------------------------------------------------------------------------------

using EncodeFn = size_t (*)(const FlowRecord&, Direction, uint8_t*, const Element&,
                            const EncodeContext&);
using SizeFn = size_t (*)(const FlowRecord&, Direction, const Element&, const EncodeContext&);

const EncodeFn kEncoders[] = {
#define FK_FIELD(num, id, name, scope, type, value, ...)                \
  +[](const FlowRecord& r, Direction dir, uint8_t* o, const Element& e, \
      const EncodeContext& c) -> size_t {                               \
    [[maybe_unused]] const DirectionRecord& d = r.dir(dir);             \
    return put(o, e, value, c);                                         \
  },
#define FK_DERIVED FK_FIELD
#include "core/fields.def"
};

const SizeFn kSizers[] = {
#define FK_FIELD(num, id, name, scope, type, value, ...)                                        \
  +[](const FlowRecord& r, Direction dir, const Element& e, const EncodeContext& c) -> size_t { \
    [[maybe_unused]] const DirectionRecord& d = r.dir(dir);                                     \
    return size_of(e, value, c);                                                                \
  },
#define FK_DERIVED FK_FIELD
#include "core/fields.def"
};

// Each reads the value and marks the field present.
const FieldDecoder kDecoders[] = {
#define FK_FIELD(num, id, name, scope, type, value, presence, ...)                          \
  +[](FlowRecord& r, Direction dir, const uint8_t* in, uint16_t n, IeType t,                \
      const DecodeContext& c) {                                                             \
    [[maybe_unused]] DirectionRecord& d = r.dir(dir);                                       \
    if (!get(in, n, t, c, value)) return false;                                             \
    set_presence(Presence::presence, FieldScope::scope, presence_bit(FieldId::id), r, dir); \
    return true;                                                                            \
  },
#define FK_DERIVED(...) nullptr,
#include "core/fields.def"
};

// NetFlow's and IPFIX's icmpTypeCode: type * 256 + code, into the two fields.
bool decode_icmp_type_code(FlowRecord& r, Direction dir, const uint8_t* in, uint16_t len, IeType,
                           const DecodeContext&) {
  if (len != 2) return false;
  DirectionRecord& d = r.dir(dir);
  d.icmp_type = in[0];
  d.icmp_code = in[1];
  return true;
}

}  // namespace

size_t encoded_size(const FlowRecord& r, const Element& e, const EncodeContext& ctx) {
  if (e.length != kVarLen) return e.length;
  return kSizers[field_index(e.field)](r, e.dir, e, ctx);
}

size_t encode_field(const FlowRecord& r, const Element& e, uint8_t* out, const EncodeContext& ctx) {
  return kEncoders[field_index(e.field)](r, e.dir, out, e, ctx);
}

FieldDecoder field_decoder(const FieldRef& ref) {
  if (ref.field == FieldId::kIcmpTypeCode) return decode_icmp_type_code;
  return kDecoders[field_index(ref.field)];
}

bool decode_field(FlowRecord& r, const FieldRef& ref, const uint8_t* in, uint16_t len,
                  const DecodeContext& ctx) {
  FieldDecoder fn = field_decoder(ref);
  return fn && fn(r, ref.dir, in, len, ref.type, ctx);
}

bool decode_item_field(void* item, const ItemInfo& info, IeType type, const uint8_t* in,
                       uint16_t len, const DecodeContext& ctx) {
  FieldValue v;
  return get_value(in, len, type, ctx, info.type, v) && info.set(item, v);
}

bool read_varlen(const uint8_t* p, size_t n, size_t* len, size_t* header) {
  if (n < 1) return false;
  if (p[0] < 255) {
    *len = p[0];
    *header = 1;
    return true;
  }
  if (n < 3) return false;
  *len = load_be16(p + 1);
  *header = 3;
  return true;
}

}  // namespace flowkit::ipfix
