// flowkit meter: packets (pcap/pcapng files or live interfaces) into flow records.
#include <fmt/core.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "capture/filtered_source.h"
#include "capture/live_source.h"
#include "capture/merged_source.h"
#include "commands.h"
#include "export/csv_writer.h"
#include "export/exporter_sink.h"
#include "export/flowrecorder_writer.h"
#include "export/json_writer.h"
#include "export/line_writer.h"
#include "export/text_output.h"
#include "export/top_talkers.h"
#include "meter/meter.h"
#include "meter/pipeline.h"

namespace flowkit::app {

namespace {

std::atomic<int> g_stop_signal{0};
capture::LiveSource* g_live = nullptr;

// The longest timeout accepted, in seconds (about 31 years): its nanoseconds fit an int64 with
// room to add to any packet time.
constexpr double kMaxTimeoutSeconds = 1e9;

// Checks a timeout in seconds: a finite number from 0 (or above 0 when !zero_ok) up to
// kMaxTimeoutSeconds. Without it, NaN or 1e30 would wrap on the way to nanoseconds.
CLI::Validator timeout_seconds(bool zero_ok) {
  return CLI::Validator(
      [zero_ok](std::string& text) -> std::string {
        double v = 0;
        size_t used = 0;
        try {
          v = std::stod(text, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used != text.size()) return fmt::format("'{}' is not a number of seconds", text);
        if (std::isfinite(v) && v <= kMaxTimeoutSeconds && (zero_ok ? v >= 0 : v > 0)) return "";
        return fmt::format("{} seconds is out of range: give {} up to {:.0f}", text,
                           zero_ok ? "0" : "a number above 0", kMaxTimeoutSeconds);
      },
      zero_ok ? "SECONDS>=0" : "SECONDS>0");
}

// Seconds (checked by timeout_seconds) to nanoseconds; a positive timeout stays at least 1 ns.
int64_t to_ns(double seconds) {
  return seconds > 0 ? std::max<int64_t>(1, std::llround(seconds * 1e9)) : 0;
}

extern "C" void on_stop_signal(int sig) {
  g_stop_signal.store(sig);
  if (g_live) g_live->stop();
}

struct MeterArgs {
  std::vector<std::string> files;
  std::vector<std::string> interfaces;
  std::string filter;
  std::string output = "line";
  std::string write = "-";
  bool uniflow = false;
  std::string key = "full";
  bool key_vlan = false;
  bool key_flow_label = false;
  double idle = 300, active = 1800, tcp_end_timeout = 5;
  double fragment_timeout = double(meter::FragmentTracker::Options{}.timeout_ns) / 1e9;
  size_t max_fragments = meter::FragmentTracker::Options{}.max_datagrams;
  bool no_tcp_end = false;
  size_t max_flows = 2'000'000;
  uint32_t sample = 1;
  bool no_stats = false;
  bool no_decap = false;
  std::string reader = "flowkit";
  int snaplen = 262144;
  bool promisc = true;
  bool quiet = false;
  bool progress = false;
  unsigned threads = std::thread::hardware_concurrency() >= 2 ? 2 : 1;
  size_t top = 0;
  std::vector<std::string> exports;
  bool export_uniflow = false;
  size_t export_mtu = 1500;
  std::string export_time = "ms";
  uint32_t export_pen = ipfix::kDefaultPen;
  double template_refresh = 60;
  uint32_t template_refresh_packets = 100;
  uint32_t observation_domain = 0;
  CLI::Option* idle_opt = nullptr;
  CLI::Option* active_opt = nullptr;
  CLI::Option* tcp_end_opt = nullptr;
};

std::string human(double v) {
  if (v >= 1e9) return fmt::format("{:.2f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.2f} M", v / 1e6);
  if (v >= 1e3) return fmt::format("{:.1f} k", v / 1e3);
  return fmt::format("{:.0f}", v);
}

Result<std::unique_ptr<FlowSink>> make_writer(const MeterArgs& a, exporter::TextOutput& out) {
  bool biflow = !a.uniflow;
  if (a.output == "json") return std::unique_ptr<FlowSink>(new exporter::JsonWriter(out));
  if (a.output == "csv") return std::unique_ptr<FlowSink>(new exporter::CsvWriter(out, biflow));
  if (a.output == "flowrecorder")
    return std::unique_ptr<FlowSink>(new exporter::FlowRecorderWriter(out, biflow));
  if (a.output == "line") return std::unique_ptr<FlowSink>(new exporter::LineWriter(out));
  return Status::error("unknown output format '" + a.output +
                       "': use json, csv, flowrecorder, line or none");
}

// A sink that drops records, for runs that only want the summary.
class NullSink : public FlowSink {
 public:
  void write(std::span<const FlowRecord>) override {}
};

void print_summary(const meter::Meter& m, const capture::PacketSource& src, double seconds,
                   size_t peak_memory) {
  const meter::MeterStats& s = m.stats();
  capture::SourceStats cs = src.stats();
  std::string out = fmt::format("flowkit meter: {} packets read in {:.2f} s ({} packets/s)\n",
                                s.packets, seconds, human(seconds > 0 ? s.packets / seconds : 0));
  if (cs.filtered)
    out += fmt::format("  {} more packets read and left out by --filter\n", cs.filtered);
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
  if (s.peak_flows) out += fmt::format(", {} bytes each", peak_memory / s.peak_flows);
  out += "\n";
  if (cs.bad_records) out += fmt::format("  corrupt capture records: {}\n", cs.bad_records);
  if (cs.kernel_drops) out += fmt::format("  dropped by the kernel: {}\n", cs.kernel_drops);
  std::fputs(out.c_str(), stderr);
}

int run_meter(MeterArgs& a) {
  if (a.files.empty() == a.interfaces.empty()) {
    std::fprintf(stderr,
                 "flowkit meter: give either capture files (-r FILE) or live interfaces (-i IFACE)"
                 "\n  e.g. flowkit meter -r capture.pcap   or   sudo flowkit meter -i eth0\n");
    return 2;
  }
  meter::MeterOptions mo;
  mo.key.biflow = !a.uniflow;
  mo.key.mode = a.key == "proto" ? meter::KeyMode::kProto
                : a.key == "ip"  ? meter::KeyMode::kIp
                                 : meter::KeyMode::kFull;
  mo.key.vlan = a.key_vlan;
  mo.key.flow_label = a.key_flow_label;
  if (a.output == "flowrecorder") {
    // flowRecorder's own semantics unless the user says otherwise: 3600 s idle timeout, no
    // active timeout, no TCP end detection.
    if (!a.idle_opt->count()) a.idle = 3600;
    if (!a.active_opt->count()) a.active = 0;
    if (!a.tcp_end_opt->count()) a.no_tcp_end = true;
  }
  mo.idle_timeout_ns = to_ns(a.idle);
  mo.active_timeout_ns = to_ns(a.active);
  mo.tcp_end_timeout_ns = to_ns(a.tcp_end_timeout);
  mo.tcp_end = !a.no_tcp_end;
  mo.fragments.timeout_ns = to_ns(a.fragment_timeout);
  mo.fragments.max_datagrams = a.max_fragments;
  mo.max_flows = a.max_flows;
  mo.sample = a.sample;
  mo.stats = !a.no_stats;
  mo.decode.decapsulate = !a.no_decap;

  std::vector<exporter::ExportTarget> targets;
  for (const std::string& url : a.exports) {
    auto t = exporter::parse_export_url(url);
    if (!t) {
      std::fprintf(stderr, "flowkit meter: %s\n", t.status().message().c_str());
      return 2;
    }
    targets.push_back(*t);
  }

  std::unique_ptr<capture::PacketSource> source;
  bool live = !a.interfaces.empty();
  if (live) {
    capture::LiveOptions lo;
    lo.interfaces = a.interfaces;
    lo.snaplen = a.snaplen;
    lo.promiscuous = a.promisc;
    lo.filter = a.filter;
    // The meter must not count its own exports.
    for (const exporter::ExportTarget& t : targets) {
      if (t.transport == exporter::ExportTarget::Transport::kFile) continue;
      std::string mine =
          fmt::format("not ({} and {}host {} and {}port {})",
                      t.transport == exporter::ExportTarget::Transport::kTcp ? "tcp" : "udp",
                      t.transport == exporter::ExportTarget::Transport::kTcp ? "" : "dst ", t.host,
                      t.transport == exporter::ExportTarget::Transport::kTcp ? "" : "dst ", t.port);
      lo.filter = lo.filter.empty() ? mine : "(" + lo.filter + ") and " + mine;
    }
    auto r = capture::LiveSource::open(lo);
    if (!r) {
      std::fprintf(stderr, "flowkit meter: %s\n", r.status().message().c_str());
      return 1;
    }
    g_live = r.value().get();
    source = std::move(r.value());
  } else {
    auto r = capture::open_capture_files(a.files, a.reader == "libpcap"
                                                      ? capture::FileReaderKind::kLibpcap
                                                      : capture::FileReaderKind::kFlowkit);
    if (!r) {
      std::fprintf(stderr, "flowkit meter: %s\n", r.status().message().c_str());
      return 1;
    }
    source = std::move(r.value());
    if (!a.filter.empty()) {
      auto f = capture::FilteredSource::open(std::move(source), a.filter);
      if (!f) {
        std::fprintf(stderr, "flowkit meter: %s\n", f.status().message().c_str());
        return 2;
      }
      source = std::move(f.value());
    }
  }

  auto out = exporter::TextOutput::open(a.write);
  if (!out) {
    std::fprintf(stderr, "flowkit meter: %s\n", out.status().message().c_str());
    return 1;
  }
  std::unique_ptr<FlowSink> writer;
  if (a.output == "none") {
    writer = std::make_unique<NullSink>();
  } else {
    auto w = make_writer(a, **out);
    if (!w) {
      std::fprintf(stderr, "flowkit meter: %s\n", w.status().message().c_str());
      return 2;
    }
    writer = std::move(w.value());
  }
  // The meter's clock is the exporters' clock; the meter exists only below, hence the pointer.
  meter::Meter* meter_ptr = nullptr;
  ipfix::ExporterCounters counters;
  std::vector<std::unique_ptr<exporter::ExporterSink>> exporters;
  exporter::ExporterSettings es;
  es.mtu = a.export_mtu;
  es.encoder.observation_domain = a.observation_domain;
  es.encoder.elements.pen = a.export_pen;
  es.encoder.elements.time = a.export_time == "ns"   ? ipfix::TimePrecision::kNanoseconds
                             : a.export_time == "us" ? ipfix::TimePrecision::kMicroseconds
                                                     : ipfix::TimePrecision::kMilliseconds;
  es.encoder.template_refresh_ns = to_ns(a.template_refresh);
  es.encoder.template_refresh_messages = a.template_refresh_packets;
  es.encoder.sampling_interval = a.sample;
  es.encoder.split_biflows = a.export_uniflow;
  exporter::ExporterSink::Clock clock{[&meter_ptr] { return meter_ptr->start_time(); },
                                      [&meter_ptr] { return meter_ptr->now(); }};
  for (const exporter::ExportTarget& t : targets) {
    auto e = exporter::ExporterSink::open(t, es, clock, &counters);
    if (!e) {
      std::fprintf(stderr, "flowkit meter: %s\n", e.status().message().c_str());
      return 1;
    }
    exporters.push_back(std::move(*e));
  }
  exporter::TopTalkers top;
  std::vector<FlowSink*> sinks = {writer.get()};
  if (a.top) sinks.push_back(&top);
  for (auto& e : exporters) sinks.push_back(e.get());
  exporter::Tee tee(sinks);
  FlowSink& sink = sinks.size() > 1 ? static_cast<FlowSink&>(tee) : *writer;

  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);

  meter::Meter m(mo, sink);
  meter_ptr = &m;
  bool show_progress = !a.quiet && (a.progress || isatty(2));
  auto t0 = std::chrono::steady_clock::now();
  auto next_progress = t0 + std::chrono::milliseconds(500);
  size_t peak_memory = 0;
  // Files: reading and decoding run on a thread of their own (see meter/pipeline.h).
  std::optional<meter::PreparedSource> prepared;
  if (!live && a.threads > 1) prepared.emplace(*source, mo);
  std::vector<capture::RawPacket> batch(256);
  capture::SourceStats prepared_stats;  // the reader thread's last word on the source
  std::vector<std::string> warnings;
  // Stops early when the reader of our output has gone (`flowkit meter -r x | head`).
  while ((!g_stop_signal.load() || live) && !(*out)->reader_gone()) {
    size_t n;
    bool at_end;  // files: 0 packets can also mean a stretch a filter dropped
    if (prepared) {
      const meter::PreparedSource::Batch& b = prepared->next();
      n = b.packets.size();
      if (n) m.count(b.packets, b.keyed);
      prepared_stats = b.stats;
      warnings = b.warnings;
      at_end = b.end;
    } else {
      n = source->read_batch(batch);
      if (n) m.process(std::span(batch.data(), n));
      warnings = source->take_warnings();
      at_end = n == 0 && source->finished();
    }
    counters.ignored_packets = m.stats().skipped_total();
    for (const std::string& w : warnings)
      std::fprintf(stderr, "%sflowkit meter: warning: %s\n", show_progress ? "\r" : "", w.c_str());
    if (live) {
      if (!n)
        m.advance(Timestamp{std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count()});
      if (source->finished()) break;
    } else if (at_end) {
      break;
    }
    if (m.memory_bytes() > peak_memory) peak_memory = m.memory_bytes();
    if (show_progress && std::chrono::steady_clock::now() >= next_progress) {
      next_progress += std::chrono::milliseconds(500);
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      // Only when due: a live source asks the kernel for its drop counts.
      const capture::SourceStats cs = prepared ? prepared_stats : source->stats();
      std::string pct =
          cs.bytes_total ? fmt::format("{:5.1f}% ", 100.0 * cs.bytes_read / cs.bytes_total) : "";
      std::fprintf(stderr, "\r%s%s packets, %s flows active, %s packets/s   ", pct.c_str(),
                   human(double(m.stats().packets)).c_str(),
                   human(double(m.active_flows())).c_str(),
                   human(m.stats().packets / secs).c_str());
    }
  }
  prepared.reset();  // the source is this thread's again
  for (const std::string& w : source->take_warnings())
    std::fprintf(stderr, "flowkit meter: warning: %s\n", w.c_str());
  if (show_progress) std::fputs("\r\033[K", stderr);
  if (g_stop_signal.load() && !a.quiet)
    std::fprintf(stderr, "flowkit meter: stopped by signal; flushing every flow in flight\n");
  m.flush();
  g_live = nullptr;
  Status st = sink.flush();
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.quiet) {
    print_summary(m, *source, secs, peak_memory);
    for (const auto& e : exporters) std::fputs(e->summary().c_str(), stderr);
    if (a.top) std::fputs(top.format(a.top).c_str(), stderr);
  }
  if (!st.ok()) {
    std::fprintf(stderr, "flowkit meter: %s\n", st.message().c_str());
    return 1;
  }
  return 0;
}

}  // namespace

void add_meter_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<MeterArgs>();
  CLI::App* cmd = app.add_subcommand(
      "meter", "Meter packets (pcap/pcapng files, live interfaces) into flow records");
  cmd->footer(
      "Flows are bidirectional by default (RFC 5103: the first packet's sender is the forward\n"
      "direction). Tunnels (GRE, VXLAN, Geneve, IP-in-IP, GTP-U, Teredo) are opened and the\n"
      "inner packet keys the flow. Several files are merged in time order. File input uses\n"
      "packet time, so the same file always gives the same flows. A summary goes to stderr.\n\n"
      "Examples:\n"
      "  flowkit meter -r incident.pcap                     nfdump-style lines on the terminal\n"
      "  flowkit meter -r a.pcap -r b.pcapng -o json -w flows.jsonl\n"
      "  flowkit meter -r x.pcap -o flowrecorder --uniflow  flowRecorder's CSV columns\n"
      "  flowkit meter -r big.pcap -o none --top 20         only the summary and top talkers\n"
      "  sudo flowkit meter -i eth0 -f 'not port 22' -o csv -w live.csv   (Ctrl-C to stop)");
  cmd->add_option("-r,--read", args->files,
                  "Capture file (pcap or pcapng; '-' = stdin); repeatable");
  cmd->add_option("-i,--interface", args->interfaces, "Live interface to capture on; repeatable");
  cmd->add_option("-f,--filter", args->filter,
                  "BPF filter (tcpdump syntax), e.g. 'tcp port 443': in the kernel for live\n"
                  "capture, in flowkit for files");
  cmd->add_option("-o,--output", args->output,
                  "Output format: line (nfdump's layout), json (JSON lines), csv (every field),\n"
                  "flowrecorder (flowRecorder's 18/44 columns; implies its timeouts), none")
      ->capture_default_str();
  cmd->add_option("-w,--write", args->write, "Write flows to this file ('-' = stdout)")
      ->capture_default_str();
  cmd->add_flag("--uniflow", args->uniflow, "One record per direction instead of biflows");
  cmd->add_option("-T,--key", args->key,
                  "Flow key, like softflowd -T: full (addresses, protocol, ports), proto\n"
                  "(addresses and protocol), ip (addresses only)")
      ->check(CLI::IsMember({"full", "proto", "ip"}))
      ->capture_default_str();
  cmd->add_flag("--key-vlan", args->key_vlan, "Add the outer VLAN id to the flow key");
  cmd->add_flag("--key-flow-label", args->key_flow_label,
                "Add the IPv6 flow label to the key (for traffic whose ports are hidden: ESP,\n"
                "fragments). Each direction sends its own label, so a biflow joins only\n"
                "directions that use the same one; 0 means unset");
  args->idle_opt = cmd->add_option("--idle-timeout", args->idle,
                                   "Seconds without packets after which a flow ends")
                       ->check(timeout_seconds(false))
                       ->capture_default_str();
  args->active_opt = cmd->add_option("--active-timeout", args->active,
                                     "Seconds after which a long flow is reported and restarted "
                                     "(0 = never)")
                         ->check(timeout_seconds(true))
                         ->capture_default_str();
  args->tcp_end_opt = cmd->add_option("--tcp-end-timeout", args->tcp_end_timeout,
                                      "Seconds a TCP flow lingers after FIN both ways or RST, for "
                                      "the last ACKs")
                          ->check(timeout_seconds(true))
                          ->capture_default_str();
  cmd->add_flag("--no-tcp-end", args->no_tcp_end, "Do not end TCP flows on FIN/RST");
  cmd->add_option("--fragment-timeout", args->fragment_timeout,
                  "Seconds a fragmented datagram is remembered: its first fragment's ports go to\n"
                  "later fragments, and fragments that came before it wait as long")
      ->check(timeout_seconds(false))
      ->capture_default_str();
  cmd->add_option("--max-fragments", args->max_fragments,
                  "Fragmented datagrams remembered at once; beyond, the oldest is forgotten and\n"
                  "its later fragments count without ports (the summary says how many)")
      ->check(CLI::Range(size_t(1), size_t(UINT32_MAX - 1)))
      ->capture_default_str();
  cmd->add_option("--max-flows", args->max_flows,
                  "Flow cache size; when full, the least recently used flow is ended")
      ->capture_default_str()
      ->check(CLI::Range(size_t(1), size_t(UINT32_MAX - 1)));
  cmd->add_option("--sample", args->sample,
                  "Count 1 packet in N (deterministic), recorded on each flow")
      ->check(CLI::PositiveNumber);
  cmd->add_flag("--no-stats", args->no_stats,
                "Skip packet size / inter-arrival statistics (less memory per flow)");
  cmd->add_flag("--no-decap", args->no_decap, "Do not open tunnels: the outer packet is the flow");
  cmd->add_option("--reader", args->reader,
                  "File reader: flowkit (fast, pcapng interfaces) or libpcap (for comparison)")
      ->check(CLI::IsMember({"flowkit", "libpcap"}))
      ->capture_default_str();
  cmd->add_option("--snaplen", args->snaplen, "Live capture: bytes kept per packet")
      ->capture_default_str();
  cmd->add_flag("!--no-promisc", args->promisc,
                "Live capture: do not put interfaces in promiscuous mode");
  cmd->add_option("--top", args->top, "After the run, print the N busiest hosts");
  cmd->add_option("--export", args->exports,
                  "Send flows to a collector or file; repeatable:\n"
                  "ipfix://HOST:PORT (UDP, default port 4739), ipfix+tcp://HOST:PORT,\n"
                  "netflow9://HOST:PORT, netflow5://HOST:PORT (UDP, 2055), file:PATH.ipfix.\n"
                  "IPv6 collectors: ipfix://[2001:db8::1]:4739");
  cmd->add_flag("--export-uniflow", args->export_uniflow,
                "IPFIX: send each biflow as two records, for collectors without RFC 5103\n"
                "(NetFlow v9 and v5 always do)");
  cmd->add_option("--export-mtu", args->export_mtu,
                  "Path MTU to the collector: UDP messages stay below it, never fragmented")
      ->check(CLI::Range(size_t(576), size_t(65535)))
      ->capture_default_str();
  cmd->add_option("--export-time", args->export_time,
                  "IPFIX flow times: ms (flowStartMilliseconds), us or ns")
      ->check(CLI::IsMember({"ms", "us", "ns"}))
      ->capture_default_str();
  cmd->add_option("--export-pen", args->export_pen,
                  "IPFIX Private Enterprise Number for flowkit's own elements")
      ->capture_default_str();
  cmd->add_option("--template-refresh", args->template_refresh,
                  "UDP: send templates again after this many seconds of export time (0: never)")
      ->check(timeout_seconds(true))
      ->capture_default_str();
  cmd->add_option("--template-refresh-packets", args->template_refresh_packets,
                  "UDP: send templates again after this many messages (0: never)")
      ->capture_default_str();
  cmd->add_option("--observation-domain", args->observation_domain,
                  "IPFIX observation domain / NetFlow v9 source id / v5 engine id")
      ->capture_default_str();
  cmd->add_option("--threads", args->threads,
                  "Threads for file input: 2 reads and decodes on one thread while another\n"
                  "counts (the default with two or more cores); 1 keeps to one core. Live\n"
                  "capture always uses one. The flows are the same either way.")
      ->check(CLI::Range(1, 2))
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "No progress line and no summary on stderr");
  cmd->add_flag("--progress", args->progress,
                "Show the progress line even when stderr is not a terminal");
  cmd->callback([args, exit_code] { *exit_code = run_meter(*args); });
}

}  // namespace flowkit::app
