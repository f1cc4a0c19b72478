// Filling group tables from a scan of store files, on every core: all the keys of the rows that
// pass, or (top-N statistics) only those that may be among the largest.
#pragma once

#include <vector>

#include "query/group.h"
#include "query/scan.h"
#include "query/stats.h"

namespace flowkit::query {

// Fills a table per spec from the scan; with `admit` (one per spec), only the keys it lets in.
// False when a table outgrew its memory.
bool fill_tables(const ScanPlan& plan, const std::vector<const GroupSpec*>& specs,
                 std::vector<GroupTable>& tables, size_t budget,
                 const std::vector<GroupTable::Admission>* admit, ScanCounts& counts);

// Top-N statistics of flows, packets or bytes over keys of many values, without a table of
// every key: a first pass sums the measure per bucket of key hashes (Sketch), the second keeps
// only the keys whose bucket reaches the K-th largest bucket's sum. That is exact when the N-th
// largest key kept reaches the same sum: a key left out has at most its bucket's sum, below it.
// False when it does not hold (*scanned then says whether the files were read), or for other
// statistics (rates, few values, N of 0 or over 1000): the caller fills the tables whole.
bool fill_top_tables(const ScanPlan& plan, const std::vector<TopN>& stats,
                     const std::vector<const GroupSpec*>& specs, size_t top,
                     std::vector<GroupTable>& tables, size_t budget, ScanCounts& counts,
                     bool* scanned);

}  // namespace flowkit::query
