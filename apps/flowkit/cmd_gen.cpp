// `flowkit gen`: writes a synthetic capture (default) or a replicated one (--replicate) for
// demos, tests and benchmarks. The work is in src/gen; this file is options and reporting.
#include <fmt/core.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "gen/option_values.h"
#include "gen/replicator.h"
#include "gen/traffic_generator.h"

namespace flowkit::app {
namespace {

using Clock = std::chrono::steady_clock;

struct GenArgs {
  std::string out;
  uint64_t seed = 1;
  std::string packets, bytes, start;
  uint32_t hosts = 0, servers = 0;
  double ipv6_share = gen::GeneratorOptions{}.ipv6_share;
  double vlan_share = gen::GeneratorOptions{}.vlan_share;
  double rate = gen::GeneratorOptions{}.sessions_per_second;
  std::string mix;
  std::vector<std::string> replicate;
  uint32_t copies = 2;
  double spread = gen::ReplicateOptions{}.spread_seconds;
  double max_gap = gen::ReplicateOptions{}.max_gap_seconds;
  bool nanoseconds = false;
  bool quiet = false;
};

std::string human_bytes(double b) {
  static constexpr const char* kUnits[] = {"B", "kB", "MB", "GB", "TB"};
  int u = 0;
  while (b >= 1000 && u < 4) {
    b /= 1000;
    ++u;
  }
  return u ? fmt::format("{:.1f} {}", b, kUnits[u]) : fmt::format("{:.0f} B", b);
}

// Progress on stderr: a line rewritten in place on a terminal, a line every 10 s otherwise.
class Progress {
 public:
  explicit Progress(bool quiet) : enabled_(!quiet), tty_(isatty(2)) {}
  void operator()(uint64_t done, uint64_t total) {
    if (!enabled_) return;
    auto now = Clock::now();
    double since = std::chrono::duration<double>(now - last_).count();
    if (since < (tty_ ? 0.25 : 10.0)) return;
    last_ = now;
    shown_ = true;
    std::string pct = total ? fmt::format(" ({:.0f}%)", 100.0 * double(done) / double(total)) : "";
    fmt::print(stderr, "{}flowkit gen: {} packets{}{}", tty_ ? "\r" : "", done, pct,
               tty_ ? "   " : "\n");
  }
  void done() {
    if (shown_ && tty_) fmt::print(stderr, "\r\033[K");
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

 private:
  bool enabled_, tty_;
  bool shown_ = false;
  Clock::time_point start_ = Clock::now();
  Clock::time_point last_ = Clock::now();
};

std::string human_rate(double packets, double seconds) {
  double r = seconds > 0 ? packets / seconds : 0;
  return r >= 1e6 ? fmt::format("{:.2f} Mpps", r / 1e6) : fmt::format("{:.1f} kpps", r / 1e3);
}

int usage_error(const std::string& message) {
  fmt::print(stderr, "flowkit gen: {}\n", message);
  return 2;
}

int run_generate(const GenArgs& a, const gen::PcapWriterOptions& wo) {
  gen::GeneratorOptions o;
  o.seed = a.seed;
  if (!a.packets.empty()) {
    auto n = gen::parse_count(a.packets);
    if (!n) return usage_error("--packets: not a whole number: " + a.packets);
    o.packets = *n;
  } else if (!a.bytes.empty()) {
    o.packets = 0;
  }
  if (!a.bytes.empty()) {
    auto n = gen::parse_count(a.bytes);
    if (!n) return usage_error("--bytes: not a whole number: " + a.bytes);
    o.bytes = *n;
  }
  if (!a.start.empty()) {
    auto t = gen::parse_time(a.start);
    if (!t) return usage_error("--start: not a time (use 2024-01-15T09:00:00Z or UNIX seconds)");
    o.start = *t;
  }
  if (!a.mix.empty()) {
    auto w = gen::parse_mix(a.mix, o.weights);
    if (!w.ok()) return usage_error(w.status().message());
    o.weights = *w;
  }
  o.hosts = a.hosts;
  o.servers = a.servers;
  o.ipv6_share = a.ipv6_share;
  o.vlan_share = a.vlan_share;
  o.sessions_per_second = a.rate;
  if (o.packets == 0 && o.bytes == 0) return usage_error("--packets or --bytes must be positive");

  Progress progress(a.quiet);
  auto r = gen::write_generated_pcap(o, a.out, wo, [&](uint64_t d, uint64_t t) { progress(d, t); });
  progress.done();
  if (!r.ok()) {
    fmt::print(stderr, "flowkit gen: error: {}\n", r.status().message());
    return 1;
  }
  const gen::GeneratorStats& s = *r;
  double secs = progress.seconds();
  std::string kinds;
  for (size_t k = 0; k < gen::kSessionKinds; ++k) {
    kinds += fmt::format("{}{} {}", k ? ", " : "", gen::session_kind_name(gen::SessionKind(k)),
                         s.sessions[k]);
  }
  double pk = s.packets ? double(s.packets) : 1.0;
  fmt::print(stderr,
             "flowkit gen: wrote {} packets ({}) to {} in {:.2f} s ({}); sessions: {}; "
             "IPv6 {:.0f}%, VLAN {:.0f}% of packets, {} fragments ({} datagrams reordered)\n",
             s.packets, human_bytes(double(s.bytes)), a.out == "-" ? "<stdout>" : a.out, secs,
             human_rate(double(s.packets), secs), kinds, 100.0 * double(s.ipv6_packets) / pk,
             100.0 * double(s.vlan_packets) / pk, s.fragments, s.reordered_datagrams);
  return 0;
}

int run_replicate(const GenArgs& a, const gen::PcapWriterOptions& wo) {
  gen::ReplicateOptions o;
  o.inputs = a.replicate;
  o.copies = a.copies;
  o.seed = a.seed;
  o.spread_seconds = a.spread;
  o.max_gap_seconds = a.max_gap;
  if (!a.start.empty()) {
    auto t = gen::parse_time(a.start);
    if (!t) return usage_error("--start: not a time (use 2024-01-15T09:00:00Z or UNIX seconds)");
    o.start = *t;
  }
  Progress progress(a.quiet);
  auto r =
      gen::write_replicated_pcap(o, a.out, wo, [&](uint64_t d, uint64_t t) { progress(d, t); });
  progress.done();
  if (!r.ok()) {
    fmt::print(stderr, "flowkit gen: error: {}\n", r.status().message());
    return 1;
  }
  const gen::ReplicateStats& s = *r;
  for (const std::string& note : s.notes) fmt::print(stderr, "flowkit gen: note: {}\n", note);
  double secs = progress.seconds();
  fmt::print(stderr,
             "flowkit gen: wrote {} packets ({}) to {} in {:.2f} s ({}): {} copies of {} packets "
             "from {} of {} captures; {} packets had no IP header to rewrite\n",
             s.packets, human_bytes(double(s.bytes)), a.out == "-" ? "<stdout>" : a.out, secs,
             human_rate(double(s.packets), secs), a.copies, s.input_packets, s.inputs_used,
             a.replicate.size(), s.not_rewritten);
  return 0;
}

}  // namespace

void add_gen_command(CLI::App& app, int* exit_code) {
  auto a = std::make_shared<GenArgs>();
  CLI::App* cmd = app.add_subcommand(
      "gen",
      "Write a capture for demos, tests and benchmarks: synthetic traffic (default), or real\n"
      "captures replicated onto distinct hosts (--replicate).");
  cmd->footer(
      "Synthetic traffic: thousands of clients and hundreds of servers in concurrent TCP,\n"
      "HTTP, TLS 1.3 (SNI, ALPN), DNS, ICMP echo and IP-fragmented DNS sessions, IPv4 and IPv6,\n"
      "some behind 802.1Q/QinQ tags, all checksums valid. The same options and seed always\n"
      "give the same bytes. About 10 packets per flow: 1e6 packets ~ 100k flows.\n"
      "Replication: every input is loaded once and played --copies times, each copy on its own\n"
      "hosts (keyed rewrite of MAC and outer IP addresses, checksums adjusted) and slightly\n"
      "shifted in time; all streams merge in time order. Inputs: Ethernet, raw IP, loopback\n"
      "and Linux cooked captures (pcap or pcapng); others are skipped with a note.\n"
      "\n"
      "Examples:\n"
      "  flowkit gen -w demo.pcap                          100k packets, seed 1\n"
      "  flowkit gen -w big.pcap --packets 1e7 --seed 7    10M packets, ~1M flows\n"
      "  flowkit gen -w v6.pcap --packets 250k --ipv6-share 0.8 --vlan-share 0.3\n"
      "  flowkit gen -w dns.pcap --packets 1e5 --mix dns=1,tcp=0,http=0,tls=0,icmp=0,dns-large=0\n"
      "  flowkit gen -w - --bytes 1G | tcpdump -r - -c 10\n"
      "  flowkit gen -w bench.pcap --replicate ../shared/pcaps/ndpi-4.2/*.pcap --copies 40");

  cmd->add_option("-w,--write", a->out, "Output pcap file ('-' = standard output)")
      ->required()
      ->type_name("FILE");
  cmd->add_option("--seed", a->seed, "Random seed; same seed and options = same file")
      ->capture_default_str();
  auto* packets = cmd->add_option("--packets", a->packets,
                                  "Packets to write (default 100000; accepts 1e6, 250k, 2M)")
                      ->type_name("N");
  auto* bytes =
      cmd->add_option("--bytes", a->bytes, "Stop after about this many frame bytes (500M, 2G, 1Gi)")
          ->type_name("N");
  auto* hosts =
      cmd->add_option("--hosts", a->hosts, "Client hosts (default: packets / 200, 64..20000)")
          ->type_name("N");
  auto* servers =
      cmd->add_option("--servers", a->servers, "Server hosts (default: hosts / 8, 16..4000)")
          ->type_name("N");
  auto* v6 = cmd->add_option("--ipv6-share", a->ipv6_share, "Share of sessions over IPv6")
                 ->check(CLI::Range(0.0, 1.0))
                 ->capture_default_str()
                 ->type_name("F");
  auto* vlan =
      cmd->add_option("--vlan-share", a->vlan_share, "Share of client subnets behind VLAN tags")
          ->check(CLI::Range(0.0, 1.0))
          ->capture_default_str()
          ->type_name("F");
  auto* rate = cmd->add_option("--rate", a->rate, "New sessions per second of capture time")
                   ->check(CLI::PositiveNumber)
                   ->capture_default_str()
                   ->type_name("N");
  auto* mix = cmd->add_option("--mix", a->mix,
                              "Session weights, e.g. dns=70,tls=10,http=3,tcp=4,icmp=2.5,"
                              "dns-large=1.5 (the defaults)")
                  ->type_name("KIND=W,...");
  cmd->add_option("--start", a->start,
                  "First packet time: 2024-01-15T09:00:00Z (the default) or UNIX seconds")
      ->type_name("TIME");
  auto* rep = cmd->add_option("--replicate", a->replicate,
                              "Replicate these captures instead of synthesizing (repeatable)")
                  ->type_name("FILE");
  auto* copies = cmd->add_option("--copies", a->copies, "Replication: copies of each capture")
                     ->check(CLI::Range(1, 65535))
                     ->capture_default_str()
                     ->type_name("N");
  auto* spread =
      cmd->add_option("--spread", a->spread, "Replication: copies start within this many seconds")
          ->check(CLI::NonNegativeNumber)
          ->capture_default_str()
          ->type_name("SECONDS");
  auto* gap = cmd->add_option("--max-gap", a->max_gap,
                              "Replication: shrink idle gaps inside a capture to this (0 = keep)")
                  ->check(CLI::NonNegativeNumber)
                  ->capture_default_str()
                  ->type_name("SECONDS");
  cmd->add_flag("--nanoseconds", a->nanoseconds, "Nanosecond timestamps (default: microseconds)");
  cmd->add_flag("-q,--quiet", a->quiet, "No progress on stderr (the summary line stays)");

  std::vector<CLI::Option*> synthetic_only = {packets, bytes, hosts, servers, v6, vlan, rate, mix};
  std::vector<CLI::Option*> replicate_only = {copies, spread, gap};
  cmd->callback([a, exit_code, rep, synthetic_only, replicate_only] {
    // Checked here rather than with CLI11's excludes()/needs(), which clutter --help.
    for (CLI::Option* o : rep->count() ? synthetic_only : replicate_only) {
      if (o->count()) {
        *exit_code = usage_error(o->get_name() + (rep->count() ? " does not apply to --replicate"
                                                               : " needs --replicate"));
        return;
      }
    }
    if (a->out == "-" && isatty(1)) {
      *exit_code = usage_error("refusing to write a binary capture to a terminal; redirect it");
      return;
    }
    gen::PcapWriterOptions wo;
    wo.nanoseconds = a->nanoseconds;
    *exit_code = a->replicate.empty() ? run_generate(*a, wo) : run_replicate(*a, wo);
  });
}

}  // namespace flowkit::app
