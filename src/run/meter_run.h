// `flowkit meter` after its options are parsed: packets from files or live interfaces through
// the meter into the run's outputs, driven by the shared run loop.
#pragma once

#include <string>
#include <vector>

#include "capture/merged_source.h"
#include "meter/meter.h"
#include "run/outputs.h"
#include "run/run_loop.h"

namespace flowkit::run {

struct MeterConfig {
  std::vector<std::string> files;       // -r (exclusive with interfaces)
  std::vector<std::string> interfaces;  // -i
  std::string filter;                   // BPF
  capture::FileReaderKind reader = capture::FileReaderKind::kFlowkit;
  int snaplen = 262144;
  bool promiscuous = true;
  unsigned threads = 2;  // files: 2 reads and decodes on a thread of its own
  meter::MeterOptions meter;
  OutputOptions output;  // inputs are filled from files
  LoopOptions loop;
};

// Runs the meter to the end of its input or a stop signal; returns the exit code.
int run_meter(MeterConfig config);

}  // namespace flowkit::run
