#include "gen/pcap_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/byte_io.h"
#include "core/fd_io.h"

namespace flowkit::gen {
namespace {

constexpr size_t kFileHeaderSize = 24;
constexpr size_t kRecordHeaderSize = 16;

}  // namespace

Result<std::unique_ptr<PcapWriter>> PcapWriter::open(const std::string& path,
                                                     const PcapWriterOptions& options) {
  if (options.buffer_size < 65536)
    return Status::invalid_argument("pcap writer: buffer_size must be at least 64 KiB");
  int fd = 1;
  bool owns = false;
  if (path != "-") {
    fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
      return Status::io_error("cannot open " + path + " for writing: " + std::strerror(errno));
    owns = true;
  }
  std::unique_ptr<PcapWriter> w(new PcapWriter(fd, owns, path, options));
  uint8_t* h = w->buf_.data();
  // Native byte order, as libpcap writes; readers detect it from the magic.
  uint32_t magic = options.nanoseconds ? 0xa1b23c4d : 0xa1b2c3d4;
  std::memcpy(h, &magic, 4);
  uint16_t major = 2, minor = 4;
  std::memcpy(h + 4, &major, 2);
  std::memcpy(h + 6, &minor, 2);
  std::memset(h + 8, 0, 8);  // thiszone, sigfigs
  std::memcpy(h + 16, &options.snaplen, 4);
  std::memcpy(h + 20, &options.linktype, 4);
  w->used_ = kFileHeaderSize;
  w->file_bytes_ = kFileHeaderSize;
  return w;
}

PcapWriter::PcapWriter(int fd, bool owns_fd, std::string path, const PcapWriterOptions& options)
    : fd_(fd), owns_fd_(owns_fd), path_(std::move(path)), options_(options) {
  buf_.resize(options.buffer_size);
  if (options.background_io) {
    spare_.resize(options.buffer_size);
    io_ = std::thread([this] { io_loop(); });
  }
}

PcapWriter::~PcapWriter() {
  if (!finished_) finish();
}

uint8_t* PcapWriter::reserve(size_t max_len) {
  if (buf_.size() - used_ < kRecordHeaderSize + max_len) flush();
  // After a failed flush used_ is 0, so the packet lands in the (discarded) buffer.
  return buf_.data() + used_ + kRecordHeaderSize;
}

void PcapWriter::commit(Timestamp ts, uint32_t caplen, uint32_t wirelen) {
  if (wirelen < caplen) wirelen = caplen;
  if (caplen > options_.snaplen) caplen = options_.snaplen;
  uint8_t* h = buf_.data() + used_;
  uint32_t sec = uint32_t(ts.seconds());
  uint32_t frac = uint32_t(options_.nanoseconds ? ts.subsec_ns() : ts.subsec_ns() / 1000);
  std::memcpy(h, &sec, 4);
  std::memcpy(h + 4, &frac, 4);
  std::memcpy(h + 8, &caplen, 4);
  std::memcpy(h + 12, &wirelen, 4);
  if (!status_.ok()) return;
  used_ += kRecordHeaderSize + caplen;
  file_bytes_ += kRecordHeaderSize + caplen;
  ++packets_;
}

void PcapWriter::write(Timestamp ts, std::span<const uint8_t> data, uint32_t wirelen) {
  size_t n = data.size() < options_.snaplen ? data.size() : options_.snaplen;
  uint8_t* p = reserve(n);
  std::memcpy(p, data.data(), n);
  commit(ts, uint32_t(n), wirelen ? wirelen : uint32_t(data.size()));
}

void PcapWriter::io_loop() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return io_busy_ || io_stop_; });
    if (!io_busy_) return;
    size_t len = io_len_;
    lock.unlock();
    int err = write_fully(fd_, std::span(spare_.data(), len));
    lock.lock();
    if (err && !io_errno_) io_errno_ = err;
    io_busy_ = false;
    cv_.notify_all();
  }
}

void PcapWriter::flush() {
  if (!io_.joinable()) {
    if (status_.ok() && used_) {
      if (int err = write_fully(fd_, std::span(buf_.data(), used_))) fail("write", err);
    }
    used_ = 0;
    return;
  }
  std::unique_lock lock(mu_);
  cv_.wait(lock, [this] { return !io_busy_; });
  if (io_errno_) fail("write", io_errno_);
  if (status_.ok() && used_) {
    buf_.swap(spare_);
    io_len_ = used_;
    io_busy_ = true;
    cv_.notify_all();
  }
  used_ = 0;
}

void PcapWriter::fail(const char* what, int err) {
  if (!status_.ok()) return;
  status_ = Status::io_error(std::string(what) + " " + (path_ == "-" ? "<stdout>" : path_) + ": " +
                             std::strerror(err));
}

Status PcapWriter::finish() {
  if (finished_) return status_;
  finished_ = true;
  flush();
  if (io_.joinable()) {
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return !io_busy_; });
      if (io_errno_) fail("write", io_errno_);
      io_stop_ = true;
      cv_.notify_all();
    }
    io_.join();
  }
  if (owns_fd_) {
    if (::close(fd_) != 0) fail("close", errno);
  }
  buf_ = {};
  spare_ = {};
  return status_;
}

}  // namespace flowkit::gen
