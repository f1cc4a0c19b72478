#include "run/query_run.h"

#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <optional>

#include "core/arena.h"
#include "core/field_registry.h"
#include "export/fmt_writer.h"
#include "export/line_writer.h"
#include "query/aggregate.h"
#include "query/filter.h"
#include "query/group.h"
#include "query/scan.h"
#include "query/stats.h"
#include "run/exit_code.h"
#include "store/store_dir.h"

namespace flowkit::run {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

// YYYY/MM/DD[.hh[:mm[:ss]]] as UTC; the end of what it names when `end`.
bool parse_time(std::string_view s, bool end, int64_t* ns) {
  int v[6] = {0, 1, 1, 0, 0, 0};
  int given = 0;
  size_t i = 0;
  for (int part = 0; part < 6 && i < s.size(); ++part) {
    if (part > 0) {
      char want = part < 3 ? '/' : part == 3 ? '.' : ':';
      if (s[i] != want) return false;
      ++i;
    }
    size_t start = i;
    int x = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 4) x = x * 10 + (s[i++] - '0');
    if (i == start) return false;
    v[part] = x;
    given = part + 1;
  }
  if (i != s.size() || given < 3) return false;
  std::tm tm{};
  tm.tm_year = v[0] - 1900;
  tm.tm_mon = v[1] - 1;
  tm.tm_mday = v[2];
  tm.tm_hour = v[3];
  tm.tm_min = v[4];
  tm.tm_sec = v[5];
  int64_t t = int64_t(timegm(&tm));
  if (end) {
    static const int64_t kSpan[] = {0, 0, 86400, 3600, 60, 1};
    t += kSpan[given - 1] - 1;
    *ns = t * kSecond + (kSecond - 1);
  } else {
    *ns = t * kSecond;
  }
  return true;
}

std::string human_time(int64_t ns) {
  std::time_t t = std::time_t(ns / kSecond);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

}  // namespace

Status parse_time_window(std::string_view text, int64_t now_ns, int64_t* from, int64_t* to) {
  auto bad = [&] {
    return Status::invalid_argument(
        "-t " + std::string(text) +
        ": give YYYY/MM/DD.hh:mm:ss[-YYYY/MM/DD.hh:mm:ss] (later parts may be left out) or "
        "-SECONDS for the last seconds");
  };
  if (!text.empty() && text[0] == '-') {
    int64_t secs = 0;
    for (char c : text.substr(1)) {
      if (c < '0' || c > '9' || secs > INT64_MAX / 10 / kSecond) return bad();
      secs = secs * 10 + (c - '0');
    }
    if (text.size() < 2) return bad();
    *from = now_ns - secs * kSecond;
    *to = now_ns;
    return {};
  }
  // One time alone is where the window starts, as in nfdump: it runs to the end of the data.
  size_t dash = text.find('-');
  if (dash == std::string_view::npos) {
    *to = INT64_MAX;
    return parse_time(text, false, from) ? Status{} : bad();
  }
  if (!parse_time(text.substr(0, dash), false, from) ||
      !parse_time(text.substr(dash + 1), true, to) || *from > *to)
    return bad();
  return {};
}

namespace {

query::Counters counters_of(const FlowRecord& r) {
  query::Counters c;
  c.flows = r.present & presence_bit(FieldId::kFlows) ? r.flows : 1;
  c.packets = r.packets();
  c.bytes = r.bytes();
  c.first = r.first().ns;
  c.last = r.last().ns;
  return c;
}

// Sorts by -O: larger first for counters and rates, earlier first for times; ties keep their
// order.
void sort_records(std::vector<FlowRecord>& records, query::Order order) {
  std::stable_sort(records.begin(), records.end(),
                   [order](const FlowRecord& a, const FlowRecord& b) {
                     return query::rank(counters_of(a), order) > query::rank(counters_of(b), order);
                   });
}

// The columns the records of a format need: nfdump's line and fmt: layouts print a few fields,
// JSON and CSV every one.
Status read_for(const std::string& format, query::ScanPlan& plan) {
  if (format != "line" && !exporter::is_fmt_format(format)) {
    plan.all_columns = true;
    return {};
  }
  query::line_inputs(plan.columns);
  query::source_inputs({query::Derived::kPps, {}}, plan.columns);  // first, last, the counters
  return exporter::is_fmt_format(format) ? exporter::fmt_inputs(format, plan.columns) : Status();
}

uint64_t default_memory() {
  long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGE_SIZE);
  return pages > 0 && size > 0 ? uint64_t(pages) * uint64_t(size) / 2 : uint64_t(4) << 30;
}

int fail(const Status& st) {
  std::fprintf(stderr, "flowkit query: %s\n", st.message().c_str());
  return st.code() == StatusCode::kInvalidArgument ? kExitUsage : exit_code(st);
}

}  // namespace

int run_query(const QueryConfig& c) {
  auto filter = query::Filter::parse(c.filter);
  if (!filter) return fail(filter.status());
  std::vector<query::TopN> stats;
  // -s record[/ORDER]: the top flows, aggregated by the 5-tuple, printed as records.
  std::string aggregate = c.aggregate, record_order;
  size_t max_records = SIZE_MAX;
  for (const std::string& spec : c.stats) {
    if (spec == "record" || spec.starts_with("record/")) {
      if (!c.aggregate.empty() || max_records != SIZE_MAX)
        return fail(Status::invalid_argument("-s record: give it once, and without -A or -a"));
      aggregate = "srcip,srcport,dstip,dstport,proto";
      record_order = spec.size() > 7 ? spec.substr(7) : "flows";
      max_records = c.top;
      continue;
    }
    auto t = query::TopN::parse(spec);
    if (!t) return fail(t.status());
    stats.push_back(std::move(*t));
  }
  // -A: one key of the parts named.
  query::GroupSpec aggregation;
  if (!aggregate.empty()) {
    std::vector<query::KeyPart> tuple;
    std::string_view rest = aggregate;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view name = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? "" : rest.substr(comma + 1);
      auto parts = query::parse_key_name(name);
      if (!parts) return fail(Status::invalid_argument("-A " + parts.status().message()));
      if (parts->size() != 1)
        return fail(Status::invalid_argument("-A " + std::string(name) +
                                             ": name one end (srcip, dstport...)"));
      tuple.push_back((*parts)[0]);
    }
    aggregation.tuples.push_back(std::move(tuple));
  }
  std::optional<query::Order> order;
  for (const std::string& o : {c.order, record_order}) {
    if (o.empty()) continue;
    order = query::parse_order(o);
    if (!order)
      return fail(Status::invalid_argument(
          "-O/-s record: " + o + ": give tstart, tend, flows, packets, bytes, pps, bps or bpp"));
  }
  query::ScanPlan plan;
  plan.files = c.files;
  for (const std::string& d : c.dirs) {
    auto list = store::list_files(d);
    if (!list) return fail(list.status());
    plan.files.insert(plan.files.end(), list->begin(), list->end());
  }
  if (plan.files.empty())
    return fail(Status::invalid_argument("no store files: give -r FILE or -R DIR"));
  plan.filter = &*filter;
  plan.from_ns = c.from_ns;
  plan.to_ns = c.to_ns;
  plan.threads = c.threads;
  plan.limit = c.limit;  // nfdump's -c: the first N flows that pass, whatever is done with them

  // With -s the statistics are the output, not the records.
  OutputOptions output = c.output;
  if (!stats.empty() && aggregation.tuples.empty()) output.format = "none";
  // Records printed as they are (no -s, -A, -O) are formatted on the scan's threads: this
  // thread writes their text, the header before and nfdump's summary after.
  const bool grouped = !stats.empty() || !aggregation.tuples.empty();
  const uint64_t memory = c.max_memory ? c.max_memory : default_memory();
  const bool line_like = output.format == "line" || exporter::is_fmt_format(output.format);
  const bool parallel_text =
      !grouped && !order && (line_like || output.format == "json" || output.format == "csv");
  if (parallel_text) output.bare = true;
  auto out = Outputs::open(output, {}, nullptr);
  if (!out) return fail(out.status());
  query::ScanCounts counts;
  // -c is the scan's limit (plan.limit), as nfdump's: the records handed on are the ones to print.
  auto write = [&](std::span<const FlowRecord> records) {
    (*out)->sink().write(records);
    return !(*out)->reader_gone();
  };
  if (grouped) {
    // A table per statistic (and the aggregation) per thread, merged when the scan ends.
    std::vector<const query::GroupSpec*> specs;
    for (const query::TopN& t : stats) specs.push_back(&t.spec());
    if (!aggregation.tuples.empty()) specs.push_back(&aggregation);
    for (const query::GroupSpec* s : specs) query::group_inputs(*s, plan.columns);
    const size_t budget = size_t(memory / specs.size());
    const unsigned threads = query::scan_threads(plan);
    auto fresh = [&] {
      std::vector<query::GroupTable> t;
      for (const query::GroupSpec* s : specs) t.emplace_back(*s, budget, threads);
      return t;
    };
    std::vector<query::GroupTable> tables = fresh();
    bool full = false, scanned = false;
    if (!aggregation.tuples.empty() ||
        !query::fill_top_tables(plan, stats, specs, c.top, tables, budget, counts, &scanned)) {
      tables = fresh();
      counts = {};
      query::ScanPlan whole = plan;
      whole.quiet = whole.quiet || scanned;
      full = !query::fill_tables(whole, specs, tables, budget, nullptr, counts);
    }
    if (full) {
      std::fprintf(stderr,
                   "flowkit query: the groups of -s/-A outgrew %llu MiB of memory; narrow the "
                   "query (a filter, -t) or raise --max-memory\n",
                   (unsigned long long)(memory >> 20));
      return kExitFailed;
    }
    query::Counters total;
    total.flows = counts.passed;
    total.packets = counts.packets;
    total.bytes = counts.bytes;
    for (size_t k = 0; k < stats.size(); ++k) {
      std::string text = c.output.format == "json"
                             ? stats[k].json(tables[k], c.top)
                             : stats[k].format(tables[k], c.top, total) + "\n";
      std::fputs(text.c_str(), stdout);
    }
    std::fflush(stdout);  // before the records, which go out through their own buffer
    if (!aggregation.tuples.empty()) {
      // In the table's order unless -O sorts them (as nfdump), turned into records a batch at
      // a time.
      const query::GroupTable& t = tables.back();
      std::vector<const query::GroupTable::Entry*> groups = t.entries();
      if (order) {
        std::vector<std::pair<double, const query::GroupTable::Entry*>> ranked;
        ranked.reserve(groups.size());
        for (const auto* e : groups) ranked.emplace_back(query::rank(e->c, *order), e);
        std::stable_sort(ranked.begin(), ranked.end(),
                         [](const auto& a, const auto& b) { return a.first > b.first; });
        for (size_t i = 0; i < ranked.size(); ++i) groups[i] = ranked[i].second;
      }
      std::vector<FlowRecord> records;
      groups.resize(std::min(groups.size(), max_records));
      for (size_t i = 0; i < groups.size(); i += 4096) {
        records.clear();
        for (size_t j = i; j < std::min(groups.size(), i + 4096); ++j)
          records.push_back(t.record(*groups[j]));
        if (!write(records)) break;
      }
    }
  } else if (order) {
    // Every record is held to be sorted, its strings and lists copied, within --max-memory.
    if (Status st = read_for(output.format, plan); !st.ok()) return fail(st);
    Arena arena;
    std::vector<FlowRecord> records;
    bool full = false;
    query::scan_records(
        plan,
        [&](std::span<const FlowRecord> block) {
          for (const FlowRecord& r : block) records.push_back(copy_record(r, arena));
          full = records.capacity() * sizeof(FlowRecord) + arena.used() > memory;
          return !full;
        },
        &counts);
    if (full) {
      std::fprintf(stderr,
                   "flowkit query: -O holds every record it sorts, and they outgrew %llu MiB of "
                   "memory; narrow the query (a filter, -t, -c) or raise --max-memory\n",
                   (unsigned long long)(memory >> 20));
      return kExitFailed;
    }
    sort_records(records, *order);
    write(records);
  } else if (parallel_text) {
    if (Status st = read_for(output.format, plan); !st.ok()) return fail(st);
    // Each thread's writer, rows only, into a buffer handed on whole; the header comes from
    // one more, writing to a string. nfdump's lines are written from the columns, the other
    // formats from records.
    struct Formatter {
      std::unique_ptr<exporter::TextOutput> text;
      std::unique_ptr<FlowSink> writer;
      exporter::LineWriter* line = nullptr;
      std::vector<exporter::LineRow> rows;
      std::vector<FlowRecord> records;
    };
    const unsigned threads = query::scan_threads(plan);
    std::vector<Formatter> formatters(threads);
    for (Formatter& f : formatters) {
      f.text = exporter::TextOutput::to_buffer();
      auto w = (*out)->text_writer(*f.text, true);
      if (!w) return fail(w.status());
      f.writer = std::move(*w);
      f.line = dynamic_cast<exporter::LineWriter*>(f.writer.get());
    }
    exporter::TextOutput& text = *(*out)->text();
    {
      std::string header;
      auto to = exporter::TextOutput::to_string(&header);
      auto w = (*out)->text_writer(*to, c.output.bare);
      if (!w) return fail(w.status());
      (void)to->flush();
      text.put(header);
    }
    query::scan_text(
        plan,
        [&](unsigned worker, const store::Block& b, std::span<const uint8_t> mask,
            const query::RowTotals& totals, uint32_t from, uint32_t to) -> uint64_t {
          Formatter& f = formatters[worker];
          if (f.line) {
            query::line_rows(b, mask, totals, from, to, f.rows);
            f.line->write(f.rows);
            return 0;
          }
          uint64_t dropped = 0;
          f.records.clear();
          b.to_records(f.records, &dropped, mask, from, to);
          if (!f.records.empty()) f.writer->write(f.records);
          return dropped;
        },
        [&](unsigned worker, exporter::TextBuffer& chunk, size_t at_least) {
          exporter::TextOutput& t = *formatters[worker].text;
          if (t.mark() >= at_least) t.take(chunk);
        },
        [&](exporter::TextBuffer& chunk) {
          text.put_buffer(chunk);
          return !text.reader_gone();
        },
        &counts);
    if (line_like && !c.output.bare)
      text.put(exporter::nfdump_summary(counts.passed, counts.bytes, counts.packets,
                                        counts.passed ? counts.last - counts.first : 0));
  } else {
    plan.all_columns = true;
    query::scan_records(plan, write, &counts);
  }
  Status st = (*out)->finish();
  // The line writer closes with nfdump's summary line (with -s, printed here); the window and
  // what was read follow.
  if (!c.quiet && !stats.empty() && c.output.format == "line")
    std::fputs(exporter::nfdump_summary(counts.passed, counts.bytes, counts.packets,
                                        counts.passed ? counts.last - counts.first : 0)
                   .c_str(),
               stdout);
  if (!c.quiet && (c.output.format == "line" || exporter::is_fmt_format(c.output.format))) {
    if (counts.passed)
      std::printf("Time window: %s - %s\n", human_time(counts.first).c_str(),
                  human_time(counts.last).c_str());
    std::printf(
        "Total flows processed: %llu, passed: %llu, Blocks skipped: %llu, Blocks read: "
        "%llu, Bytes read: %llu, Files: %llu\n",
        (unsigned long long)counts.rows, (unsigned long long)counts.passed,
        (unsigned long long)counts.blocks_skipped, (unsigned long long)counts.blocks_read,
        (unsigned long long)counts.bytes_read, (unsigned long long)counts.files);
  }
  if (!st.ok()) return fail(st);
  if (counts.damaged) {
    std::fprintf(stderr, "flowkit query: %llu damaged blocks or files skipped\n",
                 (unsigned long long)counts.damaged);
    return kExitFailed;
  }
  return kExitOk;
}

}  // namespace flowkit::run
