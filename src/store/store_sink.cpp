#include "store/store_sink.h"

#include <fmt/core.h>

#include <cstdio>
#include <filesystem>

namespace flowkit::store {

std::string relative_path(Timestamp start) {
  CivilTime c = civil_utc(start.seconds());
  return fmt::format("{:04}/{:02}/{:02}/flows-{:04}{:02}{:02}{:02}{:02}.fk", c.year, c.month, c.day,
                     c.year, c.month, c.day, c.hour, c.minute);
}

Result<std::unique_ptr<StoreSink>> StoreSink::open(const StoreOptions& options) {
  if (options.rotate_seconds == 0) return Status::invalid_argument("--rotate must be at least 1 s");
  std::error_code ec;
  std::filesystem::create_directories(options.dir, ec);
  if (ec) return Status::io_error(options.dir + ": cannot create the store: " + ec.message());
  if (!std::filesystem::is_directory(options.dir))
    return Status::invalid_argument(options.dir +
                                    ": not a directory (-w names the store's directory)");
  auto sink = std::unique_ptr<StoreSink>(new StoreSink(options));
  sink->options_.writer.space = std::make_shared<GatherSpace>();
  return sink;
}

StoreSink::~StoreSink() {
  close_file();
}

Status StoreSink::open_file(Timestamp t) {
  int64_t period = int64_t(options_.rotate_seconds) * kNanosPerSecond;
  int64_t start = t.ns / period * period - (t.ns % period < 0 ? period : 0);
  std::string rel = relative_path(Timestamp{start});
  std::filesystem::path path = std::filesystem::path(options_.dir) / rel;
  std::error_code ec;
  std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return Status::io_error(path.parent_path().string() + ": " + ec.message());
  std::string base = path.string().substr(0, path.string().size() - 3);
  Result<std::unique_ptr<WriteLayer>> layer = create_file(path);
  for (int n = 1; !layer.ok() && layer.status().code() == StatusCode::kInvalidArgument && n < 1000;
       ++n)
    layer = create_file(path = base + "-" + std::to_string(n) + ".fk");
  if (!layer.ok()) return layer.status();
  FileHeader h;
  h.interval_start = Timestamp{start};
  h.interval_seconds = options_.rotate_seconds;
  writer_ = std::make_unique<FileWriter>(std::move(*layer), h, options_.writer);
  path_ = path;
  interval_end_ = start + period;
  done_.files++;
  return {};
}

void StoreSink::report(const Status& st) {
  if (st.ok()) return;
  if (first_error_.ok()) first_error_ = st;
  std::fprintf(stderr,
               "flowkit: store: %s; records are kept in memory and written when the disk takes "
               "them again (retrying every second)\n",
               st.message().c_str());
  failing_ = true;
}

Status StoreSink::close_file() {
  if (!writer_) return {};
  Status st = writer_->close();
  WriterStats s = writer_->stats();
  done_.records += s.records;
  done_.bytes += s.bytes;
  done_.lost_records += s.lost_records;
  writer_.reset();
  if (!st.ok() && first_error_.ok()) first_error_ = st;
  return st;
}

FileWriter* StoreSink::writer_for(std::span<const FlowRecord> records) {
  Timestamp t = now_.ns != INT64_MIN ? now_ : records.front().last();
  if (writer_ && t.ns >= interval_end_) close_file();
  if (!writer_) {
    Status st = open_file(t);
    if (!st.ok()) {
      // No file to write to (a full disk or a permission): the records are lost; say so once.
      if (first_error_.ok()) {
        std::fprintf(stderr, "flowkit: store: %s\n", st.message().c_str());
        first_error_ = st;
      }
      done_.lost_records += records.size();
      return nullptr;
    }
  }
  if (writer_->pending_rows() == 0) block_started_ = t;
  return writer_.get();
}

void StoreSink::write(std::span<const FlowRecord> records) {
  if (records.empty()) return;
  if (FileWriter* w = writer_for(records))
    for (const FlowRecord& r : records) w->add(r);
}

void StoreSink::take(std::vector<FlowRecord>& records, Arena& arena) {
  if (records.empty()) return;
  if (FileWriter* w = writer_for(records)) {
    w->take(records, arena);
  } else {
    records.clear();
    arena.reset();
  }
}

void StoreSink::tick(Timestamp now) {
  now_ = now;
  if (!writer_) return;
  if (Status st = writer_->take_error(); !st.ok()) {
    report(st);
  } else if (failing_ && !writer_->failing()) {
    std::fprintf(stderr, "flowkit: store: writing again to %s\n", path_.c_str());
    failing_ = false;
  }
  if (now.ns >= interval_end_) {
    close_file();
  } else if (writer_->pending_rows() && now.ns - block_started_.ns >= options_.block_max_age_ns) {
    writer_->flush_block();
  }
}

Status StoreSink::flush() {
  Status st = close_file();
  StoreStats s = stats();
  if (s.lost_records)
    return Status::data_loss(fmt::format("store {}: {} records could not be written ({})",
                                         options_.dir, s.lost_records, first_error_.message()));
  return st;
}

StoreStats StoreSink::stats() const {
  StoreStats s = done_;
  if (writer_) {
    WriterStats w = writer_->stats();
    s.records += w.records;
    s.bytes += w.bytes;
    s.lost_records += w.lost_records;
  }
  return s;
}

std::string StoreSink::summary() const {
  StoreStats s = stats();
  return fmt::format(
      "store: {} records in {} files under {}, {:.1f} MB ({:.1f} bytes per record){}\n", s.records,
      s.files, options_.dir, s.bytes / 1e6, s.records ? double(s.bytes) / double(s.records) : 0.0,
      s.lost_records ? fmt::format(", {} records lost", s.lost_records) : "");
}

}  // namespace flowkit::store
