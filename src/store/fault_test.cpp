// Damage and failure, after LevelDB's fault_injection_test: files cut at every byte of their
// last block, a bit flipped in every byte of every section, writes that fail on demand (ENOSPC,
// EIO), a writer killed with SIGKILL, and readers while a writer appends. What a reader
// returns is always what was written; damage is reported, never returned as data.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/test_util.h"

namespace flowkit::store {
namespace {

using flowkit::testing::TempDir;

std::vector<FlowRecord> sample(size_t n, uint32_t seed) {
  std::vector<FlowRecord> out;
  for (size_t i = 0; i < n; ++i) {
    FlowRecord r;
    r.ip_version = 4;
    r.protocol = i % 3 ? 6 : 17;
    r.src_ip = IpAddress::v4(0x0a000001 + seed * 1000 + uint32_t(i));
    r.dst_ip = IpAddress::v4(0xc0a80001 + uint32_t(i % 7));
    r.src_port = uint16_t(40000 + i);
    r.dst_port = 443;
    r.fwd.packets = 1 + i;
    r.fwd.bytes = 60 * (1 + i);
    r.fwd.first = Timestamp{1'700'000'000'000'000'000 + int64_t(seed * 1000 + i) * 1'000'000};
    r.fwd.last = Timestamp{r.fwd.first.ns + 5'000'000};
    r.end_reason = EndReason::kIdleTimeout;
    out.push_back(r);
  }
  return out;
}

std::vector<uint8_t> slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(f), {}};
}

void spit(const std::string& path, std::span<const uint8_t> bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

// Three small blocks of 40 rows each.
struct SmallFile {
  std::vector<std::vector<FlowRecord>> blocks;
  std::vector<uint8_t> bytes;
  std::vector<uint64_t> offsets;  // of each block
};

SmallFile small_file(const std::string& path) {
  SmallFile s;
  auto layer = create_file(path);
  EXPECT_TRUE(layer.ok());
  FileWriter w(std::move(*layer), {}, {});
  for (uint32_t b = 0; b < 3; ++b) {
    s.blocks.push_back(sample(40, b));
    for (const FlowRecord& r : s.blocks.back()) w.add(r);
    w.flush_block();
  }
  EXPECT_TRUE(w.close().ok());
  s.bytes = slurp(path);
  auto r = FileReader::open(path);
  for (const BlockEntry& b : r->blocks()) s.offsets.push_back(b.offset);
  return s;
}

// Reads every block it can; checks that each block read equals the block written at that offset.
// Returns the number of blocks read intact.
size_t read_intact(const std::string& path, const SmallFile& s, bool* opened) {
  auto r = FileReader::open(path);
  *opened = r.ok();
  if (!r.ok()) return 0;
  size_t good = 0;
  Block block;
  for (size_t i = 0; i < r->blocks().size(); ++i) {
    if (!r->read_block(i, {}, block).ok()) continue;
    size_t which = std::find(s.offsets.begin(), s.offsets.end(), block.offset) - s.offsets.begin();
    EXPECT_LT(which, s.offsets.size()) << "a block at an offset never written";
    if (which >= s.offsets.size()) continue;
    std::vector<FlowRecord> got;
    uint64_t dropped = 0;
    block.to_records(got, &dropped);
    EXPECT_EQ(got.size(), s.blocks[which].size());
    for (size_t k = 0; k < got.size() && k < s.blocks[which].size(); ++k)
      EXPECT_TRUE(got[k] == s.blocks[which][k]) << path << " block " << which << " row " << k;
    ++good;
  }
  return good;
}

TEST(StoreFaults, TruncationAtEveryOffsetOfTheLastBlock) {
  TempDir dir;
  SmallFile s = small_file(dir.file("whole.fk"));
  std::string cut = dir.file("cut.fk");
  for (size_t end = s.offsets[2]; end < s.bytes.size(); ++end) {
    spit(cut, std::span(s.bytes).first(end));
    auto r = FileReader::open(cut);
    ASSERT_TRUE(r.ok()) << end;
    bool last_complete = end >= s.bytes.size() - footer_size(3);
    // The first two blocks always; the third once it is whole; the rest a warning.
    ASSERT_EQ(r->blocks().size(), last_complete ? 3u : 2u) << "cut at " << end;
    // A cut exactly between blocks looks like a file being written: nothing to warn of.
    if (!last_complete && end > s.offsets[2]) {
      EXPECT_FALSE(r->warnings().empty()) << end;
    }
    bool opened = false;
    EXPECT_EQ(read_intact(cut, s, &opened), r->blocks().size());
  }
}

TEST(StoreFaults, AFlippedBitInEverySectionIsCaught) {
  TempDir dir;
  SmallFile s = small_file(dir.file("whole.fk"));
  std::string bad = dir.file("bad.fk");
  size_t opened_count = 0;
  for (size_t at = 0; at < s.bytes.size(); ++at) {
    std::vector<uint8_t> b = s.bytes;
    b[at] ^= uint8_t(1 << (at % 8));
    spit(bad, b);
    bool opened = false;
    size_t good = read_intact(bad, s, &opened);
    if (at < kFileHeaderSize) {
      EXPECT_FALSE(opened) << "a damaged file header must be refused, byte " << at;
      continue;
    }
    ASSERT_TRUE(opened) << at;
    ++opened_count;
    // Damage in the index or the footer costs nothing (the blocks are read from the start);
    // damage in a block costs that block, and at most the blocks after it when its header
    // hides where they start.
    if (at >= s.bytes.size() - footer_size(3)) {
      EXPECT_EQ(good, 3u) << "byte " << at;
    } else {
      EXPECT_LT(good, 3u) << "damage at byte " << at << " went unnoticed";
    }
  }
  EXPECT_GT(opened_count, 0u);
}

// A write layer over a real file that fails on demand, as a full disk or a dying one would.
class FlakyLayer : public WriteLayer {
 public:
  FlakyLayer(std::unique_ptr<WriteLayer> inner, std::atomic<int>* fail_errno)
      : inner_(std::move(inner)), fail_(fail_errno) {}
  Status append(std::span<const uint8_t> bytes) override {
    if (int e = fail_->load()) {
      // Half the bytes go through first, as a disk filling up mid-write does.
      inner_->append(bytes.first(bytes.size() / 2));
      return Status::io_error(std::string("write: ") + std::strerror(e));
    }
    return inner_->append(bytes);
  }
  Status sync() override {
    if (int e = fail_->load())
      return Status::io_error(std::string("fdatasync: ") + std::strerror(e));
    return inner_->sync();
  }
  Status truncate(uint64_t size) override { return inner_->truncate(size); }

 private:
  std::unique_ptr<WriteLayer> inner_;
  std::atomic<int>* fail_;
};

TEST(StoreFaults, AFullDiskStopsWritingAndResumesWhenSpaceReturns) {
  for (int e : {ENOSPC, EIO}) {
    TempDir dir;
    std::string path = dir.file("flaky.fk");
    std::atomic<int> fail{0};
    auto file = create_file(path);
    ASSERT_TRUE(file.ok());
    FileWriter w(std::make_unique<FlakyLayer>(std::move(*file), &fail), {}, {});
    std::vector<FlowRecord> all;
    auto add_block = [&](uint32_t seed) {
      for (const FlowRecord& r : sample(50, seed)) {
        w.add(r);
        all.push_back(r);
      }
      w.flush_block();
    };
    add_block(0);
    for (int i = 0; i < 200 && w.stats().records < 50; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    EXPECT_EQ(w.stats().records, 50u);
    fail = e;
    add_block(1);
    add_block(2);
    Status st;
    for (int i = 0; i < 200 && st.ok(); ++i) {
      st = w.take_error();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ASSERT_FALSE(st.ok()) << "a failing write must be reported";
    EXPECT_NE(st.message().find(std::strerror(e)), std::string::npos) << st.message();
    EXPECT_TRUE(w.failing());
    // While the disk is full the file holds only complete blocks: a reader sees the first.
    EXPECT_EQ(read_file(path).size(), 50u);
    fail = 0;  // space returns
    add_block(3);
    EXPECT_TRUE(w.close().ok()) << "nothing was lost";
    WriterStats stats = w.stats();
    EXPECT_EQ(stats.records, 200u);
    EXPECT_EQ(stats.lost_records, 0u);
    std::vector<FlowRecord> back = read_file(path);
    ASSERT_EQ(back.size(), all.size());
    for (size_t i = 0; i < all.size(); ++i) EXPECT_TRUE(back[i] == all[i]) << i;
  }
}

TEST(StoreFaults, ADiskThatStaysFullCountsWhatItCouldNotKeep) {
  TempDir dir;
  std::string path = dir.file("full.fk");
  std::atomic<int> fail{0};
  auto file = create_file(path);
  ASSERT_TRUE(file.ok());
  FileWriter w(std::make_unique<FlakyLayer>(std::move(*file), &fail), {}, {});
  for (const FlowRecord& r : sample(30, 0)) w.add(r);
  w.flush_block();
  for (int i = 0; i < 200 && w.stats().records < 30; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  fail = ENOSPC;
  // More blocks than the writer keeps in memory: the rest are counted, and add() never blocks.
  for (uint32_t b = 1; b <= FileWriter::kMaxPending + 4; ++b) {
    for (const FlowRecord& r : sample(30, b)) w.add(r);
    w.flush_block();
  }
  Status st = w.close();
  EXPECT_FALSE(st.ok());
  WriterStats stats = w.stats();
  EXPECT_EQ(stats.records, 30u);
  EXPECT_EQ(stats.records + stats.lost_records, 30u * (FileWriter::kMaxPending + 5));
  // What was reported written is there, and nothing else.
  auto r = FileReader::open(path);
  ASSERT_TRUE(r.ok());
  size_t rows = 0;
  for (const BlockEntry& b : r->blocks()) rows += b.header.rows;
  EXPECT_EQ(rows, 30u);
}

// A writer killed with SIGKILL: every block it reported durable reads back intact.
TEST(StoreFaults, SigkillWhileWritingKeepsEveryDurableBlock) {
  TempDir dir;
  std::string path = dir.file("killed.fk");
  int pipefd[2];
  ASSERT_EQ(pipe(pipefd), 0);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    close(pipefd[0]);
    auto file = create_file(path);
    if (!file.ok()) _exit(1);
    FileWriter w(std::move(*file), {}, {});
    uint64_t reported = 0;
    for (uint32_t b = 0;; ++b) {
      for (const FlowRecord& r : sample(100, b)) w.add(r);
      w.flush_block();
      uint64_t durable = w.stats().records;
      if (durable != reported) {
        reported = durable;
        if (write(pipefd[1], &durable, sizeof durable) != sizeof durable) _exit(1);
      }
    }
  }
  close(pipefd[1]);
  uint64_t durable = 0, n = 0;
  while (durable < 5000 && read(pipefd[0], &n, sizeof n) == sizeof n) durable = n;
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  close(pipefd[0]);
  auto r = FileReader::open(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_FALSE(r->has_footer());
  size_t rows = 0;
  Block block;
  for (size_t i = 0; i < r->blocks().size(); ++i) {
    ASSERT_TRUE(r->read_block(i, {}, block).ok());
    std::vector<FlowRecord> got;
    uint64_t dropped = 0;
    block.to_records(got, &dropped);
    std::vector<FlowRecord> want = sample(100, uint32_t(i));
    ASSERT_EQ(got.size(), want.size());
    for (size_t k = 0; k < got.size(); ++k) ASSERT_TRUE(got[k] == want[k]);
    rows += got.size();
  }
  EXPECT_GE(rows, durable);
}

// Readers open the file again and again while a writer appends: each sees whole blocks, in
// order, never damage.
TEST(StoreFaults, ReadersWhileAWriterAppends) {
  TempDir dir;
  std::string path = dir.file("live.fk");
  auto file = create_file(path);
  ASSERT_TRUE(file.ok());
  std::atomic<bool> done{false};
  std::thread writer([&] {
    FileWriter w(std::move(*file), {}, {.sync = false});
    for (uint32_t b = 0; b < 300; ++b) {
      for (const FlowRecord& r : sample(64, b)) w.add(r);
      w.flush_block();
    }
    EXPECT_TRUE(w.close().ok());
    done = true;
  });
  size_t last = 0, opens = 0;
  Block block;
  while (!done) {
    auto r = FileReader::open(path);
    ASSERT_TRUE(r.ok()) << r.status().message();
    ++opens;
    EXPECT_GE(r->blocks().size(), last);
    last = r->blocks().size();
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      Status st = r->read_block(i, {}, block);
      ASSERT_TRUE(st.ok()) << st.message();
      ASSERT_EQ(block.rows, 64u);
      const ColumnData* port = block.find(FieldId::kSrcPort);
      ASSERT_TRUE(port);
      EXPECT_EQ(port->ints[0], 40000u);
    }
  }
  writer.join();
  EXPECT_EQ(read_file(path).size(), 300u * 64);
  EXPECT_GT(opens, 1u);
}

}  // namespace
}  // namespace flowkit::store
