// The store sink across rotations: each file holds exactly the records of its interval, though
// the files' writers gather in the same memory one after another and the meter's batches are
// handed over whole.
#include "store/store_sink.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "core/testing/every_field.h"
#include "store/test_util.h"

namespace flowkit::store {
namespace {

TEST(StoreSink, FilesInTurnKeepTheirOwnRecords) {
  flowkit::testing::TempDir dir;
  StoreOptions options;
  options.dir = dir.path();
  options.rotate_seconds = 60;
  options.block_max_age_ns = 5 * kNanosPerSecond;
  auto sink = StoreSink::open(options);
  ASSERT_TRUE(sink.ok()) << sink.status().message();

  const std::vector<FlowRecord> kinds = flowkit::testing::every_field_records();
  const int64_t base = 1'700'000'040 * kNanosPerSecond;  // the start of a minute
  std::map<std::string, std::vector<FlowRecord>> want;   // by file
  const int64_t kMinute = 60 * kNanosPerSecond;
  std::vector<FlowRecord> batch;
  Arena arena, kept;
  for (int second = 0; second < 200; second += 3) {
    const int64_t t = base + int64_t(second) * kNanosPerSecond;
    (*sink)->tick(Timestamp{t});
    for (uint32_t i = 0; i < 40; ++i) {
      FlowRecord r = copy_record(kinds[i % kinds.size()], arena);
      r.fwd.first = Timestamp{t - int64_t(i) * 1'000'000};
      r.fwd.last = Timestamp{t};
      if (r.rev.packets) r.rev.first = r.rev.last = Timestamp{t};
      r.src_port = uint16_t(second * 40 + i);
      batch.push_back(r);
    }
    std::vector<FlowRecord>& in_file = want[relative_path(Timestamp{t - t % kMinute})];
    for (const FlowRecord& r : batch) in_file.push_back(copy_record(r, kept));
    if (second % 2) {
      (*sink)->write(batch);  // copied, as the collector's other outputs do
      batch.clear();
      arena.reset();
    } else {
      (*sink)->take(batch, arena);
      EXPECT_TRUE(batch.empty());
    }
  }
  ASSERT_TRUE((*sink)->flush().ok());
  EXPECT_EQ((*sink)->stats().files, 4u);
  ASSERT_EQ(want.size(), 4u);
  for (const auto& [file, records] : want) {
    SCOPED_TRACE(file);
    ASSERT_TRUE(std::filesystem::exists(dir.path() + "/" + file));
    expect_same_records(records, read_file(dir.path() + "/" + file));
  }
}

}  // namespace
}  // namespace flowkit::store
