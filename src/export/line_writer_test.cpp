#include "export/line_writer.h"

#include <gtest/gtest.h>

#include <sstream>
#include <vector>

namespace flowkit::exporter {
namespace {

FlowRecord flow(const char* src, uint16_t sport, const char* dst, uint16_t dport) {
  FlowRecord r;
  r.src_ip = *IpAddress::parse(src);
  r.dst_ip = *IpAddress::parse(dst);
  r.ip_version = r.src_ip.is_v4() ? 4 : 6;
  r.protocol = 6;
  r.src_port = sport;
  r.dst_port = dport;
  r.biflow = true;
  r.fwd.packets = 10;
  r.fwd.bytes = 1000;
  r.fwd.first = Timestamp::from_seconds(1700000000);
  r.fwd.last = Timestamp::from_seconds(1700000001);
  return r;
}

std::vector<std::string> lines_of(std::span<const FlowRecord> flows) {
  std::string text;
  auto out = TextOutput::to_string(&text);
  LineWriter w(*out);
  w.write(flows);
  EXPECT_TRUE(w.flush().ok());
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  return lines;
}

// nfdump's layout: `addr:port` for IPv4, `addr.port` for IPv6, IPv6 addresses condensed to 16
// characters (first 7 .. last 7) so that every row keeps the same columns.
TEST(LineWriter, Ipv6RowsKeepTheColumnsWithNfdumpsPortSeparator) {
  FlowRecord flows[] = {flow("192.168.1.7", 51543, "10.0.0.1", 443),
                        flow("2001:620:1000:cafe:20e:35ff:fec0:fed5", 10037, "2001:db8::2", 443),
                        flow("::1", 5, "fe80::1", 65535)};
  auto lines = lines_of(flows);
  ASSERT_EQ(lines.size(), 5u);  // header, 3 flows, summary
  EXPECT_NE(lines[1].find("     192.168.1.7:51543 <->         10.0.0.1:443  "), std::string::npos)
      << lines[1];
  EXPECT_NE(lines[2].find("2001:62..c0:fed5.10037 <->      2001:db8::2.443  "), std::string::npos)
      << lines[2];
  EXPECT_NE(lines[3].find("             ::1.5     <->          fe80::1.65535"), std::string::npos)
      << lines[3];
  EXPECT_EQ(lines[1].size(), lines[2].size());
  EXPECT_EQ(lines[1].size(), lines[3].size());
  EXPECT_EQ(lines[1].find("<->"), lines[2].find("<->"));
}

}  // namespace
}  // namespace flowkit::exporter
