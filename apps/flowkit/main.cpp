// flowkit: packets into flows, flows into answers. One binary, one subcommand per job.
#include <cstdio>
#include <string>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{
      "flowkit: network flow toolkit.\n"
      "  flowkit meter -r capture.pcap            packets -> biflows (see: flowkit meter --help)\n"
      "  flowkit meter -r x.pcap -o store -w DIR  flows into a compressed store\n"
      "  flowkit collect -w DIR                   NetFlow/IPFIX from routers into a store\n"
      "  flowkit query -R DIR 'dst port 443'      nfdump's filters on a store\n"
      "  flowkit store info DIR                   what a store holds (see: flowkit store --help)\n"
      "  flowkit gen -w demo.pcap --packets 1e5   write a realistic synthetic capture\n"
      "  flowkit fields                           every flow field and its IPFIX number"};
  app.require_subcommand(1);
  app.set_version_flag("-V,--version", "flowkit 0.1.0");
  int exit_code = 0;
  flowkit::app::add_meter_command(app, &exit_code);
  flowkit::app::add_gen_command(app, &exit_code);
  flowkit::app::add_fields_command(app, &exit_code);
  flowkit::app::add_collect_command(app, &exit_code);
  flowkit::app::add_query_command(app, &exit_code);
  flowkit::app::add_store_command(app, &exit_code);
  // A mistyped command (flowkit metre) or option (flowkit --bogus) would otherwise read
  // "A subcommand is required".
  if (argc > 1) {
    std::string first = argv[1], names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
      known = known || sub->get_name() == first;
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    bool app_option = first == "-h" || first == "--help" || first == "-V" || first == "--version";
    if (first[0] != '-' && !known) {
      std::fprintf(stderr, "flowkit: unknown command '%s'; the commands are %s (flowkit --help)\n",
                   argv[1], names.c_str());
      return 2;
    }
    if (first[0] == '-' && !app_option) {
      std::fprintf(stderr,
                   "flowkit: unknown option '%s'; options follow the command: flowkit COMMAND "
                   "[OPTIONS], the commands are %s (flowkit COMMAND --help)\n",
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
