#include "run/run_loop.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>

#include "run/exit_code.h"

namespace flowkit::run {

namespace {

std::atomic<int> g_signal{0};
std::atomic<bool> g_rotate{false}, g_statistics{false};
std::atomic<Job*> g_job{nullptr};

extern "C" void on_stop_signal(int sig) {
  g_signal.store(sig);
  if (Job* j = g_job.load()) j->interrupt();
}

// SIGHUP and SIGUSR1 are only noted here; the loop acts on them between steps.
extern "C" void on_request_signal(int sig) {
  (sig == SIGHUP ? g_rotate : g_statistics).store(true);
}

}  // namespace

int stop_signal() {
  return g_signal.load();
}

int run(Job& job, const LoopOptions& o) {
  using Clock = std::chrono::steady_clock;
  g_signal.store(0);
  g_job.store(&job);
  struct sigaction sa {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int {
  }, old_term{};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  struct sigaction req {};
  req.sa_handler = on_request_signal;
  sigemptyset(&req.sa_mask);
  struct sigaction old_hup {
  }, old_usr1{};
  sigaction(SIGHUP, &req, &old_hup);
  sigaction(SIGUSR1, &req, &old_usr1);
  std::signal(SIGPIPE, SIG_IGN);  // a closed pipe is an error value, not a death

  const bool show_progress = !o.quiet && (o.progress || isatty(2));
  const auto t0 = Clock::now();
  auto seconds = [&] { return std::chrono::duration<double>(Clock::now() - t0).count(); };
  auto next_progress = t0 + std::chrono::milliseconds(500);
  auto next_tick = t0 + std::chrono::milliseconds(100);
  auto stats_every =
      std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.stats_interval));
  auto next_stats = t0 + stats_every;
  auto warn = [&](const std::string& w) {
    std::fprintf(stderr, "%s%s: warning: %s\n", show_progress ? "\r\033[K" : "", o.name.c_str(),
                 w.c_str());
  };

  for (;;) {
    // A job that drains (live capture) goes on until its input says it is done.
    if (g_signal.load() && !job.drains_on_stop()) break;
    if (job.output_gone()) break;
    bool more = job.step();
    for (const std::string& w : job.take_warnings()) warn(w);
    if (!more) break;
    auto now = Clock::now();
    if (now >= next_tick) {
      job.tick(wall_clock_now());
      next_tick = now + std::chrono::milliseconds(100);
    }
    if (show_progress && now >= next_progress) {
      next_progress = now + std::chrono::milliseconds(500);
      std::fprintf(stderr, "\r%s   ", job.progress(seconds()).c_str());
    }
    if (g_rotate.exchange(false)) job.rotate();
    bool asked = g_statistics.exchange(false);
    if (asked || (o.stats_interval > 0 && now >= next_stats)) {
      if (!asked) next_stats = now + stats_every;
      std::string lines = job.statistics(seconds());
      for (size_t at = 0; at < lines.size();) {
        size_t end = lines.find('\n', at);
        if (end == std::string::npos) end = lines.size();
        std::fprintf(stderr, "%s%s: %.*s\n", show_progress ? "\r\033[K" : "", o.name.c_str(),
                     int(end - at), lines.data() + at);
        at = end + 1;
      }
    }
  }
  if (show_progress) std::fputs("\r\033[K", stderr);
  if (g_signal.load() && !o.quiet)
    std::fprintf(stderr, "%s: stopped by signal; flushing every flow in flight\n", o.name.c_str());
  Status st = job.finish();
  for (const std::string& w : job.take_warnings()) warn(w);
  g_job.store(nullptr);
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  sigaction(SIGHUP, &old_hup, nullptr);
  sigaction(SIGUSR1, &old_usr1, nullptr);
  if (!o.quiet) std::fputs(job.summary(seconds()).c_str(), stderr);
  if (!st.ok()) std::fprintf(stderr, "%s: %s\n", o.name.c_str(), st.message().c_str());
  return exit_code(st);
}

}  // namespace flowkit::run
