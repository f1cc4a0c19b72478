#include "store/file_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/fd_io.h"

namespace flowkit::store {
namespace {

class FileLayer : public WriteLayer {
 public:
  FileLayer(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileLayer() override { ::close(fd_); }
  Status append(std::span<const uint8_t> bytes) override {
    size_t done = 0;
    while (done < bytes.size()) {
      ssize_t n = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return error("write");
      done += size_t(n);
    }
    return {};
  }
  Status sync() override { return ::fdatasync(fd_) == 0 ? Status() : error("fdatasync"); }
  Status truncate(uint64_t size) override {
    if (::ftruncate(fd_, off_t(size)) != 0) return error("truncate");
    if (::lseek(fd_, off_t(size), SEEK_SET) < 0) return error("seek");
    return {};
  }

 private:
  Status error(const char* what) {
    return Status::io_error(path_ + ": " + what + ": " + std::strerror(errno));
  }
  int fd_;
  std::string path_;
};

}  // namespace

Result<std::unique_ptr<WriteLayer>> create_file(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::string why = std::strerror(errno);
    if (errno == EEXIST)
      return Status::invalid_argument(path + ": exists; a store never overwrites");
    return Status::io_error(path + ": " + why);
  }
  return std::unique_ptr<WriteLayer>(new FileLayer(fd, path));
}

FileWriter::FileWriter(std::unique_ptr<WriteLayer> layer, const FileHeader& header,
                       WriterOptions options)
    : layer_(std::move(layer)), options_(options), building_(std::make_unique<BlockBuilder>()) {
  header_bytes_.resize(kFileHeaderSize);
  put_file_header(header, header_bytes_.data());
  thread_ = std::thread([this] { run(); });
}

FileWriter::~FileWriter() {
  close();
}

void FileWriter::flush_block() {
  if (building_->rows() == 0) return;
  std::unique_lock lock(mu_);
  done_cv_.wait(lock, [&] { return queue_.size() < kMaxPending || failing_; });
  if (queue_.size() >= kMaxPending) {
    // The disk has been failing for a while: keeping more would only move the loss to memory.
    stats_.lost_records += building_->rows();
    building_->clear();
    return;
  }
  Job& job = queue_.emplace_back();
  job.entry.rows = building_->rows();
  job.entry.time_min = building_->time_min();
  job.entry.time_max = building_->time_max();
  job.rows = std::move(building_);
  if (spare_.empty()) {
    building_ = std::make_unique<BlockBuilder>();
  } else {
    building_ = std::move(spare_.back());
    spare_.pop_back();
  }
  cv_.notify_one();
}

bool FileWriter::write_job(Job& job) {
  Status st;
  if (!header_written_) st = layer_->append(header_bytes_);
  if (st.ok()) st = layer_->append(job.bytes);
  if (st.ok()) return true;
  // Cut back to the last complete block, so that what follows a retry is whole.
  layer_->truncate(header_written_ ? offset_ : 0);
  std::lock_guard lock(mu_);
  if (!failing_) error_ = st;  // once per spell of failures, not at every retry
  if (first_error_.ok()) first_error_ = st;
  failing_ = true;
  done_cv_.notify_all();
  return false;
}

void FileWriter::run() {
  BlockEncoder encoder(options_.compression);
  uint64_t unsynced_rows = 0;
  bool retried_on_close = false;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
    if (queue_.empty()) break;
    Job& job = queue_.front();  // deque: stays put while others are added
    lock.unlock();
    if (job.bytes.empty()) encoder.encode(*job.rows, job.bytes);
    uint64_t at = header_written_ ? offset_ : kFileHeaderSize;
    bool ok = write_job(job);
    if (ok) {
      header_written_ = true;
      offset_ = at + job.bytes.size();
      unsynced_rows += job.entry.rows;
    }
    lock.lock();
    if (!ok) {
      if (closing_) {
        if (retried_on_close) {
          for (const Job& j : queue_) stats_.lost_records += j.entry.rows;
          queue_.clear();
          break;
        }
        retried_on_close = true;
        continue;
      }
      // Try again in a second, or at once when closing.
      cv_.wait_for(lock, std::chrono::seconds(1), [&] { return closing_; });
      continue;
    }
    failing_ = false;
    job.entry.offset = at;
    index_.push_back(job.entry);
    stats_.blocks++;
    stats_.bytes = offset_;
    job.rows->clear();
    spare_.push_back(std::move(job.rows));
    queue_.pop_front();
    done_cv_.notify_all();
    // One sync for every block that was waiting: batched durability.
    if (queue_.empty() || unsynced_rows >= 8 * kMaxBlockRows) {
      lock.unlock();
      Status st = options_.sync ? layer_->sync() : Status();
      lock.lock();
      if (st.ok()) {
        stats_.records += unsynced_rows;
        unsynced_rows = 0;
      } else {
        if (error_.ok()) error_ = st;
        if (first_error_.ok()) first_error_ = st;
      }
    }
  }
}

Status FileWriter::close() {
  if (closed_) return {};
  closed_ = true;
  flush_block();
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  thread_.join();
  // The footer makes the index available; without it readers scan the blocks.
  std::vector<uint8_t> footer;
  if (!header_written_) {
    footer = header_bytes_;
    offset_ = kFileHeaderSize;
  }
  put_footer(index_, offset_, footer);
  Status st = layer_->append(footer);
  if (st.ok() && options_.sync) st = layer_->sync();
  if (!st.ok()) {
    // Without its footer the file still reads, block by block.
    layer_->truncate(header_written_ ? offset_ : 0);
    return st;
  }
  stats_.bytes = offset_ + footer_size(index_.size());
  if (stats_.lost_records)
    return Status::data_loss(std::to_string(stats_.lost_records) +
                             " records could not be written: " + first_error_.message());
  return {};
}

WriterStats FileWriter::stats() const {
  std::lock_guard lock(mu_);
  return stats_;
}

bool FileWriter::failing() const {
  std::lock_guard lock(mu_);
  return failing_;
}

Status FileWriter::take_error() {
  std::lock_guard lock(mu_);
  Status st = error_;
  error_ = Status();
  return st;
}

}  // namespace flowkit::store
