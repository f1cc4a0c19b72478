#include "capture/live_source.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "capture/capture_test_util.h"

namespace flowkit::capture {
namespace {

using test::contains;

// Opening a live interface needs root or CAP_NET_RAW; without them the tests that capture
// are skipped (the error message itself is tested where it can be).
#define SKIP_UNLESS_ROOT()                                                                     \
  do {                                                                                         \
    if (::geteuid() != 0) GTEST_SKIP() << "live capture needs root (or CAP_NET_RAW); skipped"; \
  } while (0)

// A UDP socket bound to 127.0.0.1 on a port the kernel picks.
struct UdpReceiver {
  int fd = -1;
  uint16_t port = 0;
  UdpReceiver() {
    fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port = ntohs(a.sin_port);
  }
  ~UdpReceiver() { ::close(fd); }
};

void send_udp(uint16_t port, const std::string& text) {
  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::sendto(fd, text.data(), text.size(), 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::close(fd);
}

Result<std::unique_ptr<LiveSource>> open_lo(const std::string& filter, int copies = 1) {
  LiveOptions o;
  o.interfaces.assign(size_t(copies), "lo");
  o.filter = filter;
  o.immediate = true;
  o.timeout_ms = 50;
  o.buffer_bytes = 2 << 20;
  return LiveSource::open(o);
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Reads until every payload was seen `copies` times (or 5 s passed); returns what was seen as
// "interface:payload".
std::multiset<std::string> capture_payloads(LiveSource& src, const std::vector<std::string>& want,
                                            size_t copies, int64_t sent_after) {
  std::multiset<std::string> seen;
  std::vector<RawPacket> batch(16);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (seen.size() < want.size() * copies && std::chrono::steady_clock::now() < deadline) {
    const size_t n = src.read_batch(batch);
    for (size_t i = 0; i < n; ++i) {
      const RawPacket& p = batch[i];
      const std::string data(reinterpret_cast<const char*>(p.data), p.caplen);
      EXPECT_EQ(p.linktype, kLinkEthernet);  // Linux loopback
      EXPECT_EQ(p.caplen, p.wirelen);
      EXPECT_GE(p.ts.ns, sent_after - 1'000'000'000);
      EXPECT_LE(p.ts.ns, now_ns() + 1'000'000'000);
      for (const std::string& w : want) {
        if (contains(data, w)) seen.insert(std::to_string(p.interface) + ":" + w);
      }
    }
  }
  return seen;
}

TEST(LiveSource, CapturesUdpOnLoopbackWithAFilter) {
  SKIP_UNLESS_ROOT();
  UdpReceiver rx;
  auto src = open_lo("udp port " + std::to_string(rx.port));
  ASSERT_TRUE(src.ok()) << src.status().message();
  ASSERT_EQ((*src)->interfaces().size(), 1u);
  EXPECT_EQ((*src)->interfaces()[0].name, "lo");
  EXPECT_FALSE((*src)->finished());
  const std::vector<std::string> payloads = {"flowkit-live-0", "flowkit-live-1", "flowkit-live-2"};
  const int64_t before = now_ns();
  // Traffic the filter must drop.
  UdpReceiver other;
  send_udp(other.port, "flowkit-live-other");
  for (const std::string& p : payloads) send_udp(rx.port, p);
  const std::multiset<std::string> seen = capture_payloads(**src, payloads, 1, before);
  EXPECT_EQ(seen, (std::multiset<std::string>{"0:flowkit-live-0", "0:flowkit-live-1",
                                              "0:flowkit-live-2"}));
  const SourceStats s = (*src)->stats();
  EXPECT_EQ(s.packets, 3u);
  EXPECT_GT(s.bytes_read, 0u);
  EXPECT_EQ(s.bytes_total, 0u);
  EXPECT_EQ(s.kernel_drops, 0u);
}

TEST(LiveSource, SeveralInterfacesAreMultiplexed) {
  SKIP_UNLESS_ROOT();
  UdpReceiver rx;
  auto src = open_lo("udp port " + std::to_string(rx.port), 2);
  ASSERT_TRUE(src.ok()) << src.status().message();
  ASSERT_EQ((*src)->interfaces().size(), 2u);
  const int64_t before = now_ns();
  send_udp(rx.port, "flowkit-mux-a");
  send_udp(rx.port, "flowkit-mux-b");
  const std::multiset<std::string> seen =
      capture_payloads(**src, {"flowkit-mux-a", "flowkit-mux-b"}, 2, before);
  EXPECT_EQ(seen, (std::multiset<std::string>{"0:flowkit-mux-a", "0:flowkit-mux-b",
                                              "1:flowkit-mux-a", "1:flowkit-mux-b"}));
}

TEST(LiveSource, ReturnsWithinTheTimeoutAndStops) {
  SKIP_UNLESS_ROOT();
  UdpReceiver rx;  // nobody sends to it
  auto src = open_lo("udp port " + std::to_string(rx.port));
  ASSERT_TRUE(src.ok()) << src.status().message();
  std::vector<RawPacket> batch(8);
  const auto start = std::chrono::steady_clock::now();
  EXPECT_EQ((*src)->read_batch(batch), 0u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
  EXPECT_FALSE((*src)->finished());
  (*src)->stop();
  for (int i = 0; i < 10 && !(*src)->finished(); ++i) (*src)->read_batch(batch);
  EXPECT_TRUE((*src)->finished());
  EXPECT_EQ((*src)->read_batch(batch), 0u);
}

LiveSource* g_source = nullptr;
extern "C" void on_signal(int) {
  g_source->stop();
}

TEST(LiveSource, StopFromASignalHandler) {
  SKIP_UNLESS_ROOT();
  UdpReceiver rx;
  auto src = open_lo("udp port " + std::to_string(rx.port));
  ASSERT_TRUE(src.ok()) << src.status().message();
  g_source = src->get();
  struct sigaction sa {
  }, old{};
  sa.sa_handler = on_signal;
  ::sigaction(SIGUSR1, &sa, &old);
  send_udp(rx.port, "flowkit-before-stop");
  ::raise(SIGUSR1);
  std::vector<RawPacket> batch(8);
  size_t got = 0;
  for (int i = 0; i < 10 && !(*src)->finished(); ++i) got += (*src)->read_batch(batch);
  ::sigaction(SIGUSR1, &old, nullptr);
  g_source = nullptr;
  EXPECT_TRUE((*src)->finished());
  EXPECT_LE(got, 1u);
}

TEST(LiveSource, BadFilterIsAStatusWithLibpcapsMessage) {
  SKIP_UNLESS_ROOT();
  auto src = open_lo("udp port ((");
  ASSERT_FALSE(src.ok());
  EXPECT_TRUE(contains(src.status().message(), "invalid capture filter 'udp port (('"))
      << src.status().message();
  EXPECT_TRUE(contains(src.status().message(), "syntax error")) << src.status().message();
}

TEST(LiveSource, NoSuchDeviceListsTheDevices) {
  SKIP_UNLESS_ROOT();
  LiveOptions o;
  o.interfaces = {"flowkit-nonexistent0"};
  auto src = LiveSource::open(o);
  ASSERT_FALSE(src.ok());
  const std::string& msg = src.status().message();
  EXPECT_TRUE(contains(msg, "no capture device 'flowkit-nonexistent0'")) << msg;
  EXPECT_TRUE(contains(msg, "devices here:")) << msg;
  EXPECT_TRUE(contains(msg, "lo")) << msg;
}

TEST(LiveSource, PermissionDeniedSuggestsRootOrSetcap) {
  SKIP_UNLESS_ROOT();
  // A child that gives up root (and with it every capability) tries to capture.
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(fds[0]);
    std::string msg = "setuid failed";
    if (::setgid(65534) == 0 && ::setuid(65534) == 0) {
      LiveOptions o;
      o.interfaces = {"lo"};
      auto src = LiveSource::open(o);
      msg = src.ok() ? "opened" : src.status().message();
    }
    (void)!::write(fds[1], msg.data(), msg.size());
    ::_exit(0);
  }
  ::close(fds[1]);
  std::string msg;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;) msg.append(buf, size_t(n));
  ::close(fds[0]);
  ::waitpid(pid, nullptr, 0);
  EXPECT_TRUE(contains(msg, "permission denied")) << msg;
  EXPECT_TRUE(contains(msg, "run as root")) << msg;
  EXPECT_TRUE(contains(msg, "setcap cap_net_raw")) << msg;
}

// An interface that exists but is not up (IFF_UP clear in /sys/class/net/NAME/flags).
std::string down_interface() {
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator("/sys/class/net", ec)) {
    std::ifstream f(e.path() / "flags");
    unsigned long flags = 0;
    if (f >> std::hex >> flags && !(flags & 1)) return e.path().filename().string();
  }
  return "";
}

TEST(LiveSource, InterfaceDownSaysBringItUp) {
  SKIP_UNLESS_ROOT();
  const std::string name = down_interface();
  if (name.empty()) GTEST_SKIP() << "no interface that is down on this machine";
  LiveOptions o;
  o.interfaces = {name};
  auto src = LiveSource::open(o);
  ASSERT_FALSE(src.ok());
  EXPECT_TRUE(contains(src.status().message(), "ip link set " + name + " up"))
      << src.status().message();
}

TEST(LiveSource, NoInterfaceGiven) {
  auto src = LiveSource::open(LiveOptions{});
  ASSERT_FALSE(src.ok());
  EXPECT_TRUE(contains(src.status().message(), "name one with -i")) << src.status().message();
}

}  // namespace
}  // namespace flowkit::capture
