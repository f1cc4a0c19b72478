// flowkit: packets into flows, flows into answers. One binary, one subcommand per job.
#include <cstdio>
#include <string>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "flowkit: network flow toolkit.\n"
      "  flowkit meter -r capture.pcap            packets -> biflows (see: flowkit meter --help)\n"
      "  flowkit gen -w demo.pcap --packets 1e5   write a realistic synthetic capture\n"
      "  flowkit fields                           every flow field and its IPFIX number"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "flowkit 0.1.0");
  int exit_code = 0;
  flowkit::app::add_meter_command(app, &exit_code);
  flowkit::app::add_gen_command(app, &exit_code);
  flowkit::app::add_fields_command(app, &exit_code);
  // A mistyped command (flowkit metre) would otherwise read "A subcommand is required".
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == argv[1];
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "flowkit: unknown command '%s'; the commands are %s (flowkit --help)\n",
                   argv[1], names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 has an exit code per kind of mistake (105, 106, 109...); flowkit exits with 2 for
    // every usage error, as its commands do for theirs (1: the work itself failed).
    return app.exit(e) == 0 ? 0 : 2;
  }
  return exit_code;
}
