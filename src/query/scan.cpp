#include "query/scan.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>

#include "query/values.h"
#include "store/file_reader.h"

namespace flowkit::query {
namespace {

struct Task {
  std::shared_ptr<const store::FileReader> file;
  size_t block = 0;
  uint64_t seq = 0;  // order among the blocks read
};

bool windowed(const ScanPlan& plan) {
  return plan.from_ns != INT64_MIN || plan.to_ns != INT64_MAX;
}
bool times(const ScanPlan& plan) {
  return plan.times || windowed(plan);
}

// Hands out the blocks to read in file order, opening files as it goes (one at a time, so a
// store of many files holds few descriptors), and counts those it skips.
class Scheduler {
 public:
  Scheduler(const ScanPlan& plan, ScanCounts& counts) : plan_(plan), counts_(counts) {}

  std::optional<Task> next() {
    std::lock_guard lock(mu_);
    while (true) {
      if (file_ && block_ < file_->blocks().size()) {
        size_t i = block_++;
        const store::BlockHeader& h = file_->blocks()[i].header;
        if ((windowed(plan_) && (h.time_max.ns < plan_.from_ns || h.time_min.ns > plan_.to_ns)) ||
            !plan_.filter->may_match(h)) {
          ++counts_.blocks_skipped;
          continue;
        }
        return Task{file_, i, seq_++};
      }
      if (next_file_ >= plan_.files.size()) return std::nullopt;
      const std::string& path = plan_.files[next_file_++];
      file_.reset();
      block_ = 0;
      ++counts_.files;
      auto r = store::FileReader::open(path);
      if (!r) {
        if (!plan_.quiet)
          std::fprintf(stderr, "flowkit query: %s; file skipped\n", r.status().message().c_str());
        ++counts_.damaged;
        continue;
      }
      counts_.damaged += r->bad_blocks();
      file_ = std::make_shared<const store::FileReader>(std::move(*r));
    }
  }
  void damaged() {
    std::lock_guard lock(mu_);
    ++counts_.damaged;
  }

 private:
  const ScanPlan& plan_;
  ScanCounts& counts_;
  std::mutex mu_;
  size_t next_file_ = 0;
  std::shared_ptr<const store::FileReader> file_;
  size_t block_ = 0;
  uint64_t seq_ = 0;
};

// The columns to read: the consumer's, the filter's, and what the window and the summary need
// (empty: every stored column). A filter's own columns (and the window's) are read first; the
// others are read after it, and decoded only for the rows that passed.
struct Reads {
  std::vector<Column> first, all;
  bool two_phases = false;
};
Reads reads(const ScanPlan& plan) {
  Reads r;
  if (plan.filter->all_columns()) return r;
  r.two_phases = !plan.filter->any();
  r.first = plan.filter->columns();
  if (windowed(plan)) source_inputs({Derived::kPps, {}}, r.first);
  if (plan.all_columns) return r;
  r.all = plan.columns;
  r.all.insert(r.all.end(), plan.filter->columns().begin(), plan.filter->columns().end());
  // Packets and bytes of both directions, and their first and last seen.
  if (times(plan)) {
    source_inputs({Derived::kPps, {}}, r.all);
  } else {
    source_inputs({Derived::kTotal, column(FieldId::kPackets)}, r.all);
    source_inputs({Derived::kTotal, column(FieldId::kBytes)}, r.all);
  }
  return r;
}

struct Local {
  ScanCounts counts;
  RowTotals totals;
};

// The window narrows the filter's mask.
void apply_window(const ScanPlan& plan, const store::Block& b, std::vector<uint8_t>& mask,
                  Local& l) {
  if (!windowed(plan)) return;
  l.totals.read(b);
  const RowTotals& t = l.totals;
  for (uint32_t i = 0; i < b.rows; ++i)
    mask[i] &= t.first[i] >= plan.from_ns && t.first[i] <= plan.to_ns;
}

// The counters of the rows that pass are summed (up to the plan's limit). A window has read
// the totals already, from columns its first phase read whole.
void count_passed(const ScanPlan& plan, const store::Block& b, std::vector<uint8_t>& mask,
                  Local& l) {
  const RowTotals& t = l.totals;
  const bool with_times = times(plan);
  if (!windowed(plan)) l.totals.read(b, with_times, mask);
  ScanCounts& c = l.counts;
  c.rows += b.rows;
  for (uint32_t i = 0; i < b.rows; ++i) {
    if (!mask[i]) continue;
    if (plan.limit && c.passed >= plan.limit) {
      mask[i] = 0;
      continue;
    }
    ++c.passed;
    c.packets += uint64_t(t.packets[i]);
    c.bytes += uint64_t(t.bytes[i]);
    if (!with_times) continue;
    c.first = std::min(c.first, t.first[i]);
    c.last = std::max(c.last, t.last[i]);
  }
}

void merge(ScanCounts& into, const ScanCounts& c) {
  into.rows += c.rows;
  into.passed += c.passed;
  into.blocks_read += c.blocks_read;
  into.bytes_read += c.bytes_read;
  into.packets += c.packets;
  into.bytes += c.bytes;
  into.first = std::min(into.first, c.first);
  into.last = std::max(into.last, c.last);
}

// Each worker reads the blocks it is handed and passes each, with its mask, to `each` (which
// may take the block, leaving a fresh one). Returns when the blocks run out or `each` says stop.
using WorkerFn =
    std::function<bool(unsigned worker, const Task& t, std::unique_ptr<store::Block>& b,
                       std::span<const uint8_t>, const RowTotals& totals)>;

void run_workers(const ScanPlan& plan, unsigned threads, const WorkerFn& each, ScanCounts* counts,
                 const std::function<void()>& on_stop) {
  Scheduler sched(plan, *counts);
  const Reads want = reads(plan);
  std::atomic<bool> stop{false};
  std::vector<Local> locals(threads);
  auto work = [&](unsigned w) {
    auto block = std::make_unique<store::Block>();
    std::vector<uint8_t> mask;
    Local& l = locals[w];
    while (!stop.load(std::memory_order_relaxed)) {
      std::optional<Task> t = sched.next();
      if (!t) break;
      if (!block) block = std::make_unique<store::Block>();
      const store::BlockEntry& e = t->file->blocks()[t->block];
      Status st = t->file->read_block(t->block, want.two_phases ? want.first : want.all, *block);
      if (st.ok()) {
        plan.filter->eval(*block, mask);
        apply_window(plan, *block, mask, l);
        if (want.two_phases && std::find(mask.begin(), mask.end(), 1) != mask.end())
          st = t->file->read_more(t->block, want.all, *block, mask);
      }
      if (!st.ok()) {
        if (!plan.quiet)
          std::fprintf(stderr, "flowkit query: %s; block skipped\n", st.message().c_str());
        sched.damaged();
        block->rows = 0;  // an empty block keeps the order of those that follow
        mask.clear();
      } else {
        ++l.counts.blocks_read;
        l.counts.bytes_read += e.header.data_size;
        count_passed(plan, *block, mask, l);
      }
      if (!each(w, *t, block, mask, l.totals)) {
        stop = true;
        on_stop();
      } else if (plan.limit && l.counts.passed >= plan.limit) {
        stop = true;  // what was handed on is still consumed
      }
    }
  };
  std::vector<std::thread> pool;
  for (unsigned w = 1; w < threads; ++w) pool.emplace_back(work, w);
  work(0);
  for (std::thread& t : pool) t.join();
  for (const Local& l : locals) merge(*counts, l.counts);
}

}  // namespace

unsigned scan_threads(const ScanPlan& plan) {
  if (plan.limit) return 1;
  if (plan.threads) return plan.threads;
  return std::max(1u, std::thread::hardware_concurrency());
}

void scan_blocks(const ScanPlan& plan, const BlockFn& each, ScanCounts* counts) {
  run_workers(
      plan, scan_threads(plan),
      [&](unsigned w, const Task&, std::unique_ptr<store::Block>& b, std::span<const uint8_t> mask,
          const RowTotals& totals) { return b->rows == 0 || each(w, *b, mask, totals); },
      counts, [] {});
}

namespace {

// Workers turn the rows that pass into records (or, with `format`, into text); this thread
// hands them on in order. A worker keeps at most `window` blocks ahead of the one handed on next.
void scan_ordered(const ScanPlan& plan, const FormatFn* format, const TakeFn* take,
                  const RecordsFn* each_records, const TextFn* each_text, ScanCounts* counts) {
  struct Done {
    std::unique_ptr<store::Block> block;
    std::vector<FlowRecord> records;
    // In pieces: buffers of a size handed round stay few and mapped, where a block's whole text
    // in one (up to 4 MiB, grown and copied) kept some 40 MiB of fresh pages in flight.
    std::vector<exporter::TextBuffer> text;
  };
  const unsigned threads = scan_threads(plan);
  const uint64_t window = 2 * uint64_t(threads);
  std::mutex mu;
  std::condition_variable ready, room;
  std::map<uint64_t, Done> done;
  // Blocks and record vectors handed back, reused: fresh ones cost page faults.
  std::vector<std::unique_ptr<store::Block>> spare;
  std::vector<std::vector<FlowRecord>> spare_records;
  std::vector<exporter::TextBuffer> spare_text;
  std::vector<std::vector<exporter::TextBuffer>> spare_pieces;
  uint64_t next = 0;
  bool stopped = false, finished = false;
  std::atomic<uint64_t> dropped{0};

  std::thread producer([&] {
    run_workers(
        plan, threads,
        [&](unsigned w, const Task& t, std::unique_ptr<store::Block>& b,
            std::span<const uint8_t> mask, const RowTotals& totals) {
          Done d;
          {
            std::lock_guard lock(mu);
            if (!spare_records.empty()) {
              d.records = std::move(spare_records.back());
              spare_records.pop_back();
            }
            if (!spare_pieces.empty()) {
              d.text = std::move(spare_pieces.back());
              spare_pieces.pop_back();
            }
          }
          uint64_t lost = 0;
          if (!format) {
            if (b->rows) b->to_records(d.records, &lost, mask);
          } else {
            constexpr uint32_t kSlice = 512;  // rows: what is made of them stays in the cache
            exporter::TextBuffer piece;
            for (uint32_t from = 0; from < b->rows; from += kSlice) {
              lost += (*format)(w, *b, mask, totals, from, std::min(b->rows, from + kSlice));
              if (!piece.data) {
                std::lock_guard lock(mu);
                if (!spare_text.empty()) {
                  piece = std::move(spare_text.back());
                  spare_text.pop_back();
                }
              }
              // Pieces of 1 MiB or so: of 256 KiB, the writes they cost made lines of a common
              // port slower.
              const bool last = from + kSlice >= b->rows;
              (*take)(w, piece, last ? 0 : 1024 * 1024);
              if (piece.size) d.text.push_back(std::exchange(piece, {}));
            }
            if (piece.data) {
              std::lock_guard lock(mu);
              spare_text.push_back(std::move(piece));
            }
          }
          dropped += lost;
          std::unique_lock lock(mu);
          room.wait(lock, [&] { return stopped || t.seq < next + window; });
          if (stopped) return false;
          // Records point into their block, which goes with them; text needs it no more, and
          // the worker keeps it (its buffers' pages stay mapped).
          if (!format) {
            d.block = std::move(b);
            if (!spare.empty()) {
              b = std::move(spare.back());
              spare.pop_back();
            }
          }
          done.emplace(t.seq, std::move(d));
          ready.notify_one();
          return true;
        },
        counts,
        [&] {
          std::lock_guard lock(mu);
          stopped = true;
          room.notify_all();
        });
    std::lock_guard lock(mu);
    finished = true;
    ready.notify_one();
  });
  std::unique_lock lock(mu);
  while (!stopped) {
    ready.wait(lock, [&] { return finished || done.count(next); });
    auto it = done.find(next);
    if (it == done.end()) break;  // finished
    Done d = std::move(it->second);
    done.erase(it);
    ++next;
    room.notify_all();
    lock.unlock();
    bool more = true;
    if (!format) more = d.records.empty() || (*each_records)(d.records);
    for (size_t i = 0; more && i < d.text.size(); ++i) more = (*each_text)(d.text[i]);
    lock.lock();
    if (d.block) spare.push_back(std::move(d.block));
    d.records.clear();
    spare_records.push_back(std::move(d.records));
    for (exporter::TextBuffer& piece : d.text) {
      piece.size = 0;
      if (piece.data) spare_text.push_back(std::move(piece));
    }
    d.text.clear();
    spare_pieces.push_back(std::move(d.text));
    if (!more) {
      stopped = true;
      room.notify_all();
    }
  }
  lock.unlock();
  producer.join();
  counts->dropped = dropped;
}

}  // namespace

void scan_records(const ScanPlan& plan, const RecordsFn& each, ScanCounts* counts) {
  scan_ordered(plan, nullptr, nullptr, &each, nullptr, counts);
}

void scan_text(const ScanPlan& plan, const FormatFn& format, const TakeFn& take, const TextFn& each,
               ScanCounts* counts) {
  scan_ordered(plan, &format, &take, nullptr, &each, counts);
}

}  // namespace flowkit::query
