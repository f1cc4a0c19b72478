#include "run/collect_run.h"

#include <fmt/core.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>

#include "core/byte_io.h"
#include "run/exit_code.h"
#include "run/human.h"
#include "store/store_dir.h"

namespace flowkit::run {

namespace {

constexpr int64_t kSecond = 1'000'000'000;
// Errors about malformed messages reach the log at most this often.
constexpr int64_t kErrorLogInterval = 10 * kSecond;
constexpr int64_t kExpireInterval = 60 * kSecond;

std::string exporter_name(const collect::Origin& o, const std::vector<std::string>& files) {
  if (!o.port) return o.source < files.size() ? files[o.source] : "file";
  return fmt::format("{}{}:{}{}", o.address.is_v4() ? "" : "[", o.address.to_string(),
                     o.address.is_v4() ? "" : "]", o.port) +
         (o.stream ? " (tcp)" : "");
}

// One exporter's line: what came, what was kept, what could not be and why.
std::string counts_line(const collect::ExporterCounts& c) {
  const ipfix::DecoderStats& d = c.decoder;
  std::string out = fmt::format("{} messages, {} records", c.messages, d.records);
  auto add = [&](uint64_t n, std::string_view what) {
    if (n) out += fmt::format(", {} {}", n, what);
  };
  add(d.lost_records, "records lost on the way (sequence)");
  add(d.lost_messages, "v9 packets lost on the way (sequence)");
  add(d.reordered, "late messages");
  add(d.restarts, "exporter restarts");
  add(d.late_records, "records decoded once their template came");
  add(d.missing_template, "data sets dropped: template never came");
  add(d.unreadable_records, "records unreadable without their template");
  add(d.malformed + c.errors, "malformed messages or sets");
  add(d.bad_fields, "bad fields");
  add(d.unknown_fields, "values of unknown elements skipped");
  add(d.no_boot_time, "times without the exporter's boot time");
  add(d.template_limit, "templates refused (limit)");
  add(d.templates_expired, "templates expired (--template-lifetime)");
  add(d.refused_domains, "messages of domains beyond the limit");
  return out;
}

class CollectJob final : public Job {
 public:
  explicit CollectJob(CollectConfig c) : config_(std::move(c)), queue_(config_.queue_bytes) {}

  Status open() {
    exporter::ExporterSink::Clock clock{[this] { return start_; }, [] { return wall_clock_now(); }};
    auto out = Outputs::open(config_.output, clock, nullptr);
    if (!out) return out.status();
    outputs_ = std::move(*out);
    // The store names its files by the clock when collecting, from the first record on.
    outputs_->sink().tick(wall_clock_now());
    collector_.emplace(config_.collector, outputs_->sink());
    if (config_.output.format == "store") {
      templates_path_ = config_.output.path + "/.templates";
      if (Status st = collector_->load_templates(templates_path_); !st.ok())
        warnings_.push_back(st.message());
    }
    for (size_t i = 0; i < config_.files.size(); ++i) {
      files_.emplace_back(config_.files[i], std::ios::binary);
      if (!files_.back())
        return Status::io_error(config_.files[i] + ": cannot open: " + std::strerror(errno));
    }
    for (size_t i = 0; i < config_.listen.size(); ++i) {
      const collect::ListenAddress& where = config_.listen[i];
      collect::ReceiverOptions ro = config_.receiver;
      unsigned n = where.tcp ? 1 : std::max(1u, config_.receivers);
      ro.reuse_port = n > 1;
      for (unsigned k = 0; k < n; ++k) {
        auto r = collect::open_receiver(where, uint16_t(i), ro);
        if (!r) return r.status();
        for (std::string& w : (*r)->warnings) warnings_.push_back(std::move(w));
        receivers_.push_back(std::move(*r));
      }
    }
    if (!config_.user.empty()) {
      if (Status st = drop_privileges(config_.user); !st.ok()) return st;
    }
    for (auto& r : receivers_) r->start(queue_);
    if (!config_.loop.quiet && !receivers_.empty()) {
      std::string where;
      for (const auto& r : receivers_) where += (where.empty() ? "" : ", ") + r->name();
      std::fprintf(stderr, "%s: listening on %s\n", config_.loop.name.c_str(), where.c_str());
    }
    return {};
  }

  bool step() override {
    if (!files_.empty()) return read_files();
    if (auto block = queue_.pop(std::chrono::milliseconds(stopping_ ? 0 : 100))) {
      block->for_each([&](const collect::Datagram& d) { collector_->receive(d); });
      queue_.recycle(std::move(block));
      collector_->flush();
      return true;
    }
    if (!stopping_) return true;
    // Stopped: the receivers hand over what they hold, then the queue drains.
    if (!receivers_stopped_) {
      stop_receivers();
      return true;
    }
    return false;
  }

  void tick(Timestamp wall) override {
    outputs_->sink().tick(wall);
    if (!templates_path_.empty() && wall.ns - templates_saved_ns_ >= kSecond &&
        collector_->templates_changed()) {
      templates_saved_ns_ = wall.ns;
      if (Status st = collector_->save_templates(templates_path_); !st.ok())
        warnings_.push_back(st.message());
    }
    if (wall.ns - errors_logged_ns_ >= kErrorLogInterval) {
      errors_logged_ns_ = wall.ns;
      for (std::string& e : collector_->take_errors()) warnings_.push_back(std::move(e));
    }
    if ((config_.max_age_ns || config_.max_bytes) && wall.ns - expired_ns_ >= kExpireInterval) {
      expired_ns_ = wall.ns;
      expire(wall);
    }
  }
  void interrupt() override { stopping_ = true; }
  bool drains_on_stop() const override { return true; }
  bool output_gone() const override { return outputs_->reader_gone(); }
  void rotate() override {
    if (Status st = outputs_->rotate(); !st.ok()) warnings_.push_back(st.message());
  }

  std::string progress(double secs) const override {
    collect::ExporterCounts t = collector_->totals();
    return fmt::format("{} messages, {} records ({} records/s), {} exporters", human(t.messages),
                       human(t.decoder.records), human(secs > 0 ? t.decoder.records / secs : 0),
                       collector_->exporters().size());
  }
  std::string statistics(double secs) const override {
    std::string out = progress(secs) + "\n";
    for (const collect::ExporterCounts& c : collector_->exporters())
      out += fmt::format("  {}: {}\n", exporter_name(c.from, config_.files), counts_line(c));
    out += receiver_line();
    return out;
  }
  std::vector<std::string> take_warnings() override { return std::exchange(warnings_, {}); }

  Status finish() override {
    stop_receivers();
    while (auto block = queue_.pop(std::chrono::milliseconds(0))) {
      block->for_each([&](const collect::Datagram& d) { collector_->receive(d); });
      queue_.recycle(std::move(block));
    }
    collector_->flush();
    collector_->drop_held();
    for (std::string& e : collector_->take_errors()) warnings_.push_back(std::move(e));
    if (!templates_path_.empty() && collector_->templates_changed()) {
      if (Status st = collector_->save_templates(templates_path_); !st.ok())
        warnings_.push_back(st.message());
    }
    return outputs_->finish();
  }

  std::string summary(double secs) const override {
    collect::ExporterCounts t = collector_->totals();
    std::string out = fmt::format(
        "flowkit collect: {} messages, {} records in {:.1f} s ({} records/s)\n", t.messages,
        t.decoder.records, secs, human(secs > 0 ? t.decoder.records / secs : 0));
    for (const collect::ExporterCounts& c : collector_->exporters())
      out += fmt::format("  {}: {}\n", exporter_name(c.from, config_.files), counts_line(c));
    if (collector_->evicted()) {
      out += fmt::format("  exporters forgotten to make room for new ones: {} (--max-exporters)\n",
                         collector_->evicted());
      out += fmt::format("  all exporters, forgotten ones too: {}\n", counts_line(t));
    }
    out += receiver_line();
    if (!receivers_.empty())
      out += fmt::format(
          "  receive queue: at most {} of {} MiB blocks waiting ({:.1f} MiB of datagrams)\n",
          queue_.peak_queued(), queue_.max_blocks(),
          double(queue_.peak_queued_bytes()) / (1 << 20));
    return out + outputs_->summary();
  }

 private:
  bool read_files();
  void stop_receivers() {
    if (receivers_stopped_) return;
    receivers_stopped_ = true;
    queue_.close();  // a TCP receiver waiting for room stops waiting
    for (auto& r : receivers_) r->stop();
  }
  std::string receiver_line() const {
    uint64_t kernel = 0, queue = 0, truncated = 0, bad = 0;
    for (const auto& r : receivers_) {
      kernel += r->stats().kernel_drops;
      queue += r->stats().queue_drops;
      truncated += r->stats().truncated;
      bad += r->stats().bad_streams;
    }
    if (!kernel && !queue && !truncated && !bad) return "";
    return fmt::format(
        "  NOT RECEIVED: {} datagrams dropped by the kernel (socket buffer full: --rcvbuf), {} "
        "dropped with flowkit's queue full (--queue-mb), {} longer than 64 KiB, {} TCP "
        "connections refused or cut for a message that lies\n",
        kernel, queue, truncated, bad);
  }
  void expire(Timestamp now) {
    store::ExpireOptions eo;
    eo.max_age_ns = config_.max_age_ns;
    eo.max_bytes = config_.max_bytes;
    eo.now = now;
    auto r = store::expire(config_.output.path, eo);
    if (!r) warnings_.push_back("expiry: " + r.status().message());
  }
  static Status drop_privileges(const std::string& user) {
    passwd* pw = ::getpwnam(user.c_str());
    if (!pw) return Status::invalid_argument("--user " + user + ": no such user");
    if (::setgroups(0, nullptr) != 0 && errno != EPERM)
      return Status::error("--user: setgroups: " + std::string(std::strerror(errno)));
    if (::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0)
      return Status::error("--user " + user + ": " + std::strerror(errno) +
                           " (only root can change user)");
    return {};
  }

  CollectConfig config_;
  collect::PacketQueue queue_;
  std::unique_ptr<Outputs> outputs_;
  std::optional<collect::Collector> collector_;
  std::vector<std::unique_ptr<collect::Receiver>> receivers_;
  std::vector<std::ifstream> files_;
  size_t file_ = 0;  // being read
  std::vector<uint8_t> file_buf_;
  size_t file_have_ = 0;
  std::string templates_path_;
  Timestamp start_ = wall_clock_now();
  int64_t templates_saved_ns_ = 0, errors_logged_ns_ = 0, expired_ns_ = 0;
  std::atomic<bool> stopping_{false};
  bool receivers_stopped_ = false;
  std::vector<std::string> warnings_;
};

// IPFIX files (RFC 5655) are messages one after another: read a chunk, decode the whole
// messages in it, keep the rest for the next.
bool CollectJob::read_files() {
  if (stopping_ || file_ >= files_.size()) return false;
  std::ifstream& f = files_[file_];
  if (file_buf_.size() < (size_t(1) << 20)) file_buf_.resize(size_t(1) << 20);
  f.read(reinterpret_cast<char*>(file_buf_.data() + file_have_),
         std::streamsize(file_buf_.size() - file_have_));
  file_have_ += size_t(f.gcount());
  size_t off = 0;
  collect::Origin from;
  from.source = uint16_t(file_);
  int64_t now = wall_clock_now().ns;
  bool bad = false;
  while (file_have_ - off >= 4) {
    uint16_t version = load_be16(file_buf_.data() + off),
             len = load_be16(file_buf_.data() + off + 2);
    if (version != 10 || len < 16) {
      bad = true;
      break;
    }
    if (file_have_ - off < len) break;
    collector_->receive({from, now, {file_buf_.data() + off, len}});
    off += len;
  }
  collector_->flush();
  std::memmove(file_buf_.data(), file_buf_.data() + off, file_have_ - off);
  file_have_ -= off;
  if (bad || (!f && file_have_)) {
    warnings_.push_back(
        fmt::format("{}: {} bytes at the end are not an IPFIX message; the file "
                    "is read up to there",
                    config_.files[file_], file_have_));
  }
  if (bad || !f) {
    file_have_ = 0;
    ++file_;
  }
  return file_ < files_.size();
}

}  // namespace

int run_collect(CollectConfig c) {
  if (c.listen.empty() && c.files.empty()) {
    for (const char* spec : {"2055", "4739"}) {
      auto l = collect::parse_listen(spec);
      c.listen.push_back(l.value());
    }
  }
  if (!c.listen.empty() && !c.files.empty()) {
    std::fprintf(stderr, "%s: give either -r FILE.ipfix or -l PORT, not both\n",
                 c.loop.name.c_str());
    return kExitUsage;
  }
  c.output.inputs = c.files;
  LoopOptions loop = c.loop;
  CollectJob job(std::move(c));
  if (Status st = job.open(); !st.ok()) {
    for (const std::string& w : job.take_warnings())
      std::fprintf(stderr, "%s: warning: %s\n", loop.name.c_str(), w.c_str());
    std::fprintf(stderr, "%s: %s\n", loop.name.c_str(), st.message().c_str());
    return exit_code(st);
  }
  return run(job, loop);
}

}  // namespace flowkit::run
