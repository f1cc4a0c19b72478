#include "capture/libpcap_file_reader.h"

#include <pcap/pcap.h>

#include "capture/capture_test_util.h"
#include "capture/pcap_file_reader.h"

namespace flowkit::capture {
namespace {

using namespace test;

TEST(LibpcapFileReader, ReadsLikeOurReader) {
  SKIP_WITHOUT_PCAPS();
  for (const char* rel : {"dpkt-1.9.8/http.pcap", "npm-pcap-parser-0.2.1/be.pcap",
                          "wireshark-4.0.17/dhcp-nanosecond.pcapng", "ndpi-4.2/pinterest.pcap"}) {
    SCOPED_TRACE(rel);
    const std::string path = pcap_path(rel);
    auto lib = LibpcapFileReader::open(path);
    ASSERT_TRUE(lib.ok()) << lib.status().message();
    EXPECT_FALSE((*lib)->stable_data());
    const ReadAll theirs = read_all(**lib, 33);
    const ReadAll ours = read_all(*PcapFileReader::open(path).value());
    EXPECT_EQ(theirs.packets, ours.packets);
    EXPECT_TRUE(theirs.warnings.empty());
    ASSERT_EQ(theirs.interfaces.size(), 1u);
    EXPECT_EQ(theirs.interfaces[0].name, path);
    EXPECT_EQ(theirs.stats.packets, ours.packets.size());
    EXPECT_EQ(theirs.stats.bytes_total, ours.stats.bytes_total);
    EXPECT_EQ(theirs.stats.bytes_read, theirs.stats.bytes_total);
    EXPECT_TRUE((*lib)->finished());
  }
}

TEST(LibpcapFileReader, LinkTypesAreLinktypeValues) {
  EXPECT_EQ(linktype_from_dlt(DLT_EN10MB), kLinkEthernet);
  EXPECT_EQ(linktype_from_dlt(DLT_RAW), kLinkRaw);
  EXPECT_EQ(linktype_from_dlt(DLT_LINUX_SLL), kLinkLinuxSll);
  if (!have_pcaps()) return;
  // A raw-IP capture: libpcap says DLT_RAW (12 on Linux), the file says LINKTYPE_RAW (101).
  for (const char* rel : {"tcpdump-4.99.3/babel_rtt.pcap", "dpkt-1.9.8/http.pcap"}) {
    auto lib = LibpcapFileReader::open(pcap_path(rel));
    ASSERT_TRUE(lib.ok());
    auto ours = PcapFileReader::open(pcap_path(rel));
    EXPECT_EQ((*lib)->interfaces()[0].linktype, (*ours)->interfaces()[0].linktype) << rel;
  }
}

TEST(LibpcapFileReader, TruncatedFileWarns) {
  SKIP_WITHOUT_PCAPS();
  std::vector<uint8_t> bytes = read_file(pcap_path("dpkt-1.9.8/http.pcap"));
  bytes.resize(bytes.size() - 10);
  TempDir dir;
  write_file(dir.file("cut.pcap"), bytes);
  auto lib = LibpcapFileReader::open(dir.file("cut.pcap"));
  ASSERT_TRUE(lib.ok());
  const ReadAll r = read_all(**lib);
  EXPECT_EQ(r.packets.size(), 42u);
  EXPECT_EQ(r.stats.bad_records, 1u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("cut.pcap"), std::string::npos);
}

TEST(LibpcapFileReader, Errors) {
  SKIP_WITHOUT_PCAPS();
  auto gz = LibpcapFileReader::open(pcap_path("wireshark-4.0.17/dns+icmp.pcapng.gz"));
  ASSERT_FALSE(gz.ok());
  EXPECT_NE(gz.status().message().find("gunzip"), std::string::npos) << gz.status().message();
  auto missing = LibpcapFileReader::open("/nonexistent.pcap");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent.pcap"), std::string::npos);
}

}  // namespace
}  // namespace flowkit::capture
