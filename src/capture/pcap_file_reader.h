// PcapFileReader: our own reader for one classic pcap or pcapng file. It exists beside
// LibpcapFileReader because we need the pcapng interface of every packet (libpcap drops it) and
// because reading is on the hot path: packets point straight into the reader's bytes (its read
// buffer, or the file mapping), so read_batch() copies nothing and allocates nothing.
//
// Formats: classic pcap with microsecond (a1b2c3d4) or nanosecond (a1b23c4d) timestamps in
// either byte order; pcapng with any number of sections of either byte order, Interface
// Description Blocks (if_name, if_tsresol, if_tsoffset), Enhanced, Simple and obsolete Packet
// Blocks; other blocks are skipped by their length.
//
// Timestamps: classic pcap seconds are unsigned (as the format and tshark have them; libpcap
// reads them signed) and the fraction is added as it is, even when out of range. pcapng
// timestamps honour if_tsresol (powers of 10 and of 2; finer than 1 ns rounds down) and
// if_tsoffset. A Simple Packet Block has no timestamp: it gets the previous packet's (0 for the
// first packet of the file).
//
// Bad input is data: a truncated or structurally corrupt record ends the file with a warning and
// one counted bad record, and every packet before it is delivered. A well-delimited pcapng block
// that makes no sense (unknown interface, too short for its type, caplen > 256 KiB) is skipped,
// counted and warned about, and reading goes on. The reader never reads outside the file's bytes.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "capture/packet_source.h"
#include "core/result.h"

namespace flowkit::capture {

// Larger captured lengths are treated as corruption (libpcap's MAXIMUM_SNAPLEN).
inline constexpr uint32_t kMaxCaplen = 262144;

// How a regular file's bytes get into memory. Pipes are always streamed.
enum class FileIo : uint8_t {
  // read() through a 256 KiB buffer that is reused: the kernel copies each byte once, into memory
  // that stays in cache; packet data are valid until the next read_batch(). The default: on
  // the development VM it reads small packets 6-8x faster than kMap (100+ vs 12-17 million
  // packets/s), because there every first touch of a mapped page costs about 1.5 us.
  kRead,
  // mmap the whole file (MAP_PRIVATE, MADV_SEQUENTIAL, MADV_WILLNEED): no copy at all, and
  // packet data stay valid for the reader's lifetime (stable_data()).
  kMap,
};

class PcapFileReader final : public PacketSource {
 public:
  enum class Format : uint8_t { kPcap, kPcapng };

  // Opens `path` ("-": standard input, streamed so that `tcpdump -w - | flowkit ... -r -`
  // works). Fails with a message that says what to do when the file is missing, empty,
  // compressed or not a capture. Interfaces defined before the first packet are known when
  // open() returns. A mapped file must not shrink while it is read (SIGBUS, as with any mmap).
  static Result<std::unique_ptr<PcapFileReader>> open(const std::string& path,
                                                      FileIo io = FileIo::kRead);
  // Reads a capture held in memory; `name` stands for the path in messages and interface names.
  // For tests and fuzzing: the buffer is exactly the input, so a sanitizer sees any overread.
  static Result<std::unique_ptr<PcapFileReader>> from_bytes(std::vector<uint8_t> bytes,
                                                            std::string name);

  ~PcapFileReader() override;
  PcapFileReader(const PcapFileReader&) = delete;
  PcapFileReader& operator=(const PcapFileReader&) = delete;

  // Packet data stay valid until the next call, or for the reader's lifetime when
  // stable_data(). Returns 0 only once finished().
  size_t read_batch(std::span<RawPacket> out) override;
  bool finished() const override { return done_; }
  std::vector<std::string> take_warnings() override;
  // Classic pcap: one interface named after the path. pcapng: one per Interface Description
  // Block, across all sections, in file order (a new section's interfaces are new entries).
  // An interface without if_name is named "<path>#<index>".
  const std::vector<InterfaceInfo>& interfaces() const override { return interfaces_; }
  // bytes_total is 0 for a stream of unknown length until its end.
  SourceStats stats() const override;
  // True when the file is mapped (FileIo::kMap on a regular file) or held in memory.
  bool stable_data() const override { return !streaming_; }

  Format format() const { return format_; }
  const std::string& path() const { return name_; }

 private:
  // Per-interface state of the current pcapng section, in the section's own numbering.
  struct NgInterface {
    uint64_t mul = 1000;    // ns per timestamp unit; 0 when a unit is not a whole number of ns
    uint8_t tsresol = 6;    // if_tsresol, used when mul == 0
    int64_t offset_ns = 0;  // if_tsoffset
    uint32_t linktype = 0;
    uint32_t snaplen = 0;
    uint32_t global = 0;  // index into interfaces_
  };
  // kNeedMore: the record at cur_ runs past the bytes in memory (streaming only; need_ says how
  // many bytes it takes).
  enum class Step : uint8_t { kEmitted, kSkipped, kStop, kByteOrder, kNeedMore };

  explicit PcapFileReader(std::string name);
  static Result<std::unique_ptr<PcapFileReader>> finish_open(std::unique_ptr<PcapFileReader> r);
  Status init();
  Status init_pcapng();
  // Makes at least `need` bytes from cur_ on available, in the other window (streaming only).
  bool refill(size_t need);
  template <bool kSwap, bool kNanos>
  size_t read_classic(RawPacket* out, size_t n);
  size_t read_classic_old(RawPacket* out, size_t n);
  uint32_t classic_caplen(const uint8_t* p) const;
  void end_classic();
  template <bool kSwap>
  size_t read_ng(RawPacket* out, size_t n);
  // The slow path: one block at cur_, of any type, with every check. Advances cur_.
  Step ng_block(RawPacket* out);
  Step ng_section_header(size_t left);
  void ng_interface(const uint8_t* p, uint32_t len);
  void ng_prime();
  Step ng_packet(uint32_t type, uint32_t len, RawPacket* out);
  Step need_more(size_t bytes);
  Step bad_block(uint32_t len, std::string_view why);
  void stop(const uint8_t* at, std::string_view why);
  void warn(std::string message);
  uint64_t offset(const uint8_t* p) const { return base_offset_ + uint64_t(p - begin_); }
  static int64_t ng_time(const NgInterface& f, uint64_t units);
  uint32_t ld32(const uint8_t* p) const;
  uint16_t ld16(const uint8_t* p) const;

  std::string name_;
  // The bytes in memory: [begin_, end_) holds the file from offset base_offset_ on; cur_ is the
  // next record. Exactly one owner: map_, bytes_ (from_bytes) or windows_ (streaming).
  const uint8_t* begin_ = nullptr;
  const uint8_t* cur_ = nullptr;
  const uint8_t* end_ = nullptr;
  uint64_t base_offset_ = 0;
  void* map_ = nullptr;
  size_t map_len_ = 0;
  std::vector<uint8_t> bytes_;
  // Streaming reads into one window while the current batch's packets may still point into the
  // other: a refill copies only the unfinished record across, never moves the window's bytes.
  std::unique_ptr<uint8_t[]> windows_[2];
  size_t window_sizes_[2] = {0, 0};
  int window_ = 0;  // the window [begin_, end_) lies in
  int fd_ = -1;
  bool own_fd_ = false;
  bool streaming_ = false;
  bool regular_ = false;    // streaming a regular file: reading ahead never blocks
  bool eof_ = true;         // no bytes beyond end_
  uint64_t skip_ = 0;       // bytes of a skipped block still to be read past (streaming)
  uint64_t skip_from_ = 0;  // where that block starts
  size_t need_ = 0;         // set with Step::kNeedMore
  uint64_t file_size_ = 0;  // 0 while unknown

  Format format_ = Format::kPcap;
  bool swap_ = false;  // the file (pcapng: the current section) is of the other byte order
  bool nanos_ = false;
  enum class Lengths : uint8_t { kNormal, kSwapped, kMaybeSwapped };
  Lengths lengths_ = Lengths::kNormal;  // classic pcap before 2.4
  bool done_ = false;
  uint32_t linktype_ = 0;  // classic pcap
  std::vector<NgInterface> section_;
  Timestamp last_ts_;
  std::vector<InterfaceInfo> interfaces_;
  std::vector<std::string> warnings_;
  std::string last_error_;  // of the last stop(), for open() errors
  uint32_t warnings_issued_ = 0;
  uint64_t packets_ = 0;
  uint64_t bad_records_ = 0;
};

}  // namespace flowkit::capture
