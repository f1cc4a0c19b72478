#include "collect/receiver.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/core.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/byte_io.h"
#include "core/timestamp.h"

namespace flowkit::collect {
namespace {

constexpr size_t kMaxMessage = 65535;

int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Origin origin_of(const sockaddr_storage& a, uint16_t source, bool stream) {
  Origin o;
  o.source = source;
  o.stream = stream;
  if (a.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&a);
    o.address = IpAddress::v4(reinterpret_cast<const uint8_t*>(&in->sin_addr));
    o.port = ntohs(in->sin_port);
  } else if (a.ss_family == AF_INET6) {
    // IPv4 senders on a dual-stack socket come as ::ffff:a.b.c.d, which is how IpAddress holds
    // IPv4 addresses too.
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&a);
    o.address = IpAddress::v6(reinterpret_cast<const uint8_t*>(&in6->sin6_addr));
    o.port = ntohs(in6->sin6_port);
  }
  return o;
}

// A socket bound to `where`; errors say what to do about them.
Result<int> bind_socket(const ListenAddress& where, int type, bool reuse_port) {
  int family = where.addr.ss_family;
  int fd = ::socket(family, type | SOCK_CLOEXEC, 0);
  sockaddr_storage addr = where.addr;
  socklen_t len = where.addr_len;
  if (fd < 0 && where.any && (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)) {
    // No IPv6 on this machine: every IPv4 address then.
    auto* in = reinterpret_cast<sockaddr_in*>(&addr);
    *in = {};
    in->sin_family = AF_INET;
    in->sin_port = htons(where.port);
    len = sizeof(sockaddr_in);
    family = AF_INET;
    fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  }
  if (fd < 0) return Status::io_error(fmt::format("socket: {}", std::strerror(errno)));
  int on = 1, off = 0;
  if (family == AF_INET6 && where.any)
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
  if (type == SOCK_STREAM) ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
  if (reuse_port) ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) {
    int e = errno;
    ::close(fd);
    std::string what =
        fmt::format("cannot listen on {} ({} port {}): {}", where.text,
                    type == SOCK_STREAM ? "TCP" : "UDP", where.port, std::strerror(e));
    if (e == EADDRINUSE)
      what += "; another collector (nfcapd?) has that port: stop it or pick another with -l";
    if (e == EACCES) what += "; ports below 1024 need root or CAP_NET_BIND_SERVICE";
    if (e == EADDRNOTAVAIL) what += "; that address is not one of this machine's";
    return Status::io_error(what);
  }
  return fd;
}

class UdpReceiver final : public Receiver {
 public:
  using Receiver::Receiver;
  ~UdpReceiver() override { stop(); }  // before the members the thread uses go

 private:
  static constexpr int kBatch = 32;
  void run() override;
};

void UdpReceiver::run() {
  std::vector<uint8_t> staging(size_t(kBatch) * (kMaxMessage + 1));
  mmsghdr msgs[kBatch];
  iovec iov[kBatch];
  sockaddr_storage addrs[kBatch];
  alignas(cmsghdr) char control[kBatch][CMSG_SPACE(sizeof(uint32_t))];
  std::unique_ptr<PacketBlock> block;
  auto hand_over = [&] {
    if (block && !block->empty()) queue_->push(std::move(block));
  };
  for (int i = 0; i < kBatch; ++i) {
    iov[i] = {staging.data() + size_t(i) * (kMaxMessage + 1), kMaxMessage + 1};
    msgs[i].msg_hdr = {};
    msgs[i].msg_hdr.msg_name = &addrs[i];
    msgs[i].msg_hdr.msg_iov = &iov[i];
    msgs[i].msg_hdr.msg_iovlen = 1;
    msgs[i].msg_hdr.msg_control = control[i];
  }
  // recvmmsg writes back the lengths of the entries it filled; the others keep theirs.
  int filled = kBatch;
  while (!stopping()) {
    for (int i = 0; i < filled; ++i) {
      msgs[i].msg_hdr.msg_namelen = sizeof addrs[i];
      msgs[i].msg_hdr.msg_controllen = sizeof control[i];
    }
    int n = ::recvmmsg(fd_, msgs, kBatch, MSG_DONTWAIT, nullptr);
    filled = std::max(n, 0);
    if (n <= 0) {
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        ::usleep(10000);  // ENOMEM and the like: do not spin
      }
      // Drained: what was gathered goes to a decoder that waits for it; a busy one gets it
      // when the block is full or the socket stays quiet for 10 ms.
      if (queue_->consumer_idle()) hand_over();
      pollfd p{fd_, POLLIN, 0};
      bool holding = block && !block->empty();
      if (::poll(&p, 1, holding ? 10 : 100) == 0) hand_over();
      continue;
    }
    int64_t now = wall_ns();
    for (int i = 0; i < n; ++i) {
      const msghdr& h = msgs[i].msg_hdr;
      for (cmsghdr* c = CMSG_FIRSTHDR(&h); c; c = CMSG_NXTHDR(const_cast<msghdr*>(&h), c)) {
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
          uint32_t drops;
          std::memcpy(&drops, CMSG_DATA(c), sizeof drops);
          stats_.kernel_drops = drops;  // the socket's total since it was opened
        }
      }
      size_t len = msgs[i].msg_len;
      if (len > kMaxMessage || (h.msg_flags & MSG_TRUNC)) {
        ++stats_.truncated;
        continue;
      }
      ++stats_.datagrams;
      stats_.bytes += len;
      std::span<const uint8_t> bytes(static_cast<const uint8_t*>(iov[i].iov_base), len);
      Origin from = origin_of(addrs[i], source_, false);
      if (block && block->append(from, now, bytes)) continue;
      hand_over();
      block = queue_->get_block();
      if (!block || !block->append(from, now, bytes)) ++stats_.queue_drops;
    }
    if (n < kBatch && queue_->consumer_idle()) hand_over();
  }
  hand_over();
  if (block) queue_->recycle(std::move(block));
}

class TcpReceiver final : public Receiver {
 public:
  using Receiver::Receiver;
  ~TcpReceiver() override {
    stop();  // before the connections the thread uses go
    for (Conn& c : conns_) ::close(c.fd);
  }

 private:
  static constexpr size_t kMaxConnections = 256;
  struct Conn {
    int fd;
    Origin from;
    std::vector<uint8_t> buf;
    size_t have = 0;
  };
  void run() override;
  // Hands complete messages of c to the queue; false when the stream cannot be IPFIX.
  bool cut(Conn& c);
  void emit(const Origin& from, std::span<const uint8_t> bytes);
  std::unique_ptr<PacketBlock> block_;
  std::vector<Conn> conns_;
};

void TcpReceiver::emit(const Origin& from, std::span<const uint8_t> bytes) {
  if (block_ && block_->append(from, wall_ns(), bytes)) return;
  if (block_) queue_->push(std::move(block_));
  // A stream waits for room: the exporter's TCP buffer holds the rest meanwhile.
  block_ = queue_->get_block_waiting();
  if (block_) block_->append(from, wall_ns(), bytes);
}

bool TcpReceiver::cut(Conn& c) {
  size_t off = 0;
  while (c.have - off >= 4) {
    uint16_t version = load_be16(c.buf.data() + off);
    uint16_t len = load_be16(c.buf.data() + off + 2);
    if (version != 10 || len < 16) return false;
    if (c.have - off < len) break;
    ++stats_.datagrams;
    stats_.bytes += len;
    emit(c.from, {c.buf.data() + off, len});
    off += len;
  }
  std::memmove(c.buf.data(), c.buf.data() + off, c.have - off);
  c.have -= off;
  return true;
}

void TcpReceiver::run() {
  std::vector<pollfd> fds;
  while (!stopping()) {
    fds.clear();
    fds.push_back({fd_, POLLIN, 0});
    for (const Conn& c : conns_) fds.push_back({c.fd, POLLIN, 0});
    int n = ::poll(fds.data(), fds.size(), 100);
    if (n <= 0) {
      if (block_ && !block_->empty()) queue_->push(std::move(block_));
      continue;
    }
    if (fds[0].revents & POLLIN) {
      sockaddr_storage a{};
      socklen_t alen = sizeof a;
      int fd = ::accept4(fd_, reinterpret_cast<sockaddr*>(&a), &alen, SOCK_CLOEXEC);
      if (fd >= 0 && conns_.size() >= kMaxConnections) {
        ::close(fd);  // counted as a bad stream: the exporter retries later
        ++stats_.bad_streams;
      } else if (fd >= 0) {
        ++stats_.connections;
        conns_.push_back({fd, origin_of(a, source_, true), std::vector<uint8_t>(kMaxMessage), 0});
      }
    }
    // Connections from the back, so that closing one does not move those not yet looked at.
    for (size_t i = fds.size() - 1; i >= 1; --i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      Conn& c = conns_[i - 1];
      ssize_t got = ::read(c.fd, c.buf.data() + c.have, c.buf.size() - c.have);
      if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      bool good = got > 0;
      if (good) {
        c.have += size_t(got);
        good = cut(c);
        if (!good) ++stats_.bad_streams;
      }
      if (!good) {
        Origin end = c.from;
        end.end = true;
        emit(end, {});
        ::close(c.fd);
        conns_.erase(conns_.begin() + ptrdiff_t(i - 1));
      }
    }
    if (block_ && !block_->empty() && queue_->consumer_idle()) queue_->push(std::move(block_));
  }
  if (block_ && !block_->empty()) queue_->push(std::move(block_));
  if (block_) queue_->recycle(std::move(block_));
}

}  // namespace

Receiver::~Receiver() {
  stop();
  ::close(fd_);
}

void Receiver::start(PacketQueue& queue) {
  queue_ = &queue;
  thread_ = std::thread([this] { run(); });
}

void Receiver::stop() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Result<std::unique_ptr<Receiver>> open_receiver(const ListenAddress& where, uint16_t source,
                                                const ReceiverOptions& options) {
  auto fd =
      bind_socket(where, where.tcp ? SOCK_STREAM : SOCK_DGRAM, options.reuse_port && !where.tcp);
  if (!fd) return fd.status();
  std::string name = fmt::format("{} {}", where.tcp ? "tcp" : "udp", where.text);
  if (where.tcp) {
    if (::listen(*fd, 64) != 0) {
      Status st = Status::io_error(fmt::format("listen {}: {}", where.text, std::strerror(errno)));
      ::close(*fd);
      return st;
    }
    return std::unique_ptr<Receiver>(new TcpReceiver(*fd, source, name));
  }
  int on = 1;
  ::setsockopt(*fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  auto r = std::make_unique<UdpReceiver>(*fd, source, name);
  // SO_RCVBUFFORCE passes net.core.rmem_max with CAP_NET_ADMIN; without, SO_RCVBUF is capped.
  int want = options.rcvbuf, got = 0;
  socklen_t glen = sizeof got;
  if (::setsockopt(*fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof want) != 0)
    ::setsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof want);
  ::getsockopt(*fd, SOL_SOCKET, SO_RCVBUF, &got, &glen);
  // The kernel reports twice what it grants for data (the rest is its bookkeeping).
  if (got / 2 < want)
    r->warnings.push_back(fmt::format(
        "{}: the kernel capped the socket receive buffer at {} KiB (asked {} KiB); bursts wait "
        "in flowkit's queue instead, but to give the kernel room too raise the limit "
        "(sysctl -w net.core.rmem_max={}) or run with CAP_NET_ADMIN",
        name, got / 2 / 1024, want / 1024, want));
  return std::unique_ptr<Receiver>(std::move(r));
}

}  // namespace flowkit::collect
