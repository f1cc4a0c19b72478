#include "store/column.h"

#include <bit>
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

// ---- Writing values in plain form ------------------------------------------------------------

template <class V>
void put_plain(std::vector<uint8_t>& out, FieldType type, const V& v) {
  if constexpr (std::is_enum_v<V> || std::is_integral_v<V>) {
    uint64_t x = uint64_t(v);
    size_t n = plain_size(type);
    size_t at = out.size();
    out.resize(at + n);
    uint8_t le[8];
    store_le64(le, x);
    std::memcpy(out.data() + at, le, n);
  } else if constexpr (std::is_same_v<V, double>) {
    uint8_t le[8];
    store_le64(le, std::bit_cast<uint64_t>(v));
    out.insert(out.end(), le, le + 8);
  } else if constexpr (std::is_same_v<V, Timestamp>) {
    uint8_t le[8];
    store_le64(le, uint64_t(v.ns));
    out.insert(out.end(), le, le + 8);
  } else if constexpr (std::is_same_v<V, IpAddress>) {
    out.insert(out.end(), v.bytes(), v.bytes() + 16);
  } else if constexpr (std::is_same_v<V, MacAddress>) {
    out.insert(out.end(), v.b.begin(), v.b.end());
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
      FieldValue v = it.get(item);
      std::visit(
          [&](const auto& x) {
            using V = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<V, std::string_view>) {
              put_varint(out, x.size());
              out.insert(out.end(), x.begin(), x.end());
            } else if constexpr (std::is_same_v<V, ListRef>) {
              put_varint(out, 0);  // lists in items: not carried (none exist)
            } else if constexpr (!std::is_same_v<V, std::monostate>) {
              put_plain(out, it.type, x);
            }
          },
          v);
    }
  }
}

template <class V>
void put_member(ColumnBuffer& c, FieldType type, const V& v) {
  if constexpr (std::is_same_v<V, std::string_view>) {
    c.lengths.push_back(uint32_t(v.size()));
    c.values.insert(c.values.end(), v.begin(), v.end());
  } else if constexpr (requires {
                         v.items;
                         v.size;
                       }) {
    put_list(c.values, *c.field, v.items, v.size);
  } else {
    put_plain(c.values, type, v);
  }
}

}  // namespace

Put put_of(FieldId id) {
  switch (id) {
#define FK_FIELD(num, id, name, scope, type, value, ...)             \
  case FieldId::id:                                                  \
    return [](ColumnBuffer& c, const FlowRecord& r, Direction dir) { \
      [[maybe_unused]] const DirectionRecord& d = r.dir(dir);        \
      put_member(c, FieldType::type, value);                         \
    };
#include "core/fields.def"
    default:
      return nullptr;
  }
}

namespace {

// ---- Encodings -------------------------------------------------------------------------------

uint64_t load_plain(const uint8_t* p, size_t n) {
  uint8_t le[8] = {};
  std::memcpy(le, p, n);
  return load_le64(le);
}

void pack_bits(std::vector<uint8_t>& out, const std::vector<uint64_t>& v, uint64_t base, int b) {
  size_t at = out.size();
  out.resize(at + (v.size() * b + 7) / 8 + 8);  // 8 bytes of slack for the last store
  uint8_t* p = out.data() + at;
  unsigned __int128 acc = 0;
  int have = 0;
  for (uint64_t x : v) {
    acc |= (unsigned __int128)(x - base) << have;
    have += b;
    while (have >= 64) {
      store_le64(p, uint64_t(acc));
      p += 8;
      acc >>= 64;
      have -= 64;
    }
  }
  store_le64(p, uint64_t(acc));
  out.resize(at + (v.size() * b + 7) / 8);
}

bool unpack_bits(const uint8_t*& p, const uint8_t* end, size_t n, uint64_t base, int b,
                 std::vector<uint64_t>& out) {
  size_t bytes = (n * b + 7) / 8;
  if (size_t(end - p) < bytes) return false;
  uint64_t mask = b == 64 ? ~uint64_t(0) : (uint64_t(1) << b) - 1;
  size_t bit = 0;
  for (size_t i = 0; i < n; ++i, bit += b) {
    size_t byte = bit / 8;
    int shift = int(bit % 8);
    uint8_t buf[16] = {};
    std::memcpy(buf, p + byte, std::min<size_t>(16, bytes - byte));
    unsigned __int128 w = (unsigned __int128)load_le64(buf + 8) << 64 | load_le64(buf);
    out.push_back(base + (uint64_t(w >> shift) & mask));
  }
  p += bytes;
  return true;
}

size_t varint_size(uint64_t v) {
  return v ? (std::bit_width(v) + 6) / 7 : 1;
}

}  // namespace

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
    : field(&f), dir(d), put_(put_of(f.id)) {}

void ColumnBuffer::append(uint32_t row, const FlowRecord& r) {
  if (row / 64 >= bits.size()) bits.resize(row / 64 + 1);
  bits[row / 64] |= uint64_t(1) << (row % 64);
  ++count;
  put_(*this, r, dir);
}

void ColumnBuffer::clear() {
  std::fill(bits.begin(), bits.end(), 0);
  count = 0;
  values.clear();
  lengths.clear();
}

void encode_column(const ColumnBuffer& c, uint32_t rows, std::vector<uint8_t>& raw,
                   ColumnDescriptor& d) {
  const FieldType type = c.field->type;
  d.field = uint16_t(c.field->id);
  d.dir = c.dir;
  d.type = uint8_t(type);
  d.bitmap = c.count != rows;
  d.has_minmax = false;
  d.min = d.max = 0;
  raw.clear();
  if (d.bitmap) {
    size_t n = (rows + 7) / 8;
    raw.resize(n);
    for (size_t i = 0; i < n && i / 8 < c.bits.size(); ++i)
      raw[i] = uint8_t(c.bits[i / 8] >> (i % 8 * 8));
  }
  const size_t n = c.count;
  const size_t width = plain_size(type);
  if (is_integer(type)) {
    // Frame of reference or deltas, whichever is smaller; times compare as signed.
    std::vector<uint64_t> v(n);
    bool is_signed = type == FieldType::kTime;
    uint64_t lo = ~uint64_t(0), hi = 0;
    int64_t slo = INT64_MAX, shi = INT64_MIN;
    size_t delta_bytes = 0;
    uint64_t prev = 0;
    for (size_t i = 0; i < n; ++i) {
      v[i] = load_plain(&c.values[i * width], width);
      lo = std::min(lo, v[i]);
      hi = std::max(hi, v[i]);
      slo = std::min(slo, int64_t(v[i]));
      shi = std::max(shi, int64_t(v[i]));
      delta_bytes += varint_size(zigzag(int64_t(v[i] - prev)));
      prev = v[i];
    }
    uint64_t base = is_signed ? uint64_t(slo) : lo;
    uint64_t span = is_signed ? uint64_t(shi) - uint64_t(slo) : hi - lo;
    int b = n ? std::bit_width(span) : 0;
    size_t for_bytes = 9 + (n * b + 7) / 8;
    if (n) {
      d.has_minmax = true;
      d.min = is_signed ? uint64_t(slo) : lo;
      d.max = is_signed ? uint64_t(shi) : hi;
    }
    if (delta_bytes < for_bytes && delta_bytes < n * width) {
      d.encoding = Encoding::kDelta;
      prev = 0;
      for (uint64_t x : v) {
        put_varint(raw, zigzag(int64_t(x - prev)));
        prev = x;
      }
    } else if (for_bytes < n * width) {
      d.encoding = Encoding::kFrameOfReference;
      uint8_t le[8];
      store_le64(le, base);
      raw.insert(raw.end(), le, le + 8);
      raw.push_back(uint8_t(b));
      pack_bits(raw, v, base, b);
    } else {
      d.encoding = Encoding::kPlain;
      raw.insert(raw.end(), c.values.begin(), c.values.end());
    }
  } else if (type == FieldType::kIp) {
    bool v4 = n > 0;
    uint32_t lo = UINT32_MAX, hi = 0;
    for (size_t i = 0; i < n && v4; ++i) {
      IpAddress a = IpAddress::v6(&c.values[i * 16]);
      v4 = a.is_v4();
      lo = std::min(lo, a.v4_host_order());
      hi = std::max(hi, a.v4_host_order());
    }
    if (v4) {
      d.encoding = Encoding::kIpv4;
      d.has_minmax = true;
      d.min = lo;
      d.max = hi;
      for (size_t i = 0; i < n; ++i) {
        const uint8_t* a = &c.values[i * 16 + 12];
        raw.insert(raw.end(), a, a + 4);
      }
    } else {
      d.encoding = Encoding::kPlain;
      raw.insert(raw.end(), c.values.begin(), c.values.end());
    }
  } else if (type == FieldType::kUtf8 || type == FieldType::kBytes) {
    d.encoding = Encoding::kStrings;
    for (uint32_t len : c.lengths) put_varint(raw, len);
    raw.insert(raw.end(), c.values.begin(), c.values.end());
  } else if (type == FieldType::kList) {
    d.encoding = Encoding::kList;
    put_varint(raw, c.field->items.size());
    for (const ItemInfo& it : c.field->items) {
      uint8_t le[2];
      store_le16(le, it.num);
      raw.insert(raw.end(), le, le + 2);
      raw.push_back(uint8_t(it.type));
    }
    raw.insert(raw.end(), c.values.begin(), c.values.end());
  } else {  // f64, MAC
    d.encoding = Encoding::kPlain;
    raw.insert(raw.end(), c.values.begin(), c.values.end());
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
                     std::span<const uint8_t> raw, uint32_t rows, ColumnData& out, Arena& arena) {
  out.field = &field;
  out.dir = d.dir;
  out.rows = rows;
  out.present.clear();
  out.ints.clear();
  out.doubles.clear();
  out.ips.clear();
  out.macs.clear();
  out.strings.clear();
  out.lists.clear();
  if (d.type != uint8_t(field.type)) return corrupt(field, "value type differs from the field's");
  Reader in{raw.data(), raw.data() + raw.size()};
  size_t n = rows;
  if (d.bitmap) {
    const uint8_t* bm = nullptr;
    if (!in.take((rows + 7) / 8, &bm)) return corrupt(field, "presence bitmap cut short");
    out.present.resize(rows);
    n = 0;
    for (uint32_t i = 0; i < rows; ++i) n += out.present[i] = bm[i / 8] >> (i % 8) & 1;
  }
  // Values of the present rows, then spread over the rows.
  const FieldType type = field.type;
  const size_t width = plain_size(type);
  std::vector<uint64_t> ints;
  if (is_integer(type)) {
    ints.reserve(n);
    switch (d.encoding) {
      case Encoding::kPlain: {
        const uint8_t* at = nullptr;
        if (!in.take(n * width, &at)) return corrupt(field, "values cut short");
        for (size_t i = 0; i < n; ++i) ints.push_back(load_plain(at + i * width, width));
        break;
      }
      case Encoding::kFrameOfReference: {
        const uint8_t* at = nullptr;
        if (!in.take(9, &at)) return corrupt(field, "frame of reference cut short");
        uint64_t base = load_le64(at);
        int b = at[8];
        if (b > 64) return corrupt(field, "bit width over 64");
        if (!unpack_bits(in.p, in.end, n, base, b, ints)) return corrupt(field, "values cut short");
        break;
      }
      case Encoding::kDelta: {
        uint64_t prev = 0;
        for (size_t i = 0; i < n; ++i) {
          prev += uint64_t(unzigzag(in.varint()));
          ints.push_back(prev);
        }
        if (!in.ok) return corrupt(field, "deltas cut short");
        break;
      }
      default:
        return corrupt(field, "encoding does not suit an integer column");
    }
    // A value wider than the field's type cannot have been written by a writer.
    if (width < 8) {
      uint64_t limit = uint64_t(1) << (width * 8);
      for (uint64_t x : ints)
        if (x >= limit) return corrupt(field, "value out of the type's range");
    }
    out.ints.assign(rows, 0);
  } else if (type == FieldType::kIp) {
    out.ips.assign(rows, IpAddress());
  } else if (type == FieldType::kF64) {
    out.doubles.assign(rows, 0);
  } else if (type == FieldType::kMac) {
    out.macs.assign(rows, MacAddress());
  } else if (type == FieldType::kUtf8 || type == FieldType::kBytes) {
    out.strings.assign(rows, {});
  } else if (type == FieldType::kList) {
    out.lists.assign(rows, ListRef{nullptr, 0, &field});
  }

  std::vector<uint64_t> lengths;
  const uint8_t* string_bytes = nullptr;
  // List schema: for each stored item field, the item it sets (nullptr: unknown, skipped).
  std::vector<std::pair<const ItemInfo*, FieldType>> schema;
  if (type == FieldType::kUtf8 || type == FieldType::kBytes) {
    if (d.encoding != Encoding::kStrings) return corrupt(field, "encoding does not suit strings");
    uint64_t total = 0;
    for (size_t i = 0; i < n; ++i) total += lengths.emplace_back(in.varint());
    if (!in.ok || total > size_t(in.end - in.p)) return corrupt(field, "strings cut short");
    in.take(total, &string_bytes);
  } else if (type == FieldType::kList) {
    if (d.encoding != Encoding::kList) return corrupt(field, "encoding does not suit a list");
    uint64_t k = in.varint();
    if (!in.ok || k > 256) return corrupt(field, "list schema unreadable");
    for (uint64_t i = 0; i < k; ++i) {
      const uint8_t* at = nullptr;
      if (!in.take(3, &at)) return corrupt(field, "list schema cut short");
      uint16_t num = load_le16(at);
      auto t = FieldType(at[2]);
      if (at[2] > uint8_t(FieldType::kList)) return corrupt(field, "list item of unknown type");
      const ItemInfo* item = nullptr;
      for (const ItemInfo& it : field.items)
        if (it.num == num && it.type == t) item = &it;
      schema.emplace_back(item, t);
    }
  } else if (type == FieldType::kIp) {
    if (d.encoding != Encoding::kIpv4 && d.encoding != Encoding::kPlain)
      return corrupt(field, "encoding does not suit addresses");
    size_t each = d.encoding == Encoding::kIpv4 ? 4 : 16;
    if (size_t(in.end - in.p) < n * each) return corrupt(field, "addresses cut short");
  } else if (!is_integer(type)) {
    if (d.encoding != Encoding::kPlain) return corrupt(field, "encoding does not suit the type");
    if (size_t(in.end - in.p) < n * width) return corrupt(field, "values cut short");
  }

  size_t k = 0;  // the next present value
  size_t string_at = 0;
  for (uint32_t row = 0; row < rows; ++row) {
    if (!out.present.empty() && !out.present[row]) continue;
    switch (type) {
      case FieldType::kIp:
        if (d.encoding == Encoding::kIpv4) {
          out.ips[row] = IpAddress::v4(in.p + k * 4);
        } else {
          out.ips[row] = IpAddress::v6(in.p + k * 16);
        }
        break;
      case FieldType::kF64:
        out.doubles[row] = std::bit_cast<double>(load_le64(in.p + k * 8));
        break;
      case FieldType::kMac:
        std::memcpy(out.macs[row].b.data(), in.p + k * 6, 6);
        break;
      case FieldType::kUtf8:
      case FieldType::kBytes:
        out.strings[row] = arena.copy(
            {reinterpret_cast<const char*>(string_bytes + string_at), size_t(lengths[k])});
        string_at += lengths[k];
        break;
      case FieldType::kList: {
        uint64_t count = in.varint();
        // Each item takes at least a byte per schema field; a count beyond the bytes left lies.
        if (!in.ok || count > size_t(in.end - in.p)) return corrupt(field, "list cut short");
        void* items = arena.allocate(std::max<size_t>(1, count * field.item_size));
        field.init_items(items, uint32_t(count));
        for (uint64_t i = 0; i < count; ++i) {
          void* item = static_cast<uint8_t*>(items) + i * field.item_size;
          for (auto [info, t] : schema) {
            FieldValue v = read_single(in, t, arena);
            if (!in.ok) return corrupt(field, "list item cut short");
            if (info) info->set(item, v);
          }
        }
        out.lists[row] = ListRef{items, uint32_t(count), &field};
        break;
      }
      default:
        out.ints[row] = ints[k];
        break;
    }
    ++k;
  }
  return {};
}

}  // namespace flowkit::store
