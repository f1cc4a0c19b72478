#include "query/group.h"

#include <fmt/core.h>
#include <sys/mman.h>
#define XXH_INLINE_ALL  // keys of 8 to 32 bytes: the call would cost as much as the hash
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cstring>
#include <new>
#include <utility>

#include "export/line_writer.h"

namespace flowkit::query {
namespace {

KeyPart number(Source src, std::string title, bool zero = false) {
  KeyPart p;
  p.kind = KeyPart::kNumber;
  p.src = src;
  p.title = std::move(title);
  p.absent_is_zero = zero;
  return p;
}
KeyPart address(Column col, std::string title) {
  KeyPart p;
  p.kind = KeyPart::kAddress;
  p.col = col;
  p.title = std::move(title);
  return p;
}
KeyPart column_part(FieldId id, std::string title, bool zero = false) {
  return number({Derived::kNone, column(id)}, std::move(title), zero);
}

void accumulate(Counters& into, const Counters& c) {
  if (into.flows == 0) {
    into.protocol = c.protocol;
    into.mixed = c.mixed;
  } else if (c.mixed || c.protocol != into.protocol) {
    into.mixed = true;
  }
  into.flows += c.flows;
  into.packets += c.packets;
  into.bytes += c.bytes;
  into.first = std::min(into.first, c.first);
  into.last = std::max(into.last, c.last);
}

// What a block offers for one part of a key.
struct PartData {
  Numbers numbers;
  const store::ColumnData* column = nullptr;
};

}  // namespace

Result<std::vector<KeyPart>> parse_key_name(std::string_view spec) {
  std::string_view name = spec;
  int bits = -1;
  if (size_t slash = spec.find('/'); slash != std::string_view::npos) {
    name = spec.substr(0, slash);
    std::string_view n = spec.substr(slash + 1);
    bits = 0;
    for (char c : n) {
      if (c < '0' || c > '9' || bits > 128) {
        bits = -2;
        break;
      }
      bits = bits * 10 + (c - '0');
    }
    if (n.empty() || bits < 0 || bits > 128)
      return Status::invalid_argument(std::string(spec) + ": give a prefix length after '/'");
  }
  // srcip4/N and srcip6/N are nfdump's aggregation masks; srcnet/N the same.
  auto net = [&](FieldId id, std::string title) -> Result<std::vector<KeyPart>> {
    KeyPart p = address(column(id), std::move(title));
    if (bits >= 0) {
      bool v6 = name.ends_with("6");
      if (bits > (v6 ? 128 : 32))
        return Status::invalid_argument(std::string(spec) + ": prefix longer than the address");
      p.prefix = v6 ? bits : bits + 96;
    }
    return std::vector<KeyPart>{p};
  };
  if (name == "srcip" || name == "srcip4" || name == "srcip6" || name == "srcnet")
    return net(FieldId::kSrcIp, bits >= 0 ? "Src Net" : "Src IP Addr");
  if (name == "dstip" || name == "dstip4" || name == "dstip6" || name == "dstnet")
    return net(FieldId::kDstIp, bits >= 0 ? "Dst Net" : "Dst IP Addr");
  if (bits >= 0) return Status::invalid_argument(std::string(spec) + ": only addresses take '/N'");
  if (name == "ip")
    return std::vector<KeyPart>{address(column(FieldId::kSrcIp), "IP Addr"),
                                address(column(FieldId::kDstIp), "IP Addr")};
  if (name == "srcport") return std::vector<KeyPart>{number({Derived::kNfSrcPort, {}}, "Src Port")};
  if (name == "dstport") return std::vector<KeyPart>{number({Derived::kNfDstPort, {}}, "Dst Port")};
  if (name == "port")
    return std::vector<KeyPart>{number({Derived::kNfSrcPort, {}}, "Port"),
                                number({Derived::kNfDstPort, {}}, "Port")};
  if (name == "proto") return std::vector<KeyPart>{column_part(FieldId::kProtocol, "Protocol")};
  if (name == "srcas") return std::vector<KeyPart>{column_part(FieldId::kSrcAs, "Src AS", true)};
  if (name == "dstas") return std::vector<KeyPart>{column_part(FieldId::kDstAs, "Dst AS", true)};
  if (name == "as")
    return std::vector<KeyPart>{column_part(FieldId::kSrcAs, "AS", true),
                                column_part(FieldId::kDstAs, "AS", true)};
  if (name == "inif") return std::vector<KeyPart>{column_part(FieldId::kInIf, "Input If", true)};
  if (name == "outif") return std::vector<KeyPart>{column_part(FieldId::kOutIf, "Output If", true)};
  if (name == "router")
    return std::vector<KeyPart>{address(column(FieldId::kExporterIp), "Router")};
  if (name == "tos") return std::vector<KeyPart>{column_part(FieldId::kTos, "Tos")};
  if (name == "vlan") return std::vector<KeyPart>{column_part(FieldId::kVlanId, "Vlan")};
  Direction dir = Direction::kForward;
  const FieldInfo* f = find_field(name, &dir);
  if (!f || f->type == FieldType::kList || (f->derived && f->id != FieldId::kDuration))
    return Status::invalid_argument(
        std::string(spec) +
        ": give srcip, dstip, ip, srcport, dstport, port, proto, srcas, dstas, as, inif, "
        "outif, router, tos, vlan, srcnet/N, dstnet/N or a field name (flowkit fields lists "
        "them)");
  KeyPart p;
  p.title = std::string(name);
  if (f->id == FieldId::kDuration) {
    p.src = {Derived::kDurationS, {}};
  } else if (f->type == FieldType::kIp) {
    p.kind = KeyPart::kAddress;
  } else if (f->type == FieldType::kUtf8 || f->type == FieldType::kBytes) {
    p.kind = KeyPart::kString;
  } else {
    p.src = {Derived::kNone, {f, dir}};
  }
  p.col = {f, dir};
  return std::vector<KeyPart>{p};
}

void group_inputs(const GroupSpec& spec, std::vector<Column>& out) {
  for (const auto& tuple : spec.tuples)
    for (const KeyPart& p : tuple) {
      if (p.kind == KeyPart::kNumber)
        source_inputs(p.src, out);
      else
        out.push_back(p.col);
    }
  out.push_back(column(FieldId::kProtocol));  // the counters come from the scan's RowTotals
}

namespace {

// Memory mapped zeroed, in huge pages once it is worth one (a table of millions of groups
// otherwise spends much of its time in page faults). Pages are only backed once touched, so a
// mapping may reserve room for entries not yet made.
class Mapped {
 public:
  explicit Mapped(size_t bytes) {
    const size_t unit = bytes >= (2 << 20) ? 2 << 20 : 4096;
    bytes_ = std::max(unit, (bytes + unit - 1) / unit * unit);
    void* p = mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    madvise(p, bytes_, MADV_HUGEPAGE);
    data_ = static_cast<uint8_t*>(p);
  }
  Mapped(Mapped&& o) noexcept : data_(std::exchange(o.data_, nullptr)), bytes_(o.bytes_) {}
  Mapped& operator=(Mapped&& o) noexcept {
    std::swap(data_, o.data_);
    std::swap(bytes_, o.bytes_);
    return *this;
  }
  ~Mapped() {
    if (data_) munmap(data_, bytes_);
  }
  size_t bytes() const { return bytes_; }
  uint8_t* data() const { return data_; }

 private:
  uint8_t* data_ = nullptr;
  size_t bytes_ = 0;
};

// The address space reserved for a partition's entries: its memory budget, or less where the
// system will not map that much.
Mapped reserve(size_t bytes) {
  for (;; bytes /= 2) {
    try {
      return Mapped(bytes);
    } catch (const std::bad_alloc&) {
      if (bytes < (1 << 20)) throw;
    }
  }
}

}  // namespace

// A partition: its entries one after another (`stride` bytes each) and an open-addressing index
// of them. An index slot holds 32 bits of the key's hash (the tag, which also places it) and the
// entry's number plus one (0: empty), so the index grows without reading the entries, and a
// lookup reads an entry only when the tags agree.
struct GroupTable::Part {
  Part(uint32_t index, size_t max, size_t stride, size_t key_size)
      : index(index),
        max_bytes(max),
        stride(stride),
        key_size(key_size),
        slots(1024 * 8),
        entries(reserve(max)) {
    // Each partition mixes the hash with its own seed, so that the tags (which place keys) do
    // not follow the hash bits that chose the partition.
    static std::atomic<uint64_t> parts{0};
    seed = (++parts) * 0x9E3779B97F4A7C15ull;
  }
  uint32_t tag_of(uint64_t hash) const {
    return uint32_t(((hash ^ seed) * 0xD6E8FEB86659FD93ull) >> 32);
  }
  size_t slot_count() const { return slots.bytes() / 8; }
  uint64_t* slot_data() const { return reinterpret_cast<uint64_t*>(slots.data()); }
  // Slots are a power of two; the tag's top bits place a key.
  size_t home(uint32_t tag) const { return tag >> (32 - std::countr_zero(slot_count())); }
  Entry& at(size_t i) const { return *reinterpret_cast<Entry*>(entries.data() + i * stride); }
  uint8_t* key_area(const Entry& e) const {
    return reinterpret_cast<uint8_t*>(const_cast<Entry*>(&e)) + sizeof(Entry);
  }
  size_t memory() const { return slots.bytes() + size * stride + keys.capacity(); }

  void grow() {
    Mapped bigger(slots.bytes() * 2);
    const size_t n = bigger.bytes() / 8, mask = n - 1, shift = 32 - std::countr_zero(n);
    auto* to = reinterpret_cast<uint64_t*>(bigger.data());
    for (size_t k = 0; k < slot_count(); ++k) {
      uint64_t s = slot_data()[k];
      if (!s) continue;
      size_t i = uint32_t(s >> 32) >> shift;
      while (to[i]) i = (i + 1) & mask;
      to[i] = s;
    }
    slots = std::move(bigger);
  }
  std::span<const uint8_t> key(const Entry& e,
                               const std::vector<std::unique_ptr<Part>>& all) const {
    const uint8_t* area = key_area(e);
    if (key_size) return {area, key_size};
    uint64_t at = 0;
    uint32_t n = 0, part = 0;
    std::memcpy(&at, area, 8);
    std::memcpy(&n, area + 8, 4);
    std::memcpy(&part, area + 12, 4);
    return {all[part]->keys.data() + at, n};
  }
  bool same_key(const Entry& e, std::span<const uint8_t> key) const {
    const uint8_t* area = key_area(e);
    if (key_size == 16) {  // an address: two words, not a call
      uint64_t a[2], b[2];
      std::memcpy(a, area, 16);
      std::memcpy(b, key.data(), 16);
      return a[0] == b[0] && a[1] == b[1];
    }
    if (key_size) return std::memcmp(area, key.data(), key_size) == 0;
    uint64_t at = 0;
    uint32_t n = 0;
    std::memcpy(&at, area, 8);
    std::memcpy(&n, area + 8, 4);
    return n == key.size() && std::memcmp(keys.data() + at, key.data(), n) == 0;
  }
  bool add(std::span<const uint8_t> key, uint64_t hash, const Counters& c) {
    const uint32_t tag = tag_of(hash);
    uint64_t* s = slot_data();
    size_t mask = slot_count() - 1, i = home(tag);
    for (; s[i]; i = (i + 1) & mask) {
      if (uint32_t(s[i] >> 32) != tag) continue;
      Entry& e = at(uint32_t(s[i]) - 1);
      if (same_key(e, key)) {
        accumulate(e.c, c);
        return true;
      }
    }
    // A new group: room for it first (the index doubles at 60% full).
    bool grows = (size + 1) * 10 > slot_count() * 6;
    size_t need = (grows ? slots.bytes() * 2 : 0) + stride + (key_size ? 0 : key.size());
    if (memory() + need > max_bytes || (size + 1) * stride > entries.bytes() ||
        size + 1 >= UINT32_MAX)
      return false;
    Entry& e = at(size);
    e.c = c;
    uint8_t* area = key_area(e);
    if (key_size) {
      std::memcpy(area, key.data(), key_size);
    } else {
      uint64_t where = keys.size();
      uint32_t n = uint32_t(key.size());
      std::memcpy(area, &where, 8);
      std::memcpy(area + 8, &n, 4);
      std::memcpy(area + 12, &index, 4);
      keys.insert(keys.end(), key.begin(), key.end());
    }
    s[i] = uint64_t(tag) << 32 | (size + 1);
    ++size;
    if (grows) grow();
    return true;
  }
  [[gnu::always_inline]] void prefetch_slot(uint64_t hash) const {
    __builtin_prefetch(&slot_data()[home(tag_of(hash))]);
  }
  // The entry of the first slot from the key's home with its tag (very likely the key's own).
  [[gnu::always_inline]] void prefetch_entry(uint64_t hash) const {
    const uint32_t tag = tag_of(hash);
    const uint64_t* s = slot_data();
    for (size_t i = home(tag), mask = slot_count() - 1; s[i]; i = (i + 1) & mask)
      if (uint32_t(s[i] >> 32) == tag) return __builtin_prefetch(&at(uint32_t(s[i]) - 1));
  }

  uint32_t index;
  size_t max_bytes;
  size_t stride, key_size;
  Mapped slots;  // the index
  Mapped entries;
  size_t size = 0;
  uint64_t seed = 0;
  std::vector<uint8_t> keys;  // the keys of tables whose keys differ in size
};

GroupTable::GroupTable(const GroupSpec& spec, size_t max_bytes, unsigned partitions) : spec_(spec) {
  partitions = std::max(1u, partitions);
  for (const KeyPart& p : spec.tuples.at(0)) {
    if (p.kind == KeyPart::kString) {
      key_size_ = 0;
      break;
    }
    key_size_ += p.kind == KeyPart::kAddress ? 16 : 8;
  }
  // Strings: where the key is and its size (16 bytes); other keys inline.
  const size_t stride = sizeof(Entry) + (key_size_ ? (key_size_ + 7) / 8 * 8 : 16);
  for (unsigned p = 0; p < partitions; ++p)
    parts_.push_back(std::make_unique<Part>(p, max_bytes / partitions, stride, key_size_));
}
GroupTable::GroupTable(GroupTable&&) noexcept = default;
GroupTable::~GroupTable() = default;

size_t GroupTable::size() const {
  size_t n = 0;
  for (const auto& p : parts_) n += p->size;
  return n;
}

std::vector<const GroupTable::Entry*> GroupTable::entries() const {
  std::vector<const Entry*> out;
  out.reserve(size());
  for (const auto& p : parts_)
    for (size_t i = 0; i < p->size; ++i) out.push_back(&p->at(i));
  return out;
}

std::span<const uint8_t> GroupTable::key(const Entry& e) const {
  return parts_[0]->key(e, parts_);
}

bool GroupSpec::high_cardinality() const {
  for (const auto& tuple : tuples)
    for (const KeyPart& p : tuple) {
      if (p.kind != KeyPart::kNumber) return true;  // addresses, strings
      if (p.src.kind == Derived::kNfSrcPort || p.src.kind == Derived::kNfDstPort) return true;
      if (p.src.kind == Derived::kNone && p.src.col.field->type != FieldType::kU8 &&
          p.src.col.field->type != FieldType::kEndReason &&
          p.src.col.field->type != FieldType::kTunnelType)
        return true;
    }
  return false;
}

namespace {

struct Pending {
  uint32_t row, part;
  uint32_t at, size;  // of the key in the batch's bytes
  uint64_t hash;
};

// Makes the key of each tuple of the spec for the block's rows that pass and hashes it. Rows go
// in batches: their keys are made (in place, at the end of `batch`) and hashed, and `keep(part,
// hash)` says whether a key is wanted (and may prefetch what it will touch), before
// `take(pending, n, bytes)` has the batch, so that the cache misses of a batch overlap.
// False when `take` says stop.
template <class Keep, class Take>
bool each_key(const GroupSpec& spec, size_t parts_n, const store::Block& b,
              std::span<const uint8_t> mask, Keep&& keep, Take&& take) {
  static thread_local std::vector<std::vector<PartData>> parts;
  parts.resize(spec.tuples.size());
  for (size_t t = 0; t < spec.tuples.size(); ++t) {
    parts[t].resize(spec.tuples[t].size());
    for (size_t k = 0; k < spec.tuples[t].size(); ++k) {
      const KeyPart& p = spec.tuples[t][k];
      PartData& d = parts[t][k];
      if (p.kind == KeyPart::kNumber) {
        read_numbers(p.src, b, d.numbers);
      } else {
        d.column = b.find(p.col.field->id, p.col.dir);
      }
    }
  }
  constexpr size_t kBatch = 64;
  // The batch's key bytes: `used` of `batch`, which only grows (resizing it per key cost as
  // much as making the key).
  static thread_local std::vector<uint8_t> batch;
  size_t used = 0;
  // Room for n more key bytes at the end of the batch.
  auto grow = [&](size_t n) {
    if (used + n > batch.size()) batch.resize(std::max(2 * batch.size(), used + n + 4096));
    used += n;
    return batch.data() + used - n;
  };
  // Appends the key of tuple t for a row to `batch`; false (and nothing appended) when a part
  // has no value.
  auto make_key = [&](size_t t, uint32_t row) {
    const size_t start = used;
    for (size_t k = 0; k < spec.tuples[t].size(); ++k) {
      const KeyPart& p = spec.tuples[t][k];
      const PartData& d = parts[t][k];
      if (p.kind == KeyPart::kNumber) {
        uint64_t v = 0;
        if (number_has(d.numbers, row)) {
          v = number_bits(d.numbers, row);
        } else if (!p.absent_is_zero) {
          used = start;
          return false;
        }
        std::memcpy(grow(8), &v, 8);
      } else if (!d.column || !d.column->has(row)) {
        used = start;
        return false;
      } else if (p.kind == KeyPart::kAddress) {
        const uint8_t* a = d.column->ips[row].bytes();
        uint8_t* o = grow(16);
        std::memcpy(o, a, 16);
        if (p.prefix < 128)
          for (int i = 0; i < 16; ++i)
            o[i] &= uint8_t(0xff00 >> std::clamp(p.prefix - i * 8, 0, 8));
      } else {
        std::string_view s = d.column->strings[row];
        uint32_t n = uint32_t(s.size());
        uint8_t* o = grow(4 + s.size());
        std::memcpy(o, &n, 4);
        std::memcpy(o + 4, s.data(), s.size());
      }
    }
    return true;
  };
  Pending pending[kBatch * 2];
  size_t n = 0;
  auto flush = [&] {
    bool more = n == 0 || take(static_cast<const Pending*>(pending), n, batch.data());
    n = 0;
    used = 0;
    return more;
  };
  for (uint32_t row = 0; row < b.rows; ++row) {
    if (!mask.empty() && !mask[row]) continue;
    // Both ends count, even when they give the same key (as nfdump counts them).
    for (size_t t = 0; t < spec.tuples.size(); ++t) {
      const size_t at = used;
      if (!make_key(t, row)) continue;
      const size_t size = used - at;
      const uint64_t hash = XXH3_64bits(batch.data() + at, size);
      // The partition from the hash's top bits, by a multiply rather than a division.
      const size_t part = size_t(((hash >> 32) * parts_n) >> 32);
      if (!keep(part, hash)) {
        used = at;
        continue;
      }
      pending[n++] = {row, uint32_t(part), uint32_t(at), uint32_t(size), hash};
    }
    if (n >= kBatch && !flush()) return false;
  }
  return flush();
}

}  // namespace

bool GroupTable::add(const store::Block& b, std::span<const uint8_t> mask, const RowTotals& totals,
                     int only_part, const Admission* admit) {
  const store::ColumnData* proto = b.find(FieldId::kProtocol);
  auto keep = [&](size_t part, uint64_t hash) {
    // Keys of another thread's partition are dropped.
    // ... and those that cannot be among the largest.
    if ((only_part >= 0 && part != size_t(only_part)) || (admit && !admit->lets_in(hash)))
      return false;
    parts_[part]->prefetch_slot(hash);
    return true;
  };
  auto take = [&](const Pending* pending, size_t n, const uint8_t* bytes) {
    // The slots, prefetched as the keys were made, are read to prefetch the entries.
    for (size_t k = 0; k < n; ++k) parts_[pending[k].part]->prefetch_entry(pending[k].hash);
    for (size_t k = 0; k < n; ++k) {
      const Pending& p = pending[k];
      Counters c;
      c.flows = 1;
      c.packets = uint64_t(totals.packets[p.row]);
      c.bytes = uint64_t(totals.bytes[p.row]);
      c.first = totals.first[p.row];
      c.last = totals.last[p.row];
      c.protocol = proto ? uint8_t(proto->ints[p.row]) : 0;
      if (!parts_[p.part]->add({bytes + p.at, p.size}, p.hash, c)) return false;
    }
    return true;
  };
  return each_key(spec_, parts_.size(), b, mask, keep, take);
}

void GroupTable::sketch(const store::Block& b, std::span<const uint8_t> mask,
                        const RowTotals& totals, Measure m, Sketch& s) const {
  auto keep = [&](size_t, uint64_t hash) {
    s.prefetch(hash);
    return true;
  };
  auto take = [&](const Pending* pending, size_t n, const uint8_t*) {
    for (size_t k = 0; k < n; ++k) {
      const uint32_t row = pending[k].row;
      s.add(pending[k].hash, m == Measure::kFlows     ? 1
                             : m == Measure::kPackets ? uint64_t(totals.packets[row])
                                                      : uint64_t(totals.bytes[row]));
    }
    return true;
  };
  each_key(spec_, parts_.size(), b, mask, keep, take);
}

GroupTable::Admission::Admission(const Sketch& s, uint64_t min)
    : min(min), bits(Sketch::kBuckets / 64) {
  for (size_t b = 0; b < Sketch::kBuckets; ++b)
    bits[b / 64] |= uint64_t(s.bound(b) >= min) << (b % 64);
}

Sketch::Sketch() : region_(kBuckets * sizeof(uint64_t)) {
  if (region_.commit(region_.capacity())) {
    sums_ = reinterpret_cast<uint64_t*>(region_.data());
  } else {
    fallback_.resize(kBuckets);
    sums_ = fallback_.data();
  }
}

uint64_t Sketch::kth(size_t k) const {
  if (k == 0 || k > kBuckets) return 0;
  // The k largest in a min-heap: most buckets are below its least and cost one comparison (a
  // copy of the sums for nth_element faulted in 8 MiB).
  std::vector<uint64_t> heap(sums_, sums_ + k);
  std::make_heap(heap.begin(), heap.end(), std::greater<>());
  for (size_t i = k; i < kBuckets; ++i) {
    if (sums_[i] <= heap.front()) continue;
    std::pop_heap(heap.begin(), heap.end(), std::greater<>());
    heap.back() = sums_[i];
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
  }
  return heap.front();
}

void Sketch::merge(const Sketch& o) {
  for (size_t i = 0; i < kBuckets; ++i) sums_[i] += o.sums_[i];
}

bool GroupTable::merge_part(const GroupTable& from, unsigned p) {
  const Part& src = *from.parts_[p];
  for (size_t i = 0; i < src.size; ++i) {
    const Entry& e = src.at(i);
    std::span<const uint8_t> key = src.key(e, from.parts_);
    if (!parts_[p]->add(key, XXH3_64bits(key.data(), key.size()), e.c)) return false;
  }
  return true;
}

std::vector<std::string> GroupTable::key_text(std::span<const uint8_t> key) const {
  std::vector<std::string> out;
  size_t at = 0;
  for (const KeyPart& p : spec_.tuples[0]) {
    if (p.kind == KeyPart::kString) {
      uint32_t n = 0;
      std::memcpy(&n, key.data() + at, 4);
      out.emplace_back(reinterpret_cast<const char*>(key.data() + at + 4), n);
      at += 4 + n;
      continue;
    }
    if (p.kind == KeyPart::kAddress) {
      IpAddress a = IpAddress::v6(key.data() + at);
      std::string text = a.to_string();
      if (p.prefix < 128) text += "/" + std::to_string(a.is_v4() ? p.prefix - 96 : p.prefix);
      out.push_back(std::move(text));
      at += 16;
      continue;
    }
    uint64_t v = 0;
    std::memcpy(&v, key.data() + at, 8);
    at += 8;
    if (source_is_double(p.src)) {
      out.push_back(fmt::format("{}", std::bit_cast<double>(v)));
    } else if (p.src.kind == Derived::kNone && p.src.col.field->id == FieldId::kProtocol) {
      std::string_view name = exporter::protocol_name(uint8_t(v));
      out.push_back(name.empty() ? std::to_string(v) : std::string(name));
    } else if (p.src.kind == Derived::kNone && p.src.col.field->type == FieldType::kMac) {
      MacAddress m;
      for (int i = 5; i >= 0; --i, v >>= 8) m.b[size_t(i)] = uint8_t(v);
      out.push_back(m.to_string());
    } else if (p.src.kind == Derived::kNone && p.src.col.field->type == FieldType::kTime) {
      out.push_back(std::to_string(int64_t(v)));
    } else {
      out.push_back(std::to_string(v));
    }
  }
  return out;
}

FlowRecord GroupTable::record(const Entry& e) const {
  FlowRecord r;
  r.ip_version = 4;
  std::span<const uint8_t> key = this->key(e);
  size_t at = 0;
  for (const KeyPart& p : spec_.tuples[0]) {
    if (p.kind == KeyPart::kString) {
      uint32_t n = 0;
      std::memcpy(&n, key.data() + at, 4);
      p.col.field->set(r, p.col.dir,
                       std::string_view(reinterpret_cast<const char*>(key.data() + at + 4), n));
      at += 4 + n;
      continue;
    }
    if (p.kind == KeyPart::kAddress) {
      IpAddress a = IpAddress::v6(key.data() + at);
      p.col.field->set(r, p.col.dir, a);
      if (!a.is_v4() && (p.col.field->id == FieldId::kSrcIp || p.col.field->id == FieldId::kDstIp))
        r.ip_version = 6;
      at += 16;
      continue;
    }
    uint64_t v = 0;
    std::memcpy(&v, key.data() + at, 8);
    at += 8;
    switch (p.src.kind) {
      case Derived::kNfSrcPort:
        r.src_port = uint16_t(v);
        break;
      case Derived::kNfDstPort:
        r.dst_port = uint16_t(v);
        r.fwd.icmp_type = uint8_t(v >> 8);
        r.fwd.icmp_code = uint8_t(v);
        break;
      case Derived::kNone: {
        const FieldInfo& f = *p.src.col.field;
        FieldValue value = v;
        if (f.type == FieldType::kF64) value = std::bit_cast<double>(v);
        if (f.type == FieldType::kTime) value = Timestamp{int64_t(v)};
        if (f.type == FieldType::kMac) {
          MacAddress m;
          for (int i = 5; i >= 0; --i, v >>= 8) m.b[size_t(i)] = uint8_t(v);
          value = m;
        }
        f.set(r, p.src.col.dir, value);
        break;
      }
      default:
        break;  // the duration is shown by first and last
    }
  }
  if (!r.protocol && !e.c.mixed) r.protocol = e.c.protocol;
  r.fwd.packets = e.c.packets;
  r.fwd.bytes = e.c.bytes;
  r.fwd.first = Timestamp{e.c.first};
  r.fwd.last = Timestamp{e.c.last};
  field_info(FieldId::kFlows).set(r, Direction::kForward, e.c.flows);
  return r;
}

}  // namespace flowkit::query
