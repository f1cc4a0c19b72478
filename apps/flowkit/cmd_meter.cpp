// flowkit meter: packets (pcap/pcapng files or live interfaces) into flow records.
#include <fmt/core.h>

#include <cmath>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "commands.h"
#include "label_options.h"
#include "run/exit_code.h"
#include "run/meter_run.h"

namespace flowkit::app {

namespace {

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

struct MeterArgs {
  std::vector<std::string> files;
  std::vector<std::string> interfaces;
  std::string filter;
  std::vector<std::string> filter_words;  // a BPF expression after the options
  std::string output = "line";
  std::string write = "-";
  uint32_t rotate = 300;
  std::string compress = "zstd";
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
  std::string dissect = "all";
  LabelArgs labels;
  uint32_t splt = 0;
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

int run_meter(MeterArgs& a) {
  run::MeterConfig c;
  c.files = a.files;
  c.interfaces = a.interfaces;
  // A filter after the options, as tcpdump and nfpcapd take it: `-r x.pcap udp port 53`.
  std::string words;
  for (const std::string& w : a.filter_words) words += (words.empty() ? "" : " ") + w;
  c.filter = a.filter.empty() || words.empty() ? a.filter + words
                                               : "(" + a.filter + ") and (" + words + ")";
  c.reader =
      a.reader == "libpcap" ? capture::FileReaderKind::kLibpcap : capture::FileReaderKind::kFlowkit;
  c.snaplen = a.snaplen;
  c.promiscuous = a.promisc;
  c.threads = a.threads;
  meter::MeterOptions& mo = c.meter;
  mo.key.biflow = !a.uniflow;
  mo.key.mode = a.key == "proto" ? meter::KeyMode::kProto
                : a.key == "ip"  ? meter::KeyMode::kIp
                                 : meter::KeyMode::kFull;
  mo.key.vlan = a.key_vlan;
  mo.key.flow_label = a.key_flow_label;
  if (a.output == "flowrecorder") {
    mo.key.icmp_type_code = false;  // flowRecorder keys ICMP by its addresses
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
  auto dissect = dissect::parse_protocols(a.dissect);
  if (!dissect) {
    std::fprintf(stderr, "flowkit meter: --dissect: %s\n", dissect.status().message().c_str());
    return run::kExitUsage;
  }
  mo.dissect = dissect.value();
  if (!parse_label_options("meter", a.labels, mo.local_nets, mo.geoip)) return run::kExitUsage;
  mo.splt = a.splt;
  mo.decode.decapsulate = !a.no_decap;

  run::OutputOptions& o = c.output;
  o.format = a.output;
  o.path = a.write;
  o.rotate_seconds = a.rotate;
  auto compression = store::parse_compression(a.compress);
  if (!compression) {
    std::fprintf(stderr, "flowkit meter: %s\n", compression.status().message().c_str());
    return run::kExitUsage;
  }
  o.compression = *compression;
  o.biflow = !a.uniflow;
  o.top = a.top;
  for (const std::string& url : a.exports) {
    auto t = exporter::parse_export_url(url);
    if (!t) {
      std::fprintf(stderr, "flowkit meter: %s\n", t.status().message().c_str());
      return run::kExitUsage;
    }
    o.exports.push_back(*t);
  }
  exporter::ExporterSettings& es = o.export_settings;
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

  c.loop.name = "flowkit meter";
  c.loop.quiet = a.quiet;
  c.loop.progress = a.progress;
  return run::run_meter(std::move(c));
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
      "packet time, so the same file always gives the same flows. A summary goes to stderr.\n"
      "Exit status: 0 done, 1 failed (I/O, unreadable input), 2 usage error, 3 an export lost\n"
      "records (the collector refused them or could not be reached).\n\n"
      "Examples:\n"
      "  flowkit meter -r incident.pcap                     nfdump-style lines on the terminal\n"
      "  flowkit meter -r incident.pcap udp port 53         only DNS (a BPF filter, as tcpdump)\n"
      "  flowkit meter -r a.pcap -r b.pcapng -o json -w flows.jsonl\n"
      "  flowkit meter -r x.pcap -o flowrecorder --uniflow  flowRecorder's CSV columns\n"
      "  flowkit meter -r big.pcap -o none --top 20         only the summary and top talkers\n"
      "  sudo flowkit meter -i eth0 -f 'not port 22' -o csv -w live.csv   (Ctrl-C to stop)");
  // One value per -r/-i, so that words after the options are the filter, not more files.
  cmd->add_option("-r,--read", args->files,
                  "Capture file (pcap or pcapng; '-' = stdin); repeatable")
      ->allow_extra_args(false);
  cmd->add_option("-i,--interface", args->interfaces, "Live interface to capture on; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("-f,--filter", args->filter,
                  "BPF filter (tcpdump syntax), e.g. 'tcp port 443': in the kernel for live\n"
                  "capture, in flowkit for files. The filter may also follow the options,\n"
                  "as tcpdump takes it: flowkit meter -r x.pcap udp port 53");
  cmd->add_option("expression", args->filter_words, "BPF filter (as -f), after the options");
  cmd->add_option("-o,--output", args->output,
                  "Output format: line (nfdump's layout), json (JSON lines), csv (every field),\n"
                  "flowrecorder (flowRecorder's 18/44 columns; implies its timeouts), store\n"
                  "(flowkit's compressed columnar store in the directory -w names: a file per\n"
                  "--rotate interval, named by packet time; read it with flowkit store), none")
      ->capture_default_str();
  cmd->add_option("-w,--write", args->write,
                  "Write flows to this file ('-' = stdout), or with -o store to this directory")
      ->capture_default_str();
  cmd->add_option("--rotate", args->rotate,
                  "-o store: seconds of flows per file, files aligned to the interval")
      ->check(CLI::Range(1u, 86400u))
      ->capture_default_str();
  cmd->add_option("--compress", args->compress,
                  "-o store: zstd, zstd:LEVEL (1-19; 3 by default), lz4 (faster, larger) or none")
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
      ->check(CLI::Range(uint32_t(1), UINT32_MAX));
  cmd->add_flag("--no-stats", args->no_stats,
                "Skip packet size / inter-arrival statistics (less memory per flow)");
  cmd->add_option("--dissect", args->dissect,
                  "Payload dissectors: all, none, or a list of\n"
                  "dns,tls,quic,http,ssh,ovpn,wg,tcp,ndpi (DNS names; TLS and QUIC SNI, JA3,\n"
                  "JA4, certificate; HTTP requests; SSH banners; VPN detection; TCP options,\n"
                  "round trips and retransmissions; nDPI's application label). docs/fields.md\n"
                  "says what each field means")
      ->capture_default_str();
  cmd->add_option("--splt", args->splt,
                  "Keep each flow's first N packets (size, direction, gap) as the list field\n"
                  "splt (SPLT features for classifiers); 8 bytes per packet per flow")
      ->check(CLI::Range(0u, 64u));
  add_label_options(cmd, args->labels);
  cmd->add_flag("--no-decap", args->no_decap, "Do not open tunnels: the outer packet is the flow");
  cmd->add_option("--reader", args->reader,
                  "File reader: flowkit (fast, pcapng interfaces) or libpcap (for comparison)")
      ->check(CLI::IsMember({"flowkit", "libpcap"}))
      ->capture_default_str();
  cmd->add_option("--snaplen", args->snaplen, "Live capture: bytes kept per packet")
      ->check(CLI::Range(64, 262144))
      ->capture_default_str();
  cmd->add_flag("!--no-promisc", args->promisc,
                "Live capture: do not put interfaces in promiscuous mode");
  cmd->add_option("--top", args->top,
                  "After the run, print the N busiest hosts on stdout (after any flows)")
      ->check(CLI::Range(size_t(1), size_t(1) << 30));
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
  cmd->add_flag("-q,--quiet", args->quiet,
                "No progress line and no summary on stderr (errors and lost exports still)");
  cmd->add_flag("--progress", args->progress,
                "Show the progress line even when stderr is not a terminal");
  cmd->callback([args, exit_code] { *exit_code = run_meter(*args); });
}

}  // namespace flowkit::app
