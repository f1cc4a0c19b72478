// `flowkit query` after its options are parsed: the records of store files that pass a filter
// and a time window (query/scan.h), as they are, aggregated (-A) or as top-N statistics (-s),
// through the shared writers, with nfdump's closing summary.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "run/outputs.h"

namespace flowkit::run {

struct QueryConfig {
  std::vector<std::string> files;  // -r
  std::vector<std::string> dirs;   // -R
  std::string filter;
  int64_t from_ns = INT64_MIN, to_ns = INT64_MAX;  // -t: flows that start in [from, to]
  uint64_t limit = 0;                              // -c: 0 = all
  bool quiet = false;                              // -q: no summary
  std::vector<std::string> stats;                  // -s STAT[/ORDER]: top-N instead of records
  size_t top = 10;                                 // -n
  std::string aggregate;                           // -A srcip,dstport...; -a is the 5-tuple
  std::string order;                               // -O tstart|tend|flows|packets|bytes|...
  unsigned threads = 0;                            // 0: every core
  uint64_t max_memory = 0;                         // bytes for -s/-A tables; 0: half the RAM
  OutputOptions output;
};

// nfdump's -t forms: YYYY/MM/DD.hh:mm:ss[-YYYY/MM/DD.hh:mm:ss] (trailing parts may be left out:
// ...-2026/11/26.10 ends with that hour), a start alone (the window runs to the end of the data,
// as nfdump's), and -N for the last N seconds. kInvalidArgument otherwise.
Status parse_time_window(std::string_view text, int64_t now_ns, int64_t* from, int64_t* to);

int run_query(const QueryConfig& config);

}  // namespace flowkit::run
