// Top-N statistics from two passes (a sketch of bucket sums, then only the keys that may be
// among the largest) against the tables filled whole, on stores written here: the shortcut
// must give the same answer where it holds and say so where it does not.
#include "query/aggregate.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing/temp_dir.h"
#include "store/file_writer.h"

namespace flowkit::query {
namespace {

using flowkit::testing::TempDir;

// n flows: with `heavy`, 20 sources send large flows among many light ones; without, every
// source sends the same bytes.
std::string write_store(const TempDir& dir, size_t n, bool heavy) {
  const std::string path = dir.path() + (heavy ? "/heavy.fk" : "/even.fk");
  auto layer = store::create_file(path);
  EXPECT_TRUE(layer.ok());
  store::FileWriter w(std::move(*layer), {}, {});
  for (size_t i = 0; i < n; ++i) {
    FlowRecord r;
    r.ip_version = 4;
    r.protocol = 6;
    const bool big = heavy && i % 10 == 0;
    r.src_ip = IpAddress::v4(uint32_t(0x0a000000 + (big ? i / 10 % 20 : 1000 + i)));
    r.dst_ip = IpAddress::v4(0xc0a80001);
    r.fwd.packets = 1 + i % 3;
    r.fwd.bytes = big ? 100'000 + i % 7 : 1000;
    r.fwd.first = Timestamp{int64_t(1'700'000'000'000'000'000) + int64_t(i) * 1000};
    r.fwd.last = r.fwd.first;
    w.add(r);
  }
  EXPECT_TRUE(w.close().ok());
  return path;
}

struct Answer {
  bool shortcut = false;
  std::string text;
  uint64_t flows = 0;
};

Answer top(const std::string& path, const std::string& stat, size_t n, bool whole) {
  auto f = Filter::parse("");
  EXPECT_TRUE(f.ok());
  auto t = TopN::parse(stat);
  EXPECT_TRUE(t.ok()) << t.status().message();
  std::vector<TopN> stats{*t};
  std::vector<const GroupSpec*> specs{&stats[0].spec()};
  ScanPlan plan;
  plan.files = {path};
  plan.filter = &*f;
  plan.threads = 2;
  group_inputs(stats[0].spec(), plan.columns);
  std::vector<GroupTable> tables;
  tables.emplace_back(stats[0].spec(), size_t(1) << 30, 2);
  ScanCounts counts;
  Answer a;
  bool scanned = false;
  if (!whole)
    a.shortcut = fill_top_tables(plan, stats, specs, n, tables, size_t(1) << 30, counts, &scanned);
  if (!a.shortcut) {
    tables.clear();
    tables.emplace_back(stats[0].spec(), size_t(1) << 30, 2);
    counts = {};
    EXPECT_TRUE(fill_tables(plan, specs, tables, size_t(1) << 30, nullptr, counts));
  }
  Counters total;
  total.flows = counts.passed;
  total.packets = counts.packets;
  total.bytes = counts.bytes;
  a.text = stats[0].format(tables[0], n, total);
  a.flows = counts.passed;
  return a;
}

TEST(TopTables, HeavySourcesComeFromTheSketchPassesAsFromWholeTables) {
  TempDir dir;
  const std::string path = write_store(dir, 400'000, true);
  for (const char* stat : {"srcip/bytes", "srcip/flows", "srcip/packets", "dstip/bytes"}) {
    Answer fast = top(path, stat, 10, false), whole = top(path, stat, 10, true);
    EXPECT_EQ(fast.text, whole.text) << stat;
    EXPECT_EQ(fast.flows, 400'000u) << stat;
  }
  EXPECT_TRUE(top(path, "srcip/bytes", 10, false).shortcut);
  EXPECT_TRUE(top(path, "srcip/bytes", 20, false).shortcut);
  // Rates are not sums: never from the sketch.
  EXPECT_FALSE(top(path, "srcip/bps", 10, false).shortcut);
}

TEST(TopTables, EvenSourcesFallBackToWholeTables) {
  TempDir dir;
  // More sources than the sketch has buckets: every bucket holds several, so a bucket's sum
  // says little and the check after the second pass must refuse the shortcut.
  const std::string path = write_store(dir, 3 * Sketch::kBuckets, false);
  Answer fast = top(path, "srcip/bytes", 10, false);
  EXPECT_FALSE(fast.shortcut);
  EXPECT_EQ(fast.text, top(path, "srcip/bytes", 10, true).text);
}

}  // namespace
}  // namespace flowkit::query
