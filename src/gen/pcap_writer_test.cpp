#include "gen/pcap_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <iterator>

#include "gen/test_util.h"

namespace flowkit::gen {
namespace {

using testing::file_bytes;
using testing::temp_path;

TEST(PcapWriter, WritesMicrosecondHeaderAndRecords) {
  std::string path = temp_path("us.pcap");
  auto w = PcapWriter::open(path);
  ASSERT_TRUE(w.ok()) << w.status().message();
  const uint8_t pkt[] = {1, 2, 3, 4, 5};
  (*w)->write(Timestamp{1'700'000'000'123'456'789}, pkt);
  ASSERT_TRUE((*w)->finish().ok());
  EXPECT_EQ((*w)->packets(), 1u);
  auto b = file_bytes(path);
  ASSERT_EQ(b.size(), 24u + 16u + 5u);
  EXPECT_EQ(testing::be32(b.data()), 0xd4c3b2a1u);  // a1b2c3d4 little-endian
  uint32_t linktype, usec, caplen;
  std::memcpy(&linktype, &b[20], 4);
  std::memcpy(&usec, &b[28], 4);
  std::memcpy(&caplen, &b[32], 4);
  EXPECT_EQ(linktype, 1u);
  EXPECT_EQ(usec, 123456u);
  EXPECT_EQ(caplen, 5u);
  std::remove(path.c_str());
}

TEST(PcapWriter, NanosecondFilesReadBackWithLibpcap) {
  for (bool background : {false, true}) {
    std::string path = temp_path("ns.pcap");
    PcapWriterOptions o;
    o.nanoseconds = true;
    o.background_io = background;
    o.buffer_size = 65536;  // many flushes
    auto w = PcapWriter::open(path, o);
    ASSERT_TRUE(w.ok());
    std::vector<uint8_t> pkt(1000);
    const int n = 500;
    for (int i = 0; i < n; ++i) {
      pkt[0] = uint8_t(i);
      uint8_t* p = (*w)->reserve(pkt.size());
      std::memcpy(p, pkt.data(), pkt.size());
      (*w)->commit(Timestamp{int64_t(i) * 1'000'000'007}, uint32_t(60 + i), 2000);
    }
    ASSERT_TRUE((*w)->finish().ok());
    std::string err;
    auto got = testing::read_pcap(path, &err);
    ASSERT_EQ(err, "");
    ASSERT_EQ(got.size(), size_t(n));
    for (int i = 0; i < n; ++i) {
      EXPECT_EQ(got[i].ts_ns, int64_t(i) * 1'000'000'007);
      EXPECT_EQ(got[i].data.size(), size_t(60 + i));
      EXPECT_EQ(got[i].wirelen, 2000u);
      EXPECT_EQ(got[i].data[0], uint8_t(i));
    }
    std::remove(path.c_str());
  }
}

TEST(PcapWriter, TruncatesToSnaplen) {
  std::string path = temp_path("snap.pcap");
  PcapWriterOptions o;
  o.snaplen = 64;
  auto w = PcapWriter::open(path, o);
  ASSERT_TRUE(w.ok());
  std::vector<uint8_t> pkt(1500, 7);
  (*w)->write(Timestamp{1}, pkt);
  ASSERT_TRUE((*w)->finish().ok());
  std::string err;
  auto got = testing::read_pcap(path, &err);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].data.size(), 64u);
  EXPECT_EQ(got[0].wirelen, 1500u);
  std::remove(path.c_str());
}

TEST(PcapWriter, DiskFullIsAnErrorNotACrash) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  for (bool background : {false, true}) {
    PcapWriterOptions o;
    o.background_io = background;
    o.buffer_size = 65536;
    auto w = PcapWriter::open("/dev/full", o);
    ASSERT_TRUE(w.ok());
    std::vector<uint8_t> pkt(1500);
    for (int i = 0; i < 1000; ++i) (*w)->write(Timestamp{i}, pkt);
    EXPECT_FALSE((*w)->ok());
    Status st = (*w)->finish();
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.message().find("No space left on device"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("/dev/full"), std::string::npos) << st.message();
  }
}

TEST(PcapWriter, ErrorOnFinishOfASmallFileToo) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  auto w = PcapWriter::open("/dev/full");
  ASSERT_TRUE(w.ok());
  const uint8_t pkt[60] = {};
  (*w)->write(Timestamp{1}, pkt);
  EXPECT_FALSE((*w)->finish().ok());
}

TEST(PcapWriter, UnwritablePathIsAnError) {
  auto w = PcapWriter::open("/nonexistent-dir/x.pcap");
  ASSERT_FALSE(w.ok());
  EXPECT_NE(w.status().message().find("cannot open /nonexistent-dir/x.pcap"), std::string::npos);
}

}  // namespace
}  // namespace flowkit::gen
