// `flowkit store`: info, cat, verify and expire on a store (or some of its files). Each returns
// the Status the process exits with; what it prints goes to stdout, problems to stderr.
#pragma once

#include <string>
#include <vector>

#include "run/outputs.h"
#include "store/store_dir.h"

namespace flowkit::run {

Status store_info(const std::vector<std::string>& paths, bool json, bool columns);
// Every record of the files through the writer `output` names (line, json, csv).
Status store_cat(const std::vector<std::string>& paths, const OutputOptions& output);
// kCorruption when any block is damaged (each named on stderr).
Status store_verify(const std::vector<std::string>& paths, bool quiet);
Status store_expire(const std::string& dir, const store::ExpireOptions& options, bool quiet);

}  // namespace flowkit::run
