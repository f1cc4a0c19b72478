#include "export/export_target.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/ip.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "core/fd_io.h"
#include "core/host_port.h"

namespace flowkit::exporter {

namespace {

std::string errno_text() {
  return std::strerror(errno);
}

// Sends datagrams to one collector. Sockets are connected, so a collector that is not (yet)
// listening shows up as ECONNREFUSED on a later send: counted, and the next message goes anyway.
class UdpTransport final : public Transport {
 public:
  explicit UdpTransport(int fd) : fd_(fd) {}
  ~UdpTransport() override { ::close(fd_); }
  bool send(std::span<const uint8_t> m) override {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (::send(fd_, m.data(), m.size(), 0) >= 0) {
        ++stats_.messages;
        stats_.bytes += m.size();
        return true;
      }
      if (errno != ECONNREFUSED) break;  // a refusal reported for an earlier datagram
      refused();
    }
    ++stats_.send_errors;
    stats_.last_error = errno_text();
    return true;
  }
  // The collector's host may have refused the last datagrams (ICMP port unreachable) after
  // the last send: ask the socket, so that a run whose every datagram went nowhere says so.
  Status close() override {
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == ECONNREFUSED) {
      errno = err;
      refused();
    }
    return {};
  }
  const TransportStats& stats() const override { return stats_; }

 private:
  void refused() {
    ++stats_.send_errors;
    stats_.last_error = errno_text() + " (nothing listens on the collector's port)";
  }
  int fd_;
  TransportStats stats_;
};

// A stream to one collector with reconnection: after a failure, connection attempts back off
// from 1 s to 60 s; messages sent meanwhile are dropped and counted.
class TcpTransport final : public Transport {
 public:
  explicit TcpTransport(const ExportTarget& t) : target_(t) {}
  ~TcpTransport() override { disconnect(); }

  bool connected() override {
    if (fd_ >= 0) return true;
    auto now = std::chrono::steady_clock::now();
    if (now < next_attempt_) return false;
    int fd = ::socket(target_.addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
      stats_.last_error = errno_text();
      return schedule_retry();
    }
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&target_.addr), target_.addr_len) != 0) {
      stats_.last_error = errno_text();
      ::close(fd);
      return schedule_retry();
    }
    fd_ = fd;
    backoff_ = std::chrono::seconds(1);
    if (sessions_++ > 0) ++stats_.reconnects;
    fresh_ = true;
    return true;
  }
  bool new_session() override {
    bool f = fresh_;
    fresh_ = false;
    return f;
  }
  bool send(std::span<const uint8_t> m) override {
    if (!connected()) {
      ++stats_.dropped;
      return false;
    }
    if (int err = write_fully(fd_, m, true)) {
      stats_.last_error = std::strerror(err);
      disconnect();
      schedule_retry();
      ++stats_.dropped;
      return false;
    }
    ++stats_.messages;
    stats_.bytes += m.size();
    return true;
  }
  Status close() override {
    disconnect();
    return {};
  }
  const TransportStats& stats() const override { return stats_; }

 private:
  bool schedule_retry() {
    next_attempt_ = std::chrono::steady_clock::now() + backoff_;
    backoff_ = std::min(backoff_ * 2, std::chrono::seconds(60));
    return false;
  }
  void disconnect() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  ExportTarget target_;
  int fd_ = -1;
  bool fresh_ = false;
  uint64_t sessions_ = 0;
  std::chrono::steady_clock::time_point next_attempt_{};
  std::chrono::seconds backoff_{1};
  TransportStats stats_;
};

// An IPFIX file (RFC 5655): the messages one after the other. The first write error (a full
// disk) is kept and reported by close(); later messages are counted as dropped.
class FileTransport final : public Transport {
 public:
  FileTransport(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~FileTransport() override { close(); }
  bool send(std::span<const uint8_t> m) override {
    if (!error_.ok() || fd_ < 0) {
      ++stats_.dropped;
      return false;
    }
    if (int err = write_fully(fd_, m)) {
      error_ = Status::io_error("writing " + path_ + ": " + std::strerror(err) +
                                (err == ENOSPC ? " (the disk is full)" : ""));
      stats_.last_error = error_.message();
      ++stats_.dropped;
      return false;
    }
    ++stats_.messages;
    stats_.bytes += m.size();
    return true;
  }
  Status close() override {
    if (fd_ >= 0 && ::close(fd_) != 0 && error_.ok())
      error_ = Status::io_error("closing " + path_ + ": " + errno_text());
    fd_ = -1;
    return error_;
  }
  const TransportStats& stats() const override { return stats_; }

 private:
  int fd_;
  std::string path_;
  Status error_;
  TransportStats stats_;
};

}  // namespace

Result<ExportTarget> parse_export_url(std::string_view url) {
  ExportTarget t;
  t.url = std::string(url);
  auto usage = [&](std::string_view why) {
    return Status::invalid_argument(
        "--export " + std::string(url) + ": " + std::string(why) +
        "; use ipfix://HOST:PORT, ipfix+tcp://HOST:PORT, netflow9://HOST:PORT, "
        "netflow5://HOST:PORT or file:PATH.ipfix");
  };
  if (url.substr(0, 5) == "file:") {
    t.transport = ExportTarget::Transport::kFile;
    t.path = std::string(url.substr(5));
    if (t.path.substr(0, 2) == "//") t.path = t.path.substr(2);
    if (t.path.empty()) return usage("no file name");
    return t;
  }
  size_t sep = url.find("://");
  if (sep == std::string_view::npos) return usage("no scheme");
  std::string_view scheme = url.substr(0, sep), rest = url.substr(sep + 3);
  uint16_t default_port = 2055;
  if (scheme == "ipfix" || scheme == "ipfix+udp") {
    t.format = ipfix::Format::kIpfix;
    default_port = 4739;
  } else if (scheme == "ipfix+tcp") {
    t.format = ipfix::Format::kIpfix;
    t.transport = ExportTarget::Transport::kTcp;
    default_port = 4739;
  } else if (scheme == "netflow9" || scheme == "nf9") {
    t.format = ipfix::Format::kNetflow9;
  } else if (scheme == "netflow5" || scheme == "nf5") {
    t.format = ipfix::Format::kNetflow5;
  } else {
    return usage("unknown scheme '" + std::string(scheme) + "'");
  }
  auto hp = split_host_port(rest);
  if (!hp) return usage(hp.status().message());
  std::string host = hp->host;
  t.port = default_port;
  if (!hp->port.empty()) {
    auto port = parse_port(hp->port);
    if (!port) return usage(port.status().message());
    t.port = *port;
  }
  if (host.empty()) return usage("no host");
  addrinfo hints{};
  hints.ai_socktype = t.transport == ExportTarget::Transport::kTcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* res = nullptr;
  int rc = ::getaddrinfo(host.c_str(), std::to_string(t.port).c_str(), &hints, &res);
  if (rc != 0 || !res) return usage("cannot resolve '" + host + "': " + gai_strerror(rc));
  std::memcpy(&t.addr, res->ai_addr, res->ai_addrlen);
  t.addr_len = res->ai_addrlen;
  t.ipv6 = res->ai_family == AF_INET6;
  char buf[INET6_ADDRSTRLEN] = {};
  if (t.ipv6)
    ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&t.addr)->sin6_addr, buf, sizeof buf);
  else
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&t.addr)->sin_addr, buf, sizeof buf);
  t.host = buf;
  ::freeaddrinfo(res);
  return t;
}

Result<std::unique_ptr<Transport>> open_transport(const ExportTarget& t) {
  switch (t.transport) {
    case ExportTarget::Transport::kFile: {
      int fd = ::open(t.path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (fd < 0) return Status::io_error("cannot create " + t.path + ": " + errno_text());
      return std::unique_ptr<Transport>(new FileTransport(fd, t.path));
    }
    case ExportTarget::Transport::kTcp:
      return std::unique_ptr<Transport>(new TcpTransport(t));
    case ExportTarget::Transport::kUdp: {
      int fd = ::socket(t.addr.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      if (fd < 0) return Status::io_error("cannot open a UDP socket: " + errno_text());
      // Never let the kernel fragment an export: messages are sized to the MTU instead.
      int pmtu = IP_PMTUDISC_DO;
      if (t.ipv6) {
        int on = 1;
        ::setsockopt(fd, IPPROTO_IPV6, IPV6_DONTFRAG, &on, sizeof on);
      } else {
        ::setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof pmtu);
      }
      int buf = 4 << 20;
      ::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof buf);
      if (::connect(fd, reinterpret_cast<const sockaddr*>(&t.addr), t.addr_len) != 0) {
        std::string why = errno_text();
        ::close(fd);
        return Status::unavailable("cannot reach " + t.url + ": " + why);
      }
      return std::unique_ptr<Transport>(new UdpTransport(fd));
    }
  }
  return Status::error("unknown transport");
}

}  // namespace flowkit::exporter
