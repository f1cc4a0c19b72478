// The bounded queue between the receive threads and the decoding thread. Datagrams (and IPFIX
// messages cut from TCP streams) are packed into blocks of 1 MiB; a receiver fills a block and
// hands it over when it is full or when the decoder is idle, so that a burst waits here, in
// user space, rather than overflowing the kernel's socket buffer. The blocks are allocated once
// (up to the byte limit) and recycled.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "core/ip_address.h"

namespace flowkit::collect {

// Where a message came from. `stream` is set for IPFIX over TCP, where `end` marks the close of
// the connection (the templates of a TCP session die with it, RFC 7011 8.1).
struct Origin {
  IpAddress address;
  uint16_t port = 0;
  uint16_t source = 0;  // which listener or file
  bool stream = false;
  bool end = false;
  friend bool operator==(const Origin& a, const Origin& b) {
    return a.address == b.address && a.port == b.port && a.stream == b.stream &&
           a.source == b.source;
  }
};

struct Datagram {
  Origin from;
  int64_t received_ns = 0;  // wall clock
  std::span<const uint8_t> bytes;
};

class PacketBlock {
 public:
  static constexpr size_t kSize = size_t(1) << 20;
  // Not zeroed: pages are touched only as datagrams fill them.
  PacketBlock() : data_(new uint8_t[kSize]) {}
  // False when the block has no room for it (the caller hands the block over first).
  bool append(const Origin& from, int64_t received_ns, std::span<const uint8_t> bytes);
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  size_t bytes() const { return used_; }
  void clear() {
    used_ = 0;
    count_ = 0;
  }
  template <class F>
  void for_each(F&& f) const {
    for (size_t off = 0; off < used_;) {
      Datagram d;
      off = read(off, d);
      f(d);
    }
  }

 private:
  struct Header {
    IpAddress address;
    uint16_t port, source;
    uint32_t size;
    int64_t received_ns;
    uint8_t stream, end, pad[6];
  };
  size_t read(size_t off, Datagram& d) const;
  std::unique_ptr<uint8_t[]> data_;
  size_t used_ = 0;
  size_t count_ = 0;
};

class PacketQueue {
 public:
  explicit PacketQueue(size_t max_bytes);

  // A block to fill; nullptr when every block is taken (UDP: the datagram is dropped and
  // counted). get_block_waiting() waits for one instead, until close() (TCP: back-pressure).
  std::unique_ptr<PacketBlock> get_block();
  std::unique_ptr<PacketBlock> get_block_waiting();
  void push(std::unique_ptr<PacketBlock> b);
  // Whether the decoder waits with nothing queued: a receiver then hands over a partial block at
  // once. (While it is busy, blocks fill up: a burst is held compactly.)
  bool consumer_idle() const;

  // The next block, waiting up to `wait`; nullptr when none came.
  std::unique_ptr<PacketBlock> pop(std::chrono::milliseconds wait);
  void recycle(std::unique_ptr<PacketBlock> b);
  // Wakes every waiter; get_block_waiting() returns nullptr from now on.
  void close();

  size_t max_blocks() const { return max_blocks_; }
  // The most blocks waiting at once so far, and the datagram bytes they held.
  size_t peak_queued() const;
  size_t peak_queued_bytes() const;

 private:
  const size_t max_blocks_;
  mutable std::mutex mu_;
  std::condition_variable ready_cv_, free_cv_;
  std::deque<std::unique_ptr<PacketBlock>> queue_;
  std::vector<std::unique_ptr<PacketBlock>> free_;
  size_t allocated_ = 0;
  size_t peak_ = 0;
  int waiting_ = 0;  // consumers in pop()
  size_t queued_bytes_ = 0, peak_bytes_ = 0;
  bool closed_ = false;
};

}  // namespace flowkit::collect
