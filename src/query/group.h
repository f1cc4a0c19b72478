// Grouping for statistics (-s) and aggregation (-A): the rows of blocks summed per key in
// open-addressing hash tables split in partitions by hash. Threads either fill one partition
// each of one table (keys of many values) or a table each, merged partition by partition. A
// table that would outgrow its memory says so instead of growing (the query stops with a
// message, never the OOM killer).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/field_registry.h"
#include "core/huge_region.h"
#include "core/result.h"
#include "query/values.h"
#include "store/block.h"

namespace flowkit::query {

// One part of a key: a number (a column or a derived value), an address (kept to `prefix` bits
// of its 16 bytes; IPv4 counts from bit 96) or a string.
struct KeyPart {
  enum Kind : uint8_t { kNumber, kAddress, kString } kind = kNumber;
  Source src;    // kNumber
  Column col{};  // kAddress, kString
  int prefix = 128;
  bool absent_is_zero = false;  // nfdump's view of AS numbers and interfaces
  std::string title;            // nfdump's column title ("Src IP Addr")
};

// nfdump's names (srcip dstip srcport dstport proto srcas dstas inif outif router tos vlan
// srcnet/N dstnet/N, srcip4/N...) or a registry field name, as -s and -A take them. `ip`,
// `port` and `as` give two parts (src and dst), each a key of its own for -s. kInvalidArgument
// naming what is known.
Result<std::vector<KeyPart>> parse_key_name(std::string_view name);

struct GroupSpec {
  // Each row adds to the key of each tuple (twice to one key that two tuples give, as nfdump
  // counts both ends); the tuples have parts of the same kinds.
  std::vector<std::vector<KeyPart>> tuples;
  // Whether the keys may take millions of values (addresses, ports, strings, wide numbers),
  // rather than a few (protocols, ToS).
  bool high_cardinality() const;
};
// The columns grouping reads.
void group_inputs(const GroupSpec& spec, std::vector<Column>& out);

struct Counters {
  uint64_t flows = 0, packets = 0, bytes = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  uint8_t protocol = 0;  // of the group's flows, when they share one
  bool mixed = false;
};

// Sums of a measure per bucket of key hashes: for each key an upper bound of its sum, with which
// a second pass over the rows keeps only the keys that may be among the largest (top-N
// statistics of millions of keys without a table of them all).
enum class Measure { kFlows, kPackets, kBytes };
class Sketch {
 public:
  static constexpr size_t kBuckets = size_t(1) << 20;
  Sketch();
  void add(uint64_t hash, uint64_t w) { sums_[hash & (kBuckets - 1)] += w; }
  [[gnu::always_inline]] void prefetch(uint64_t hash) const {
    __builtin_prefetch(&sums_[hash & (kBuckets - 1)]);
  }
  uint64_t bound(uint64_t hash) const { return sums_[hash & (kBuckets - 1)]; }
  void merge(const Sketch& o);
  // The k-th largest bucket's sum (0 when k is 0 or beyond the buckets).
  uint64_t kth(size_t k) const;

 private:
  // 8 MiB a sketch, every page of which a scan touches: in 2 MiB pages populated at once where
  // the kernel allows (page faults on 4 KiB pages cost a top-10 query a tenth of its time).
  HugeRegion region_;
  std::vector<uint64_t> fallback_;  // when it does not
  uint64_t* sums_;
};

class GroupTable {
 public:
  // A group: its counters, then its key (fixed-size keys inline, strings in the partition's
  // arena). Groups are stored densely in the order they appear; a hash index of 8 bytes a
  // group points at them, so that a table of millions of groups touches (and has the kernel
  // zero) a third of the memory that slots holding whole groups did.
  struct Entry {
    Counters c;
  };
  // max_bytes: for the whole table, shared evenly by its partitions.
  GroupTable(const GroupSpec& spec, size_t max_bytes, unsigned partitions = 1);
  GroupTable(GroupTable&&) noexcept;
  ~GroupTable();

  // Adds the block's rows with mask[row] != 0, their counters from `totals` (only the keys of
  // partition `only_part` when it is not -1: threads that each see every block fill a partition
  // each, no merge needed). False (and nothing more added) once a partition would outgrow its share
  // of max_bytes.
  // With `admit`, only keys whose bound in the sketch reaches `min` are added: a bit per bucket
  // (128 KiB, which stays in cache where the sums would not).
  struct Admission {
    Admission(const Sketch& s, uint64_t min);
    uint64_t min;
    std::vector<uint64_t> bits;
    bool lets_in(uint64_t hash) const {
      const size_t b = hash & (Sketch::kBuckets - 1);
      return bits[b / 64] >> (b % 64) & 1;
    }
  };
  bool add(const store::Block& b, std::span<const uint8_t> mask, const RowTotals& totals,
           int only_part = -1, const Admission* admit = nullptr);
  // Adds the measure of each key of the block's rows (mask[row] != 0) to the sketch.
  void sketch(const store::Block& b, std::span<const uint8_t> mask, const RowTotals& totals,
              Measure m, Sketch& s) const;
  // Adds partition p of `other` (which has as many) to partition p of this one; different
  // partitions may merge at the same time on different threads.
  bool merge_part(const GroupTable& other, unsigned p);

  unsigned partitions() const { return unsigned(parts_.size()); }
  size_t size() const;
  std::vector<const Entry*> entries() const;
  std::span<const uint8_t> key(const Entry& e) const;
  // The value of each part of a key, as text ("10.0.0.0/24", "TCP", "443").
  std::vector<std::string> key_text(std::span<const uint8_t> key) const;
  // A record holding the key's values and the counters (flows in `flows`); its strings point
  // into this table.
  FlowRecord record(const Entry& e) const;

 private:
  struct Part;

  const GroupSpec& spec_;
  size_t key_size_ = 0;  // of every key; 0: keys differ in size (strings)
  std::vector<std::unique_ptr<Part>> parts_;
};

}  // namespace flowkit::query
