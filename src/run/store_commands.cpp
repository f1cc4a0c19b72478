#include "run/store_commands.h"

#include <fmt/core.h>

#include <cstdio>

namespace flowkit::run {
namespace {

Result<std::vector<std::string>> files_of(const std::vector<std::string>& paths) {
  std::vector<std::string> all;
  for (const std::string& p : paths) {
    auto files = store::list_files(p);
    if (!files) return files.status();
    all.insert(all.end(), files->begin(), files->end());
  }
  return all;
}

void warn_all(const std::vector<std::string>& warnings) {
  for (const std::string& w : warnings)
    std::fprintf(stderr, "flowkit store: warning: %s\n", w.c_str());
}

}  // namespace

Status store_info(const std::vector<std::string>& paths, bool json, bool columns) {
  auto files = files_of(paths);
  if (!files) return files.status();
  auto t = store::totals(*files);
  if (!t) return t.status();
  warn_all(t->warnings);
  std::string text = json ? store::format_totals_json(*t) : store::format_totals(*t, columns);
  std::fputs(text.c_str(), stdout);
  return {};
}

Status store_cat(const std::vector<std::string>& paths, const OutputOptions& output) {
  auto files = files_of(paths);
  if (!files) return files.status();
  auto out = Outputs::open(output, {}, nullptr);
  if (!out) return out.status();
  store::Block block;
  std::vector<FlowRecord> records;
  uint64_t dropped = 0, damaged = 0;
  for (const std::string& path : *files) {
    auto r = store::FileReader::open(path);
    if (!r) {
      std::fprintf(stderr, "flowkit store: %s\n", r.status().message().c_str());
      ++damaged;
      continue;
    }
    warn_all(r->warnings());
    damaged += r->bad_blocks();
    for (size_t i = 0; i < r->blocks().size() && !(*out)->reader_gone(); ++i) {
      if (Status st = r->read_block(i, {}, block); !st.ok()) {
        std::fprintf(stderr, "flowkit store: %s; block skipped\n", st.message().c_str());
        ++damaged;
        continue;
      }
      records.clear();
      block.to_records(records, &dropped);
      (*out)->sink().write(records);
    }
  }
  Status st = (*out)->finish();
  if (!st.ok()) return st;
  if (damaged)
    return Status::corruption(fmt::format("{} damaged blocks or files skipped", damaged));
  return {};
}

Status store_verify(const std::vector<std::string>& paths, bool quiet) {
  auto files = files_of(paths);
  if (!files) return files.status();
  store::VerifyResult v = store::verify(*files);
  for (const std::string& p : v.problems)
    std::fprintf(stderr, "flowkit store verify: %s\n", p.c_str());
  if (!quiet)
    std::printf("%llu files, %llu blocks checked, %llu damaged\n", (unsigned long long)v.files,
                (unsigned long long)v.blocks, (unsigned long long)v.damaged);
  if (v.damaged) return Status::corruption(fmt::format("{} damaged blocks or files", v.damaged));
  return {};
}

Status store_expire(const std::string& dir, const store::ExpireOptions& options, bool quiet) {
  auto r = store::expire(dir, options);
  if (!r) return r.status();
  if (!quiet)
    std::printf("%s%llu files (%.1f MB) removed; %llu files (%.1f MB) left\n",
                options.dry_run ? "dry run: " : "", (unsigned long long)r->files_removed,
                r->bytes_removed / 1e6, (unsigned long long)r->files_left, r->bytes_left / 1e6);
  return {};
}

}  // namespace flowkit::run
