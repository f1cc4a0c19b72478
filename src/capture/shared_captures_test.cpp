// Every capture under the shared folder, read by our reader (both I/O modes) and by libpcap:
// packet counts against INVENTORY.tsv (tshark's counts), packets against libpcap's.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "capture/capture_test_util.h"
#include "capture/libpcap_file_reader.h"
#include "capture/pcap_file_reader.h"

namespace flowkit::capture {
namespace {

using test::Packet;
using test::pcaps_dir;
using test::read_all;
using test::ReadAll;

// Files of the shared folder that are captures by name; the rest (.gz, .md, .tsv, .py, .txt)
// are not read.
bool looks_like_capture(const std::filesystem::path& p) {
  const std::string name = p.filename().string();
  for (const char* ext : {".pcap", ".pcapng", ".cap"}) {
    if (name.ends_with(ext)) return true;
  }
  // wireshark-4.0.17/many_interfaces.pcapng.1 and .3
  return name.find(".pcapng.") != std::string::npos && !name.ends_with(".gz");
}

std::vector<std::string> shared_captures() {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(pcaps_dir())) {
    if (e.is_regular_file() && looks_like_capture(e.path())) {
      out.push_back(std::filesystem::relative(e.path(), pcaps_dir()).string());
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

// INVENTORY.tsv: path, linktype, packets, ... (tshark 4.0.17's packet counts).
std::map<std::string, uint64_t> inventory() {
  std::map<std::string, uint64_t> counts;
  std::ifstream f(pcaps_dir() + "/INVENTORY.tsv");
  std::string line;
  std::getline(f, line);  // header
  while (std::getline(f, line)) {
    std::istringstream row(line);
    std::string path, linktype, packets;
    if (std::getline(row, path, '\t') && std::getline(row, linktype, '\t') &&
        std::getline(row, packets, '\t')) {
      counts[path] = std::stoull(packets);
    }
  }
  return counts;
}

// The snapshot length in a classic pcap file header; 0 for anything else.
uint32_t classic_snaplen(const std::string& path) {
  const std::vector<uint8_t> b = test::read_file(path);
  if (b.size() < 24) return 0;
  const uint32_t magic =
      uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24;
  if (magic == 0xa1b2c3d4 || magic == 0xa1b23c4d) {
    return uint32_t(b[16]) | uint32_t(b[17]) << 8 | uint32_t(b[18]) << 16 | uint32_t(b[19]) << 24;
  }
  if (magic == 0xd4c3b2a1 || magic == 0x4d3cb2a1) {
    return uint32_t(b[19]) | uint32_t(b[18]) << 8 | uint32_t(b[17]) << 16 | uint32_t(b[16]) << 24;
  }
  return 0;
}

// Differences between our reading of a file and libpcap's; empty when they agree, up to three
// documented differences in which we follow the format's specification and tshark:
// - a Simple Packet Block has no timestamp: libpcap says 0, we the previous packet's time;
// - libpcap reads the pcap timestamp fields as signed 32-bit values, the format (and tshark)
//   as unsigned, so fuzzed times after 2038 or fractions >= 2^31 differ by multiples of 2^32;
// - libpcap cuts a record longer than the file's snapshot length down to it; tshark and we
//   keep every captured byte.
std::string compare_packets(const std::vector<Packet>& ours, const std::vector<Packet>& theirs,
                            bool theirs_complete, uint32_t snaplen) {
  std::ostringstream diff;
  if (theirs_complete ? ours.size() != theirs.size() : ours.size() < theirs.size()) {
    diff << "packet count " << ours.size() << " vs " << theirs.size() << "; ";
  }
  const size_t n = std::min(ours.size(), theirs.size());
  for (size_t i = 0; i < n; ++i) {
    const Packet& a = ours[i];
    const Packet& b = theirs[i];
    const int64_t previous = i ? ours[i - 1].ts : 0;
    const bool ts_ok =
        a.ts == b.ts || (b.ts == 0 && a.ts == previous) || (a.ts - b.ts) % (int64_t(1) << 32) == 0;
    const bool cut_to_snaplen = b.caplen == snaplen && a.caplen > b.caplen &&
                                std::equal(b.data.begin(), b.data.end(), a.data.begin());
    const bool data_ok = (a.caplen == b.caplen && a.data == b.data) || cut_to_snaplen;
    if (!ts_ok || !data_ok || a.wirelen != b.wirelen) {
      diff << "packet " << i << ": " << a << " vs " << b;
      if (a.data != b.data) diff << " (data differ)";
      break;
    }
  }
  return diff.str();
}

// The comparison the gopacket files and every other shared capture go through. Returns false
// when libpcap cannot open the file.
bool matches_libpcap(const std::string& path, const ReadAll& ours, std::string* diff) {
  auto lib = LibpcapFileReader::open(path);
  if (!lib.ok()) return false;
  ReadAll theirs = read_all(**lib);
  *diff =
      compare_packets(ours.packets, theirs.packets, theirs.warnings.empty(), classic_snaplen(path));
  return true;
}

TEST(SharedCaptures, EveryFileReadsLikeTsharkAndLibpcap) {
  SKIP_WITHOUT_PCAPS();
  const std::map<std::string, uint64_t> counts = inventory();
  ASSERT_FALSE(counts.empty()) << "INVENTORY.tsv missing or empty";
  // Files tshark does not list (it cannot read them) that we nevertheless read; why each is
  // fine is in the comment.
  const std::map<std::string, uint64_t> not_in_inventory = {
      // Link types tshark 4.0 does not know (Broadcom tags, Marvell DSA, FRF.16, Juniper ES);
      // the records are intact and libpcap reads the same packets.
      {"tcpdump-4.99.3/brcm-tag-prepend.pcap", 15},
      {"tcpdump-4.99.3/brcm-tag.pcap", 23},
      {"tcpdump-4.99.3/dsa.pcap", 8},
      {"tcpdump-4.99.3/edsa-high-vid.pcap", 4},
      {"tcpdump-4.99.3/edsa.pcap", 10},
      {"tcpdump-4.99.3/frf16_magic_ie-oobr.pcap", 1},
      {"tcpdump-4.99.3/juniper_es_oobr.pcap", 1},
      {"tcpdump-4.99.3/vtp_asan-2.pcap", 1},
      {"tcpdump-4.99.3/vtp_asan.pcap", 5},
      // Its second section is pcapng version 2.0: one packet, then a warning (tshark and
      // libpcap stop there too).
      {"gopacket-1.1.19-pcapng/be/test901.pcapng", 1},
      {"gopacket-1.1.19-pcapng/le/test901.pcapng", 1},
  };
  // Not captures at all (the error is the expected outcome).
  const std::set<std::string> unreadable = {"npm-pcap-parser-0.2.1/malformed.pcap"};

  size_t files = 0, compared = 0;
  for (const std::string& rel : shared_captures()) {
    SCOPED_TRACE(rel);
    const std::string path = test::pcap_path(rel);
    auto reader = PcapFileReader::open(path, FileIo::kMap);
    if (unreadable.count(rel)) {
      EXPECT_FALSE(reader.ok());
      continue;
    }
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    ++files;
    const ReadAll ours = read_all(**reader);
    EXPECT_EQ(ours.stats.packets, ours.packets.size());

    if (auto it = counts.find(rel); it != counts.end()) {
      EXPECT_EQ(ours.packets.size(), it->second) << "differs from INVENTORY.tsv (tshark)";
    } else if (auto ex = not_in_inventory.find(rel); ex != not_in_inventory.end()) {
      EXPECT_EQ(ours.packets.size(), ex->second);
    } else {
      ADD_FAILURE() << "neither in INVENTORY.tsv nor explained here";
    }
    // A file read to its end leaves nothing unread unless a warning says why.
    if (ours.warnings.empty()) {
      EXPECT_EQ(ours.stats.bytes_read, ours.stats.bytes_total);
    }

    // The streaming mode reads exactly the same.
    auto streamed = PcapFileReader::open(path, FileIo::kRead);
    ASSERT_TRUE(streamed.ok()) << streamed.status().message();
    const ReadAll ours_streamed = read_all(**streamed, 100);
    EXPECT_EQ(ours_streamed.packets, ours.packets);
    EXPECT_EQ(ours_streamed.warnings.size(), ours.warnings.size());
    EXPECT_EQ(ours_streamed.stats.bytes_read, ours.stats.bytes_read);

    std::string diff;
    if (matches_libpcap(path, ours, &diff)) {
      ++compared;
      EXPECT_EQ(diff, "") << "differs from libpcap";
    } else {
      std::printf("libpcap cannot open %s\n", rel.c_str());
    }
  }
  EXPECT_GT(files, 800u);
  EXPECT_GT(compared, 750u);
  std::printf("read %zu shared captures, %zu of them compared with libpcap\n", files, compared);
}

// The pcapng conformance files: every one opens; where libpcap opens it too, both agree on
// every packet libpcap returns (libpcap stops at the first interface whose link type or
// snapshot length differs from the first one's; we read on).
TEST(SharedCaptures, GopacketPcapngMatchesLibpcap) {
  SKIP_WITHOUT_PCAPS();
  size_t files = 0, compared = 0;
  for (const char* order : {"le", "be"}) {
    const std::string dir = pcaps_dir() + "/gopacket-1.1.19-pcapng/" + order;
    for (const auto& e : std::filesystem::directory_iterator(dir)) {
      const std::string path = e.path().string();
      SCOPED_TRACE(path);
      auto reader = PcapFileReader::open(path);
      ASSERT_TRUE(reader.ok()) << reader.status().message();
      ++files;
      const ReadAll ours = read_all(**reader);
      std::string diff;
      if (matches_libpcap(path, ours, &diff)) {
        ++compared;
        EXPECT_EQ(diff, "");
      }
    }
  }
  EXPECT_EQ(files, 52u);
  EXPECT_EQ(compared, 48u);  // libpcap cannot open test002 and test017: they have no interface
}

TEST(SharedCaptures, GzipFilesGetTheHelpfulError) {
  SKIP_WITHOUT_PCAPS();
  size_t seen = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(pcaps_dir())) {
    if (!e.is_regular_file() || e.path().extension() != ".gz") continue;
    SCOPED_TRACE(e.path().string());
    ++seen;
    auto r = PcapFileReader::open(e.path().string());
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.status().message().find("gzip-compressed"), std::string::npos);
    EXPECT_NE(r.status().message().find("decompress it first (gunzip"), std::string::npos)
        << r.status().message();
  }
  EXPECT_GT(seen, 0u);
}

}  // namespace
}  // namespace flowkit::capture
