// The filter language: every construct on hand-made records, and the error messages.
#include "query/filter.h"

#include <gtest/gtest.h>

#include "core/field_registry.h"

namespace flowkit::query {
namespace {

FlowRecord tcp_biflow() {
  FlowRecord r;
  r.ip_version = 4;
  r.protocol = 6;
  r.biflow = true;
  r.src_ip = IpAddress::v4(0x0a000105);  // 10.0.1.5
  r.dst_ip = IpAddress::v4(0xc0a80001);  // 192.168.0.1
  r.src_port = 40000;
  r.dst_port = 443;
  r.fwd.packets = 10;
  r.fwd.bytes = 1500;
  r.rev.packets = 8;
  r.rev.bytes = 9000;
  r.fwd.tcp_flags = 0x02 | 0x10;  // SA
  r.rev.tcp_flags = 0x12 | 0x01;  // SAF
  r.fwd.first = Timestamp::from_seconds(1000);
  r.fwd.last = Timestamp::from_seconds(1002);
  r.rev.first = Timestamp::from_seconds(1000);
  r.rev.last = Timestamp::from_seconds(1002);
  r.fwd.tos = 8;
  field_info(FieldId::kSrcAs).set(r, Direction::kForward, uint64_t(65001));
  r.fwd.ttl = 64;
  return r;
}

bool match(std::string_view filter, const FlowRecord& r) {
  auto f = Filter::parse(filter);
  EXPECT_TRUE(f.ok()) << filter << ": " << f.status().message();
  return f.ok() && f->matches(r);
}

TEST(Filter, NfdumpPrimitives) {
  FlowRecord r = tcp_biflow();
  EXPECT_TRUE(match("", r));
  EXPECT_TRUE(match("any", r));
  EXPECT_TRUE(match("proto tcp", r));
  EXPECT_TRUE(match("proto 6", r));
  EXPECT_FALSE(match("proto udp", r));
  EXPECT_TRUE(match("inet", r));
  EXPECT_FALSE(match("ipv6", r));
  EXPECT_TRUE(match("src ip 10.0.1.5", r));
  EXPECT_TRUE(match("host 192.168.0.1", r));
  EXPECT_FALSE(match("src host 192.168.0.1", r));
  EXPECT_TRUE(match("src net 10.0.0.0/16", r));
  EXPECT_TRUE(match("src net 10.0.0.0 255.255.0.0", r));
  EXPECT_FALSE(match("dst net 10.0.0.0/8", r));
  EXPECT_TRUE(match("net 192.168.0.0/24", r));
  EXPECT_TRUE(match("src and dst net 0.0.0.0/0", r));
  EXPECT_FALSE(match("src and dst net 10.0.0.0/8", r));
  EXPECT_TRUE(match("dst port 443", r));
  EXPECT_TRUE(match("port 40000", r));
  EXPECT_TRUE(match("dst port in [ 80 443 8080 ]", r));
  EXPECT_FALSE(match("src port in [80, 443]", r));
  EXPECT_TRUE(match("dst port > 400 and dst port < 500", r));
  EXPECT_TRUE(match("src port gt 1024", r));
  EXPECT_TRUE(match("packets 18", r));  // both directions
  EXPECT_TRUE(match("bytes > 10k", r));
  EXPECT_FALSE(match("bytes > 1M", r));
  EXPECT_TRUE(match("duration = 2000", r));  // milliseconds
  EXPECT_TRUE(match("pps = 9", r));
  EXPECT_TRUE(match("bps = 42000", r));
  EXPECT_TRUE(match("bpp > 583 and bpp < 584", r));
  EXPECT_TRUE(match("flags SA", r));
  EXPECT_TRUE(match("flags F", r));  // the responder's FIN counts
  EXPECT_FALSE(match("flags R", r));
  EXPECT_TRUE(match("tos 8", r));
  EXPECT_TRUE(match("src as 65001", r));
  EXPECT_TRUE(match("not proto udp and (dst port 443 or dst port 80)", r));
  EXPECT_TRUE(match("!proto udp && dst port 443 || proto udp", r));
  EXPECT_FALSE(match("not (proto tcp)", r));
}

TEST(Filter, IcmpDestinationPortIsTypeAndCode) {
  FlowRecord r;
  r.ip_version = 4;
  r.protocol = 1;
  r.fwd.icmp_type = 3;
  r.fwd.icmp_code = 1;
  EXPECT_TRUE(match("dst port 769", r));
  EXPECT_TRUE(match("icmp-type 3 and icmp-code 1", r));
  EXPECT_TRUE(match("src port 0", r));
}

TEST(Filter, RegistryFieldsByName) {
  FlowRecord r = tcp_biflow();
  EXPECT_TRUE(match("ttl = 64", r));
  EXPECT_TRUE(match("bytes_rev > 8000", r));
  EXPECT_TRUE(match("packets_rev in [7 8]", r));
  EXPECT_FALSE(match("packets_rev != 8", r));
  EXPECT_TRUE(match("src_ip 10.0.1.0/24", r));
  EXPECT_TRUE(match("dst_ip != 10.0.0.0/8", r));
}

TEST(Filter, ErrorsPointAtTheColumn) {
  auto f = Filter::parse("proto tcp and dst prot 443");
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("column 19: expected ip, host, net, port or as after "
                                      "src/dst, found 'prot'"),
            std::string::npos)
      << f.status().message();
  EXPECT_NE(f.status().message().find("\n                    ^"), std::string::npos)
      << f.status().message();
  auto g = Filter::parse("(proto tcp");
  ASSERT_FALSE(g.ok());
  EXPECT_NE(g.status().message().find("expected ')', found the end"), std::string::npos);
  auto h = Filter::parse("src net 10.0.0.0/40");
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("prefix length that fits"), std::string::npos);
  auto i = Filter::parse("bytes > lots");
  ASSERT_FALSE(i.ok());
  EXPECT_NE(i.status().message().find("expected a number, found 'lots'"), std::string::npos);
  auto j = Filter::parse("nosuchfield 3");
  ASSERT_FALSE(j.ok());
  EXPECT_NE(j.status().message().find("a filter keyword"), std::string::npos);
  auto k = Filter::parse("proto tcp dst port 80");
  ASSERT_FALSE(k.ok());
  EXPECT_NE(k.status().message().find("expected 'and', 'or' or the end"), std::string::npos);
  EXPECT_FALSE(Filter::parse("src_ip ~ \"(\"").ok());
  EXPECT_FALSE(Filter::parse("proto \"tcp").ok());
}

TEST(Filter, KeywordsFromTheRegistrysAliases) {
  FlowRecord r = tcp_biflow();
  field_info(FieldId::kInIf).set(r, Direction::kForward, uint64_t(3));
  field_info(FieldId::kOutIf).set(r, Direction::kForward, uint64_t(7));
  field_info(FieldId::kExporterIp).set(r, Direction::kForward, *IpAddress::parse("10.9.9.9"));
  field_info(FieldId::kNextHop).set(r, Direction::kForward, *IpAddress::parse("10.1.1.1"));
  r.fwd.src_mac = *MacAddress::parse("02:00:00:00:00:01");
  r.fwd.has_mac = true;
  EXPECT_TRUE(match("in packets 10", r));  // the initiator's direction
  EXPECT_TRUE(match("out packets 8", r));  // the responder's
  EXPECT_TRUE(match("in bytes 1500 and out bytes 9000", r));
  EXPECT_TRUE(match("in if 3", r));
  EXPECT_TRUE(match("out if 7", r));
  EXPECT_TRUE(match("if 7", r));  // either
  EXPECT_FALSE(match("in if 7", r));
  EXPECT_TRUE(match("router ip 10.9.9.9", r));
  EXPECT_TRUE(match("next ip 10.1.1.1", r));
  EXPECT_FALSE(match("next ip 10.1.1.2", r));
  EXPECT_TRUE(match("in src mac 02:00:00:00:00:01", r));
  EXPECT_TRUE(match("src mac 02:00:00:00:00:01", r));
  EXPECT_TRUE(match("src or dst port 443", r));
  EXPECT_FALSE(match("src and dst port 443", r));
  EXPECT_TRUE(match("ipv4 and not inet6", r));
  // Fields the record lacks fail every test, `!=` too.
  EXPECT_FALSE(match("vlan 0", r));
  EXPECT_FALSE(match("vlan != 5", r));
  EXPECT_FALSE(match("mpls label1 0", r));
  EXPECT_FALSE(match("tunip 0.0.0.0/0", r));
  EXPECT_FALSE(match("dst as 0", r));
  r.fwd.vlan_id = 42;
  r.fwd.vlan_depth = 1;
  EXPECT_TRUE(match("vlan 42", r));
}

TEST(Filter, StringsAndDerivedFields) {
  FlowRecord r = tcp_biflow();
  field_info(FieldId::kInterfaceName).set(r, Direction::kForward, std::string_view("eth0.100"));
  EXPECT_TRUE(match("interface_name = eth0.100", r));
  EXPECT_TRUE(match("interface_name contains \"0.1\"", r));
  EXPECT_TRUE(match("interface_name ~ \"^eth[0-9]\\.\"", r));
  EXPECT_FALSE(match("interface_name != \"eth0.100\"", r));
  EXPECT_TRUE(match("duration > 1999 and duration < 2001", r));  // nfdump's: milliseconds
  r.protocol = 1;
  r.fwd.icmp_type = 8;
  EXPECT_TRUE(match("icmp_type_code = 2048", r));  // a derived field, from whole records
}

// A block's rows through eval() give what matches() gives one record at a time, and may_match
// skips a block only when no row can match.
TEST(Filter, BlocksAgreeWithRecords) {
  std::vector<FlowRecord> rows;
  for (int i = 0; i < 300; ++i) {
    FlowRecord r = tcp_biflow();
    r.protocol = i % 3 == 0 ? 17 : 6;
    r.dst_port = uint16_t(i % 5 == 0 ? 53 : 443 + i);
    r.src_ip = IpAddress::v4(0x0a000000 + uint32_t(i));
    r.fwd.bytes = uint64_t(i) * 100;
    r.biflow = i % 2 == 0;
    if (!r.biflow) r.rev = DirectionRecord();
    rows.push_back(r);
  }
  store::Block b;
  for (const char* text : {"proto udp and dst port 53", "src net 10.0.0.0/25 or bytes > 20000",
                           "not (port 53 or flags R)", "packets > 15", "dst port in [443 444]"}) {
    auto f = Filter::parse(text);
    ASSERT_TRUE(f.ok()) << text;
    store::records_to_block(rows, f->columns(), b);
    std::vector<uint8_t> mask;
    f->eval(b, mask);
    for (size_t i = 0; i < rows.size(); ++i)
      EXPECT_EQ(mask[i] != 0, f->matches(rows[i])) << text << " row " << i;
  }
  store::BlockHeader h;
  store::ColumnDescriptor proto;
  proto.field = uint16_t(FieldId::kProtocol);
  proto.has_minmax = true;
  proto.min = proto.max = 6;
  h.columns.push_back(proto);
  EXPECT_FALSE(Filter::parse("proto udp")->may_match(h));
  EXPECT_TRUE(Filter::parse("proto tcp")->may_match(h));
  EXPECT_TRUE(Filter::parse("proto udp or proto tcp")->may_match(h));
  EXPECT_FALSE(Filter::parse("proto tcp and ttl 64")->may_match(h));  // no ttl column at all
}

TEST(Filter, MoreErrors) {
  auto expect = [](const char* text, const char* says) {
    auto f = Filter::parse(text);
    ASSERT_FALSE(f.ok()) << text;
    EXPECT_NE(f.status().message().find(says), std::string::npos)
        << text << ": " << f.status().message();
  };
  expect("port in 80", "expected '['");
  expect("port in [80", "a number or ']'");
  expect("flags SX2", "TCP flags from FSRPAUEC");
  expect("proto", "a protocol (tcp, udp, icmp or a number)");
  expect("src net 10.0.0.0 255.0", "a prefix length (/24) or a mask");
  expect("src ip nowhere", "an address");
  expect("interface_name 5", "=, !=, ~ or contains");
  expect("dns_resp_rr = 1", "a filter keyword");
  expect("bytes >", "expected a number, found the end");
  expect("a @ b", "unexpected '@'");
  expect((std::string(100, '(') + "any" + std::string(100, ')')).c_str(), "nested parentheses");
  EXPECT_TRUE(Filter::parse(std::string(60, '(') + "any" + std::string(60, ')')).ok());
}

}  // namespace
}  // namespace flowkit::query
