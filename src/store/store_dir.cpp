#include "store/store_dir.h"

#include <fmt/core.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>

namespace fs = std::filesystem;

namespace flowkit::store {

namespace {

// FIRST:LAST: the files whose names sort from FIRST's to LAST's, under the store FIRST is in
// (three levels up when FIRST sits in YYYY/MM/DD, else its own directory).
std::optional<Result<std::vector<std::string>>> file_range(const std::string& path) {
  size_t colon = path.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::error_code ec;
  fs::path first = path.substr(0, colon), last = path.substr(colon + 1);
  if (!fs::is_regular_file(first, ec)) return std::nullopt;
  if (last.empty() || last.has_parent_path()) last = last.filename();
  fs::path root = first.parent_path();
  auto digits = [](const fs::path& p, size_t n) {
    std::string s = p.filename();
    return s.size() == n && s.find_first_not_of("0123456789") == std::string::npos;
  };
  fs::path day = root, month = day.parent_path(), year = month.parent_path();
  if (digits(day, 2) && digits(month, 2) && digits(year, 4)) root = year.parent_path();
  if (root.empty()) root = ".";
  auto all = list_files(root.string());
  if (!all) return all;
  std::string lo = first.filename(), hi = last.filename();
  if (hi < lo)
    return Status::invalid_argument(path + ": the range's last file sorts before its first");
  std::vector<std::string> out;
  for (const std::string& f : *all) {
    std::string name = fs::path(f).filename();
    if (name >= lo && name <= hi) out.push_back(f);
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> list_files(const std::string& path) {
  std::error_code ec;
  if (auto range = file_range(path)) return std::move(*range);
  if (!fs::exists(path, ec)) return Status::not_found(path + ": no such file or directory");
  if (!fs::is_directory(path, ec)) return std::vector<std::string>{path};
  std::vector<std::string> out;
  for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file() && it->path().extension() == ".fk") out.push_back(it->path());
  }
  if (ec) return Status::io_error(path + ": " + ec.message());
  // By name within the store: YYYY/MM/DD/flows-YYYYMMDDHHMM sorts by time.
  std::sort(out.begin(), out.end());
  return out;
}

Result<StoreTotals> totals(const std::vector<std::string>& files) {
  StoreTotals t;
  std::map<std::pair<uint16_t, Direction>, ColumnTotals> columns;
  Column want[] = {column(FieldId::kPackets), column(FieldId::kPackets, Direction::kReverse),
                   column(FieldId::kBytes), column(FieldId::kBytes, Direction::kReverse)};
  Block block;
  for (const std::string& path : files) {
    auto r = FileReader::open(path);
    if (!r) {
      t.warnings.push_back(r.status().message());
      continue;
    }
    t.files++;
    t.disk_bytes += r->size();
    t.bad_blocks += r->bad_blocks();
    for (const std::string& w : r->warnings()) t.warnings.push_back(w);
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      const BlockHeader& h = r->blocks()[i].header;
      if (Status st = r->read_block(i, want, block); !st.ok()) {
        t.bad_blocks++;
        t.warnings.push_back(st.message());
        continue;
      }
      t.blocks++;
      t.flows += h.rows;
      t.first = std::min(t.first, h.time_min);
      t.last = std::max(t.last, h.time_max);
      for (const ColumnData& c : block.columns) {
        uint64_t sum = 0;
        for (uint32_t row = 0; row < c.rows; ++row) sum += c.ints[row];
        (c.field->id == FieldId::kPackets ? t.packets : t.bytes) += sum;
      }
      for (const ColumnDescriptor& d : h.columns) {
        ColumnTotals& c = columns[{d.field, d.dir}];
        if (c.name.empty()) {
          const FieldInfo* f = find_field(d.field);
          c.name = (f ? std::string(f->name) : "field " + std::to_string(d.field)) +
                   (d.dir == Direction::kReverse ? "_rev" : "");
        }
        c.raw += d.raw_size;
        c.stored += d.stored_size;
        c.blocks++;
        t.raw_bytes += d.raw_size;
      }
    }
  }
  for (auto& [key, c] : columns) t.columns.push_back(c);
  std::sort(t.columns.begin(), t.columns.end(),
            [](const ColumnTotals& a, const ColumnTotals& b) { return a.stored > b.stored; });
  return t;
}

namespace {

std::string time_text(Timestamp t) {
  return t.ns == INT64_MAX || t.ns == INT64_MIN ? "-" : format_nfdump_time(t);
}

}  // namespace

std::string format_totals(const StoreTotals& t, bool columns) {
  double per_flow = t.flows ? double(t.disk_bytes) / double(t.flows) : 0;
  double ratio = t.disk_bytes ? double(t.raw_bytes) / double(t.disk_bytes) : 0;
  std::string out = fmt::format(
      "flows: {}\npackets: {}\nbytes: {}\nfirst: {}\nlast: {}\nfiles: {}\nblocks: {}\n"
      "bytes on disk: {}\nbytes per flow: {:.1f}\ncompression ratio: {:.1f}\n",
      t.flows, t.packets, t.bytes, time_text(t.first), time_text(t.last), t.files, t.blocks,
      t.disk_bytes, per_flow, ratio);
  if (t.bad_blocks)
    out += fmt::format("damaged blocks: {} (flowkit store verify names them)\n", t.bad_blocks);
  if (columns) {
    out += fmt::format("\n{:<28} {:>14} {:>14} {:>9} {:>7}\n", "column", "stored bytes",
                       "raw bytes", "B/flow", "ratio");
    for (const ColumnTotals& c : t.columns)
      out += fmt::format("{:<28} {:>14} {:>14} {:>9.2f} {:>7.1f}\n", c.name, c.stored, c.raw,
                         t.flows ? double(c.stored) / double(t.flows) : 0.0,
                         c.stored ? double(c.raw) / double(c.stored) : 0.0);
  }
  return out;
}

std::string format_totals_json(const StoreTotals& t) {
  auto time = [](Timestamp x) {
    return x.ns == INT64_MAX || x.ns == INT64_MIN ? std::string("null")
                                                  : "\"" + format_iso8601(x) + "\"";
  };
  std::string cols;
  for (const ColumnTotals& c : t.columns)
    cols += fmt::format("{}{{\"column\":\"{}\",\"stored_bytes\":{},\"raw_bytes\":{}}}",
                        cols.empty() ? "" : ",", c.name, c.stored, c.raw);
  return fmt::format(
      "{{\"flows\":{},\"packets\":{},\"bytes\":{},\"first\":{},\"last\":{},\"files\":{},"
      "\"blocks\":{},\"damaged_blocks\":{},\"bytes_on_disk\":{},\"bytes_per_flow\":{:.2f},"
      "\"compression_ratio\":{:.2f},\"columns\":[{}]}}\n",
      t.flows, t.packets, t.bytes, time(t.first), time(t.last), t.files, t.blocks, t.bad_blocks,
      t.disk_bytes, t.flows ? double(t.disk_bytes) / double(t.flows) : 0.0,
      t.disk_bytes ? double(t.raw_bytes) / double(t.disk_bytes) : 0.0, cols);
}

VerifyResult verify(const std::vector<std::string>& files) {
  VerifyResult v;
  Block block;
  for (const std::string& path : files) {
    v.files++;
    auto r = FileReader::open(path);
    if (!r) {
      v.damaged++;
      v.problems.push_back(r.status().message());
      continue;
    }
    for (const std::string& w : r->warnings()) v.problems.push_back(w);
    v.damaged += r->bad_blocks() + (r->ignored_bytes() ? 1 : 0);
    for (size_t i = 0; i < r->blocks().size(); ++i) {
      v.blocks++;
      if (Status st = r->read_block(i, {}, block); !st.ok()) {
        v.damaged++;
        v.problems.push_back(st.message());
      }
    }
  }
  return v;
}

Result<ExpireResult> expire(const std::string& dir, const ExpireOptions& o) {
  auto files = list_files(dir);
  if (!files) return files.status();
  struct Entry {
    std::string path;
    uint64_t size;
    int64_t end_ns;  // the end of the file's interval
  };
  std::vector<Entry> entries;
  for (const std::string& path : *files) {
    std::error_code ec;
    uint64_t size = fs::file_size(path, ec);
    if (ec) continue;
    int64_t end = INT64_MAX;
    if (auto r = FileReader::open(path); r.ok() && r->header().interval_seconds)
      end = r->header().interval_start.ns + int64_t(r->header().interval_seconds) * kNanosPerSecond;
    entries.push_back({path, size, end});
  }
  ExpireResult res;
  uint64_t total = 0;
  for (const Entry& e : entries) total += e.size;
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    bool too_old = o.max_age_ns && e.end_ns != INT64_MAX && o.now.ns - e.end_ns > o.max_age_ns;
    bool too_big = o.max_bytes && total > o.max_bytes && i + 1 < entries.size();
    if (!too_old && !too_big) {
      res.files_left++;
      res.bytes_left += e.size;
      continue;
    }
    std::error_code ec;
    if (!o.dry_run && !fs::remove(e.path, ec))
      return Status::io_error(e.path + ": cannot remove: " + ec.message());
    total -= e.size;
    res.files_removed++;
    res.bytes_removed += e.size;
    if (!o.dry_run) {
      // Day, month and year directories left empty go too; the store's own stays.
      for (fs::path p = fs::path(e.path).parent_path(); p != fs::path(dir) && p.has_parent_path();
           p = p.parent_path()) {
        if (!fs::is_empty(p, ec) || ec || !fs::remove(p, ec)) break;
      }
    }
  }
  return res;
}

namespace {

// Digits only, at most 12 of them.
std::optional<uint64_t> parse_count(std::string_view text) {
  if (text.empty() || text.size() > 12) return std::nullopt;
  uint64_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    n = n * 10 + uint64_t(c - '0');
  }
  return n;
}

}  // namespace

std::optional<int64_t> parse_age(std::string_view text) {
  static constexpr std::pair<char, int64_t> kUnits[] = {
      {'s', 1}, {'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
  int64_t unit = 1;
  for (auto [c, seconds] : kUnits) {
    if (!text.empty() && text.back() == c) {
      unit = seconds;
      text.remove_suffix(1);
    }
  }
  auto n = parse_count(text);
  if (!n || *n > uint64_t(INT64_MAX / kNanosPerSecond / unit)) return std::nullopt;
  return int64_t(*n) * unit * kNanosPerSecond;
}

std::optional<uint64_t> parse_size(std::string_view text) {
  static constexpr std::string_view kUnits = "KMGT";
  uint64_t unit = 1;
  if (!text.empty()) {
    if (size_t u = kUnits.find(char(std::toupper(uint8_t(text.back())))); u != kUnits.npos) {
      unit = uint64_t(1) << (10 * (u + 1));
      text.remove_suffix(1);
    }
  }
  auto n = parse_count(text);
  if (!n) return std::nullopt;
  return *n * unit;
}

}  // namespace flowkit::store
