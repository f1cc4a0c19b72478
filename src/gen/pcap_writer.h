// PcapWriter: writes classic pcap files (not pcapng) through large buffers, so that writing
// costs one write(2) per megabytes of packets. Packets can be built in place (reserve/commit)
// to avoid a copy. With background_io a second thread writes one buffer while the caller fills
// the other, so producing packets and the kernel's copy into the page cache overlap. I/O errors are
// sticky, LevelDB TableBuilder style: after the first failure further packets are dropped, ok() is
// false and status()/finish() explain why.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "core/result.h"
#include "core/timestamp.h"

namespace flowkit::gen {

struct PcapWriterOptions {
  uint32_t linktype = 1;         // LINKTYPE_ETHERNET
  uint32_t snaplen = 262144;     // longer packets are truncated to this
  bool nanoseconds = false;      // magic 0xa1b23c4d and nanosecond timestamps; else microseconds
  size_t buffer_size = 2 << 20;  // per buffer; two when background_io
  bool background_io = true;
};

class PcapWriter {
 public:
  // Creates or truncates `path` ("-" = standard output) and writes the file header.
  static Result<std::unique_ptr<PcapWriter>> open(const std::string& path,
                                                  const PcapWriterOptions& options = {});
  ~PcapWriter();  // finishes if finish() was not called; errors are then lost
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  // Room for one packet of up to max_len bytes, valid until commit(). Never null: after an
  // error it points to scratch space whose contents are dropped.
  // REQUIRES: max_len <= options.buffer_size / 2; finish() not called.
  uint8_t* reserve(size_t max_len);
  // Records the packet built at the last reserve(): caplen bytes captured of wirelen on the wire.
  // REQUIRES: caplen <= the max_len passed to reserve().
  void commit(Timestamp ts, uint32_t caplen, uint32_t wirelen);
  // Copies a whole packet (reserve + memcpy + commit).
  void write(Timestamp ts, std::span<const uint8_t> data, uint32_t wirelen = 0);

  // Writes out the buffer and closes the file; returns the first error of the writer's life.
  Status finish();

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  uint64_t packets() const { return packets_; }
  // File bytes so far, headers included (buffered ones too).
  uint64_t file_bytes() const { return file_bytes_; }
  const std::string& path() const { return path_; }

 private:
  PcapWriter(int fd, bool owns_fd, std::string path, const PcapWriterOptions& options);
  void flush();
  void fail(const char* what, int err);
  void io_loop();

  int fd_;
  bool owns_fd_;
  bool finished_ = false;
  std::string path_;
  PcapWriterOptions options_;
  std::vector<uint8_t> buf_;
  size_t used_ = 0;
  uint64_t packets_ = 0;
  uint64_t file_bytes_ = 0;
  Status status_;

  // Background writing: spare_ holds io_len_ bytes handed to io_ while io_busy_.
  std::vector<uint8_t> spare_;
  std::thread io_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool io_busy_ = false;
  bool io_stop_ = false;
  size_t io_len_ = 0;
  int io_errno_ = 0;
};

// Called now and then (not per packet) with the work done and the work expected (0: unknown).
using ProgressFn = std::function<void(uint64_t done_packets, uint64_t total_packets)>;

// Writes packets while `next(writer)` produces one (reserve, fill, commit; false at the end),
// stops early when the writer fails, reports progress every 65536 packets, and finishes the
// file. Returns the writer's first error.
template <class Next>
Status write_all(PcapWriter& w, uint64_t total, const ProgressFn& progress, Next&& next) {
  uint64_t n = 0;
  while (next(w)) {
    if ((++n & 0xffff) == 0) {
      if (!w.ok()) break;
      if (progress) progress(n, total);
    }
  }
  Status st = w.finish();
  if (st.ok() && progress) progress(n, total);
  return st;
}

}  // namespace flowkit::gen
