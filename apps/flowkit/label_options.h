// --local-net and --geoip, which meter and collect both take: labels added to each record at its
// end, whether a meter made it or an exporter sent it.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "dissect/geoip.h"
#include "dissect/hosts.h"

namespace flowkit::app {

struct LabelArgs {
  std::vector<std::string> local_nets;
  std::vector<std::string> geoip;
};

void add_label_options(CLI::App* cmd, LabelArgs& args);
// Prints what is wrong, naming the command, and returns false on a bad network or database.
bool parse_label_options(const char* command, const LabelArgs& args, dissect::LocalNets& nets,
                         dissect::GeoIp& geoip);

}  // namespace flowkit::app
