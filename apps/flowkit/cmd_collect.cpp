// flowkit collect: NetFlow v5/v9 and IPFIX from routers and probes into flow records.
#include <fmt/core.h>

#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "label_options.h"
#include "run/collect_run.h"
#include "run/exit_code.h"
#include "store/store_dir.h"

namespace flowkit::app {
namespace {

struct CollectArgs {
  std::vector<std::string> listen;
  std::vector<std::string> files;
  std::string output;
  std::string write = "-";
  uint32_t rotate = 300;
  std::string compress = "zstd";
  std::vector<std::string> exports;
  std::string max_age, max_size;
  size_t rcvbuf_mb = 32;
  size_t queue_mb = 128;
  unsigned receivers = 1;
  uint32_t template_lifetime = 0;
  size_t max_exporters = collect::CollectorOptions{}.max_exporters;
  bool renormalize = false;
  LabelArgs labels;
  std::string user;
  double stats_interval = 0;
  bool quiet = false;
  bool progress = false;
};

int usage(const std::string& message) {
  std::fprintf(stderr, "flowkit collect: %s\n", message.c_str());
  return run::kExitUsage;
}

int run_collect(CollectArgs& a) {
  run::CollectConfig c;
  for (const std::string& spec : a.listen) {
    auto l = collect::parse_listen(spec);
    if (!l) return usage(l.status().message());
    c.listen.push_back(*l);
  }
  c.files = a.files;
  run::OutputOptions& o = c.output;
  // A directory means the store; without one, records go to stdout as text.
  o.format = !a.output.empty() ? a.output : a.write != "-" ? "store" : "line";
  o.path = a.write;
  if (o.format == "store" && o.path == "-") return usage("-o store needs a directory: -w DIR");
  o.rotate_seconds = a.rotate;
  auto compression = store::parse_compression(a.compress);
  if (!compression) return usage(compression.status().message());
  o.compression = *compression;
  for (const std::string& url : a.exports) {
    auto t = exporter::parse_export_url(url);
    if (!t) return usage(t.status().message());
    o.exports.push_back(*t);
  }
  if (!a.max_age.empty() || !a.max_size.empty()) {
    if (o.format != "store") return usage("--max-age and --max-size expire a store: -w DIR");
    if (!a.max_age.empty()) {
      auto age = store::parse_age(a.max_age);
      if (!age) return usage("--max-age " + a.max_age + ": give e.g. 30d, 12h, 90m");
      c.max_age_ns = *age;
    }
    if (!a.max_size.empty()) {
      auto size = store::parse_size(a.max_size);
      if (!size) return usage("--max-size " + a.max_size + ": give e.g. 50G, 500M");
      c.max_bytes = *size;
    }
  }
  c.receiver.rcvbuf = int(std::min<size_t>(a.rcvbuf_mb, 1024) << 20);
  c.queue_bytes = a.queue_mb << 20;
  c.receivers = a.receivers;
  c.collector.limits.template_lifetime_s = a.template_lifetime;
  c.collector.max_exporters = a.max_exporters;
  c.collector.renormalize = a.renormalize;
  if (!parse_label_options("collect", a.labels, c.collector.local_nets, c.collector.geoip))
    return run::kExitUsage;
  c.user = a.user;
  c.loop.name = "flowkit collect";
  c.loop.quiet = a.quiet;
  c.loop.progress = a.progress;
  c.loop.stats_interval = a.stats_interval;
  return run::run_collect(std::move(c));
}

}  // namespace

void add_collect_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CollectArgs>();
  CLI::App* cmd = app.add_subcommand(
      "collect", "Collect NetFlow v5/v9 and IPFIX from routers and probes (nfcapd's job)");
  cmd->footer(
      "Every listener takes NetFlow v5, v9 and IPFIX alike; each exporter (address and port)\n"
      "has its own templates and sequence numbers. Data that comes before its template is\n"
      "held and decoded when the template arrives. With -w DIR the templates are kept in\n"
      "DIR/.templates, so that a restarted collector decodes at once.\n"
      "Signals: Ctrl-C/SIGTERM store everything received and exit; SIGHUP starts a new store\n"
      "file; SIGUSR1 prints the statistics of every exporter.\n"
      "Exit status: 0 done, 1 failed (a port in use, a disk error), 2 usage error, 3 records\n"
      "could not be kept.\n\n"
      "Examples:\n"
      "  flowkit collect -w /var/flows                  UDP 2055 and 4739 into a store\n"
      "  flowkit collect -l 9995 -w /var/flows --max-age 30d --max-size 50G\n"
      "  flowkit collect -l ipfix+tcp://:4739 -o json   IPFIX over TCP, JSON lines on stdout\n"
      "  flowkit collect -r export.ipfix -o csv         an IPFIX file (RFC 5655)\n"
      "  flowkit collect -l 2055 --export ipfix://10.0.0.9:4739   re-export what comes");
  cmd->add_option("-l,--listen", args->listen,
                  "Where to listen, repeatable: PORT, ADDR:PORT, [IPV6]:PORT (UDP), or\n"
                  "ipfix+tcp://[ADDR:]PORT for IPFIX over TCP. Default: UDP 2055 and 4739 on\n"
                  "every address, IPv4 and IPv6")
      ->allow_extra_args(false);
  cmd->add_option("-r,--read", args->files, "IPFIX file (RFC 5655) to read instead; repeatable")
      ->allow_extra_args(false);
  cmd->add_option("-o,--output", args->output,
                  "store (flowkit's compressed store in -w DIR; the default with -w), json, csv,\n"
                  "line (nfdump's layout; the default without -w), none");
  cmd->add_option("-w,--write", args->write,
                  "The store's directory (created when missing), or with -o json|csv|line a file")
      ->capture_default_str();
  cmd->add_option("--rotate", args->rotate, "Store: seconds of flows per file (by the clock)")
      ->check(CLI::Range(1u, 86400u))
      ->capture_default_str();
  cmd->add_option("--compress", args->compress, "Store: zstd, zstd:LEVEL, lz4 or none")
      ->capture_default_str();
  cmd->add_option("--max-age", args->max_age,
                  "Store: remove files older than this (30d, 12h...), checked every minute");
  cmd->add_option("--max-size", args->max_size,
                  "Store: remove the oldest files beyond this size (50G, 500M...)");
  cmd->add_option("--export", args->exports,
                  "Send what comes on, as meter --export does (ipfix://HOST:PORT...); "
                  "repeatable");
  cmd->add_option("--rcvbuf", args->rcvbuf_mb,
                  "MiB of kernel receive buffer asked for each UDP socket (the kernel may cap\n"
                  "it: net.core.rmem_max, unless run with CAP_NET_ADMIN)")
      ->check(CLI::Range(size_t(1), size_t(1024)))
      ->capture_default_str();
  cmd->add_option("--queue-mb", args->queue_mb,
                  "MiB of received messages waiting to be decoded: bursts wait here")
      ->check(CLI::Range(size_t(4), size_t(16384)))
      ->capture_default_str();
  cmd->add_option("--receivers", args->receivers,
                  "Receive threads per UDP address (SO_REUSEPORT): with many exporters and\n"
                  "cores to spare, the kernel spreads the exporters over them")
      ->check(CLI::Range(1u, 64u))
      ->capture_default_str();
  cmd->add_option("--max-exporters", args->max_exporters,
                  "Exporters (address and port) remembered at once; beyond, the one heard from\n"
                  "least recently is forgotten")
      ->check(CLI::Range(size_t(1), size_t(1) << 20))
      ->capture_default_str();
  cmd->add_option("--template-lifetime", args->template_lifetime,
                  "UDP: seconds of export time a template lives unless announced again (RFC\n"
                  "7011 8.4; about 3 times the exporter's refresh, e.g. 1800). 0: until\n"
                  "replaced or withdrawn, as nfcapd")
      ->capture_default_str();
  cmd->add_flag("--renormalize", args->renormalize,
                "Multiply packets and bytes by the sampling interval the exporter announced");
  add_label_options(cmd, args->labels);
  cmd->add_option("--user", args->user, "Drop to this user once the sockets are bound");
  cmd->add_option("--stats-interval", args->stats_interval,
                  "Seconds between statistics lines on stderr, one per exporter (0: none)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd->add_flag("-q,--quiet", args->quiet, "No progress line and no summary on stderr");
  cmd->add_flag("--progress", args->progress,
                "Show the progress line even when stderr is not a terminal");
  cmd->callback([args, exit_code] { *exit_code = run_collect(*args); });
}

}  // namespace flowkit::app
