// Outputs: where a run's flow records go, the same for `meter` and `collect`: one text writer
// (-o line|json|csv|flowrecorder|none, -w PATH), exporters (--export URL, repeatable) and top
// talkers (--top N), behind one FlowSink. finish() flushes them all and turns an export that
// lost records into a kDataLoss Status, so that the run says so and exits non-zero even with -q.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/flow_sink.h"
#include "export/exporter_sink.h"
#include "export/text_output.h"
#include "export/top_talkers.h"
#include "store/store_sink.h"

namespace flowkit::run {

struct OutputOptions {
  std::string format = "line";     // line, json, csv, flowrecorder, store, none
  std::string path = "-";          // -w; "-" is stdout; the store's directory for `store`
  uint32_t rotate_seconds = 300;   // store: a file per interval
  store::Compression compression;  // store
  bool biflow = true;              // CSV and flowRecorder columns for both directions
  bool bare = false;               // line: no header and no summary (nfdump -q)
  size_t top = 0;                  // --top N: the N busiest hosts on stdout after the run
  std::vector<exporter::ExportTarget> exports;
  exporter::ExporterSettings export_settings;
  // The run's input files: neither -w nor an export file may overwrite one.
  std::vector<std::string> inputs;
};

class Outputs {
 public:
  // `clock` is the exporters' (the meter's packet clock, or the wall clock); counters may be
  // null. Errors: kInvalidArgument for a bad format or an output that names an input,
  // kIoError/kUnavailable when a file cannot be created or a collector cannot be reached.
  static Result<std::unique_ptr<Outputs>> open(const OutputOptions& options,
                                               exporter::ExporterSink::Clock clock,
                                               const ipfix::ExporterCounters* counters);

  FlowSink& sink() { return tee_; }
  // The text output itself, for text written elsewhere (nullptr without one).
  exporter::TextOutput* text() const { return text_.get(); }
  // A writer of this output's text format (line, long, extended, fmt:, json, csv,
  // flowrecorder) on `to`, so that threads can format records in parallel; `rows_only`: no
  // header and no summary. nullptr for the formats without text.
  Result<std::unique_ptr<FlowSink>> text_writer(exporter::TextOutput& to, bool rows_only) const;
  // The reader of the text output went away (`| head`).
  bool reader_gone() const { return text_ && text_->reader_gone(); }
  // Flushes every output; the first error, or kDataLoss naming each export that lost records.
  // Prints --top's table on stdout.
  Status finish();
  // The exporters' summary lines.
  std::string summary() const;
  // Closes the store's file (SIGHUP): the next records start a new one.
  Status rotate() { return store_ ? store_->flush() : Status(); }

 private:
  Outputs() : tee_({}) {}
  OutputOptions options_;
  std::unique_ptr<exporter::TextOutput> text_;
  std::unique_ptr<FlowSink> writer_;
  std::unique_ptr<store::StoreSink> store_;
  std::vector<std::unique_ptr<exporter::ExporterSink>> exporters_;
  exporter::TopTalkers top_;
  Tee tee_;
};

// Whether two paths name the same file (the same inode when both exist).
bool same_file(const std::string& a, const std::string& b);

}  // namespace flowkit::run
