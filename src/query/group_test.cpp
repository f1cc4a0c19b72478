// Group tables against sums kept in std::map: address and string keys, index growth, partitions
// filled by separate threads' passes, merging, and the memory limit.
#include "query/group.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "core/field_registry.h"
#include "query/values.h"
#include "store/block.h"

namespace flowkit::query {
namespace {

struct Sums {
  uint64_t flows = 0, bytes = 0;
  int64_t first = INT64_MAX;
};

// n records from `distinct` sources (and as many SNIs), each with its own byte count.
std::vector<FlowRecord> records(size_t n, uint32_t distinct, std::vector<std::string>& names) {
  names.clear();
  for (uint32_t k = 0; k < distinct; ++k) names.push_back("host-" + std::to_string(k * 7919));
  std::vector<FlowRecord> out(n);
  for (size_t i = 0; i < n; ++i) {
    FlowRecord& r = out[i];
    const uint32_t k = uint32_t((i * 2654435761u) % distinct);
    r.ip_version = k % 5 == 0 ? 6 : 4;
    uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
    v6[12] = uint8_t(k >> 24), v6[13] = uint8_t(k >> 16), v6[14] = uint8_t(k >> 8);
    v6[15] = uint8_t(k);
    r.src_ip = r.ip_version == 6 ? IpAddress::v6(v6) : IpAddress::v4(0x0a000000 + k);
    r.dst_ip = r.ip_version == 6 ? IpAddress::v6(v6) : IpAddress::v4(0xc0a80001);
    r.protocol = 6;
    r.fwd.packets = 1;
    r.fwd.bytes = 40 + i % 1000;
    r.fwd.first = Timestamp{int64_t(1'000'000'000 + i)};
    r.fwd.last = r.fwd.first;
    field_info(FieldId::kTlsSni).set(r, Direction::kForward, std::string_view(names[k]));
  }
  return out;
}

// The table's groups by their key's text.
std::map<std::string, Sums> groups(const GroupTable& t) {
  std::map<std::string, Sums> out;
  for (const GroupTable::Entry* e : t.entries()) {
    Sums& s = out[t.key_text(t.key(*e))[0]];
    EXPECT_EQ(s.flows, 0u) << "a key held twice";
    s = {e->c.flows, e->c.bytes, e->c.first};
  }
  return out;
}

std::map<std::string, Sums> expected(const std::vector<FlowRecord>& rs, bool sni) {
  std::map<std::string, Sums> out;
  for (const FlowRecord& r : rs) {
    Sums& s = out[sni ? std::string(r.app.tls_sni) : r.src_ip.to_string()];
    ++s.flows;
    s.bytes += r.fwd.bytes;
    s.first = std::min(s.first, r.fwd.first.ns);
  }
  return out;
}

// Every group of `want` in `got` with the same sums, and no other.
void expect_same(const std::map<std::string, Sums>& want, const std::map<std::string, Sums>& got) {
  ASSERT_EQ(got.size(), want.size());
  for (const auto& [key, s] : want) {
    auto it = got.find(key);
    ASSERT_TRUE(it != got.end()) << key;
    EXPECT_EQ(it->second.flows, s.flows) << key;
    EXPECT_EQ(it->second.bytes, s.bytes) << key;
    EXPECT_EQ(it->second.first, s.first) << key;
  }
}

// Adds the records a block of 4096 at a time; `part` as GroupTable::add takes it.
bool add_all(GroupTable& t, const GroupSpec& spec, const std::vector<FlowRecord>& rs,
             int part = -1) {
  std::vector<Column> want;
  group_inputs(spec, want);
  source_inputs({Derived::kPps, {}}, want);
  store::Block b;
  RowTotals totals;
  for (size_t i = 0; i < rs.size(); i += 4096) {
    std::span<const FlowRecord> some(rs.data() + i, std::min<size_t>(4096, rs.size() - i));
    store::records_to_block(some, want, b);
    totals.read(b);
    if (!t.add(b, {}, totals, part)) return false;
  }
  return true;
}

GroupSpec spec_of(std::string_view name) {
  GroupSpec spec;
  auto parts = parse_key_name(name);
  EXPECT_TRUE(parts.ok()) << parts.status().message();
  spec.tuples.push_back(*parts);
  return spec;
}

// The k-th largest bucket, as nth_element finds it, ties and merges included.
TEST(Sketch, KthIsTheKthLargestBucket) {
  std::mt19937_64 rng(3);
  Sketch a, b;
  std::vector<uint64_t> sums(Sketch::kBuckets);
  for (int i = 0; i < 300000; ++i) {
    uint64_t h = rng(), w = rng() % 4 ? rng() % 100 : rng() % 1'000'000;
    (i % 2 ? a : b).add(h, w);
    sums[h & (Sketch::kBuckets - 1)] += w;
  }
  a.merge(b);
  std::sort(sums.begin(), sums.end(), std::greater<>());
  for (size_t k : {size_t(1), size_t(10), size_t(4096), size_t(200000), Sketch::kBuckets})
    EXPECT_EQ(a.kth(k), sums[k - 1]) << k;
  EXPECT_EQ(a.kth(0), 0u);
  EXPECT_EQ(a.kth(Sketch::kBuckets + 1), 0u);
}

TEST(GroupTable, AddressKeysSumAsAMapDoesThroughIndexGrowth) {
  std::vector<std::string> names;
  const auto rs = records(200'000, 50'000, names);
  const GroupSpec spec = spec_of("srcip");
  GroupTable t(spec, size_t(1) << 30, 2);
  ASSERT_TRUE(add_all(t, spec, rs));
  EXPECT_EQ(t.size(), 50'000u);
  expect_same(expected(rs, false), groups(t));
}

TEST(GroupTable, StringKeysAndPartitionsFilledOnePassEach) {
  std::vector<std::string> names;
  const auto rs = records(60'000, 20'000, names);
  const GroupSpec spec = spec_of("tls_sni");
  GroupTable t(spec, size_t(1) << 30, 2);
  ASSERT_TRUE(add_all(t, spec, rs, 0));
  ASSERT_TRUE(add_all(t, spec, rs, 1));
  expect_same(expected(rs, true), groups(t));
}

TEST(GroupTable, MergedTablesEqualOne) {
  std::vector<std::string> names;
  const auto rs = records(30'000, 10'000, names);
  const GroupSpec spec = spec_of("srcip");
  std::vector<FlowRecord> a(rs.begin(), rs.begin() + 12'345), b(rs.begin() + 12'345, rs.end());
  GroupTable whole(spec, size_t(1) << 30, 3), left(spec, size_t(1) << 30, 3),
      right(spec, size_t(1) << 30, 3);
  ASSERT_TRUE(add_all(whole, spec, rs));
  ASSERT_TRUE(add_all(left, spec, a));
  ASSERT_TRUE(add_all(right, spec, b));
  for (unsigned p = 0; p < 3; ++p) ASSERT_TRUE(left.merge_part(right, p));
  expect_same(groups(whole), groups(left));
}

TEST(GroupTable, StopsAtItsMemoryLimit) {
  std::vector<std::string> names;
  const auto rs = records(100'000, 100'000, names);
  for (const char* name : {"srcip", "tls_sni"}) {
    const GroupSpec spec = spec_of(name);
    GroupTable t(spec, 1 << 20, 2);
    EXPECT_FALSE(add_all(t, spec, rs)) << name;
    EXPECT_GT(t.size(), 1000u) << name;
    EXPECT_LT(t.size(), 20'000u) << name;
  }
}

}  // namespace
}  // namespace flowkit::query
