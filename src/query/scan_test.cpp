// The ordered scans: text made on the worker threads, in pieces, must come out as the records
// path gives the same rows, in file and block order, however many threads and pieces there are.
#include "query/scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "store/test_util.h"

namespace flowkit::query {
namespace {

using flowkit::testing::TempDir;

// n flows over several blocks, their bytes numbering them.
std::string write_store(const TempDir& dir, size_t n) {
  std::vector<FlowRecord> flows(n);
  for (size_t i = 0; i < n; ++i) {
    FlowRecord& r = flows[i];
    r.ip_version = 4;
    r.protocol = i % 3 ? 6 : 17;
    r.src_ip = IpAddress::v4(uint32_t(0x0a000000 + i % 5000));
    r.dst_ip = IpAddress::v4(0xc0a80001);
    r.fwd.packets = 1;
    r.fwd.bytes = i;
    r.fwd.first = Timestamp{int64_t(1'700'000'000'000'000'000) + int64_t(i) * 1000};
    r.fwd.last = r.fwd.first;
  }
  const std::string path = dir.path() + "/flows.fk";
  store::write_file(path, flows, {});
  return path;
}

// A line a record makes: long enough that a block's text spans several pieces.
void put_line(exporter::TextOutput& out, const FlowRecord& r) {
  out.put_ip(r.src_ip);
  out.put(' ');
  out.put_u64(r.fwd.bytes);
  out.put(std::string_view(" ........................................................\n"));
}

ScanPlan plan_of(const std::string& path, const Filter& f, unsigned threads) {
  ScanPlan plan;
  plan.files = {path};
  plan.filter = &f;
  plan.threads = threads;
  plan.all_columns = true;
  return plan;
}

std::string by_records(const ScanPlan& plan) {
  std::string text;
  auto out = exporter::TextOutput::to_string(&text);
  ScanCounts counts;
  scan_records(
      plan,
      [&](std::span<const FlowRecord> records) {
        for (const FlowRecord& r : records) put_line(*out, r);
        return true;
      },
      &counts);
  EXPECT_TRUE(out->flush().ok());
  return text;
}

// The text path; `pieces` counts what `each` got, which stops after `stop_after` of them.
std::string by_text(const ScanPlan& plan, size_t* pieces, size_t stop_after = SIZE_MAX) {
  std::vector<std::unique_ptr<exporter::TextOutput>> outs;
  for (unsigned i = 0; i < scan_threads(plan); ++i)
    outs.push_back(exporter::TextOutput::to_buffer());
  std::string text;
  *pieces = 0;
  std::vector<FlowRecord> records;
  ScanCounts counts;
  scan_text(
      plan,
      [&](unsigned w, const store::Block& b, std::span<const uint8_t> mask, const RowTotals&,
          uint32_t from, uint32_t to) -> uint64_t {
        std::vector<FlowRecord> rs;
        uint64_t dropped = 0;
        b.to_records(rs, &dropped, mask, from, to);
        for (const FlowRecord& r : rs) put_line(*outs[w], r);
        return dropped;
      },
      [&](unsigned w, exporter::TextBuffer& piece, size_t at_least) {
        if (outs[w]->mark() >= at_least) outs[w]->take(piece);
      },
      [&](exporter::TextBuffer& piece) {
        text.append(piece.data.get(), piece.size);
        return ++*pieces < stop_after;
      },
      &counts);
  return text;
}

TEST(ScanText, PiecesInOrderAreWhatTheRecordsMake) {
  TempDir dir;
  // Some 100 bytes a line and 32768 rows a block: a block's text is several pieces.
  const std::string path = write_store(dir, 150'000);
  for (const char* filter : {"", "proto tcp", "bytes > 140000"}) {
    auto f = Filter::parse(filter);
    ASSERT_TRUE(f.ok());
    const std::string want = by_records(plan_of(path, *f, 1));
    ASSERT_FALSE(want.empty()) << filter;
    for (unsigned threads : {1u, 2u, 3u}) {
      size_t pieces = 0;
      const std::string got = by_text(plan_of(path, *f, threads), &pieces);
      // Not EXPECT_EQ: a diff of megabytes helps nobody.
      EXPECT_TRUE(got == want)
          << filter << ", " << threads << " threads: " << got.size() << " bytes for " << want.size()
          << ", first difference at "
          << std::mismatch(got.begin(), got.end(), want.begin(), want.end()).first - got.begin();
      if (*filter == 0) {
        EXPECT_GT(pieces, 10u);
      }
    }
  }
}

TEST(ScanText, StopsWhenTheConsumerSaysSo) {
  TempDir dir;
  const std::string path = write_store(dir, 150'000);
  auto f = Filter::parse("");
  ASSERT_TRUE(f.ok());
  const std::string all = by_records(plan_of(path, *f, 1));
  size_t pieces = 0;
  const std::string some = by_text(plan_of(path, *f, 2), &pieces, 3);
  EXPECT_EQ(pieces, 3u);
  EXPECT_LT(some.size(), all.size() / 2);
  EXPECT_TRUE(all.compare(0, some.size(), some) == 0);
}

}  // namespace
}  // namespace flowkit::query
