// Writes one store file: the header, then blocks of up to kMaxBlockRows records (two are filled
// at once: flows that began over a minute before the newest go to a block of their own; both end
// when flush_block() is called), then the footer on close(). The caller only copies records into a
// batch (or hands over a batch whole); gathering them into columns, encoding, compression, writing
// and making blocks durable (fdatasync, once for all the blocks ready) happen on a thread of the
// writer's own.
//
// A failed write (a full disk, an I/O error) cuts the file back to its last complete block,
// keeps the blocks not yet written in memory (up to kMaxPending) and tries again every second:
// the file resumes when space returns. Blocks beyond those are dropped and counted in
// lost_records(); the caller is never held up by a failing disk.
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

// Records on their way to a writer's thread, with the memory of their strings and lists.
struct WriterBatch {
  std::vector<FlowRecord> records;
  Arena arena;
  bool end_block = false;
};

// A writer's memory: the batches records travel in and, on its thread, two blocks' columns: tens
// of MB once touched. A store that writes file after file lends the same to each of its writers,
// one at a time, rather than have the kernel zero and fault it in again for every file (31 of
// them for the nDPI captures).
struct GatherSpace {
  BlockBuilder rows[2];
  std::vector<std::unique_ptr<WriterBatch>> batches;
};

struct WriterOptions {
  Compression compression;
  bool sync = true;                    // fdatasync each batch of blocks
  std::shared_ptr<GatherSpace> space;  // when null, the writer makes its own
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
    own_values(r, batch_->records.emplace_back(r), batch_->arena);
    if (++rows_in_block_ == kMaxBlockRows) rows_in_block_ = 0;
    if (batch_->records.size() == kBatch) submit(false);
  }
  // Takes the records and their arena as they are, swapping in an empty batch's: add() without
  // the copy.
  void take(std::vector<FlowRecord>& records, Arena& arena);
  // Ends the block with the rows added so far.
  void flush_block() {
    if (rows_in_block_ == 0) return;
    rows_in_block_ = 0;
    submit(true);
  }
  // Rows added since flush_block() or the last kMaxBlockRows-th record: the caller's measure of
  // a block's age (the thread's two blocks fill at their own pace).
  uint32_t pending_rows() const { return rows_in_block_; }
  // Writes the last block and the footer, syncs, and stops the thread. A write that still fails
  // is tried once more; what cannot be written is counted lost (kDataLoss). A write error that
  // later writes recovered from is take_error()'s to report, not close()'s.
  Status close();
  WriterStats stats() const;
  // The first write error not yet reported (cleared by the call), for a caller to warn once.
  Status take_error();
  // Whether the last write failed (the writer is retrying).
  bool failing() const;
  // Encoded blocks kept while writes fail.
  static constexpr size_t kMaxPending = 8;

 private:
  // Records add() gathers before handing them to the thread, and that wake it: taken batches
  // are smaller (a meter's 256), and waking the thread for each cost more than it saved.
  static constexpr size_t kBatch = 2048;
  static constexpr size_t kMaxQueued = 16 * kBatch;  // records waiting: the caller waits beyond
  struct Encoded {
    std::vector<uint8_t> bytes;
    IndexEntry entry;
  };
  std::unique_ptr<WriterBatch> spare_batch();  // with mu_ held once the thread runs
  void submit(bool end_block);
  void run();
  void encode_block(BlockBuilder& rows, BlockEncoder& encoder);
  // Writes the blocks waiting, in order; false at the first that fails.
  bool write_pending();

  std::unique_ptr<WriteLayer> layer_;
  WriterOptions options_;
  std::unique_ptr<WriterBatch> batch_;  // being filled by the caller
  uint32_t rows_in_block_ = 0;
  std::vector<uint8_t> header_bytes_;
  bool header_written_ = false;

  mutable std::mutex mu_;
  std::condition_variable cv_;       // a batch for the thread, or closing
  std::condition_variable room_cv_;  // room in the queue
  std::deque<std::unique_ptr<WriterBatch>> queue_;
  size_t queued_ = 0;  // records in queue_
  std::vector<std::unique_ptr<WriterBatch>> spare_;
  bool closing_ = false;
  bool failing_ = false;  // the last write failed; retrying
  Status error_, first_error_;
  WriterStats stats_;
  // The thread's own.
  std::deque<Encoded> pending_;  // encoded, not yet written
  std::vector<IndexEntry> index_;
  uint64_t offset_ = 0;  // bytes of the file that hold complete blocks
  uint64_t unsynced_rows_ = 0;
  std::thread thread_;
  bool closed_ = false;
};

}  // namespace flowkit::store
