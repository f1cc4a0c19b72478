#include "query/aggregate.h"

#include <algorithm>
#include <atomic>
#include <thread>

namespace flowkit::query {

bool fill_tables(const ScanPlan& plan, const std::vector<const GroupSpec*>& specs,
                 std::vector<GroupTable>& tables, size_t budget,
                 const std::vector<GroupTable::Admission>* admit, ScanCounts& counts) {
  const unsigned threads = scan_threads(plan);
  std::atomic<bool> full{false};
  auto admission = [&](size_t k) { return admit ? &(*admit)[k] : nullptr; };
  bool many = std::all_of(specs.begin(), specs.end(),
                          [](const GroupSpec* s) { return s->high_cardinality(); });
  if (threads > 1 && many && !admit) {
    // Keys of millions of values: each thread reads every block and fills one partition of
    // the tables. Decoding is repeated, but each table is built once, without a merge, and
    // holds each group once (half the memory and page faults of merged per-thread tables).
    std::vector<ScanCounts> per(threads);
    std::vector<std::thread> scans;
    for (unsigned p = 0; p < threads; ++p)
      scans.emplace_back([&, p] {
        ScanPlan one = plan;
        one.threads = 1;
        one.quiet = p > 0;
        scan_blocks(
            one,
            [&](unsigned, const store::Block& b, std::span<const uint8_t> mask,
                const RowTotals& totals) {
              for (GroupTable& t : tables)
                if (!t.add(b, mask, totals, int(p))) full = true;
              return !full;
            },
            &per[p]);
      });
    for (std::thread& t : scans) t.join();
    counts = per[0];
    return !full;
  }
  // Few values (or few let in): blocks in parallel, a table per thread, merged partition by
  // partition.
  std::vector<std::vector<GroupTable>> mine(threads);
  for (unsigned w = 1; w < threads; ++w)
    for (const GroupSpec* s : specs) mine[w].emplace_back(*s, budget, threads);
  auto table = [&](unsigned w, size_t k) -> GroupTable& { return w == 0 ? tables[k] : mine[w][k]; };
  scan_blocks(
      plan,
      [&](unsigned w, const store::Block& b, std::span<const uint8_t> mask,
          const RowTotals& totals) {
        for (size_t k = 0; k < specs.size(); ++k)
          if (!table(w, k).add(b, mask, totals, -1, admission(k))) full = true;
        return !full;
      },
      &counts);
  std::vector<std::thread> mergers;
  for (unsigned p = 0; p < threads && !full; ++p)
    mergers.emplace_back([&, p] {
      for (unsigned w = 1; w < threads; ++w)
        for (size_t k = 0; k < specs.size(); ++k)
          if (!tables[k].merge_part(mine[w][k], p)) full = true;
    });
  for (std::thread& t : mergers) t.join();
  return !full;
}

bool fill_top_tables(const ScanPlan& plan, const std::vector<TopN>& stats,
                     const std::vector<const GroupSpec*>& specs, size_t top,
                     std::vector<GroupTable>& tables, size_t budget, ScanCounts& counts,
                     bool* scanned) {
  constexpr size_t kMaxTop = 1000;
  *scanned = false;
  if (top == 0 || top > kMaxTop || stats.size() != specs.size()) return false;
  for (const TopN& t : stats)
    if (!t.measure() || !t.spec().high_cardinality()) return false;
  *scanned = true;
  const unsigned threads = scan_threads(plan);
  std::vector<std::vector<Sketch>> sketches(threads);
  for (auto& s : sketches) s.resize(stats.size());
  ScanCounts first;
  ScanPlan sums = plan;
  sums.times = false;  // the sketches add up counters only
  scan_blocks(
      sums,
      [&](unsigned w, const store::Block& b, std::span<const uint8_t> mask,
          const RowTotals& totals) {
        for (size_t k = 0; k < stats.size(); ++k)
          tables[k].sketch(b, mask, totals, *stats[k].measure(), sketches[w][k]);
        return true;
      },
      &first);
  std::vector<GroupTable::Admission> admit;
  // Buckets kept: enough that the largest keys' own buckets are among them when a few heavy
  // keys stand out, few enough that their keys make a small table.
  const size_t buckets = std::max<size_t>(4096, 16 * top);
  for (size_t k = 0; k < stats.size(); ++k) {
    for (unsigned w = 1; w < threads; ++w) sketches[0][k].merge(sketches[w][k]);
    admit.emplace_back(sketches[0][k], std::max<uint64_t>(1, sketches[0][k].kth(buckets)));
  }
  ScanPlan again = plan;
  again.quiet = true;  // damage was reported by the first pass
  if (!fill_tables(again, specs, tables, budget, &admit, counts)) return false;
  for (size_t k = 0; k < stats.size(); ++k) {
    std::optional<double> nth = stats[k].nth(tables[k], top);
    if (!nth || *nth < double(admit[k].min)) return false;
  }
  return true;
}

}  // namespace flowkit::query
