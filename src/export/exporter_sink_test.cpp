// Every field IPFIX carries arrives over each transport the exporter speaks (a file, UDP, TCP):
// the records a collector socket receives decode to the same records as the file's, and those
// are the records sent (times to the millisecond, the default precision).
#include "export/exporter_sink.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <thread>

#include "core/testing/every_field.h"
#include "ipfix/decoder.h"

namespace flowkit::exporter {
namespace {

// A loopback socket of `type` on a free port.
int bound_socket(int type, uint16_t* port) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  if (type == SOCK_STREAM) {
    EXPECT_EQ(::listen(fd, 1), 0);
  }
  if (type == SOCK_DGRAM) {
    int size = 8 << 20;  // every datagram of the test fits, read or not
    ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
  }
  return fd;
}

// Reads from fd until it has been quiet for half a second (UDP: datagrams; TCP: the stream).
std::vector<uint8_t> drain(int fd) {
  std::vector<uint8_t> bytes;
  uint8_t buf[65536];
  for (;;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 500) <= 0) return bytes;
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) return bytes;
    bytes.insert(bytes.end(), buf, buf + n);
  }
}

// Decodes a sequence of IPFIX messages (each says its length).
std::vector<FlowRecord> decode_all(std::span<const uint8_t> bytes, Arena& arena) {
  ipfix::Decoder decoder;
  std::vector<FlowRecord> out;
  for (size_t off = 0; off + 4 <= bytes.size();) {
    size_t len = size_t(bytes[off + 2]) << 8 | bytes[off + 3];
    if (len < 16 || off + len > bytes.size()) {
      ADD_FAILURE() << "a cut message at byte " << off;
      break;
    }
    EXPECT_TRUE(decoder.decode(bytes.subspan(off, len), out, arena).ok());
    off += len;
  }
  return out;
}

// Sends the flows to `url` with default settings.
void send(const std::string& url, std::span<const FlowRecord> flows) {
  auto target = parse_export_url(url);
  ASSERT_TRUE(target.ok()) << url;
  Timestamp start = flows.front().first();
  ExporterSink::Clock clock{[=] { return start; }, [=] { return start; }};
  auto sink = ExporterSink::open(*target, ExporterSettings{}, clock, nullptr);
  ASSERT_TRUE(sink.ok()) << url;
  (*sink)->write(flows);
  EXPECT_TRUE((*sink)->flush().ok()) << url;
  EXPECT_EQ((*sink)->lost_messages(), 0u) << url << ": " << (*sink)->loss_reason();
}

// Every field IPFIX carries, equal; times to the millisecond.
void expect_carried(const FlowRecord& want, const FlowRecord& got, const char* how) {
  for (const Column& c : all_columns()) {
    const FieldInfo& f = *c.field;
    bool carried =
        f.ipfix.id != kNoElement || f.id == FieldId::kIcmpType || f.id == FieldId::kIcmpCode;
    // The decoder names the observation domain of every record it reads.
    if (f.derived || !carried || f.id == FieldId::kObservationDomain) continue;
    bool present = field_present(f, want, c.dir);
    ASSERT_EQ(field_present(f, got, c.dir), present) << how << " " << f.name;
    if (!present) continue;
    FieldValue a = f.get(want, c.dir), b = f.get(got, c.dir);
    if (f.type == FieldType::kTime)
      a = Timestamp{std::get<Timestamp>(a).ns / 1'000'000 * 1'000'000};
    EXPECT_EQ(a, b) << how << " " << f.name << (c.dir == Direction::kReverse ? "_rev" : "");
  }
}

TEST(ExporterSink, EveryFieldArrivesOverFileUdpAndTcp) {
  std::vector<FlowRecord> flows = flowkit::testing::every_field_records();
  // Enough records for several messages, so that later messages (without templates) count too.
  std::vector<FlowRecord> many;
  for (int i = 0; i < 40; ++i) many.insert(many.end(), flows.begin(), flows.end());

  char path[] = "/tmp/flowkit_exportXXXXXX";
  int tmp = ::mkstemp(path);
  ASSERT_GE(tmp, 0);
  ::close(tmp);
  send(std::string("file:") + path, many);
  std::ifstream in(path, std::ios::binary);
  std::vector<uint8_t> file_bytes{std::istreambuf_iterator<char>(in), {}};
  ::unlink(path);

  uint16_t udp_port, tcp_port;
  int udp = bound_socket(SOCK_DGRAM, &udp_port);
  int listener = bound_socket(SOCK_STREAM, &tcp_port);
  std::vector<uint8_t> tcp_bytes;
  std::thread tcp_reader([&] {
    int conn = ::accept(listener, nullptr, nullptr);
    tcp_bytes = drain(conn);
    ::close(conn);
  });
  send("ipfix://127.0.0.1:" + std::to_string(udp_port), many);
  send("ipfix+tcp://127.0.0.1:" + std::to_string(tcp_port), many);
  std::vector<uint8_t> udp_bytes = drain(udp);
  tcp_reader.join();
  ::close(udp);
  ::close(listener);

  Arena arena;
  std::vector<FlowRecord> from_file = decode_all(file_bytes, arena);
  std::vector<FlowRecord> from_udp = decode_all(udp_bytes, arena);
  std::vector<FlowRecord> from_tcp = decode_all(tcp_bytes, arena);
  ASSERT_EQ(from_file.size(), many.size());
  ASSERT_EQ(from_udp.size(), many.size());
  ASSERT_EQ(from_tcp.size(), many.size());
  for (size_t i = 0; i < many.size(); ++i) {
    expect_carried(many[i], from_file[i], "file");
    expect_carried(many[i], from_udp[i], "udp");
    expect_carried(many[i], from_tcp[i], "tcp");
  }
}

}  // namespace
}  // namespace flowkit::exporter
