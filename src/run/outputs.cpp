#include "run/outputs.h"

#include <fmt/core.h>
#include <sys/stat.h>

#include <cstdio>

#include "export/csv_writer.h"
#include "export/flowrecorder_writer.h"
#include "export/fmt_writer.h"
#include "export/json_writer.h"
#include "export/line_writer.h"

namespace flowkit::run {

bool same_file(const std::string& a, const std::string& b) {
  if (a == "-" || b == "-") return false;
  struct stat sa {
  }, sb{};
  if (::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0)
    return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
  return a == b;
}

Result<std::unique_ptr<Outputs>> Outputs::open(const OutputOptions& o,
                                               exporter::ExporterSink::Clock clock,
                                               const ipfix::ExporterCounters* counters) {
  std::unique_ptr<Outputs> out(new Outputs());
  out->options_ = o;
  static constexpr const char* kFormats[] = {"line",         "json",  "csv",
                                             "flowrecorder", "store", "none"};
  if (std::find(std::begin(kFormats), std::end(kFormats), o.format) == std::end(kFormats) &&
      !exporter::is_fmt_format(o.format))
    return Status::invalid_argument("unknown output format '" + o.format +
                                    "': use line, long, extended, fmt:..., json, csv, "
                                    "flowrecorder, store or none");
  if (o.format == "store" && o.path == "-")
    return Status::invalid_argument("-o store needs -w DIR, the store's directory");
  // Refused before anything is created: opening truncates.
  for (const std::string& in : o.inputs) {
    if (o.format != "none" && same_file(o.path, in))
      return Status::invalid_argument("-w " + o.path +
                                      " is an input of this run; writing would destroy it");
    for (const exporter::ExportTarget& t : o.exports)
      if (t.transport == exporter::ExportTarget::Transport::kFile && same_file(t.path, in))
        return Status::invalid_argument("--export " + t.url +
                                        " is an input of this run; writing would destroy it");
  }
  std::vector<FlowSink*> sinks;
  if (o.format == "store") {
    store::StoreOptions so;
    so.dir = o.path;
    so.rotate_seconds = o.rotate_seconds;
    so.writer.compression = o.compression;
    auto s = store::StoreSink::open(so);
    if (!s) return s.status();
    out->store_ = std::move(*s);
    sinks.push_back(out->store_.get());
  } else if (o.format != "none") {
    auto text = exporter::TextOutput::open(o.path);
    if (!text) return text.status();
    out->text_ = std::move(*text);
    auto w = out->text_writer(*out->text_, o.bare);
    if (!w) return w.status();
    out->writer_ = std::move(*w);
    sinks.push_back(out->writer_.get());
  }
  for (const exporter::ExportTarget& t : o.exports) {
    auto e = exporter::ExporterSink::open(t, o.export_settings, clock, counters);
    if (!e) return e.status();
    out->exporters_.push_back(std::move(*e));
    sinks.push_back(out->exporters_.back().get());
  }
  if (o.top) sinks.push_back(&out->top_);
  out->tee_ = Tee(std::move(sinks));
  return out;
}

Result<std::unique_ptr<FlowSink>> Outputs::text_writer(exporter::TextOutput& t,
                                                       bool rows_only) const {
  const OutputOptions& o = options_;
  if (o.format == "json") return std::unique_ptr<FlowSink>(new exporter::JsonWriter(t));
  if (o.format == "csv")
    return std::unique_ptr<FlowSink>(new exporter::CsvWriter(t, o.biflow, !rows_only));
  if (o.format == "flowrecorder")
    return std::unique_ptr<FlowSink>(new exporter::FlowRecorderWriter(t, o.biflow));
  if (o.format == "line") return std::unique_ptr<FlowSink>(new exporter::LineWriter(t, rows_only));
  if (exporter::is_fmt_format(o.format)) {
    auto w = exporter::FmtWriter::open(t, o.format, rows_only);
    if (!w) return w.status();
    return std::unique_ptr<FlowSink>(std::move(*w));
  }
  return std::unique_ptr<FlowSink>();
}

Status Outputs::finish() {
  Status first = tee_.flush();
  std::string lost;
  for (const auto& e : exporters_) {
    if (uint64_t n = e->lost_messages())
      lost += fmt::format("{}{}: {} of {} messages not delivered ({})", lost.empty() ? "" : "; ",
                          e->target().url, n, e->messages_out(), e->loss_reason());
  }
  if (options_.top) {
    std::fputs(top_.format(options_.top).c_str(), stdout);
    std::fflush(stdout);
  }
  if (!first.ok()) return first;
  if (!lost.empty()) return Status::data_loss("records were lost: " + lost);
  return {};
}

std::string Outputs::summary() const {
  std::string out = store_ ? store_->summary() : "";
  for (const auto& e : exporters_) out += e->summary();
  return out;
}

}  // namespace flowkit::run
