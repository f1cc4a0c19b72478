#include "export/export_target.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <thread>

namespace flowkit::exporter {
namespace {

TEST(ExportUrl, SchemesPortsAndAddresses) {
  auto a = parse_export_url("ipfix://127.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->port, 4739);
  EXPECT_EQ(a->transport, ExportTarget::Transport::kUdp);
  EXPECT_EQ(a->format, ipfix::Format::kIpfix);
  auto b = parse_export_url("ipfix+tcp://[::1]:9995");
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->ipv6);
  EXPECT_EQ(b->host, "::1");
  EXPECT_EQ(b->port, 9995);
  EXPECT_EQ(b->transport, ExportTarget::Transport::kTcp);
  auto c = parse_export_url("netflow5://localhost:2055");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->format, ipfix::Format::kNetflow5);
  auto d = parse_export_url("file:/tmp/x.ipfix");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->path, "/tmp/x.ipfix");
  for (const char* bad : {"ipfix:/x", "sflow://1.2.3.4", "ipfix://1.2.3.4:70000", "ipfix://[::1",
                          "ipfix://:4739", "file:"}) {
    auto r = parse_export_url(bad);
    EXPECT_FALSE(r.ok()) << bad;
    if (!r.ok()) {
      EXPECT_NE(r.status().message().find("use ipfix://"), std::string::npos) << bad;
    }
  }
}

int listen_on(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd, 4) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

uint16_t port_of(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return ntohs(a.sin_port);
}

TEST(TcpTransport, ReconnectsWithANewSessionAfterTheCollectorWentAway) {
  int server = listen_on(0);
  ASSERT_GE(server, 0);
  uint16_t port = port_of(server);
  auto target = parse_export_url("ipfix+tcp://127.0.0.1:" + std::to_string(port));
  ASSERT_TRUE(target.ok());
  auto t = open_transport(*target);
  ASSERT_TRUE(t.ok());
  Transport& tcp = **t;
  ASSERT_TRUE(tcp.connected());
  EXPECT_TRUE(tcp.new_session());
  EXPECT_FALSE(tcp.new_session());
  int conn = ::accept(server, nullptr, nullptr);
  ASSERT_GE(conn, 0);
  std::vector<uint8_t> msg(100, 7);
  EXPECT_TRUE(tcp.send(msg));
  uint8_t buf[200];
  EXPECT_EQ(::recv(conn, buf, msg.size(), MSG_WAITALL), 100);
  // The collector goes away: sends fail (the first may still be buffered), then are dropped.
  ::close(conn);
  ::close(server);
  bool failed = false;
  for (int i = 0; i < 10 && !failed; ++i) {
    failed = !tcp.send(msg);
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(failed);
  EXPECT_FALSE(tcp.connected());  // backing off
  EXPECT_GE(tcp.stats().dropped, 1u);
  // It comes back on the same port: after the back-off, a new session.
  server = listen_on(port);
  ASSERT_GE(server, 0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ASSERT_TRUE(tcp.connected());
  EXPECT_TRUE(tcp.new_session());
  EXPECT_EQ(tcp.stats().reconnects, 1u);
  conn = ::accept(server, nullptr, nullptr);
  EXPECT_TRUE(tcp.send(msg));
  EXPECT_EQ(::recv(conn, buf, msg.size(), MSG_WAITALL), 100);
  ::close(conn);
  ::close(server);
}

TEST(UdpTransport, NoCollectorIsCountedNotFatal) {
  int probe = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
  uint16_t port = port_of(probe);
  ::close(probe);  // nobody listens there now
  auto target = parse_export_url("netflow9://127.0.0.1:" + std::to_string(port));
  auto t = open_transport(*target);
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> msg(64, 1);
  for (int i = 0; i < 5; ++i) {
    EXPECT_TRUE((*t)->send(msg));
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_GE((*t)->stats().send_errors + (*t)->stats().messages, 5u);
}

TEST(FileTransport, AFullDiskIsAClearError) {
  auto target = parse_export_url("file:/dev/full");
  auto t = open_transport(*target);
  ASSERT_TRUE(t.ok());
  std::vector<uint8_t> msg(64, 1);
  EXPECT_FALSE((*t)->send(msg));
  EXPECT_FALSE((*t)->send(msg));
  Status s = (*t)->close();
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("disk is full"), std::string::npos) << s.message();
  EXPECT_EQ((*t)->stats().dropped, 2u);
}

}  // namespace
}  // namespace flowkit::exporter
