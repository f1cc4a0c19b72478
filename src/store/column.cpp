#include "store/column.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <cstring>
#include <type_traits>

#include "core/byte_io.h"

namespace flowkit::store {
namespace {

bool is_integer(FieldType t) {
  switch (t) {
    case FieldType::kU8:
    case FieldType::kU16:
    case FieldType::kU32:
    case FieldType::kU64:
    case FieldType::kEndReason:
    case FieldType::kTunnelType:
    case FieldType::kTime:
      return true;
    default:
      return false;
  }
}

uint64_t load_plain(const uint8_t* p, size_t n) {
  uint8_t le[8] = {};
  std::memcpy(le, p, n);
  return load_le64(le);
}

// n values of `width` bytes each into v[0, n), with the width's load inlined (a memcpy of a
// variable length per value was most of encoding's time).
void load_all(const uint8_t* p, size_t n, size_t width, std::vector<uint64_t>& v) {
  switch (width) {
    case 1:
      for (size_t i = 0; i < n; ++i) v[i] = p[i];
      break;
    case 2:
      for (size_t i = 0; i < n; ++i) v[i] = load_le16(p + 2 * i);
      break;
    case 4:
      for (size_t i = 0; i < n; ++i) v[i] = load_le32(p + 4 * i);
      break;
    case 8:
      for (size_t i = 0; i < n; ++i) v[i] = load_le64(p + 8 * i);
      break;
    default:
      for (size_t i = 0; i < n; ++i) v[i] = load_plain(p + i * width, width);
  }
}

// ---- Writing values --------------------------------------------------------------------------

template <class V>
void put_fixed(uint8_t* p, FieldType type, const V& v) {
  if constexpr (std::is_enum_v<V> || std::is_integral_v<V>) {
    uint8_t le[8];
    store_le64(le, uint64_t(v));
    std::memcpy(p, le, plain_size(type));
  } else if constexpr (std::is_same_v<V, double>) {
    store_le64(p, std::bit_cast<uint64_t>(v));
  } else if constexpr (std::is_same_v<V, Timestamp>) {
    store_le64(p, uint64_t(v.ns));
  } else if constexpr (std::is_same_v<V, IpAddress>) {
    std::memcpy(p, v.bytes(), 16);
  } else if constexpr (std::is_same_v<V, MacAddress>) {
    std::memcpy(p, v.b.data(), 6);
  }
}

// A list's items: a varint count, then each item's fields in the order of the field's item
// schema (the format's list encoding less the schema, which encode_column writes once).
void put_list(std::vector<uint8_t>& out, const FieldInfo& f, const void* items, uint32_t n) {
  put_varint(out, n);
  const auto* base = static_cast<const uint8_t*>(items);
  for (uint32_t i = 0; i < n; ++i) {
    const void* item = base + size_t(i) * f.item_size;
    for (const ItemInfo& it : f.items) {
      std::visit(
          [&](const auto& x) {
            using V = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<V, std::string_view>) {
              put_varint(out, x.size());
              out.insert(out.end(), x.begin(), x.end());
            } else if constexpr (std::is_same_v<V, ListRef>) {
              put_varint(out, 0);  // lists in items: not carried (none exist)
            } else if constexpr (!std::is_same_v<V, std::monostate>) {
              uint8_t b[16];
              put_fixed(b, it.type, x);
              out.insert(out.end(), b, b + plain_size(it.type));
            }
          },
          it.get(item));
    }
  }
}

template <class V>
void put_member(ColumnBuffer& c, FieldType type, const V& v) {
  if constexpr (std::is_same_v<V, std::string_view>) {
    c.lengths.push_back(uint32_t(v.size()));
    if (!v.empty()) std::memcpy(c.room(v.size()), v.data(), v.size());  // "" may have no data
  } else if constexpr (requires {
                         v.items;
                         v.size;
                       }) {
    c.values.resize(c.used);
    put_list(c.values, *c.field, v.items, v.size);
    c.used = c.values.size();
  } else {
    put_fixed(c.room(plain_size(type)), type, v);
  }
}

// A predicted field's value. f64: a hit bit when it equals the prediction (bit for bit), else
// the value. Integers: the zigzag of the difference from the prediction.
template <bool kKeepValues, class V>
void put_predicted(ColumnBuffer& c, const V& v, uint64_t prediction) {
  if constexpr (std::is_same_v<V, double>) {
    uint32_t k = c.count - 1;
    if (std::bit_cast<uint64_t>(v) == prediction) {
      c.hits[k / 64] |= uint64_t(1) << (k % 64);
    } else {
      store_le64(c.room(8), std::bit_cast<uint64_t>(v));
    }
  } else if constexpr (std::is_same_v<V, Timestamp> || std::is_integral_v<V> || std::is_enum_v<V>) {
    uint64_t x;
    if constexpr (std::is_same_v<V, Timestamp>) {
      x = uint64_t(v.ns);
    } else {
      x = uint64_t(v);
    }
    c.range.add(x);
    store_le64(c.room(8), zigzag(int64_t(x - prediction)));
    if constexpr (kKeepValues) c.plain.push_back(x);
  }
}

constexpr bool is_late(FieldId id) {
  switch (id) {
#define FK_PREDICT_LATE(id) \
  case FieldId::id:         \
    return true;
#include "core/fields.def"
    default:
      return false;
  }
}

constexpr bool is_predicted(FieldId id) {
  switch (id) {
#define FK_PREDICT(id, ...) \
  case FieldId::id:         \
    return true;
#include "core/fields.def"
    default:
      return false;
  }
}

template <class V>
uint64_t prediction_bits(const V& v) {
  if constexpr (std::is_same_v<V, double>) {
    return std::bit_cast<uint64_t>(v);
  } else if constexpr (std::is_same_v<V, Timestamp>) {
    return uint64_t(v.ns);
  } else {
    return uint64_t(v);
  }
}

// Each field's prediction as a function of its own, so that a writer's put inlines it.
template <FieldId Id>
uint64_t predict_field(const FlowRecord&, Direction) {
  return 0;
}
#define FK_PREDICT(id, ...)                                                        \
  template <>                                                                      \
  inline uint64_t predict_field<FieldId::id>(const FlowRecord& r, Direction dir) { \
    [[maybe_unused]] const DirectionRecord& d = r.dir(dir);                        \
    return prediction_bits(__VA_ARGS__);                                           \
  }
#include "core/fields.def"

Put put_of(FieldId id) {
  switch (id) {
#define FK_FIELD(num, id, name, scope, type, value, ...)                                   \
  case FieldId::id:                                                                        \
    return [](ColumnBuffer& c, const FlowRecord& r, Direction dir) {                       \
      [[maybe_unused]] const DirectionRecord& d = r.dir(dir);                              \
      if constexpr (is_predicted(FieldId::id)) {                                           \
        put_predicted<is_late(FieldId::id)>(c, value, predict_field<FieldId::id>(r, dir)); \
      } else {                                                                             \
        put_member(c, FieldType::type, value);                                             \
      }                                                                                    \
    };
#include "core/fields.def"
    default:
      return nullptr;
  }
}

// The address of a value that is a member of the record, held in memory as put_fixed would
// write it; nullptr for values computed on the fly or held otherwise.
template <class V>
const void* copyable_address(V&& v, FieldType type) {
  using T = std::remove_cvref_t<V>;
  if constexpr (std::is_lvalue_reference_v<V> && std::endian::native == std::endian::little &&
                (std::is_integral_v<T> || std::is_enum_v<T> || std::is_same_v<T, double> ||
                 std::is_same_v<T, Timestamp>)) {
    if (sizeof(T) == plain_size(type)) return &v;
  } else if constexpr (std::is_lvalue_reference_v<V> && std::is_same_v<T, IpAddress>) {
    return v.bytes();
  } else if constexpr (std::is_lvalue_reference_v<V> && std::is_same_v<T, MacAddress>) {
    return v.b.data();
  }
  return nullptr;
}

using AddressOf = const void* (*)(const FlowRecord&, Direction);
AddressOf address_of(FieldId id) {
  switch (id) {
#define FK_FIELD(num, id, name, scope, type, value, ...)           \
  case FieldId::id:                                                \
    if (is_predicted(FieldId::id)) return nullptr;                 \
    return [](const FlowRecord& r, Direction dir) -> const void* { \
      [[maybe_unused]] const DirectionRecord& d = r.dir(dir);      \
      return copyable_address(value, FieldType::type);             \
    };
#include "core/fields.def"
    default:
      return nullptr;
  }
}

}  // namespace

int record_offset(FieldId id, Direction dir) {
  static const auto offsets = [] {
    // Two entries per field (forward, reverse), found by probing the registry's expressions.
    std::vector<int> v(2 * all_fields().size(), -1);
    static const FlowRecord probe;
    const auto* base = reinterpret_cast<const uint8_t*>(&probe);
    for (const FieldInfo& f : all_fields()) {
      for (Direction d : {Direction::kForward, Direction::kReverse}) {
        const void* at = nullptr;
        switch (f.id) {
#define FK_FIELD(num, fid, name, scope, type, value, ...)      \
  case FieldId::fid: {                                         \
    [[maybe_unused]] const FlowRecord& r = probe;              \
    [[maybe_unused]] const DirectionRecord& d_ = probe.dir(d); \
    at = [&]([[maybe_unused]] const DirectionRecord& d) {      \
      return copyable_address(value, FieldType::type);         \
    }(d_);                                                     \
    break;                                                     \
  }
#include "core/fields.def"
          default:
            break;
        }
        const auto* p = static_cast<const uint8_t*>(at);
        if (p >= base && p < base + sizeof(FlowRecord))
          v[2 * field_index(f.id) + (d == Direction::kReverse)] = int(p - base);
      }
    }
    return v;
  }();
  return offsets[2 * field_index(id) + (dir == Direction::kReverse)];
}

namespace {

// ---- Byte planes -----------------------------------------------------------------------------

// n values of w bytes each (little-endian, `stride` apart at src) as w planes of n bytes.
void put_planes(std::vector<uint8_t>& out, const uint8_t* src, size_t n, size_t w, size_t stride) {
  size_t at = out.size();
  out.resize(at + n * w);
  uint8_t* dst = out.data() + at;
  for (size_t j = 0; j < w; ++j, dst += n)
    for (size_t i = 0; i < n; ++i) dst[i] = src[i * stride + j];
}

void put_int_planes(std::vector<uint8_t>& out, const std::vector<uint64_t>& v, uint64_t base,
                    size_t w) {
  size_t n = v.size();
  size_t at = out.size();
  out.resize(at + n * w);
  uint8_t* dst = out.data() + at;
  for (size_t j = 0; j < w; ++j, dst += n)
    for (size_t i = 0; i < n; ++i) dst[i] = uint8_t((v[i] - base) >> (8 * j));
}

// Whether v has at most 256 distinct values; if so they are s.dict_keys, and s.dict_slots
// finds the index of each (dictionary_index).
bool small_dictionary(const std::vector<uint64_t>& v, EncodeScratch& s) {
  constexpr size_t kSlots = 1024;  // power of two, well above 256
  s.dict_keys.clear();
  s.dict_slots.assign(kSlots, 0);  // key index + 1
  for (uint64_t x : v) {
    size_t h = size_t((x * 0x9e3779b97f4a7c15ull) >> 54) & (kSlots - 1);
    while (s.dict_slots[h] && s.dict_keys[s.dict_slots[h] - 1] != x) h = (h + 1) & (kSlots - 1);
    if (!s.dict_slots[h]) {
      if (s.dict_keys.size() == 256) return false;
      s.dict_keys.push_back(x);
      s.dict_slots[h] = uint16_t(s.dict_keys.size());
    }
  }
  return true;
}

uint8_t dictionary_index(const EncodeScratch& s, uint64_t x) {
  size_t h = size_t((x * 0x9e3779b97f4a7c15ull) >> 54) & 1023;
  while (s.dict_keys[s.dict_slots[h] - 1] != x) h = (h + 1) & 1023;
  return uint8_t(s.dict_slots[h] - 1);
}

ValueRange range_of(const std::vector<uint64_t>& v) {
  ValueRange r;
  for (uint64_t x : v) r.add(x);
  return r;
}

// Replaces the encoding written to raw from `at` by `alt` when alt is smaller (a column's
// second encoding); whether it did.
bool take_if_smaller(std::vector<uint8_t>& raw, size_t at, const std::vector<uint8_t>& alt) {
  if (alt.size() >= raw.size() - at) return false;
  raw.resize(at);
  raw.insert(raw.end(), alt.begin(), alt.end());
  return true;
}

// Appends n integers of `width` bytes in the smallest of plain, frame of reference, deltas and
// a dictionary; returns which. Times (`is_signed`) take their frame's base as signed. `range` is
// v's.
Encoding put_integers(const std::vector<uint64_t>& v, const ValueRange& range, size_t width,
                      bool is_signed, std::vector<uint8_t>& raw, EncodeScratch& s) {
  const size_t n = v.size();
  const auto [lo, hi, slo, shi] = range;
  // Deltas suit times and differences from predictions (8-byte values that change slowly).
  size_t delta_bytes = SIZE_MAX;
  if (width == 8) {
    static constexpr auto kVarintSize = [] {
      std::array<uint8_t, 65> t{};
      for (int b = 0; b <= 64; ++b) t[b] = uint8_t(b ? (b + 6) / 7 : 1);
      return t;
    }();
    delta_bytes = 0;
    uint64_t prev = 0;
    for (uint64_t x : v) {
      delta_bytes += kVarintSize[std::bit_width(zigzag(int64_t(x - prev)))];
      prev = x;
    }
  }
  uint64_t base = is_signed ? uint64_t(slo) : lo;
  uint64_t span = n == 0 ? 0 : is_signed ? uint64_t(shi) - uint64_t(slo) : hi - lo;
  size_t w = (size_t(std::bit_width(span)) + 7) / 8;
  size_t for_bytes = 9 + n * w;
  size_t dict_bytes = SIZE_MAX;
  if (w >= 2 && small_dictionary(v, s)) dict_bytes = 1 + 8 * s.dict_keys.size() + n;
  // Deltas of counters (which do not change slowly, unlike times) take a little less room than
  // their frame but hold more entropy for the codec after them: they must save a quarter.
  if (!is_signed && delta_bytes != SIZE_MAX && delta_bytes > for_bytes / 4 * 3)
    delta_bytes = SIZE_MAX;
  size_t best = std::min({for_bytes, delta_bytes, dict_bytes, n * width});
  if (best == n * width && best < for_bytes) {
    size_t at = raw.size();
    raw.resize(at + n * width);
    for (size_t i = 0; i < n; ++i) {
      uint8_t le[8];
      store_le64(le, v[i]);
      std::memcpy(&raw[at + i * width], le, width);
    }
    return Encoding::kPlain;
  }
  if (best == for_bytes) {
    uint8_t le[8];
    store_le64(le, base);
    raw.insert(raw.end(), le, le + 8);
    raw.push_back(uint8_t(w));
    put_int_planes(raw, v, base, w);
    return Encoding::kFrameOfReference;
  }
  if (best == delta_bytes) {
    raw.reserve(raw.size() + delta_bytes);
    uint64_t prev = 0;
    for (uint64_t x : v) {
      put_varint(raw, zigzag(int64_t(x - prev)));
      prev = x;
    }
    return Encoding::kDelta;
  }
  put_varint(raw, s.dict_keys.size());
  for (uint64_t k : s.dict_keys) {
    uint8_t le[8];
    store_le64(le, k);
    raw.insert(raw.end(), le, le + 8);
  }
  size_t at = raw.size();
  raw.resize(at + n);
  for (size_t i = 0; i < n; ++i) raw[at + i] = dictionary_index(s, v[i]);
  return Encoding::kDictionary;
}

void encode_integers(const ColumnBuffer& c, std::vector<uint8_t>& raw, ColumnDescriptor& d,
                     EncodeScratch& s) {
  const size_t n = c.count;
  const bool is_signed = c.field->type == FieldType::kTime;
  const bool residual = predicted(c.field->id);
  const size_t width_of_type = plain_size(c.field->type);
  const size_t width = residual ? 8 : width_of_type;
  std::vector<uint64_t>& v = s.ints;
  v.resize(n);
  load_all(c.values.data(), n, width, v);
  // The values' range: theirs, or for residuals the one gathered as they came.
  ValueRange range = residual ? c.range : range_of(v);
  if (n) {
    d.has_minmax = true;
    d.min = is_signed ? uint64_t(range.slo) : range.lo;
    d.max = is_signed ? uint64_t(range.shi) : range.hi;
  }
  if (!residual) {
    d.encoding = put_integers(v, range, width, is_signed, raw, s);
    return;
  }
  // Residuals: the sub-encoding, then the zigzagged differences from the predictions.
  d.encoding = is_late(c.field->id) ? Encoding::kLateResidual : Encoding::kResidual;
  size_t at = raw.size();
  raw.push_back(0);
  raw[at] = uint8_t(put_integers(v, range_of(v), 8, false, raw, s));
  if (c.plain.size() != n) return;
  // A late prediction holds for some traffic only (one-size packets: scans, floods): the values
  // themselves where they take fewer bytes (a few SYN sizes against varied residuals).
  s.alt.clear();
  const Encoding e = put_integers(c.plain, range, width_of_type, is_signed, s.alt, s);
  if (take_if_smaller(raw, at, s.alt)) d.encoding = e;
}

// The forms of a predicted f64 column's misses: doubles, or integers when every miss is one
// (packet sizes), or nanoseconds as seconds when every miss is double(g) / 1e9 (gaps).
enum class MissForm : uint8_t { kDoubles = 0, kIntegers = 1, kNanoseconds = 2 };

void encode_predicted(const ColumnBuffer& c, std::vector<uint8_t>& raw, EncodeScratch& s) {
  const size_t n = c.count, misses = c.used / 8;
  size_t at = raw.size();
  raw.resize(at + (n + 7) / 8);
  for (size_t i = 0; i < (n + 7) / 8; ++i) raw[at + i] = uint8_t(c.hits[i / 8] >> (i % 8 * 8));
  std::vector<uint64_t>& v = s.ints;
  v.resize(misses);
  bool integers = true, nanos = true;
  for (size_t i = 0; i < misses; ++i) {
    double x = std::bit_cast<double>(load_le64(&c.values[i * 8]));
    // Below 2^53 (9e15) integers are exact in a double; NaN fails both tests.
    integers = integers && std::abs(x) < 9e15 && x == std::trunc(x) && !std::signbit(x);
    nanos =
        nanos && std::abs(x) < 9e6 &&
        std::bit_cast<uint64_t>(double(std::llround(x * 1e9)) / 1e9) == std::bit_cast<uint64_t>(x);
    if (!integers && !nanos) break;
  }
  if (integers || nanos) {
    for (size_t i = 0; i < misses; ++i) {
      double x = std::bit_cast<double>(load_le64(&c.values[i * 8]));
      v[i] = integers ? uint64_t(int64_t(x)) : uint64_t(std::llround(x * 1e9));
    }
    raw.push_back(uint8_t(integers ? MissForm::kIntegers : MissForm::kNanoseconds));
    size_t sub = raw.size();
    raw.push_back(0);
    raw[sub] = uint8_t(put_integers(v, range_of(v), 8, true, raw, s));
  } else {
    raw.push_back(uint8_t(MissForm::kDoubles));
    put_planes(raw, c.values.data(), misses, 8, 8);
  }
}

void encode_addresses(const ColumnBuffer& c, std::vector<uint8_t>& raw, ColumnDescriptor& d) {
  const size_t n = c.count;
  size_t v4 = 0;
  uint32_t lo = UINT32_MAX, hi = 0;
  for (size_t i = 0; i < n; ++i) {
    IpAddress a = IpAddress::v6(&c.values[i * 16]);
    if (!a.is_v4()) continue;
    ++v4;
    lo = std::min(lo, a.v4_host_order());
    hi = std::max(hi, a.v4_host_order());
  }
  if (n && v4 == n) {
    d.encoding = Encoding::kIpv4;
    d.has_minmax = true;
    d.min = lo;
    d.max = hi;
    put_planes(raw, c.values.data() + 12, n, 4, 16);
    return;
  }
  // Mixed: which are IPv6, then the IPv4 addresses' planes, then the IPv6 addresses'.
  d.encoding = Encoding::kMixedIp;
  size_t at = raw.size();
  raw.resize(at + (n + 7) / 8);
  std::vector<uint8_t> four, six;
  four.reserve(v4 * 4);
  six.reserve((n - v4) * 16);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* a = &c.values[i * 16];
    if (IpAddress::v6(a).is_v4()) {
      four.insert(four.end(), a + 12, a + 16);
    } else {
      raw[at + i / 8] |= uint8_t(1 << (i % 8));
      six.insert(six.end(), a, a + 16);
    }
  }
  put_planes(raw, four.data(), v4, 4, 4);
  put_planes(raw, six.data(), n - v4, 16, 16);
}

// Encoding 13: each key's value (the first met), a bit per value that is its key's, then the
// values that are not, as encoding 4 holds them.
void encode_keyed(const ColumnBuffer& c, const ColumnBuffer& key, uint32_t rows,
                  std::vector<uint8_t>& out, EncodeScratch& s) {
  s.keyed.clear();
  s.keys.clear();
  s.misses.clear();
  const size_t n = c.lengths.size();
  std::vector<uint8_t>& bits = s.hits;  // placed after the pairs, once they are known
  bits.assign((n + 7) / 8, 0);
  const char* value = reinterpret_cast<const char*>(c.values.data());
  const char* key_value = reinterpret_cast<const char*>(key.values.data());
  size_t k = 0, j = 0;
  for (uint32_t row = 0; row < rows; ++row) {
    const bool has_key = key.bits[row / 64] >> (row % 64) & 1;
    std::string_view kv;
    if (has_key) {
      kv = {key_value, key.lengths[j++]};
      key_value += kv.size();
    }
    if (!(c.bits[row / 64] >> (row % 64) & 1)) continue;
    const std::string_view v(value, c.lengths[k]);
    value += v.size();
    bool hit = false;
    if (has_key) {
      auto [it, fresh] = s.keyed.try_emplace(kv, v);
      if (fresh) s.keys.push_back(kv);
      hit = it->second == v;
    }
    if (hit)
      bits[k / 8] |= uint8_t(1 << (k % 8));
    else
      s.misses.push_back(v);
    ++k;
  }
  put_varint(out, s.keys.size());
  for (std::string_view kv : s.keys) {
    const std::string_view v = s.keyed[kv];
    put_varint(out, kv.size());
    out.insert(out.end(), kv.begin(), kv.end());
    put_varint(out, v.size());
    out.insert(out.end(), v.begin(), v.end());
  }
  out.insert(out.end(), bits.begin(), bits.end());
  for (std::string_view v : s.misses) put_varint(out, v.size());
  for (std::string_view v : s.misses) out.insert(out.end(), v.begin(), v.end());
}

// Few distinct strings (labels, categories, the names a block's flows share) as a dictionary and
// an index per value, where the index bytes code the choice at close to its entropy; the others
// (and where the dictionary would not be smaller) as they are.
void encode_dictionary(const ColumnBuffer& c, std::vector<uint8_t>& raw, ColumnDescriptor& d,
                       EncodeScratch& s) {
  s.strings.clear();
  s.string_index.clear();
  size_t dict_bytes = 0;
  const char* at = reinterpret_cast<const char*>(c.values.data());
  for (uint32_t len : c.lengths) {
    auto [it, fresh] = s.strings.try_emplace(std::string_view(at, len), uint32_t(s.strings.size()));
    if (fresh) dict_bytes += len + 2;
    s.string_index.push_back(it->second);
    at += len;
    if (s.strings.size() > kMaxStringDictionary) break;
  }
  const size_t m = s.strings.size();
  const size_t width = m <= 256 ? 1 : 2;
  if (m > kMaxStringDictionary ||
      dict_bytes + c.lengths.size() * width >= c.used + c.lengths.size()) {
    d.encoding = Encoding::kStrings;
    for (uint32_t len : c.lengths) put_varint(raw, len);
    raw.insert(raw.end(), c.values.begin(), c.values.begin() + ptrdiff_t(c.used));
    return;
  }
  d.encoding = Encoding::kStringDictionary;
  std::vector<std::string_view> dict(m);
  for (const auto& [str, i] : s.strings) dict[i] = str;
  put_varint(raw, m);
  for (std::string_view str : dict) put_varint(raw, str.size());
  for (std::string_view str : dict) raw.insert(raw.end(), str.begin(), str.end());
  const size_t n = s.string_index.size(), base = raw.size();
  raw.resize(base + n * width);
  for (size_t k = 0; k < n; ++k) {
    raw[base + k] = uint8_t(s.string_index[k]);
    if (width == 2) raw[base + n + k] = uint8_t(s.string_index[k] >> 8);
  }
}

void encode_strings(const ColumnBuffer& c, uint32_t rows, const ColumnBuffer* key,
                    std::vector<uint8_t>& raw, ColumnDescriptor& d, EncodeScratch& s) {
  const size_t at = raw.size();
  encode_dictionary(c, raw, d, s);
  if (!key || !key->count) return;
  s.alt.clear();
  encode_keyed(c, *key, rows, s.alt, s);
  if (take_if_smaller(raw, at, s.alt)) d.encoding = Encoding::kKeyedStrings;
}

}  // namespace

bool predicted(FieldId id) {
  return is_predicted(id);
}

const FieldInfo* follows(FieldId id) {
  switch (id) {
#define FK_FOLLOWS(id, key) \
  case FieldId::id:         \
    return &field_info(FieldId::key);
#include "core/fields.def"
    default:
      return nullptr;
  }
}

uint64_t predict(FieldId id, const FlowRecord& r, Direction dir) {
  switch (id) {
#define FK_PREDICT(id, ...) \
  case FieldId::id:         \
    return predict_field<FieldId::id>(r, dir);
#include "core/fields.def"
    default:
      return 0;
  }
}

size_t plain_size(FieldType type) {
  switch (type) {
    case FieldType::kU8:
    case FieldType::kEndReason:
    case FieldType::kTunnelType:
      return 1;
    case FieldType::kU16:
      return 2;
    case FieldType::kU32:
      return 4;
    case FieldType::kU64:
    case FieldType::kF64:
    case FieldType::kTime:
      return 8;
    case FieldType::kIp:
      return 16;
    case FieldType::kMac:
      return 6;
    default:
      return 0;
  }
}

ColumnBuffer::ColumnBuffer(const FieldInfo& f, Direction d)
    : field(&f), dir(d), bits(kMaxBlockRows / 64), put_(put_of(f.id)) {
  if (predicted(f.id) && f.type == FieldType::kF64) hits.resize(kMaxBlockRows / 64);
  if (AddressOf address = address_of(f.id)) {
    static const FlowRecord probe;
    const auto* at = static_cast<const uint8_t*>(address(probe, d));
    const auto* base = reinterpret_cast<const uint8_t*>(&probe);
    if (at >= base && at < base + sizeof(FlowRecord)) {
      copy_offset_ = uint32_t(at - base);
      copy_width_ = uint8_t(plain_size(f.type));
      values.resize(kMaxBlockRows * copy_width_);
    }
  }
}

void ColumnBuffer::clear() {
  std::fill(bits.begin(), bits.end(), 0);
  std::fill(hits.begin(), hits.end(), 0);
  count = 0;
  used = 0;
  lengths.clear();
  plain.clear();
  range = ValueRange();
}

void encode_column(const ColumnBuffer& c, uint32_t rows, std::vector<uint8_t>& raw,
                   ColumnDescriptor& d, EncodeScratch& scratch, int presence_of,
                   const ColumnBuffer* key) {
  const FieldType type = c.field->type;
  d.field = uint16_t(c.field->id);
  d.dir = c.dir;
  d.type = uint8_t(type);
  d.bitmap = c.count != rows;
  d.has_minmax = false;
  d.min = d.max = 0;
  d.shared_presence = d.bitmap && presence_of >= 0;
  raw.clear();
  if (d.shared_presence) {
    put_varint(raw, uint64_t(presence_of));
  } else if (d.bitmap) {
    size_t n = (rows + 7) / 8;
    raw.resize(n);
    for (size_t i = 0; i < n; ++i) raw[i] = uint8_t(c.bits[i / 8] >> (i % 8 * 8));
  }
  const size_t n = c.count;
  if (!c.hits.empty()) {
    d.encoding = Encoding::kPredicted;
    encode_predicted(c, raw, scratch);
  } else if (is_integer(type)) {
    encode_integers(c, raw, d, scratch);
  } else if (type == FieldType::kIp) {
    encode_addresses(c, raw, d);
  } else if (type == FieldType::kUtf8 || type == FieldType::kBytes) {
    encode_strings(c, rows, key, raw, d, scratch);
  } else if (type == FieldType::kList) {
    d.encoding = Encoding::kList;
    put_varint(raw, c.field->items.size());
    for (const ItemInfo& it : c.field->items) {
      uint8_t le[2];
      store_le16(le, it.num);
      raw.insert(raw.end(), le, le + 2);
      raw.push_back(uint8_t(it.type));
    }
    raw.insert(raw.end(), c.values.begin(), c.values.begin() + ptrdiff_t(c.used));
  } else {  // f64, MAC
    d.encoding = Encoding::kBytePlanes;
    size_t w = plain_size(type);
    put_planes(raw, c.values.data(), n, w, w);
  }
  d.raw_size = uint32_t(raw.size());
}

// ---- Reading ---------------------------------------------------------------------------------

namespace {

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool ok = true;
  bool take(size_t n, const uint8_t** at) {
    if (!ok || size_t(end - p) < n) return ok = false;
    *at = p;
    p += n;
    return true;
  }
  uint64_t varint() {
    uint64_t v = 0;
    if (ok && !get_varint(p, end, &v)) ok = false;
    return v;
  }
  // w planes of n bytes into n values of `stride` bytes at dst (bytes j < w of each).
  bool planes(size_t n, size_t w, uint8_t* dst, size_t stride) {
    const uint8_t* src = nullptr;
    if (!take(n * w, &src)) return false;
    for (size_t j = 0; j < w; ++j, src += n)
      for (size_t i = 0; i < n; ++i) dst[i * stride + j] = src[i];
    return true;
  }
};

// One value of a fixed-size type or string from the reader, as a FieldValue.
FieldValue read_single(Reader& in, FieldType type, Arena& arena) {
  const uint8_t* at = nullptr;
  switch (type) {
    case FieldType::kUtf8:
    case FieldType::kBytes: {
      uint64_t n = in.varint();
      if (!in.take(n, &at)) return {};
      return arena.copy({reinterpret_cast<const char*>(at), size_t(n)});
    }
    case FieldType::kList:
      in.varint();
      return {};
    case FieldType::kF64:
      if (!in.take(8, &at)) return {};
      return std::bit_cast<double>(load_le64(at));
    case FieldType::kIp:
      if (!in.take(16, &at)) return {};
      return IpAddress::v6(at);
    case FieldType::kMac: {
      if (!in.take(6, &at)) return {};
      MacAddress m;
      std::memcpy(m.b.data(), at, 6);
      return m;
    }
    case FieldType::kTime:
      if (!in.take(8, &at)) return {};
      return Timestamp{int64_t(load_le64(at))};
    default: {
      size_t n = plain_size(type);
      if (n == 0 || !in.take(n, &at)) {
        in.ok = false;
        return {};
      }
      return load_plain(at, n);
    }
  }
}

Status corrupt(const FieldInfo& f, const char* what) {
  return Status::corruption(std::string("column ") + std::string(f.name) + ": " + what);
}

// Each byte's 8 bits as 8 bytes of 0 or 1 (little-endian: byte i holds bit i).
constexpr auto kSpread = [] {
  std::array<uint64_t, 256> t{};
  for (size_t b = 0; b < 256; ++b)
    for (size_t i = 0; i < 8; ++i) t[b] |= uint64_t(b >> i & 1) << (8 * i);
  return t;
}();
// The ones of a byte: the sum of its spread bytes (std::popcount is a library call without
// -mpopcnt).
size_t ones_of(uint8_t b) {
  return kSpread[b] * 0x0101010101010101 >> 56;
}

// A bitmap (bit i in byte i / 8, from the low bit) as n bytes of 0 or 1; returns the ones.
size_t expand_bits(const uint8_t* bits, size_t n, uint8_t* out) {
  size_t ones = 0, i = 0;
  for (; i + 8 <= n; i += 8) {
    const uint8_t b = bits[i / 8];
    std::memcpy(out + i, &kSpread[b], 8);
    ones += ones_of(b);
  }
  for (; i < n; ++i) ones += out[i] = bits[i / 8] >> (i % 8) & 1;
  return ones;
}

// The sum of n bytes of 0 or 1, eight at a time.
size_t count_ones(const uint8_t* p, size_t n) {
  size_t ones = 0, i = 0;
  for (; i + 8 <= n; i += 8) ones += load_le64(p + i) * 0x0101010101010101 >> 56;
  for (; i < n; ++i) ones += p[i];
  return ones;
}

// n strings (their lengths, then their bytes) into `into` (replaced), copied to the arena.
bool take_strings(Reader& in, size_t n, Arena& arena, std::vector<std::string_view>& into) {
  static thread_local std::vector<uint64_t> lengths;
  lengths.resize(n);
  uint64_t total = 0;
  // Each length checked on its own: a sum of huge ones could wrap round to a small total.
  for (uint64_t& len : lengths)
    if ((total += len = in.varint()) > size_t(in.end - in.p) || len > total) return false;
  const uint8_t* bytes = nullptr;
  if (!in.ok || !in.take(total, &bytes)) return false;
  into.resize(n);
  for (size_t k = 0; k < n; ++k) {
    into[k] = arena.copy({reinterpret_cast<const char*>(bytes), size_t(lengths[k])});
    bytes += lengths[k];
  }
  return true;
}

// The ones among the first n bits of a bitmap.
size_t count_bits(const uint8_t* bits, size_t n) {
  size_t ones = 0;
  for (size_t i = 0; i < n / 8; ++i) ones += ones_of(bits[i]);
  if (n % 8) ones += ones_of(uint8_t(bits[n / 8] & ((1u << (n % 8)) - 1)));
  return ones;
}

// n values from w byte planes (plane j holds byte j of every value), plus base: one pass that
// writes each value once, with the plane count known to the compiler.
template <size_t W>
void unplane_w(const uint8_t* src, size_t n, uint64_t base, uint64_t* out) {
  for (size_t i = 0; i < n; ++i) {
    uint64_t v = 0;
    for (size_t j = 0; j < W; ++j) v |= uint64_t(src[j * n + i]) << (8 * j);
    out[i] = base + v;
  }
}
void unplane(const uint8_t* src, size_t n, size_t w, uint64_t base, uint64_t* out) {
  switch (w) {
    case 0:
      return unplane_w<0>(src, n, base, out);
    case 1:
      return unplane_w<1>(src, n, base, out);
    case 2:
      return unplane_w<2>(src, n, base, out);
    case 3:
      return unplane_w<3>(src, n, base, out);
    case 4:
      return unplane_w<4>(src, n, base, out);
    case 5:
      return unplane_w<5>(src, n, base, out);
    case 6:
      return unplane_w<6>(src, n, base, out);
    case 7:
      return unplane_w<7>(src, n, base, out);
    default:
      return unplane_w<8>(src, n, base, out);
  }
}

// Where the n values of a plain, frame-of-reference or dictionary chunk lie: they are read in
// place, all of them (get_integers) or those of chosen rows (decode_selected).
struct InPlace {
  Encoding e = Encoding::kPlain;
  const uint8_t* at = nullptr;    // the values, the planes or the dictionary's indexes
  const uint8_t* keys = nullptr;  // the dictionary
  uint64_t base = 0;              // frame of reference
  size_t n = 0, width = 0;        // width: bytes of a plain value, or planes
  uint64_t operator()(size_t k) const {
    switch (e) {
      case Encoding::kPlain:
        return load_plain(at + k * width, width);
      case Encoding::kFrameOfReference: {
        uint64_t v = 0;
        for (size_t j = 0; j < width; ++j) v |= uint64_t(at[j * n + k]) << (8 * j);
        return base + v;
      }
      default:
        return load_le64(keys + 8 * at[k]);
    }
  }
};

// Whether encoding e is read in place.
bool in_place(Encoding e) {
  return e == Encoding::kPlain || e == Encoding::kFrameOfReference || e == Encoding::kDictionary;
}

// The layout of n values of `width` bytes in encoding e (one that in_place(e) accepts).
Status lay_out(Encoding e, const FieldInfo& field, Reader& in, size_t n, size_t width, InPlace& v) {
  v = {e, nullptr, nullptr, 0, n, width};
  switch (e) {
    case Encoding::kPlain:
      if (!in.take(n * width, &v.at)) return corrupt(field, "values cut short");
      return {};
    case Encoding::kFrameOfReference: {
      const uint8_t* head = nullptr;
      if (!in.take(9, &head)) return corrupt(field, "frame of reference cut short");
      v.base = load_le64(head);
      v.width = head[8];
      if (v.width > 8) return corrupt(field, "byte width over 8");
      if (!in.take(n * v.width, &v.at)) return corrupt(field, "values cut short");
      return {};
    }
    default: {  // kDictionary
      uint64_t k = in.varint();
      if (!in.ok || k == 0 || k > 256 || !in.take(k * 8, &v.keys) || !in.take(n, &v.at))
        return corrupt(field, "dictionary cut short");
      for (size_t i = 0; i < n; ++i)
        if (v.at[i] >= k) return corrupt(field, "dictionary index out of range");
      return {};
    }
  }
}

// n integers of `width` bytes in encoding e.
Status get_integers(Encoding e, const FieldInfo& field, Reader& in, size_t n, size_t width,
                    std::vector<uint64_t>& ints) {
  hold(ints, n);
  if (in_place(e)) {
    InPlace v;
    if (Status st = lay_out(e, field, in, n, width, v); !st.ok()) return st;
    if (e == Encoding::kPlain) {
      load_all(v.at, n, width, ints);
    } else if (e == Encoding::kFrameOfReference) {
      unplane(v.at, n, v.width, v.base, ints.data());
    } else {
      for (size_t i = 0; i < n; ++i) ints[i] = v(i);
    }
    return {};
  }
  if (e != Encoding::kDelta) return corrupt(field, "encoding does not suit an integer column");
  uint64_t prev = 0;
  size_t i = 0;
  // While a whole varint (10 bytes at most) is surely there, without a bound check per byte.
  const uint8_t* p = in.ok ? in.p : in.end;
  for (; i < n && in.end - p >= 10; ++i) {
    uint64_t x = 0;
    for (int shift = 0;; shift += 7) {
      const uint8_t b = *p++;
      x |= uint64_t(b & 0x7f) << shift;
      if (b < 0x80) break;
      if (shift == 63) return corrupt(field, "delta longer than 10 bytes");
    }
    prev += uint64_t(unzigzag(x));
    ints[i] = prev;
  }
  in.p = p;
  for (; i < n; ++i) {
    prev += uint64_t(unzigzag(in.varint()));
    ints[i] = prev;
  }
  if (!in.ok) return corrupt(field, "deltas cut short");
  return {};
}

// The n present values of an integer column: residuals (zigzagged) for encodings 10 and 12.
Status decode_integers(const ColumnDescriptor& d, const FieldInfo& field, Reader& in, size_t n,
                       std::vector<uint64_t>& ints) {
  if (d.encoding == Encoding::kResidual || d.encoding == Encoding::kLateResidual) {
    const uint8_t* sub = nullptr;
    if (!in.take(1, &sub)) return corrupt(field, "residuals cut short");
    return get_integers(Encoding(*sub), field, in, n, 8, ints);
  }
  const size_t width = plain_size(field.type);
  if (Status st = get_integers(d.encoding, field, in, n, width, ints); !st.ok()) return st;
  // A value wider than the field's type cannot have been written by a writer.
  if (width < 8) {
    uint64_t limit = uint64_t(1) << (width * 8);
    for (size_t i = 0; i < n; ++i)
      if (ints[i] >= limit) return corrupt(field, "value out of the type's range");
  }
  return {};
}

// The integers of the rows in `only` (listed in order in `chosen`), of an encoding read in place:
// the value of those that have one (present: a byte per row, nullptr when all have), 0 for the
// others; rows not chosen are left as they were.
Status decode_selected(const ColumnDescriptor& d, const FieldInfo& field, Reader& in, size_t n,
                       const uint8_t* present, std::span<const uint8_t> only,
                       std::span<const uint32_t> chosen, std::vector<uint64_t>& ints) {
  const size_t width = plain_size(field.type);
  InPlace v;
  if (Status st = lay_out(d.encoding, field, in, n, width, v); !st.ok()) return st;
  hold(ints, only.size());
  const uint64_t limit = width < 8 ? uint64_t(1) << (width * 8) : 0;
  // Only the chosen rows are visited; a row's value is the k-th, k the present rows before it.
  size_t k = 0;
  uint32_t counted = 0;  // rows counted into k
  for (uint32_t row : chosen) {
    uint64_t x = 0;
    if (!present) {
      x = v(row);
    } else {
      k += count_ones(present + counted, row - counted);
      counted = row;
      if (!present[row]) {
        ints[row] = 0;
        continue;
      }
      x = v(k);
    }
    if (limit && x >= limit) return corrupt(field, "value out of the type's range");
    ints[row] = x;
  }
  return {};
}

}  // namespace

FieldValue ColumnData::value(uint32_t row) const {
  if (!has(row)) return {};
  switch (field->type) {
    case FieldType::kF64:
      return doubles[row];
    case FieldType::kIp:
      return ips[row];
    case FieldType::kMac:
      return macs[row];
    case FieldType::kTime:
      return Timestamp{int64_t(ints[row])};
    case FieldType::kUtf8:
    case FieldType::kBytes:
      return strings[row];
    case FieldType::kList:
      return lists[row];
    default:
      return ints[row];
  }
}

Status decode_column(const ColumnDescriptor& d, const FieldInfo& field,
                     std::span<const uint8_t> raw, uint32_t rows, ColumnData& out, Arena& arena,
                     std::span<const uint8_t> only, std::span<const uint32_t> chosen,
                     std::span<const uint8_t> presence) {
  out.field = &field;
  out.dir = d.dir;
  out.rows = rows;
  if (only.size() != rows) only = {};
  if (!only.empty() && chosen.empty()) {
    static thread_local std::vector<uint32_t> rows_of;
    chosen = chosen_rows(only, rows_of);
  }
  // Integers and addresses are written over what the column held: every row's, or the chosen
  // rows' (the others keep an earlier block's values); zeroing the vectors first cost more
  // than decoding the chosen rows.
  const FieldType type = field.type;
  out.present.clear();
  if (!is_integer(type)) out.ints.clear();
  out.doubles.clear();
  if (type != FieldType::kIp) out.ips.clear();
  out.macs.clear();
  out.strings.clear();
  out.lists.clear();
  out.from_prediction.clear();
  out.keyed.clear();
  if (d.type != uint8_t(field.type)) return corrupt(field, "value type differs from the field's");
  if (d.shared_presence && !d.bitmap) return corrupt(field, "shared presence without a bitmap");
  Reader in{raw.data(), raw.data() + raw.size()};
  size_t n = rows;
  const uint8_t* bm = nullptr;  // the presence bitmap, a bit per row
  if (d.bitmap) {
    if (d.shared_presence) {
      in.varint();  // the column whose bitmap `presence` is
      if (!in.ok || presence.size() != (rows + 7) / 8)
        return corrupt(field, "the column that holds its presence is missing");
      bm = presence.data();
    } else if (!in.take((rows + 7) / 8, &bm)) {
      return corrupt(field, "presence bitmap cut short");
    }
    out.present.resize(rows);
    n = expand_bits(bm, rows, out.present.data());
  }
  const uint8_t* present = d.bitmap ? out.present.data() : nullptr;
  // The rows that have a value, in order, for the types whose values are spread over them from a
  // dense decode. Scratch kept per thread: a scan decodes column after column, and fresh buffers
  // each time cost more in page faults than the decoding.
  static thread_local std::vector<uint32_t> at;
  if (present && !is_integer(type) && type != FieldType::kIp) {
    hold(at, rows);
    size_t k = 0;
    for (uint32_t row = 0; row < rows; ++row) {
      at[k] = row;
      k += present[row];
    }
  }
  auto row_of = [&](size_t k) { return present ? at[k] : uint32_t(k); };

  auto wanted = [&](uint32_t row) { return only.empty() || only[row]; };
  if (is_integer(type) && !only.empty() && in_place(d.encoding)) {
    if (Status st = decode_selected(d, field, in, n, present, only, chosen, out.ints); !st.ok())
      return st;
  } else if (is_integer(type)) {
    if (!present) {
      if (Status st = decode_integers(d, field, in, n, out.ints); !st.ok()) return st;
    } else {
      // Spread in one pass over the rows; dense[n] is read (not used) after the last value.
      static thread_local std::vector<uint64_t> dense;
      if (Status st = decode_integers(d, field, in, n, dense); !st.ok()) return st;
      hold(dense, n + 1);
      hold(out.ints, rows);
      // Eight rows at once where all eight have a value (the common case of an optional field).
      for (uint32_t row = 0, k = 0; row < rows; ++row) {
        if (row % 8 == 0 && row + 8 <= rows && bm[row / 8] == 0xff) {
          std::memcpy(&out.ints[row], &dense[k], 8 * sizeof(uint64_t));
          k += 8;
          row += 7;
        } else {
          out.ints[row] = present[row] ? dense[k] : 0;
          k += present[row];
        }
      }
    }
    if (d.encoding == Encoding::kResidual || d.encoding == Encoding::kLateResidual) {
      if (!predicted(field.id)) return corrupt(field, "residuals for a field without prediction");
      if (present)
        out.from_prediction.assign(present, present + rows);
      else
        out.from_prediction.assign(rows, 1);
    }
  } else if (type == FieldType::kF64) {
    out.doubles.assign(rows, 0);
    if (d.encoding == Encoding::kPredicted) {
      const uint8_t* hits = nullptr;
      if (!predicted(field.id)) return corrupt(field, "predictions for a field without one");
      if (!in.take((n + 7) / 8, &hits)) return corrupt(field, "prediction bitmap cut short");
      out.from_prediction.assign(rows, 0);
      const size_t misses = n - count_bits(hits, n);
      std::vector<double> kept(misses);
      const uint8_t* form = nullptr;
      if (!in.take(1, &form)) return corrupt(field, "values cut short");
      if (MissForm(*form) == MissForm::kDoubles) {
        if (!in.planes(misses, 8, reinterpret_cast<uint8_t*>(kept.data()), 8))
          return corrupt(field, "values cut short");
      } else if (*form <= uint8_t(MissForm::kNanoseconds)) {
        const uint8_t* sub = nullptr;
        std::vector<uint64_t> ints;
        if (!in.take(1, &sub)) return corrupt(field, "values cut short");
        if (Status st = get_integers(Encoding(*sub), field, in, misses, 8, ints); !st.ok())
          return st;
        for (size_t m = 0; m < misses; ++m)
          kept[m] = MissForm(*form) == MissForm::kIntegers ? double(int64_t(ints[m]))
                                                           : double(int64_t(ints[m])) / 1e9;
      } else {
        return corrupt(field, "unknown form of values");
      }
      for (size_t k = 0, m = 0; k < n; ++k) {
        if (hits[k / 8] >> (k % 8) & 1) {
          out.from_prediction[row_of(k)] = 1;
        } else {
          out.doubles[row_of(k)] = kept[m++];
        }
      }
    } else {
      if (d.encoding != Encoding::kBytePlanes) return corrupt(field, "encoding does not suit f64");
      std::vector<double> v(n);
      if (!in.planes(n, 8, reinterpret_cast<uint8_t*>(v.data()), 8))
        return corrupt(field, "values cut short");
      for (size_t k = 0; k < n; ++k) out.doubles[row_of(k)] = v[k];
    }
  } else if (type == FieldType::kMac) {
    if (d.encoding != Encoding::kBytePlanes) return corrupt(field, "encoding does not suit MACs");
    std::vector<MacAddress> v(n);
    if (!in.planes(n, 6, reinterpret_cast<uint8_t*>(v.data()), sizeof(MacAddress)))
      return corrupt(field, "values cut short");
    out.macs.assign(rows, MacAddress());
    for (size_t k = 0; k < n; ++k) out.macs[row_of(k)] = v[k];
  } else if (type == FieldType::kIp) {
    hold(out.ips, rows);
    static thread_local std::vector<uint8_t> is6;
    size_t n6 = 0;
    const uint8_t* fam = nullptr;  // a bit per value, 1 for IPv6
    if (d.encoding == Encoding::kMixedIp) {
      if (!in.take((n + 7) / 8, &fam)) return corrupt(field, "address families cut short");
      hold(is6, n);
      n6 = expand_bits(fam, n, is6.data());
    } else if (d.encoding != Encoding::kIpv4) {
      return corrupt(field, "encoding does not suit addresses");
    }
    // Each address is gathered from its planes (4 or 16) as it is placed.
    const size_t n4 = n - n6;
    const uint8_t* four = nullptr;
    const uint8_t* six = nullptr;
    if (!in.take(n4 * 4, &four) || !in.take(n6 * 16, &six))
      return corrupt(field, "addresses cut short");
    auto put4 = [&](uint32_t row, size_t i4) {
      const uint8_t b[4] = {four[i4], four[n4 + i4], four[2 * n4 + i4], four[3 * n4 + i4]};
      out.ips[row] = IpAddress::v4(b);
    };
    if (n6 == 0 && !present) {  // the common case: row k is IPv4 address k
      if (only.empty()) {
        for (uint32_t row = 0; row < rows; ++row) put4(row, row);
      } else {
        for (uint32_t row : chosen) put4(row, row);
      }
      return {};
    }
    auto put6 = [&](uint32_t row, size_t i6) {
      IpAddress& a = out.ips[row];
      for (size_t j = 0; j < 16; ++j) a.bytes()[j] = six[j * n6 + i6];
    };
    if (!present && only.empty()) {  // a mix (n6 > 0): row k is address k
      // Eight rows at once where the families' byte holds no IPv6 address (mixes are mostly
      // IPv4): a test per row cost more than gathering the address.
      for (uint32_t row = 0, i6 = 0; row < rows; ++row) {
        if (row % 8 == 0 && row + 8 <= rows && fam[row / 8] == 0) {
          for (uint32_t r = row; r < row + 8; ++r) put4(r, r - i6);
          row += 7;
        } else if (is6[row]) {
          put6(row, i6++);
        } else {
          put4(row, row - i6);
        }
      }
      return {};
    }
    // k counts the values so far, i6 the IPv6 addresses among them.
    for (uint32_t row = 0, k = 0, i6 = 0; row < rows; ++row) {
      if (present && !present[row]) {
        if (wanted(row)) out.ips[row] = {};
        continue;
      }
      const bool v6 = n6 && is6[k];
      if (wanted(row)) {
        if (v6)
          put6(row, i6);
        else
          put4(row, k - i6);
      }
      i6 += v6;
      ++k;
    }
  } else if ((type == FieldType::kUtf8 || type == FieldType::kBytes) &&
             d.encoding == Encoding::kStringDictionary) {
    const uint64_t m = in.varint();
    if (!in.ok || m == 0 || m > kMaxStringDictionary || m > n)
      return corrupt(field, "string dictionary of a wrong size");
    static thread_local std::vector<std::string_view> dict;
    if (!take_strings(in, m, arena, dict)) return corrupt(field, "string dictionary cut short");
    const size_t width = m <= 256 ? 1 : 2;
    const uint8_t* index = nullptr;
    if (!in.take(n * width, &index)) return corrupt(field, "string indexes cut short");
    out.strings.assign(rows, {});
    for (size_t k = 0; k < n; ++k) {
      const size_t i = index[k] | (width == 2 ? size_t(index[n + k]) << 8 : 0);
      if (i >= m) return corrupt(field, "string index beyond its dictionary");
      out.strings[row_of(k)] = dict[i];
    }
  } else if ((type == FieldType::kUtf8 || type == FieldType::kBytes) &&
             d.encoding == Encoding::kKeyedStrings) {
    if (!follows(field.id)) return corrupt(field, "keyed strings of a field that follows none");
    const uint64_t m = in.varint();
    if (!in.ok || m > n) return corrupt(field, "more keys than values");
    out.keyed.resize(m);
    for (auto& [key, value] : out.keyed)
      for (std::string_view* str : {&key, &value}) {
        const uint64_t len = in.varint();
        const uint8_t* bytes = nullptr;
        if (!in.ok || !in.take(len, &bytes)) return corrupt(field, "keys cut short");
        *str = arena.copy({reinterpret_cast<const char*>(bytes), size_t(len)});
      }
    const uint8_t* hits = nullptr;
    if (!in.take((n + 7) / 8, &hits)) return corrupt(field, "key bits cut short");
    static thread_local std::vector<std::string_view> misses;
    if (!take_strings(in, n - count_bits(hits, n), arena, misses))
      return corrupt(field, "strings cut short");
    out.strings.assign(rows, {});
    out.from_prediction.assign(rows, 0);
    for (size_t k = 0, miss = 0; k < n; ++k) {
      if (hits[k / 8] >> (k % 8) & 1)
        out.from_prediction[row_of(k)] = 1;
      else
        out.strings[row_of(k)] = misses[miss++];
    }
  } else if (type == FieldType::kUtf8 || type == FieldType::kBytes) {
    if (d.encoding != Encoding::kStrings) return corrupt(field, "encoding does not suit strings");
    static thread_local std::vector<std::string_view> values;
    if (!take_strings(in, n, arena, values)) return corrupt(field, "strings cut short");
    out.strings.assign(rows, {});
    for (size_t k = 0; k < n; ++k) out.strings[row_of(k)] = values[k];
  } else if (type == FieldType::kList) {
    if (d.encoding != Encoding::kList) return corrupt(field, "encoding does not suit a list");
    // The stored item fields, each with the item it sets (nullptr: unknown, skipped).
    std::vector<std::pair<const ItemInfo*, FieldType>> schema;
    uint64_t k = in.varint();
    if (!in.ok || k > 256) return corrupt(field, "list schema unreadable");
    for (uint64_t i = 0; i < k; ++i) {
      const uint8_t* p = nullptr;
      if (!in.take(3, &p)) return corrupt(field, "list schema cut short");
      if (p[2] > uint8_t(FieldType::kList)) return corrupt(field, "list item of unknown type");
      const ItemInfo* item = nullptr;
      for (const ItemInfo& it : field.items)
        if (it.num == load_le16(p) && it.type == FieldType(p[2])) item = &it;
      schema.emplace_back(item, FieldType(p[2]));
    }
    out.lists.assign(rows, ListRef{nullptr, 0, &field});
    for (size_t v = 0; v < n; ++v) {
      uint64_t count = in.varint();
      // Each item takes at least a byte per schema field; a count beyond the bytes left lies.
      if (!in.ok || count > size_t(in.end - in.p)) return corrupt(field, "list cut short");
      void* items = arena.allocate(std::max<size_t>(1, count * field.item_size));
      field.init_items(items, uint32_t(count));
      for (uint64_t i = 0; i < count; ++i) {
        void* item = static_cast<uint8_t*>(items) + i * field.item_size;
        for (auto [info, t] : schema) {
          FieldValue value = read_single(in, t, arena);
          if (!in.ok) return corrupt(field, "list item cut short");
          if (info) info->set(item, value);
        }
      }
      out.lists[row_of(v)] = ListRef{items, uint32_t(count), &field};
    }
  } else {
    return corrupt(field, "unknown value type");
  }
  return {};
}

}  // namespace flowkit::store
