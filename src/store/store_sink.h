// A store directory as a FlowSink: records go to DIR/YYYY/MM/DD/flows-YYYYMMDDHHMM.fk, a file
// per rotation interval (300 s by default), aligned to it, named by the interval's start in
// UTC. The clock is the sink's tick: packet time when metering files, the wall clock when
// capturing live or collecting. A file whose name is taken (a second run in the same interval)
// gets a -1, -2... suffix: a store never overwrites.
#pragma once

#include <memory>
#include <string>

#include "core/flow_sink.h"
#include "store/file_writer.h"

namespace flowkit::store {

struct StoreOptions {
  std::string dir;
  uint32_t rotate_seconds = 300;
  WriterOptions writer;
  // A partly filled block is written once its first row is this old (tick time), so that the
  // file being written shows recent flows to readers.
  int64_t block_max_age_ns = 10 * kNanosPerSecond;
};

// The path of the file for the interval that starts at `start`, relative to the store.
std::string relative_path(Timestamp start);

struct StoreStats {
  uint64_t records = 0;  // durable
  uint64_t files = 0;
  uint64_t bytes = 0;
  uint64_t lost_records = 0;
};

class StoreSink : public FlowSink {
 public:
  // Creates DIR when it does not exist; kIoError when it cannot be.
  static Result<std::unique_ptr<StoreSink>> open(const StoreOptions& options);
  ~StoreSink() override;

  void write(std::span<const FlowRecord> records) override;
  void take(std::vector<FlowRecord>& records, Arena& arena) override;
  void tick(Timestamp now) override;
  // Closes the file being written. kIoError for a write that failed; kDataLoss when records
  // could not be kept.
  Status flush() override;
  StoreStats stats() const;
  std::string summary() const;

 private:
  explicit StoreSink(StoreOptions options) : options_(std::move(options)) {}
  Status open_file(Timestamp t);
  Status close_file();
  void report(const Status& st);
  // The writer of the file that `records` go to, opened or rotated as their time asks; null
  // when no file could be opened (the records are counted lost).
  FileWriter* writer_for(std::span<const FlowRecord> records);

  StoreOptions options_;
  std::unique_ptr<FileWriter> writer_;
  std::string path_;
  int64_t interval_end_ = 0;
  Timestamp now_{INT64_MIN};
  Timestamp block_started_{INT64_MIN};
  StoreStats done_;  // of the files closed
  Status first_error_;
  bool failing_ = false;  // a write error was reported; the next success says so
};

}  // namespace flowkit::store
