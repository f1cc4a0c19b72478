// One function per subcommand: each adds its CLI11 subcommand to the app and, when the user
// picks it, runs and stores the process exit code in *exit_code.
#pragma once

#include <CLI/CLI.hpp>

namespace flowkit::app {

void add_meter_command(CLI::App& app, int* exit_code);
void add_gen_command(CLI::App& app, int* exit_code);
void add_fields_command(CLI::App& app, int* exit_code);
void add_store_command(CLI::App& app, int* exit_code);
void add_collect_command(CLI::App& app, int* exit_code);
void add_query_command(CLI::App& app, int* exit_code);

}  // namespace flowkit::app
