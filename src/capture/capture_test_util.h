// Helpers shared by the capture tests: where the shared captures are, reading a source to its
// end, temporary directories, and writers for small synthetic pcap/pcapng files (for the cases
// no real capture has: every resolution, every byte order, corrupt blocks).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "capture/packet_source.h"
#include "core/testing/temp_dir.h"

namespace flowkit::capture::test {

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

inline std::string pcaps_dir() {
  return std::string(FLOWKIT_SHARED_DIR) + "/pcaps";
}
inline bool have_pcaps() {
  return std::filesystem::is_directory(pcaps_dir());
}
inline std::string pcap_path(const std::string& relative) {
  return pcaps_dir() + "/" + relative;
}

#define SKIP_WITHOUT_PCAPS()                                                                   \
  do {                                                                                         \
    if (!::flowkit::capture::test::have_pcaps()) {                                             \
      GTEST_SKIP() << "shared captures not found at " << ::flowkit::capture::test::pcaps_dir() \
                   << " (configure with -DFLOWKIT_SHARED_DIR=...)";                            \
    }                                                                                          \
  } while (0)

struct Packet {
  int64_t ts = 0;
  uint32_t caplen = 0;
  uint32_t wirelen = 0;
  uint32_t linktype = 0;
  uint32_t interface = 0;
  std::vector<uint8_t> data;
  friend bool operator==(const Packet&, const Packet&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const Packet& p) {
  return os << "{ts=" << p.ts << " caplen=" << p.caplen << " wirelen=" << p.wirelen
            << " linktype=" << p.linktype << " if=" << p.interface << "}";
}

struct ReadAll {
  std::vector<Packet> packets;
  std::vector<std::string> warnings;
  std::vector<InterfaceInfo> interfaces;
  SourceStats stats;
};

// Reads `src` to its end in batches of `batch`, copying every packet (data too, unless
// keep_data is false) right after its batch. Gives up after `max_idle` empty batches in a row
// from a source that is not finished (a file source should never return one).
inline ReadAll read_all(PacketSource& src, size_t batch = 64, bool keep_data = true,
                        int max_idle = 3) {
  ReadAll r;
  std::vector<RawPacket> buf(batch);
  for (int idle = 0; idle < max_idle;) {
    const size_t n = src.read_batch(buf);
    if (n == 0) {
      if (src.finished()) break;
      ++idle;
      continue;
    }
    idle = 0;
    for (size_t i = 0; i < n; ++i) {
      const RawPacket& p = buf[i];
      Packet q{p.ts.ns, p.caplen, p.wirelen, p.linktype, p.interface, {}};
      if (keep_data) q.data.assign(p.data, p.data + p.caplen);
      r.packets.push_back(std::move(q));
    }
  }
  r.warnings = src.take_warnings();
  r.interfaces = src.interfaces();
  r.stats = src.stats();
  return r;
}

inline std::vector<uint8_t> read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)),
                              std::istreambuf_iterator<char>());
}

inline void write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

using flowkit::testing::TempDir;

// Little byte writer in a chosen byte order.
class Bytes {
 public:
  explicit Bytes(bool big_endian = false) : be_(big_endian) {}
  void set_big_endian(bool be) { be_ = be; }
  void u8(uint8_t v) { b_.push_back(v); }
  void u16(uint16_t v) {
    for (int i = 0; i < 2; ++i) b_.push_back(uint8_t(be_ ? v >> (8 * (1 - i)) : v >> (8 * i)));
  }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) b_.push_back(uint8_t(be_ ? v >> (8 * (3 - i)) : v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) b_.push_back(uint8_t(be_ ? v >> (8 * (7 - i)) : v >> (8 * i)));
  }
  void raw(const std::vector<uint8_t>& v) { b_.insert(b_.end(), v.begin(), v.end()); }
  void pad4() {
    while (b_.size() % 4) b_.push_back(0);
  }
  std::vector<uint8_t>& bytes() { return b_; }
  bool big_endian() const { return be_; }

 private:
  bool be_;
  std::vector<uint8_t> b_;
};

inline std::vector<uint8_t> payload(size_t n, uint8_t seed) {
  std::vector<uint8_t> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = uint8_t(seed + i * 7);
  return v;
}

// Classic pcap writer.
class PcapWriter {
 public:
  PcapWriter(bool big_endian, bool nanos, uint32_t linktype = 1, uint32_t snaplen = 262144)
      : out_(big_endian), nanos_(nanos) {
    out_.u32(nanos ? 0xa1b23c4d : 0xa1b2c3d4);
    out_.u16(2);
    out_.u16(4);
    out_.u32(0);
    out_.u32(0);
    out_.u32(snaplen);
    out_.u32(linktype);
  }
  // ts in ns; it must be representable in the file's resolution.
  PcapWriter& packet(int64_t ts, const std::vector<uint8_t>& data, uint32_t wirelen = 0) {
    out_.u32(uint32_t(ts / 1'000'000'000));
    out_.u32(uint32_t(nanos_ ? ts % 1'000'000'000 : ts % 1'000'000'000 / 1000));
    out_.u32(uint32_t(data.size()));
    out_.u32(wirelen ? wirelen : uint32_t(data.size()));
    out_.raw(data);
    return *this;
  }
  std::vector<uint8_t>& bytes() { return out_.bytes(); }

 private:
  Bytes out_;
  bool nanos_;
};

// pcapng writer: blocks in the byte order of the last section header.
class NgWriter {
 public:
  explicit NgWriter(bool big_endian = false) { shb(big_endian); }

  NgWriter& shb(bool big_endian, uint16_t major = 1) {
    out_.set_big_endian(big_endian);
    Bytes body(big_endian);
    body.u32(0x1a2b3c4d);
    body.u16(major);
    body.u16(0);
    body.u64(~uint64_t(0));
    return block(0x0a0d0d0a, body.bytes());
  }
  // tsresol < 0: no if_tsresol option.
  NgWriter& idb(uint16_t linktype, uint32_t snaplen = 0, const std::string& name = "",
                int tsresol = -1, int64_t tsoffset = 0) {
    Bytes body(out_.big_endian());
    body.u16(linktype);
    body.u16(0);
    body.u32(snaplen);
    if (!name.empty()) {
      body.u16(2);
      body.u16(uint16_t(name.size()));
      body.raw(std::vector<uint8_t>(name.begin(), name.end()));
      body.pad4();
    }
    if (tsresol >= 0) {
      body.u16(9);
      body.u16(1);
      body.u8(uint8_t(tsresol));
      body.pad4();
    }
    if (tsoffset != 0) {
      body.u16(14);
      body.u16(8);
      body.u64(uint64_t(tsoffset));
    }
    body.u16(0);
    body.u16(0);
    return block(1, body.bytes());
  }
  NgWriter& epb(uint32_t interface, uint64_t ts, const std::vector<uint8_t>& data,
                uint32_t wirelen = 0) {
    Bytes body(out_.big_endian());
    body.u32(interface);
    body.u32(uint32_t(ts >> 32));
    body.u32(uint32_t(ts));
    body.u32(uint32_t(data.size()));
    body.u32(wirelen ? wirelen : uint32_t(data.size()));
    body.raw(data);
    body.pad4();
    return block(6, body.bytes());
  }
  NgWriter& spb(const std::vector<uint8_t>& data, uint32_t wirelen = 0) {
    Bytes body(out_.big_endian());
    body.u32(wirelen ? wirelen : uint32_t(data.size()));
    body.raw(data);
    body.pad4();
    return block(3, body.bytes());
  }
  NgWriter& pb(uint16_t interface, uint64_t ts, const std::vector<uint8_t>& data) {
    Bytes body(out_.big_endian());
    body.u16(interface);
    body.u16(0);
    body.u32(uint32_t(ts >> 32));
    body.u32(uint32_t(ts));
    body.u32(uint32_t(data.size()));
    body.u32(uint32_t(data.size()));
    body.raw(data);
    body.pad4();
    return block(2, body.bytes());
  }
  NgWriter& block(uint32_t type, const std::vector<uint8_t>& body) {
    const uint32_t len = uint32_t(12 + body.size());
    out_.u32(type);
    out_.u32(len);
    out_.raw(body);
    out_.u32(len);
    return *this;
  }
  std::vector<uint8_t>& bytes() { return out_.bytes(); }

 private:
  Bytes out_;
};

}  // namespace flowkit::capture::test
