// A store as a whole: its files, their totals, their checks, and expiry (nfexpire's job).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/file_reader.h"

namespace flowkit::store {

// The store files a path names: itself when it is a file, else every *.fk under it, in
// order of name (which is the order of time). FIRST:LAST (nfdump's file range) names the files
// from FIRST to LAST of the store FIRST is in (LAST: a file name or a path).
Result<std::vector<std::string>> list_files(const std::string& path);

struct ColumnTotals {
  std::string name;  // `bytes_rev` for a reverse column
  uint64_t raw = 0, stored = 0;
  uint64_t blocks = 0;
};

struct StoreTotals {
  uint64_t flows = 0, packets = 0, bytes = 0;
  Timestamp first{INT64_MAX}, last{INT64_MIN};
  uint64_t files = 0, blocks = 0, bad_blocks = 0;
  uint64_t disk_bytes = 0;
  uint64_t raw_bytes = 0;             // of the chunks, decompressed
  std::vector<ColumnTotals> columns;  // by stored size, largest first
  std::vector<std::string> warnings;
};
// Totals of the files; reads only the packet and byte columns.
Result<StoreTotals> totals(const std::vector<std::string>& files);
// `flows: N` first, a line per total; with `columns`, a table of the columns' sizes.
std::string format_totals(const StoreTotals& t, bool columns);
std::string format_totals_json(const StoreTotals& t);

struct VerifyResult {
  uint64_t files = 0, blocks = 0, damaged = 0;
  std::vector<std::string> problems;  // one line per damaged block or file
};
// Reads every block of every file with every check.
VerifyResult verify(const std::vector<std::string>& files);

struct ExpireOptions {
  int64_t max_age_ns = 0;  // 0: no limit
  uint64_t max_bytes = 0;  // 0: no limit
  bool dry_run = false;
  Timestamp now;
};
struct ExpireResult {
  uint64_t files_removed = 0, bytes_removed = 0;
  uint64_t files_left = 0, bytes_left = 0;
};
// Removes the oldest files until none is older than max_age and the store holds at most
// max_bytes (the file being written last, by name, is never removed by size), and the day
// directories that end up empty.
Result<ExpireResult> expire(const std::string& dir, const ExpireOptions& options);

// "30d", "12h", "90m", "45s", "3600" (seconds) into nanoseconds; "50G", "500M", "10k", "1T"
// (powers of 1024, as nfexpire) into bytes. nullopt when the text is neither.
std::optional<int64_t> parse_age(std::string_view text);
std::optional<uint64_t> parse_size(std::string_view text);

}  // namespace flowkit::store
