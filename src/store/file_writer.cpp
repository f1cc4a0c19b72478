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
    : layer_(std::move(layer)), options_(options) {
  if (!options_.space) options_.space = std::make_shared<GatherSpace>();
  spare_ = std::move(options_.space->batches);
  options_.space->batches.clear();
  batch_ = spare_batch();
  header_bytes_.resize(kFileHeaderSize);
  put_file_header(header, header_bytes_.data());
  thread_ = std::thread([this] { run(); });
}

FileWriter::~FileWriter() {
  close();
}

std::unique_ptr<WriterBatch> FileWriter::spare_batch() {
  if (spare_.empty()) return std::make_unique<WriterBatch>();
  std::unique_ptr<WriterBatch> b = std::move(spare_.back());
  spare_.pop_back();
  return b;
}

void FileWriter::submit(bool end_block) {
  batch_->end_block = end_block;
  std::unique_lock lock(mu_);
  // The thread keeps up unless it is slower than the meter; then the meter waits for it (a
  // failing disk does not slow the thread: it drops what it cannot keep).
  room_cv_.wait(lock, [&] { return queued_ < kMaxQueued; });
  queued_ += batch_->records.size();
  queue_.push_back(std::move(batch_));
  batch_ = spare_batch();
  if (end_block || queued_ >= kBatch) cv_.notify_one();
}

void FileWriter::take(std::vector<FlowRecord>& records, Arena& arena) {
  if (records.empty()) return;
  if (!batch_->records.empty()) submit(false);  // what add() gathered goes first
  rows_in_block_ = uint32_t((rows_in_block_ + records.size()) % kMaxBlockRows);
  batch_->records.swap(records);
  std::swap(batch_->arena, arena);
  submit(false);
}

void FileWriter::encode_block(BlockBuilder& rows, BlockEncoder& encoder) {
  if (rows.rows() == 0) return;
  Encoded& e = pending_.emplace_back();
  e.entry.rows = rows.rows();
  e.entry.time_min = rows.time_min();
  e.entry.time_max = rows.time_max();
  encoder.encode(rows, e.bytes);
  rows.clear();
  if (pending_.size() > kMaxPending) {
    // The disk has been failing for a while: keeping more would only move the loss to memory.
    std::lock_guard lock(mu_);
    stats_.lost_records += pending_.back().entry.rows;
    pending_.pop_back();
  }
}

bool FileWriter::write_pending() {
  while (!pending_.empty()) {
    Encoded& e = pending_.front();
    uint64_t at = header_written_ ? offset_ : kFileHeaderSize;
    Status st;
    if (!header_written_) st = layer_->append(header_bytes_);
    if (st.ok()) st = layer_->append(e.bytes);
    if (!st.ok()) {
      // Cut back to the last complete block, so that what follows a retry is whole.
      layer_->truncate(header_written_ ? offset_ : 0);
      std::lock_guard lock(mu_);
      if (!failing_) error_ = st;  // once per spell of failures, not at every retry
      if (first_error_.ok()) first_error_ = st;
      failing_ = true;
      return false;
    }
    header_written_ = true;
    offset_ = at + e.bytes.size();
    e.entry.offset = at;
    index_.push_back(e.entry);
    unsynced_rows_ += e.entry.rows;
    {
      std::lock_guard lock(mu_);
      failing_ = false;
      stats_.blocks++;
      stats_.bytes = offset_;
    }
    pending_.pop_front();
  }
  // One sync for every block written since the last: batched durability.
  if (unsynced_rows_) {
    Status st = options_.sync ? layer_->sync() : Status();
    std::lock_guard lock(mu_);
    if (st.ok()) {
      stats_.records += unsynced_rows_;
      unsynced_rows_ = 0;
    } else {
      if (error_.ok()) error_ = st;
      if (first_error_.ok()) first_error_ = st;
    }
  }
  return true;
}

void FileWriter::run() {
  BlockEncoder encoder(options_.compression);
  // Rows go to one of two blocks by their first packet: flows that began well before the newest
  // (those a long idle timeout expired late, among flows that just ended) fill blocks of their
  // own, so that each block spans a short time and a time window skips most blocks unread.
  constexpr int64_t kLate = 60 * kNanosPerSecond;
  BlockBuilder(&rows)[2] = options_.space->rows;
  for (BlockBuilder& b : rows) b.clear();  // close() leaves them empty: this costs nothing
  int64_t newest = INT64_MIN;
  auto encode_both = [&] {
    for (BlockBuilder& b : rows) encode_block(b, encoder);
  };
  using Clock = std::chrono::steady_clock;
  Clock::time_point next_try{};
  std::unique_lock lock(mu_);
  for (;;) {
    // While writes fail, wake every second to try again.
    auto ready = [&] { return !queue_.empty() || closing_; };
    if (pending_.empty()) {
      cv_.wait(lock, ready);
    } else {
      cv_.wait_until(lock, next_try, ready);
    }
    std::unique_ptr<WriterBatch> batch;
    if (!queue_.empty()) {
      batch = std::move(queue_.front());
      queue_.pop_front();
      queued_ -= batch->records.size();
      room_cv_.notify_all();
    }
    bool closing = closing_ && queue_.empty() && !batch;
    lock.unlock();
    if (batch) {
      for (const FlowRecord& r : batch->records) {
        const int64_t first = r.first().ns;
        newest = std::max(newest, first);
        BlockBuilder& to = rows[uint64_t(newest) - uint64_t(first) > uint64_t(kLate)];
        to.add(r);
        if (to.full()) encode_block(to, encoder);
      }
      if (batch->end_block) encode_both();
      batch->records.clear();
      batch->arena.reset();
    }
    if (closing) encode_both();
    // Writes go out at once, and while failing once a second (at close, once more).
    if (!pending_.empty() && (closing || Clock::now() >= next_try)) {
      if (!write_pending()) next_try = Clock::now() + std::chrono::seconds(1);
    }
    lock.lock();
    if (batch) spare_.push_back(std::move(batch));
    if (closing) {
      for (const Encoded& e : pending_) stats_.lost_records += e.entry.rows;
      pending_.clear();
      break;
    }
  }
}

Status FileWriter::close() {
  if (closed_) return {};
  closed_ = true;
  if (!batch_->records.empty()) submit(true);
  {
    std::lock_guard lock(mu_);
    closing_ = true;
  }
  cv_.notify_all();
  thread_.join();
  // The batches go back for the next writer, empty.
  spare_.push_back(std::move(batch_));
  options_.space->batches = std::move(spare_);
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
