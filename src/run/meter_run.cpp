#include "run/meter_run.h"

#include <fmt/core.h>
#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <optional>

#include "capture/filtered_source.h"
#include "capture/live_source.h"
#include "meter/pipeline.h"
#include "run/exit_code.h"
#include "run/human.h"

namespace flowkit::run {

namespace {

// Below this many flows the flow table's fixed part dominates, and memory per flow would mislead.
constexpr uint64_t kFlowsForPerFlowMemory = 10000;

class MeterJob final : public Job {
 public:
  MeterJob(const MeterConfig& c, std::unique_ptr<capture::PacketSource> source,
           capture::LiveSource* live)
      : config_(c), source_(std::move(source)), live_(live) {}

  // The outputs need the meter's clock, and the meter needs the outputs' sink.
  Status open() {
    exporter::ExporterSink::Clock clock{[this] { return meter_->start_time(); },
                                        [this] { return meter_->now(); }};
    auto out = Outputs::open(config_.output, clock, &counters_);
    if (!out) return out.status();
    outputs_ = std::move(*out);
    meter_.emplace(config_.meter, outputs_->sink());
    if (!live_ && config_.threads > 1) prepared_.emplace(*source_, config_.meter);
    return {};
  }

  bool step() override {
    size_t n;
    bool at_end;  // files: 0 packets can also mean a stretch a filter dropped
    if (prepared_) {
      const meter::PreparedSource::Batch& b = prepared_->next();
      n = b.packets.size();
      meter_->add_interfaces(b.new_interfaces);
      if (n) meter_->count(b.packets, b.keyed);
      prepared_stats_ = b.stats;
      warnings_.insert(warnings_.end(), b.warnings.begin(), b.warnings.end());
      at_end = b.end;
    } else {
      n = source_->read_batch(batch_);
      meter_->add_interfaces(
          std::span(source_->interfaces())
              .subspan(std::min(meter_->interface_count(), source_->interfaces().size())));
      if (n) meter_->process(std::span(batch_.data(), n));
      for (std::string& w : source_->take_warnings()) warnings_.push_back(std::move(w));
      at_end = n == 0 && source_->finished();
    }
    counters_.ignored_packets = meter_->stats().skipped_total();
    if (meter_->memory_bytes() > peak_memory_) peak_memory_ = meter_->memory_bytes();
    // Live: a quiet stretch still moves the flow clock (expiry, exports' once-a-second send).
    if (live_ && n == 0) meter_->advance(wall_clock_now());
    return !(live_ ? source_->finished() : at_end);
  }
  void interrupt() override {
    if (live_) live_->stop();
  }
  bool drains_on_stop() const override { return live_ != nullptr; }
  bool output_gone() const override { return outputs_->reader_gone(); }

  std::string progress(double secs) const override {
    // A live source asks the kernel for its drop counts: only when due.
    const capture::SourceStats cs = prepared_ ? prepared_stats_ : source_->stats();
    std::string pct =
        cs.bytes_total ? fmt::format("{:5.1f}% ", 100.0 * cs.bytes_read / cs.bytes_total) : "";
    const meter::MeterStats& s = meter_->stats();
    return fmt::format("{}{} packets, {} flows active, {} packets/s", pct, human(double(s.packets)),
                       human(double(meter_->active_flows())),
                       human(secs > 0 ? s.packets / secs : 0));
  }
  std::vector<std::string> take_warnings() override { return std::exchange(warnings_, {}); }

  Status finish() override {
    prepared_.reset();  // the source is this thread's again
    for (std::string& w : source_->take_warnings()) warnings_.push_back(std::move(w));
    meter_->flush();
    return outputs_->finish();
  }

  std::string summary(double seconds) const override {
    return meter_summary(seconds) + outputs_->summary();
  }

 private:
  std::string meter_summary(double seconds) const;

  MeterConfig config_;
  std::unique_ptr<capture::PacketSource> source_;
  capture::LiveSource* live_;
  ipfix::ExporterCounters counters_;
  std::unique_ptr<Outputs> outputs_;
  std::optional<meter::Meter> meter_;
  std::optional<meter::PreparedSource> prepared_;
  capture::SourceStats prepared_stats_;  // the reader thread's last word on the source
  std::vector<capture::RawPacket> batch_ = std::vector<capture::RawPacket>(256);
  std::vector<std::string> warnings_;
  size_t peak_memory_ = 0;
};

std::string MeterJob::meter_summary(double seconds) const {
  const meter::MeterStats& s = meter_->stats();
  capture::SourceStats cs = source_->stats();
  std::string out = fmt::format("flowkit meter: {} packets read in {:.2f} s ({} packets/s)\n",
                                s.packets, seconds, human(seconds > 0 ? s.packets / seconds : 0));
  if (cs.filtered)
    out += fmt::format("  {} more packets read and left out by the filter\n", cs.filtered);
  out += fmt::format("  counted in flows: {} packets, {} IP bytes", s.decoded, s.ip_bytes);
  if (s.tunneled) out += fmt::format(" ({} from inside tunnels)", s.tunneled);
  out += "\n";
  uint64_t skipped = s.skipped_total();
  if (skipped || s.not_sampled) {
    out += fmt::format("  skipped: {}", skipped);
    std::string sep = " (";
    for (size_t i = 1; i < std::size(s.skipped); ++i) {
      if (!s.skipped[i]) continue;
      out += fmt::format("{}{} {}", sep, packet::kSkipReasonNames[i], s.skipped[i]);
      sep = ", ";
    }
    if (sep != " (") out += ")";
    if (s.not_sampled) out += fmt::format("; not sampled: {}", s.not_sampled);
    out += "\n";
  }
  if (s.l4_truncated)
    out += fmt::format("  transport header cut by the snap length: {} (counted without ports)\n",
                       s.l4_truncated);
  if (s.no_memory)
    out += fmt::format("  NOT COUNTED, the system refused memory for a flow: {} packets\n",
                       s.no_memory);
  if (s.fragments.fragments) {
    out += fmt::format(
        "  fragments: {} (arrived before their first: {}, never saw their first: {}, overlapping: "
        "{}, impossible: {})\n",
        s.fragments.fragments, s.fragments.held, s.fragments.orphaned, s.fragments.overlapping,
        s.fragments.bad);
    if (s.fragments.evicted)
      out += fmt::format(
          "  fragmented datagrams forgotten early, too many at once: {} (their later fragments "
          "count without ports; --max-fragments raises the limit)\n",
          s.fragments.evicted);
  }
  out += fmt::format("  flows: {} (", s.flows);
  std::string sep;
  for (size_t i = 1; i < std::size(s.flows_by_reason); ++i) {
    out += fmt::format("{}{} {}", sep, kEndReasonNames[i], s.flows_by_reason[i]);
    sep = ", ";
  }
  out += fmt::format("); at most {} in memory", s.peak_flows);
  if (s.peak_flows >= kFlowsForPerFlowMemory)
    out += fmt::format(", {} bytes each", peak_memory_ / s.peak_flows);
  else
    out += fmt::format(" (flow table {} bytes)", human(double(peak_memory_)));
  out += "\n";
  if (cs.bad_records) out += fmt::format("  corrupt capture records: {}\n", cs.bad_records);
  if (cs.kernel_drops) out += fmt::format("  dropped by the kernel: {}\n", cs.kernel_drops);
  return out;
}

void fail(const LoopOptions& o, const Status& st) {
  std::fprintf(stderr, "%s: %s\n", o.name.c_str(), st.message().c_str());
}

}  // namespace

int run_meter(MeterConfig c) {
  // nDPI and the dissectors allocate and free per flow. glibc hands the top of the heap back to
  // the kernel whenever 128 KiB of it are free, and faults it in again for the next flows: a
  // tenth of a DNS-heavy run. Keep what was taken.
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  mallopt(M_TOP_PAD, 64 << 20);
  if (c.files.empty() == c.interfaces.empty()) {
    fail(c.loop, Status::invalid_argument(
                     "give either capture files (-r FILE) or live interfaces (-i IFACE)\n"
                     "  e.g. flowkit meter -r capture.pcap   or   sudo flowkit meter -i eth0"));
    return kExitUsage;
  }
  c.output.inputs = c.files;
  std::unique_ptr<capture::PacketSource> source;
  capture::LiveSource* live = nullptr;
  if (!c.interfaces.empty()) {
    capture::LiveOptions lo;
    lo.interfaces = c.interfaces;
    lo.snaplen = c.snaplen;
    lo.promiscuous = c.promiscuous;
    lo.filter = c.filter;
    // The meter must not count its own exports.
    for (const exporter::ExportTarget& t : c.output.exports) {
      if (t.transport == exporter::ExportTarget::Transport::kFile) continue;
      bool tcp = t.transport == exporter::ExportTarget::Transport::kTcp;
      std::string mine = fmt::format("not ({} and {}host {} and {}port {})", tcp ? "tcp" : "udp",
                                     tcp ? "" : "dst ", t.host, tcp ? "" : "dst ", t.port);
      lo.filter = lo.filter.empty() ? mine : "(" + lo.filter + ") and " + mine;
    }
    auto r = capture::LiveSource::open(lo);
    if (!r) {
      fail(c.loop, r.status());
      return exit_code(r.status());
    }
    live = r.value().get();
    source = std::move(r.value());
  } else {
    auto r = capture::open_capture_files(c.files, c.reader);
    if (!r) {
      fail(c.loop, r.status());
      return exit_code(r.status());
    }
    source = std::move(r.value());
    if (!c.filter.empty()) {
      auto f = capture::FilteredSource::open(std::move(source), c.filter);
      if (!f) {
        fail(c.loop, f.status());
        return exit_code(f.status());
      }
      source = std::move(f.value());
    }
  }
  MeterJob job(c, std::move(source), live);
  if (Status st = job.open(); !st.ok()) {
    fail(c.loop, st);
    return exit_code(st);
  }
  return run(job, c.loop);
}

}  // namespace flowkit::run
