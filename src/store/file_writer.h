// Writes one store file: the header, then a block each time kMaxBlockRows records have come (or
// flush_block() is called), then the footer on close(). Blocks are encoded, compressed, written
// and made durable (fdatasync, once for all the blocks waiting) on a thread of the writer's own,
// so the caller only gathers rows.
//
// A failed write (a full disk, an I/O error) cuts the file back to its last complete block,
// keeps the blocks not yet written in memory and tries again a second later: the file resumes
// when space returns. While it fails, add() does not wait: once kMaxPending blocks are waiting,
// further blocks are dropped and counted in lost_records().
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "store/block.h"

namespace flowkit::store {

// Where a writer's bytes go: a file, or in tests a layer that fails on demand.
class WriteLayer {
 public:
  virtual ~WriteLayer() = default;
  virtual Status append(std::span<const uint8_t> bytes) = 0;
  // Makes what was appended durable.
  virtual Status sync() = 0;
  // Cuts the file back to `size` bytes (a block that failed half-way).
  virtual Status truncate(uint64_t size) = 0;
};

// A new file at `path` (refused when it exists: a store never overwrites).
Result<std::unique_ptr<WriteLayer>> create_file(const std::string& path);

struct WriterOptions {
  Compression compression;
  bool sync = true;  // fdatasync each batch of blocks
};

struct WriterStats {
  uint64_t records = 0;  // durable: written and synced (with sync off: written)
  uint64_t blocks = 0;
  uint64_t bytes = 0;
  uint64_t lost_records = 0;  // dropped while writes failed
};

class FileWriter {
 public:
  FileWriter(std::unique_ptr<WriteLayer> layer, const FileHeader& header, WriterOptions options);
  ~FileWriter();  // closes, if close() was not called
  FileWriter(const FileWriter&) = delete;
  FileWriter& operator=(const FileWriter&) = delete;

  void add(const FlowRecord& r) {
    building_->add(r);
    if (building_->full()) flush_block();
  }
  // Hands the rows gathered so far to the writing thread as a block.
  void flush_block();
  // Rows gathered but not yet handed over.
  uint32_t pending_rows() const { return building_->rows(); }
  // Writes the last block and the footer, syncs, and stops the thread. A write that still fails
  // is tried once more; what cannot be written is counted lost (kDataLoss). A write error that
  // later writes recovered from is take_error()'s to report, not close()'s.
  Status close();
  WriterStats stats() const;
  // The first write error not yet reported (cleared by the call), for a caller to warn once.
  Status take_error();
  // Whether the last write failed (the writer is retrying).
  bool failing() const;
  static constexpr size_t kMaxPending = 8;

 private:
  struct Job {
    std::unique_ptr<BlockBuilder> rows;
    std::vector<uint8_t> bytes;  // encoded once
    IndexEntry entry;
  };
  void run();
  bool write_job(Job& job);

  std::unique_ptr<WriteLayer> layer_;
  WriterOptions options_;
  std::unique_ptr<BlockBuilder> building_;
  std::vector<uint8_t> header_bytes_;
  bool header_written_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // work for the thread
  std::condition_variable done_cv_;  // a job finished (room in the queue)
  std::deque<Job> queue_;
  std::vector<std::unique_ptr<BlockBuilder>> spare_;
  bool closing_ = false;
  bool failing_ = false;  // the last write failed; retrying
  Status error_, first_error_;
  WriterStats stats_;
  std::vector<IndexEntry> index_;
  uint64_t offset_ = 0;  // bytes of the file that hold complete blocks
  std::thread thread_;
  bool closed_ = false;
};

}  // namespace flowkit::store
