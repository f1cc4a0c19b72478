#include "core/fd_io.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace flowkit {

int write_fully(int fd, std::span<const uint8_t> bytes, bool socket) {
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = socket ? ::send(fd, p, left, MSG_NOSIGNAL) : ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;
    p += n;
    left -= size_t(n);
  }
  return 0;
}

BackgroundWriter::BackgroundWriter(int fd) : fd_(fd), thread_([this] { run(); }) {}

BackgroundWriter::~BackgroundWriter() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void BackgroundWriter::submit(std::unique_ptr<char[]>* buf, size_t* cap, size_t n) {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return pending_ == 0; });
  std::swap(*buf, buf_);
  std::swap(*cap, cap_);
  pending_ = n;
  lock.unlock();
  cv_.notify_all();
}

int BackgroundWriter::wait() {
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return pending_ == 0; });
  return error_;
}

int BackgroundWriter::error() const {
  std::lock_guard lock(mu_);
  return error_;
}

void BackgroundWriter::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return pending_ != 0 || stop_; });
    if (pending_ == 0) return;  // stopped, nothing in flight
    size_t n = pending_;
    bool failed = error_ != 0;
    lock.unlock();
    int err =
        failed ? 0 : write_fully(fd_, std::span(reinterpret_cast<const uint8_t*>(buf_.get()), n));
    lock.lock();
    if (err && !error_) error_ = err;
    pending_ = 0;
    cv_.notify_all();
  }
}

}  // namespace flowkit
