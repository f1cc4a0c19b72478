#include "run/query_run.h"

#include <fmt/core.h>

#include <cstdio>
#include <ctime>

#include "query/filter.h"
#include "query/stats.h"
#include "run/exit_code.h"
#include "store/file_reader.h"
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
  size_t dash = text.find('-');
  std::string_view a = text.substr(0, dash);
  std::string_view b = dash == std::string_view::npos ? a : text.substr(dash + 1);
  if (!parse_time(a, false, from) || !parse_time(b, true, to) || *from > *to) return bad();
  return {};
}

int run_query(const QueryConfig& c) {
  auto filter = query::Filter::parse(c.filter);
  if (!filter) {
    std::fprintf(stderr, "flowkit query: %s\n", filter.status().message().c_str());
    return kExitUsage;
  }
  std::vector<query::TopN> stats;
  for (const std::string& spec : c.stats) {
    auto t = query::TopN::parse(spec);
    if (!t) {
      std::fprintf(stderr, "flowkit query: %s\n", t.status().message().c_str());
      return kExitUsage;
    }
    stats.push_back(std::move(*t));
  }
  std::vector<std::string> files = c.files;
  for (const std::string& d : c.dirs) {
    auto list = store::list_files(d);
    if (!list) {
      std::fprintf(stderr, "flowkit query: %s\n", list.status().message().c_str());
      return exit_code(list.status());
    }
    files.insert(files.end(), list->begin(), list->end());
  }
  if (files.empty()) {
    std::fprintf(stderr, "flowkit query: no store files: give -r FILE or -R DIR\n");
    return kExitUsage;
  }
  // With -s the statistics are the output, not the records.
  OutputOptions output = c.output;
  if (!stats.empty()) output.format = "none";
  auto out = Outputs::open(output, {}, nullptr);
  if (!out) {
    std::fprintf(stderr, "flowkit query: %s\n", out.status().message().c_str());
    return exit_code(out.status());
  }
  bool windowed = c.from_ns != INT64_MIN || c.to_ns != INT64_MAX;
  store::Block block;
  std::vector<FlowRecord> records, passed;
  uint64_t processed = 0, matched = 0, packets = 0, bytes = 0, dropped = 0, damaged = 0;
  uint64_t blocks_read = 0, blocks_skipped = 0, bytes_read = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  bool done = false;
  for (const std::string& path : files) {
    if (done) break;
    auto r = store::FileReader::open(path);
    if (!r) {
      std::fprintf(stderr, "flowkit query: %s; file skipped\n", r.status().message().c_str());
      ++damaged;
      continue;
    }
    damaged += r->bad_blocks();
    for (size_t i = 0; i < r->blocks().size() && !done; ++i) {
      const store::BlockHeader& h = r->blocks()[i].header;
      // A block none of whose flows starts in the window is not read.
      if (windowed && (h.time_max.ns < c.from_ns || h.time_min.ns > c.to_ns)) {
        ++blocks_skipped;
        continue;
      }
      if (Status st = r->read_block(i, {}, block); !st.ok()) {
        std::fprintf(stderr, "flowkit query: %s; block skipped\n", st.message().c_str());
        ++damaged;
        continue;
      }
      ++blocks_read;
      bytes_read += h.data_size;
      records.clear();
      block.to_records(records, &dropped);
      passed.clear();
      for (const FlowRecord& rec : records) {
        ++processed;
        int64_t start = rec.first().ns;
        if (windowed && (start < c.from_ns || start > c.to_ns)) continue;
        if (!filter->matches(rec)) continue;
        if (stats.empty()) passed.push_back(rec);
        for (query::TopN& t : stats) t.add(rec);
        ++matched;
        packets += rec.fwd.packets + rec.rev.packets;
        bytes += rec.fwd.bytes + rec.rev.bytes;
        first = std::min(first, start);
        last = std::max(last, rec.last().ns);
        if (c.limit && matched >= c.limit) {
          done = true;
          break;
        }
      }
      (*out)->sink().write(passed);
      if ((*out)->reader_gone()) done = true;
    }
  }
  Status st = (*out)->finish();
  for (const query::TopN& t : stats) {
    std::string text = c.output.format == "json" ? t.json(c.top) : t.format(c.top) + "\n";
    std::fputs(text.c_str(), stdout);
  }
  // The line writer closes with nfdump's summary line (with -s, printed here); the window and
  // what was read follow.
  if (!c.quiet && !stats.empty() && c.output.format == "line") {
    double secs = matched ? double(last - first) / 1e9 : 0;
    std::printf(
        "Summary: total flows: %llu, total bytes: %llu, total packets: %llu, avg bps: "
        "%.0f, avg pps: %.0f, avg bpp: %llu\n",
        (unsigned long long)matched, (unsigned long long)bytes, (unsigned long long)packets,
        secs > 0 ? double(bytes) * 8 / secs : 0, secs > 0 ? double(packets) / secs : 0,
        (unsigned long long)(packets ? bytes / packets : 0));
  }
  if (!c.quiet && c.output.format == "line") {
    if (matched)
      std::printf("Time window: %s - %s\n", human_time(first).c_str(), human_time(last).c_str());
    std::printf(
        "Total flows processed: %llu, passed: %llu, Blocks skipped: %llu, Blocks read: "
        "%llu, Bytes read: %llu, Files: %zu\n",
        (unsigned long long)processed, (unsigned long long)matched,
        (unsigned long long)blocks_skipped, (unsigned long long)blocks_read,
        (unsigned long long)bytes_read, files.size());
  }
  if (!st.ok()) {
    std::fprintf(stderr, "flowkit query: %s\n", st.message().c_str());
    return exit_code(st);
  }
  if (damaged) {
    std::fprintf(stderr, "flowkit query: %llu damaged blocks or files skipped\n",
                 (unsigned long long)damaged);
    return 1;
  }
  return 0;
}

}  // namespace flowkit::run
