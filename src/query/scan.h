// Runs a filter and a time window over store files, a block at a time on several threads: blocks
// whose time range or column ranges cannot match are skipped unread, and of the others only the
// columns the query needs are decompressed. Statistics and aggregation take the blocks in any
// order on the worker threads; records come back in file and block order.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/field_registry.h"
#include "core/result.h"
#include "export/text_output.h"
#include "query/filter.h"
#include "query/values.h"
#include "store/block.h"

namespace flowkit::query {

struct ScanPlan {
  std::vector<std::string> files;
  const Filter* filter = nullptr;                  // required
  int64_t from_ns = INT64_MIN, to_ns = INT64_MAX;  // flows that start in [from, to]
  std::vector<Column> columns;                     // what the consumer reads, beyond the filter's
  bool all_columns = false;                        // every stored column (records printed whole)
  unsigned threads = 0;                            // 0: one per core
  // Stop after this many rows passed (0: no limit), as nfdump's -c: the first ones in file and
  // block order, so a limit reads on one thread.
  uint64_t limit = 0;
  bool quiet = false;  // damage counted, not reported (a second scan of the same files)
  // Whether the rows' first and last seen are read (the window, RowTotals' and ScanCounts'
  // times): a pass that needs only counters skips the time columns.
  bool times = true;
};

struct ScanCounts {
  uint64_t rows = 0, passed = 0;
  uint64_t blocks_read = 0, blocks_skipped = 0, bytes_read = 0;
  uint64_t files = 0, damaged = 0;              // damaged: files and blocks that could not be read
  int64_t first = INT64_MAX, last = INT64_MIN;  // of the flows that passed
  uint64_t packets = 0, bytes = 0;              // ... both directions
  uint64_t dropped = 0;                         // values a FlowRecord could not hold (records only)
};

// Called on worker `worker` (0..threads-1) for each block read, with mask[row] = 1 for the rows
// that pass and the block's per-row totals; returns false to stop the scan (an error).
using BlockFn = std::function<bool(unsigned worker, const store::Block& b,
                                   std::span<const uint8_t> mask, const RowTotals& totals)>;
// The threads a plan runs on.
unsigned scan_threads(const ScanPlan& plan);
// Damage is counted and reported on stderr, never fatal.
void scan_blocks(const ScanPlan& plan, const BlockFn& each, ScanCounts* counts);

// The records that pass, in file and block order, a block's worth at a time (their strings
// and lists live until the call returns); returns false to stop.
using RecordsFn = std::function<bool(std::span<const FlowRecord>)>;
void scan_records(const ScanPlan& plan, const RecordsFn& each, ScanCounts* counts);

// The same turned into text on the worker threads, a few hundred rows at a time (made and
// formatted while in cache): `format` (called on worker `worker`) writes the rows of
// [from, to) that pass to that worker's text and returns the values it had to drop (those a
// FlowRecord cannot hold), `take` moves the text made since it last moved any into `text` (empty,
// holding an earlier piece's buffer to reuse, or none) once there are `at_least` bytes of it, and
// `each` gets the pieces in order (and may give another buffer back in one).
using FormatFn =
    std::function<uint64_t(unsigned worker, const store::Block& b, std::span<const uint8_t> mask,
                           const RowTotals& totals, uint32_t from, uint32_t to)>;
using TakeFn = std::function<void(unsigned worker, exporter::TextBuffer& text, size_t at_least)>;
using TextFn = std::function<bool(exporter::TextBuffer& text)>;
void scan_text(const ScanPlan& plan, const FormatFn& format, const TakeFn& take, const TextFn& each,
               ScanCounts* counts);

}  // namespace flowkit::query
