// Writing to a file descriptor: a whole buffer at once (short writes continue, EINTR retries),
// or buffer after buffer on a thread of its own.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <thread>

namespace flowkit {

// Writes all of `bytes` to `fd` (with send(MSG_NOSIGNAL) when `socket`, so a closed peer is an
// error, not a SIGPIPE). Returns 0, or the errno of the failure (ENOSPC when write() wrote 0).
int write_fully(int fd, std::span<const uint8_t> bytes, bool socket = false);

// Writes buffers to a file on a thread of its own, one at a time, so that the kernel's copy of
// a large output (as long as formatting it, at 1.5 GB/s) runs beside the work that fills the
// next buffer. After the first failure it writes nothing more.
class BackgroundWriter {
 public:
  explicit BackgroundWriter(int fd);
  ~BackgroundWriter();  // finishes the buffer in flight
  BackgroundWriter(const BackgroundWriter&) = delete;
  BackgroundWriter& operator=(const BackgroundWriter&) = delete;

  // Waits for the buffer in flight, then starts writing the first n bytes of *buf and gives
  // back in *buf and *cap the idle buffer (null, 0 the first time) to fill next.
  void submit(std::unique_ptr<char[]>* buf, size_t* cap, size_t n);
  // Waits until nothing is in flight; returns the errno of the first failed write, or 0.
  int wait();
  // The errno of a failure seen so far, without waiting.
  int error() const;

 private:
  void run();

  int fd_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unique_ptr<char[]> buf_;  // in flight, or idle
  size_t cap_ = 0;
  size_t pending_ = 0;  // bytes of buf_ to write; 0: idle
  bool stop_ = false;
  int error_ = 0;
  std::thread thread_;
};

}  // namespace flowkit
