// flowkit store: look after a store directory (info, cat, verify, expire). Options only; the
// work is in src/run/store_commands.cpp.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "commands.h"
#include "core/timestamp.h"
#include "run/exit_code.h"
#include "run/store_commands.h"

namespace flowkit::app {
namespace {

struct StoreArgs {
  std::vector<std::string> paths;
  bool json = false, columns = false, quiet = false, dry_run = false;
  std::string output = "line";
  std::string max_age, max_size;
};

int report(const Status& st) {
  if (!st.ok()) std::fprintf(stderr, "flowkit store: %s\n", st.message().c_str());
  return run::exit_code(st);
}

}  // namespace

void add_store_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<StoreArgs>();
  CLI::App* cmd = app.add_subcommand(
      "store",
      "Look after a flow store (the directory `meter -o store -w DIR` writes):\n"
      "  flowkit store info DIR           totals: flows, packets, bytes, time range, size\n"
      "  flowkit store cat FILE -o json   the records, as they are\n"
      "  flowkit store verify DIR         check every checksum, name each damaged block\n"
      "  flowkit store expire DIR --max-age 30d --max-size 50G");
  cmd->require_subcommand(1);

  CLI::App* info = cmd->add_subcommand("info", "Totals of a store, a directory of it, or files");
  info->add_option("path", args->paths, "Store directory or .fk files")->required();
  info->add_flag("--json", args->json, "One JSON object, for scripts");
  info->add_flag("--columns", args->columns, "Also each column's size on disk");
  info->callback([args, exit_code] {
    *exit_code = report(run::store_info(args->paths, args->json, args->columns));
  });

  CLI::App* cat = cmd->add_subcommand("cat", "Print the records of a store or of files");
  cat->add_option("path", args->paths, "Store directory or .fk files")->required();
  cat->add_option("-o,--output", args->output, "line (nfdump's layout), json or csv")
      ->check(CLI::IsMember({"line", "json", "csv"}))
      ->capture_default_str();
  cat->callback([args, exit_code] {
    run::OutputOptions o;
    o.format = args->output;
    *exit_code = report(run::store_cat(args->paths, o));
  });

  CLI::App* verify = cmd->add_subcommand("verify", "Check every block's checksums and contents");
  verify->add_option("path", args->paths, "Store directory or .fk files")->required();
  verify->add_flag("-q,--quiet", args->quiet, "Only the damage, no summary line");
  verify->callback(
      [args, exit_code] { *exit_code = report(run::store_verify(args->paths, args->quiet)); });

  CLI::App* expire = cmd->add_subcommand(
      "expire", "Remove the oldest files of a store (as nfexpire): by age, by total size, or both");
  expire->add_option("dir", args->paths, "Store directory")->required()->expected(1);
  expire->add_option("--max-age", args->max_age,
                     "Remove files whose interval ended longer ago than this: 30d, 12h, 90m, 3600");
  expire->add_option("--max-size", args->max_size,
                     "Then remove the oldest until the store holds at most this: 50G, 500M, 1T");
  expire->add_flag("-n,--dry-run", args->dry_run, "Say what would go, remove nothing");
  expire->add_flag("-q,--quiet", args->quiet, "No summary line");
  expire->callback([args, exit_code] {
    store::ExpireOptions o;
    o.dry_run = args->dry_run;
    o.now = wall_clock_now();
    if (args->max_age.empty() && args->max_size.empty()) {
      *exit_code = report(Status::invalid_argument("give --max-age, --max-size or both"));
      return;
    }
    if (!args->max_age.empty()) {
      auto age = store::parse_age(args->max_age);
      if (!age || *age == 0) {
        *exit_code = report(Status::invalid_argument("--max-age " + args->max_age +
                                                     ": give a number with d, h, m, s or w"));
        return;
      }
      o.max_age_ns = *age;
    }
    if (!args->max_size.empty()) {
      auto size = store::parse_size(args->max_size);
      if (!size || *size == 0) {
        *exit_code = report(Status::invalid_argument("--max-size " + args->max_size +
                                                     ": give a number with K, M, G or T"));
        return;
      }
      o.max_bytes = *size;
    }
    *exit_code = report(run::store_expire(args->paths.front(), o, args->quiet));
  });
}

}  // namespace flowkit::app
