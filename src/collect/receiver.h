// The receive threads: one per UDP socket, draining it with recvmmsg into the packet queue, and
// one for every IPFIX-over-TCP listener and its connections, cutting the streams into messages.
// UDP datagrams that find the queue full are dropped and counted; TCP waits for room instead
// (the exporter's own buffer absorbs the burst and nothing is lost).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "collect/listen_address.h"
#include "collect/packet_queue.h"
#include "core/result.h"

namespace flowkit::collect {

struct ReceiverStats {
  std::atomic<uint64_t> datagrams{0};  // UDP datagrams, TCP messages
  std::atomic<uint64_t> bytes{0};
  std::atomic<uint64_t> queue_drops{0};   // datagrams dropped: the queue was full
  std::atomic<uint64_t> kernel_drops{0};  // dropped by the kernel: the socket buffer was full
  std::atomic<uint64_t> truncated{0};     // datagrams longer than 64 KiB (cannot be IPFIX)
  std::atomic<uint64_t> connections{0};   // TCP connections accepted
  std::atomic<uint64_t> bad_streams{0};   // TCP connections closed for a message that lies
};

struct ReceiverOptions {
  int rcvbuf = 32 << 20;  // bytes asked of the kernel for each UDP socket
  // UDP: the socket shares its port with others (SO_REUSEPORT); the kernel spreads exporters
  // over them by address and port, so each exporter's messages stay in order on one of them.
  bool reuse_port = false;
};

class Receiver {
 public:
  Receiver(int fd, uint16_t source, std::string name)
      : fd_(fd), source_(source), name_(std::move(name)) {}
  // Stops the thread and closes the socket.
  virtual ~Receiver();
  Receiver(const Receiver&) = delete;
  Receiver& operator=(const Receiver&) = delete;

  void start(PacketQueue& queue);
  // Stops the thread (a stop is seen within 100 ms), which hands over what it holds.
  void stop();
  const ReceiverStats& stats() const { return stats_; }
  const std::string& name() const { return name_; }
  // Things worth telling the user once (a socket buffer the kernel capped).
  std::vector<std::string> warnings;

 protected:
  // The thread's loop, until stopping().
  virtual void run() = 0;
  bool stopping() const { return stop_; }

  const int fd_;
  const uint16_t source_;
  PacketQueue* queue_ = nullptr;
  ReceiverStats stats_;

 private:
  std::string name_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

// Binds the socket now (errors say what to do), so that the command fails at once rather than
// in a thread. `source` tags the messages.
Result<std::unique_ptr<Receiver>> open_receiver(const ListenAddress& where, uint16_t source,
                                                const ReceiverOptions& options);

}  // namespace flowkit::collect
