// flowkit query: nfdump's habits on flowkit's store.
#include <fmt/core.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "run/exit_code.h"
#include "run/query_run.h"
#include "store/store_dir.h"

namespace flowkit::app {
namespace {

struct QueryArgs {
  std::vector<std::string> files, dirs;
  std::vector<std::string> filter_words;
  std::string filter_file;
  std::string window;
  uint64_t limit = 0;
  std::vector<std::string> stats;
  size_t top = 10;
  std::string aggregate, order;
  bool aggregate_all = false;
  unsigned threads = 0;
  std::string max_memory;
  std::string output = "line";
  std::string write = "-";
  bool quiet = false;
};

int run_query(QueryArgs& a) {
  run::QueryConfig c;
  c.files = a.files;
  c.dirs = a.dirs;
  for (const std::string& w : a.filter_words) c.filter += (c.filter.empty() ? "" : " ") + w;
  if (!a.filter_file.empty()) {
    if (!c.filter.empty()) {
      std::fprintf(stderr, "flowkit query: give the filter either as words or with -F, not both\n");
      return run::kExitUsage;
    }
    FILE* f = std::fopen(a.filter_file.c_str(), "r");
    if (!f) {
      std::fprintf(stderr, "flowkit query: -F %s: cannot open\n", a.filter_file.c_str());
      return run::kExitUsage;
    }
    char buf[4096];
    while (size_t n = std::fread(buf, 1, sizeof buf, f)) c.filter.append(buf, n);
    std::fclose(f);
    for (char& ch : c.filter)
      if (ch == '\n' || ch == '\t') ch = ' ';
  }
  if (!a.window.empty()) {
    Status st = run::parse_time_window(a.window, wall_clock_now().ns, &c.from_ns, &c.to_ns);
    if (!st.ok()) {
      std::fprintf(stderr, "flowkit query: %s\n", st.message().c_str());
      return run::kExitUsage;
    }
  }
  if (a.aggregate_all && !a.aggregate.empty()) {
    std::fprintf(stderr, "flowkit query: give -a or -A, not both\n");
    return run::kExitUsage;
  }
  c.aggregate = a.aggregate_all ? "srcip,dstip,srcport,dstport,proto" : a.aggregate;
  c.order = a.order;
  c.threads = a.threads;
  if (!a.max_memory.empty()) {
    // A bare number is MiB, as before sizes took a unit.
    bool bare = a.max_memory.find_first_not_of("0123456789") == std::string::npos;
    auto size = store::parse_size(a.max_memory);
    if (!size || *size == 0) {
      std::fprintf(stderr,
                   "flowkit query: --max-memory %s: give e.g. 512M, 4G (a bare number is MiB)\n",
                   a.max_memory.c_str());
      return run::kExitUsage;
    }
    c.max_memory = bare ? *size << 20 : *size;
  }
  c.limit = a.limit;
  c.stats = a.stats;
  c.top = a.top;
  c.quiet = a.quiet;
  c.output.format = a.output;
  c.output.path = a.write;
  c.output.bare = a.quiet;
  return run::run_query(c);
}

}  // namespace

void add_query_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<QueryArgs>();
  CLI::App* cmd = app.add_subcommand("query", "Query a flowkit store with nfdump's filter syntax");
  cmd->footer(
      "The filter is nfdump's: proto tcp and dst port in [443 80] and src net 10.0.0.0/8,\n"
      "packets > 10, bytes > 1M, flags SA, not icmp... and every field by its name\n"
      "(tls_sni ~ \"example\", dns_qname contains \"mail\", ttl_rev < 64). On biflows src/dst\n"
      "are the initiator and the responder; packets and bytes count both directions.\n\n"
      "Examples:\n"
      "  flowkit query -R flows/ 'dst port 443' -c 20\n"
      "  flowkit query -R flows/ -s srcip/bytes -n 20 'proto tcp'\n"
      "  flowkit query -R flows/ -A srcip,dstport -O bytes -c 10\n"
      "  flowkit query -R flows/ -t 2026/11/26.10:00-2026/11/26.12:00 'proto udp' -o json\n"
      "  flowkit query -r flows/2026/11/26/flows-202611261000.fk 'src host 10.0.0.1'");
  cmd->add_option("-r,--read", args->files, "A store file; repeatable")->allow_extra_args(false);
  cmd->add_option("-R,--read-dir", args->dirs, "A store, or a directory or file within it")
      ->allow_extra_args(false);
  cmd->add_option("filter", args->filter_words, "The filter (nfdump syntax), after the options");
  cmd->add_option("-F,--filter-file", args->filter_file, "Read the filter from this file");
  cmd->add_option("-t,--time", args->window,
                  "Flows that start in YYYY/MM/DD.hh:mm:ss[-YYYY/MM/DD.hh:mm:ss] (a start\n"
                  "alone: from then on, as nfdump), or in the last N seconds: -t -3600");
  cmd->add_option("-c,--count", args->limit, "Print at most N flows");
  cmd->add_option("-s,--stat", args->stats,
                  "Top-N statistic instead of the flows, repeatable: STAT[/ORDER] with STAT\n"
                  "srcip, dstip, ip, srcport, dstport, port, proto, srcas, dstas, as, inif,\n"
                  "outif, router, tos, vlan, srcnet/N, dstnet/N, record (the top flows by the\n"
                  "5-tuple) or any field name; ORDER flows (default), packets, bytes, pps, bps\n"
                  "or bpp: -s srcip/bytes -s tls_sni -s record/bytes")
      ->allow_extra_args(false);
  cmd->add_option("-n,--top", args->top, "Rows of each -s statistic")->capture_default_str();
  cmd->add_option("-A,--aggregate", args->aggregate,
                  "Sum the flows that share these fields, printed as one record each:\n"
                  "srcip, dstip, srcport, dstport, proto, srcas, dstas, inif, outif, router,\n"
                  "tos, vlan, srcip4/N (srcnet/N), dstip4/N, srcip6/N... or any field name");
  cmd->add_flag("-a", args->aggregate_all, "Aggregate by the 5-tuple (as -A srcip,dstip,...)");
  cmd->add_option("-O,--order", args->order,
                  "Print the flows sorted: tstart, tend (earliest first), flows, packets,\n"
                  "bytes, pps, bps, bpp (largest first)");
  cmd->add_option("--threads", args->threads, "Threads reading blocks (default: every core)");
  cmd->add_option("--max-memory", args->max_memory,
                  "Memory the groups of -s and -A (and the records -O sorts) may take before the\n"
                  "query stops with a message: 512M, 4G, or a bare number of MiB (default: half\n"
                  "the RAM)");
  cmd->add_option("-o,--output", args->output,
                  "line, long, extended (nfdump's layouts), fmt:FORMAT with nfdump's tokens\n"
                  "(%ts %td %pr %sap %dap %pkt %byt %fl %bps %pps %bpp %flg ...) and %{FIELD}\n"
                  "for any field, json, csv")
      ->capture_default_str();
  cmd->add_option("-w,--write", args->write, "Write the flows to this file ('-' = stdout)")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", args->quiet, "No header and no summary (as nfdump -q)");
  cmd->callback([args, exit_code] { *exit_code = run_query(*args); });
}

}  // namespace flowkit::app
