// The loop that every long-running command shares (meter, collect, serve): it steps a Job
// batch by batch, ticks it with the wall clock, turns SIGINT/SIGTERM into a clean stop that
// flushes every flow in flight, prints progress, warnings and periodic statistics on stderr,
// and ends with the job's summary and an exit code (exit_code.h). A subcommand parses its
// options, builds a Job and calls run().
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"

namespace flowkit::run {

class Job {
 public:
  virtual ~Job() = default;
  // Does one batch of work; false once the input is exhausted (or stopped and drained).
  virtual bool step() = 0;
  // About every 100 ms of wall time: a live job advances its flow clock, so that flows expire
  // and exports leave without waiting for traffic.
  virtual void tick(Timestamp /*wall*/) {}
  // Called from a signal handler (async-signal-safe only): a live input stops capturing.
  virtual void interrupt() {}
  // Whether, after a stop signal, step() goes on to drain what was already received (live
  // capture) rather than the loop stopping at once (files).
  virtual bool drains_on_stop() const { return false; }
  // The reader of the output went away (`| head`): stop without an error.
  virtual bool output_gone() const { return false; }
  // One line of progress ("52.1% 3.2 M packets, 12 k flows active, ...").
  virtual std::string progress(double seconds) const = 0;
  // The periodic statistics (--stats-interval, and SIGUSR1): lines ending in '\n'; by default
  // the progress line.
  virtual std::string statistics(double seconds) const { return progress(seconds) + "\n"; }
  // SIGHUP: a job that writes files starts new ones.
  virtual void rotate() {}
  // Problems worth telling the user, since the last call.
  virtual std::vector<std::string> take_warnings() { return {}; }
  // Ends every flow in flight and flushes every sink; the first error.
  virtual Status finish() = 0;
  // The closing summary (lines ending in '\n'), unless quiet.
  virtual std::string summary(double seconds) const = 0;
};

struct LoopOptions {
  std::string name = "flowkit";  // what messages start with
  bool quiet = false;            // no progress line, no summary (warnings and errors still)
  bool progress = false;         // the progress line even when stderr is not a terminal
  double stats_interval = 0;     // seconds; > 0: the progress as a log line this often
};

// Runs `job` to its end or to a stop signal; returns the process exit code. The final Status
// (the job's first error, or a failure to deliver) is printed as `name: message`.
int run(Job& job, const LoopOptions& options);

// The signal that stopped the last run(), 0 if none.
int stop_signal();

}  // namespace flowkit::run
