#include "capture/pcap_file_reader.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace flowkit::capture {

namespace {

constexpr uint32_t kPcapMagicUsec = 0xa1b2c3d4;
constexpr uint32_t kPcapMagicNsec = 0xa1b23c4d;
constexpr uint32_t kPcapMagicKuznetzov = 0xa1b2cd34;
constexpr uint32_t kByteOrderMagic = 0x1a2b3c4d;

constexpr uint32_t kBlockShb = 0x0a0d0d0a;
constexpr uint32_t kBlockIdb = 1;
constexpr uint32_t kBlockPb = 2;  // obsolete Packet Block
constexpr uint32_t kBlockSpb = 3;
constexpr uint32_t kBlockEpb = 6;

constexpr uint32_t kShbMinLen = 28;
constexpr uint32_t kIdbMinLen = 20;
constexpr uint32_t kEpbMinLen = 32;  // also the obsolete Packet Block's
constexpr uint32_t kSpbMinLen = 16;

constexpr uint16_t kOptIfName = 2;
constexpr uint16_t kOptIfTsresol = 9;
constexpr uint16_t kOptIfTsoffset = 14;

// More would flood a terminal for a file that is corrupt throughout; the count is in stats().
constexpr uint32_t kMaxWarnings = 20;

template <bool kSwap>
inline uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return kSwap ? __builtin_bswap32(v) : v;
}

inline uint32_t native32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

std::string errno_hint(int err) {
  switch (err) {
    case ENOENT:
      return "; check the path";
    case EACCES:
    case EPERM:
      return "; check the file's permissions";
    default:
      return "";
  }
}

// Magic numbers of compressors people feed us by mistake, with the command that undoes them.
struct Compressor {
  const char* magic;
  size_t len;
  const char* name;
  const char* command;
};
constexpr Compressor kCompressors[] = {
    {"\x1f\x8b", 2, "gzip", "gunzip"},
    {"\x28\xb5\x2f\xfd", 4, "zstd", "unzstd"},
    {"\xfd\x37\x7a\x58\x5a\x00", 6, "xz", "unxz"},
    {"\x42\x5a\x68", 3, "bzip2", "bunzip2"},
    {"\x04\x22\x4d\x18", 4, "lz4", "unlz4"},
};

// Small enough that what read() copies in is still in the L2 cache when the packets are decoded.
constexpr size_t kWindowSize = size_t(256) << 10;
// The largest block a stream holds in memory; larger blocks that are not needed are skipped.
constexpr size_t kMaxBlock = size_t(64) << 20;

std::string empty_message(const std::string& name) {
  return fmt::format(
      "'{}' is empty (0 bytes), so it holds no capture; was the capture stopped before it wrote "
      "anything?",
      name);
}

}  // namespace

PcapFileReader::PcapFileReader(std::string name) : name_(std::move(name)) {}

PcapFileReader::~PcapFileReader() {
  if (map_) ::munmap(map_, map_len_);
  if (own_fd_) ::close(fd_);
}

Result<std::unique_ptr<PcapFileReader>> PcapFileReader::open(const std::string& path, FileIo io) {
  const bool is_stdin = path == "-";
  std::unique_ptr<PcapFileReader> r(new PcapFileReader(is_stdin ? "stdin" : path));
  r->fd_ = is_stdin ? 0 : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r->fd_ < 0) {
    int err = errno;
    std::string why = fmt::format("cannot open capture file '{}': {}{}", path, std::strerror(err),
                                  errno_hint(err));
    return err == ENOENT ? Status::not_found(why) : Status::io_error(why);
  }
  r->own_fd_ = !is_stdin;
  struct stat st {};
  if (::fstat(r->fd_, &st) != 0) {
    return Status::io_error(
        fmt::format("cannot open capture file '{}': {}", r->name_, std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) {
    return Status::invalid_argument(fmt::format(
        "'{}' is a directory; give a pcap or pcapng file (several files: -r a.pcap -r b.pcap)",
        r->name_));
  }
  const bool regular = S_ISREG(st.st_mode);
  if (regular && st.st_size == 0) return Status::corruption(empty_message(r->name_));
  if (regular) r->file_size_ = uint64_t(st.st_size);
  if (regular && io == FileIo::kMap) {
    // A regular stdin (`< file`) is mapped too; its offset is ignored, as tcpdump does.
    void* m = ::mmap(nullptr, size_t(st.st_size), PROT_READ, MAP_PRIVATE, r->fd_, 0);
    if (m != MAP_FAILED) {
      r->map_ = m;
      r->map_len_ = size_t(st.st_size);
      // Two calls: MADV_SEQUENTIAL and MADV_WILLNEED are values, not bits. Both are hints;
      // failure costs only speed.
      ::madvise(m, r->map_len_, MADV_SEQUENTIAL);
      ::madvise(m, r->map_len_, MADV_WILLNEED);
      r->begin_ = r->cur_ = static_cast<const uint8_t*>(m);
      r->end_ = r->begin_ + r->map_len_;
      if (r->own_fd_) ::close(r->fd_);
      r->fd_ = -1;
      r->own_fd_ = false;
      return finish_open(std::move(r));
    }
  }
  // Everything else is streamed through a window: pipes, stdin, FileIo::kRead, and files that
  // cannot be mapped.
  r->streaming_ = true;
  r->regular_ = regular;
  r->eof_ = false;
  r->refill(kShbMinLen);
  if (r->end_ == r->begin_ && !r->warnings_.empty()) return Status::io_error(r->warnings_.back());
  return finish_open(std::move(r));
}

Result<std::unique_ptr<PcapFileReader>> PcapFileReader::from_bytes(std::vector<uint8_t> bytes,
                                                                   std::string name) {
  std::unique_ptr<PcapFileReader> r(new PcapFileReader(std::move(name)));
  r->bytes_ = std::move(bytes);
  r->begin_ = r->cur_ = r->bytes_.data();
  r->end_ = r->begin_ + r->bytes_.size();
  r->file_size_ = r->bytes_.size();
  return finish_open(std::move(r));
}

Result<std::unique_ptr<PcapFileReader>> PcapFileReader::finish_open(
    std::unique_ptr<PcapFileReader> r) {
  if (Status s = r->init(); !s.ok()) return s;
  return r;
}

bool PcapFileReader::refill(size_t need) {
  if (need > kMaxBlock) {
    stop(cur_, fmt::format("a block of {} bytes, more than the {} MiB flowkit holds in memory",
                           need, kMaxBlock >> 20));
    return false;
  }
  const size_t keep = size_t(end_ - cur_);
  base_offset_ += uint64_t(cur_ - begin_);
  const int next = windows_[window_] ? 1 - window_ : window_;  // the first refill has no other
  size_t& size = window_sizes_[next];
  if (need > size || !windows_[next]) {
    size = std::max(need, kWindowSize);
    windows_[next] = std::make_unique_for_overwrite<uint8_t[]>(size);
  }
  uint8_t* const w = windows_[next].get();
  if (keep != 0) std::memcpy(w, cur_, keep);
  window_ = next;
  begin_ = cur_ = end_ = w;
  size_t fill = keep;
  const size_t want = std::max<size_t>(need, 1);
  while (!eof_ && (skip_ != 0 || fill < size)) {
    // A block too large to hold is read past; keep == 0 then, so the window is free.
    const size_t ask = skip_ != 0 ? size_t(std::min<uint64_t>(skip_, size)) : size - fill;
    const ssize_t got = ::read(fd_, skip_ != 0 ? w : w + fill, ask);
    if (got > 0) {
      if (skip_ != 0) {
        skip_ -= uint64_t(got);
        base_offset_ += uint64_t(got);
        continue;
      }
      fill += size_t(got);
      if (size_t(got) < ask && fill >= want) break;
    } else if (got == 0) {
      eof_ = true;
    } else if (errno != EINTR) {
      warn(fmt::format("{}: read error at offset {}: {}; treated as the end of the file", name_,
                       base_offset_ + fill, std::strerror(errno)));
      eof_ = true;
    }
  }
  end_ = w + fill;
  if (eof_ && !regular_) file_size_ = base_offset_ + fill;
  if (skip_ != 0) {
    ++bad_records_;
    warn(
        fmt::format("{}: truncated block at offset {}: the file ends inside it; stopped reading "
                    "this file, kept the packets before it",
                    name_, skip_from_));
    done_ = true;
    return false;
  }
  return true;
}

Status PcapFileReader::init() {
  const size_t size = size_t(end_ - begin_);
  if (size == 0) return Status::corruption(empty_message(name_));
  for (const Compressor& c : kCompressors) {
    if (size >= c.len && std::memcmp(begin_, c.magic, c.len) == 0) {
      return Status::corruption(
          fmt::format("'{0}' is {1}-compressed; decompress it first ({2} '{0}'), or stream it: "
                      "{2} -c '{0}' | flowkit ... -r -",
                      name_, c.name, c.command));
    }
  }
  if (size < 4) {
    return Status::corruption(
        fmt::format("'{}' is too short ({} bytes) to be a pcap or pcapng file", name_, size));
  }
  const uint32_t magic = native32(begin_);
  if (magic == kBlockShb) return init_pcapng();

  if (magic == kPcapMagicUsec || magic == kPcapMagicNsec) {
    swap_ = false;
    nanos_ = magic == kPcapMagicNsec;
  } else if (magic == __builtin_bswap32(kPcapMagicUsec) ||
             magic == __builtin_bswap32(kPcapMagicNsec)) {
    swap_ = true;
    nanos_ = magic == __builtin_bswap32(kPcapMagicNsec);
  } else if (magic == kPcapMagicKuznetzov || magic == __builtin_bswap32(kPcapMagicKuznetzov)) {
    return Status::corruption(fmt::format(
        "'{0}' is in the modified (Kuznetzov) pcap format, which flowkit does not read; convert "
        "it: editcap -F pcap '{0}' out.pcap (or use --reader libpcap)",
        name_));
  } else {
    return Status::corruption(fmt::format(
        "'{0}' is not a pcap or pcapng file (it starts with {1:02x} {2:02x} {3:02x} {4:02x}); if "
        "Wireshark opens it, convert it: editcap -F pcapng '{0}' out.pcapng",
        name_, begin_[0], begin_[1], begin_[2], begin_[3]));
  }
  if (size < 24) {
    return Status::corruption(fmt::format(
        "'{}' is truncated: a pcap file header needs 24 bytes, the file has {}", name_, size));
  }
  format_ = Format::kPcap;
  const uint16_t major = ld16(begin_ + 4);
  const uint16_t minor = ld16(begin_ + 6);
  if ((major == 2 && minor < 3) || major == 543) {
    lengths_ = Lengths::kSwapped;
  } else if (major == 2 && minor == 3) {
    lengths_ = Lengths::kMaybeSwapped;
  }
  // The upper 16 bits carry the FCS length and reserved flags, not the link type.
  linktype_ = ld32(begin_ + 20) & 0xffff;
  interfaces_.push_back({name_, linktype_});
  cur_ = begin_ + 24;
  done_ = eof_ && cur_ == end_;
  return {};
}

Status PcapFileReader::init_pcapng() {
  format_ = Format::kPcapng;
  Step step;
  while ((step = ng_section_header(size_t(end_ - cur_))) == Step::kNeedMore) {
    if (!refill(need_)) break;
  }
  if (step == Step::kStop || done_) {
    return Status::corruption(fmt::format("cannot read '{}' as pcapng: {} at offset 0", name_,
                                          last_error_.empty() ? "unreadable" : last_error_));
  }
  ng_prime();
  return {};
}

uint32_t PcapFileReader::ld32(const uint8_t* p) const {
  return swap_ ? rd32<true>(p) : rd32<false>(p);
}

uint16_t PcapFileReader::ld16(const uint8_t* p) const {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return swap_ ? __builtin_bswap16(v) : v;
}

std::vector<std::string> PcapFileReader::take_warnings() {
  return std::exchange(warnings_, {});
}

SourceStats PcapFileReader::stats() const {
  SourceStats s;
  s.packets = packets_;
  s.bytes_read = offset(cur_);
  s.bytes_total = file_size_;
  s.bad_records = bad_records_;
  return s;
}

void PcapFileReader::warn(std::string message) {
  if (warnings_issued_ < kMaxWarnings) {
    warnings_.push_back(std::move(message));
  } else if (warnings_issued_ == kMaxWarnings) {
    warnings_.push_back(fmt::format("{}: further warnings about this file suppressed", name_));
  }
  ++warnings_issued_;
}

void PcapFileReader::stop(const uint8_t* at, std::string_view why) {
  ++bad_records_;
  last_error_ = why;
  warn(fmt::format("{}: {} at offset {}; stopped reading this file, kept the packets before it",
                   name_, why, offset(at)));
  done_ = true;
}

size_t PcapFileReader::read_batch(std::span<RawPacket> out) {
  if (done_ || out.empty()) return 0;
  size_t n = 0;
  bool refilled = false;  // with packets of this batch in the other window
  while (n < out.size() && !done_) {
    need_ = 0;
    RawPacket* dst = out.data() + n;
    const size_t room = out.size() - n;
    if (format_ == Format::kPcap) {
      if (lengths_ != Lengths::kNormal) {
        n += read_classic_old(dst, room);
      } else if (swap_) {
        n += nanos_ ? read_classic<true, true>(dst, room) : read_classic<true, false>(dst, room);
      } else {
        n += nanos_ ? read_classic<false, true>(dst, room) : read_classic<false, false>(dst, room);
      }
    } else {
      // Returns early at the end, on corruption, when the window runs out, or when a new
      // section changes the byte order, which needs the other instantiation.
      n += swap_ ? read_ng<true>(dst, room) : read_ng<false>(dst, room);
    }
    if (need_ != 0) {
      // A refill keeps the window this batch's packets point into, but a second one would
      // overwrite it. Pipes are refilled only when the next record is incomplete: reading
      // ahead could block while complete packets wait.
      if (n > 0 && (refilled || !regular_)) break;
      refilled = n > 0;
      if (!refill(need_)) break;
    }
  }
  packets_ += n;
  return n;
}

// The per-packet path: one bounds check that covers header and data, no calls.
template <bool kSwap, bool kNanos>
size_t PcapFileReader::read_classic(RawPacket* out, size_t n) {
  const uint8_t* p = cur_;
  const uint8_t* const end = end_;
  const uint32_t linktype = linktype_;
  size_t i = 0;
  for (; i < n; ++i) {
    const size_t left = size_t(end - p);
    if (left < 16) break;
    const uint32_t caplen = rd32<kSwap>(p + 8);
    if (caplen > kMaxCaplen || caplen > left - 16) break;
    const int64_t sec = rd32<kSwap>(p);
    const int64_t frac = rd32<kSwap>(p + 4);
    RawPacket& r = out[i];
    r.ts.ns = sec * kNanosPerSecond + (kNanos ? frac : frac * 1000);
    r.data = p + 16;
    r.caplen = caplen;
    r.wirelen = rd32<kSwap>(p + 12);
    r.linktype = linktype;
    r.interface = 0;
    p += 16 + size_t(caplen);
  }
  cur_ = p;
  if (i < n) end_classic();
  done_ = done_ || (eof_ && p == end);
  return i;
}

// pcap before 2.3 stored the two lengths the other way round, and 2.3 files exist both ways;
// libpcap's rule: 2.3 lengths are swapped when the captured one is the larger.
size_t PcapFileReader::read_classic_old(RawPacket* out, size_t n) {
  size_t i = 0;
  for (; i < n; ++i) {
    const size_t left = size_t(end_ - cur_);
    if (left < 16) break;
    const uint32_t caplen = classic_caplen(cur_);
    if (caplen > kMaxCaplen || caplen > left - 16) break;
    const uint32_t a = ld32(cur_ + 8);
    const uint32_t b = ld32(cur_ + 12);
    const int64_t frac = ld32(cur_ + 4);
    RawPacket& r = out[i];
    r.ts.ns = int64_t(ld32(cur_)) * kNanosPerSecond + (nanos_ ? frac : frac * 1000);
    r.data = cur_ + 16;
    r.caplen = caplen;
    r.wirelen = caplen == a ? b : a;
    r.linktype = linktype_;
    r.interface = 0;
    cur_ += 16 + size_t(caplen);
  }
  if (i < n) end_classic();
  done_ = done_ || (eof_ && cur_ == end_);
  return i;
}

uint32_t PcapFileReader::classic_caplen(const uint8_t* p) const {
  const uint32_t a = ld32(p + 8);
  const uint32_t b = ld32(p + 12);
  const bool swapped =
      lengths_ == Lengths::kSwapped || (lengths_ == Lengths::kMaybeSwapped && a > b);
  return swapped ? b : a;
}

void PcapFileReader::end_classic() {
  const size_t left = size_t(end_ - cur_);
  if (left < 16) {
    if (!eof_) {
      need_more(16);
    } else if (left == 0) {
      done_ = true;
    } else {
      stop(cur_, fmt::format("truncated record header ({} of 16 bytes)", left));
    }
    return;
  }
  const uint32_t caplen = classic_caplen(cur_);
  if (caplen > kMaxCaplen) {
    stop(cur_,
         fmt::format("corrupt record: captured length {} exceeds {} bytes", caplen, kMaxCaplen));
  } else if (!eof_) {
    need_more(16 + size_t(caplen));
  } else {
    stop(cur_, fmt::format("truncated record: {} captured bytes announced, {} remain", caplen,
                           left - 16));
  }
}

int64_t PcapFileReader::ng_time(const NgInterface& f, uint64_t units) {
  uint64_t ns;
  if (f.mul != 0) {
    ns = units * f.mul;
  } else if (f.tsresol & 0x80) {
    const unsigned shift = f.tsresol & 0x7f;
    ns = uint64_t((unsigned __int128)units * 1'000'000'000u >> shift);
  } else {
    // 10^-k with k > 9: units are fractions of a nanosecond.
    const unsigned k = f.tsresol - 9;
    uint64_t div = 1;
    for (unsigned j = 0; j < k && j < 20; ++j) div *= 10;
    ns = k >= 20 ? 0 : units / div;
  }
  // Unsigned: a hostile offset wraps instead of overflowing.
  return int64_t(ns + uint64_t(f.offset_ns));
}

// The per-packet path for Enhanced Packet Blocks; every other block, and every EPB that fails a
// check, goes through ng_block().
template <bool kSwap>
size_t PcapFileReader::read_ng(RawPacket* out, size_t n) {
  const uint8_t* p = cur_;
  const uint8_t* const end = end_;
  const NgInterface* ifs = section_.data();
  uint32_t nifs = uint32_t(section_.size());
  size_t i = 0;
  while (i < n) {
    const size_t left = size_t(end - p);
    if (left >= kEpbMinLen) {
      const uint32_t type = rd32<kSwap>(p);
      const uint32_t len = rd32<kSwap>(p + 4);
      if (type == kBlockEpb && len >= kEpbMinLen && len <= left && (len & 3) == 0) {
        const uint32_t ifc = rd32<kSwap>(p + 8);
        const uint32_t caplen = rd32<kSwap>(p + 20);
        if (ifc < nifs && caplen <= len - kEpbMinLen && caplen <= kMaxCaplen &&
            rd32<kSwap>(p + len - 4) == len) {
          const NgInterface& f = ifs[ifc];
          const uint64_t units = uint64_t(rd32<kSwap>(p + 12)) << 32 | rd32<kSwap>(p + 16);
          RawPacket& r = out[i++];
          r.ts.ns = f.mul != 0 ? int64_t(units * f.mul + uint64_t(f.offset_ns)) : ng_time(f, units);
          r.data = p + 28;
          r.caplen = caplen;
          r.wirelen = rd32<kSwap>(p + 24);
          r.linktype = f.linktype;
          r.interface = f.global;
          p += len;
          continue;
        }
      }
    }
    cur_ = p;
    if (i > 0) last_ts_ = out[i - 1].ts;
    const Step step = ng_block(out + i);
    p = cur_;
    ifs = section_.data();
    nifs = uint32_t(section_.size());
    if (step == Step::kEmitted) {
      ++i;
    } else if (step != Step::kSkipped) {
      break;
    }
  }
  cur_ = p;
  if (i > 0) last_ts_ = out[i - 1].ts;
  done_ = done_ || (eof_ && p == end);
  return i;
}

PcapFileReader::Step PcapFileReader::ng_block(RawPacket* out) {
  const size_t left = size_t(end_ - cur_);
  if (left < 12) {
    if (!eof_) return need_more(12);
    if (left == 0) {
      done_ = true;
    } else {
      stop(cur_, fmt::format("truncated block header ({} of at least 12 bytes)", left));
    }
    return Step::kStop;
  }
  const uint32_t type = ld32(cur_);
  if (type == kBlockShb) return ng_section_header(left);
  const uint32_t len = ld32(cur_ + 4);
  if (len < 12 || len % 4 != 0) {
    stop(cur_, fmt::format("corrupt block: length {} (must be a multiple of 4, at least 12)", len));
    return Step::kStop;
  }
  const bool needed =
      type == kBlockIdb || type == kBlockEpb || type == kBlockSpb || type == kBlockPb;
  if (len > left) {
    if (eof_) {
      stop(cur_, fmt::format("truncated block: {} bytes announced, {} remain", len, left));
      return Step::kStop;
    }
    if (needed || len <= kWindowSize) return need_more(len);
    // Not worth holding: read past it (its trailing length goes unchecked).
    skip_ = len - left;
    skip_from_ = offset(cur_);
    cur_ = end_;
    return Step::kSkipped;
  }
  if (const uint32_t trailer = ld32(cur_ + len - 4); trailer != len) {
    stop(cur_, fmt::format("corrupt block: leading length {} and trailing length {} differ", len,
                           trailer));
    return Step::kStop;
  }
  switch (type) {
    case kBlockIdb:
      if (len < kIdbMinLen) return bad_block(len, "interface description block too short");
      ng_interface(cur_, len);
      cur_ += len;
      return Step::kSkipped;
    case kBlockEpb:
    case kBlockSpb:
    case kBlockPb:
      return ng_packet(type, len, out);
    default:
      cur_ += len;
      return Step::kSkipped;
  }
}

PcapFileReader::Step PcapFileReader::need_more(size_t bytes) {
  need_ = bytes;
  return Step::kNeedMore;
}

PcapFileReader::Step PcapFileReader::bad_block(uint32_t len, std::string_view why) {
  ++bad_records_;
  warn(fmt::format("{}: skipped the block at offset {}: {}", name_, offset(cur_), why));
  cur_ += len;
  return Step::kSkipped;
}

PcapFileReader::Step PcapFileReader::ng_section_header(size_t left) {
  if (left < kShbMinLen) {
    if (!eof_) return need_more(kShbMinLen);
    stop(cur_, fmt::format("truncated section header ({} of at least {} bytes)", left, kShbMinLen));
    return Step::kStop;
  }
  const uint32_t bom = native32(cur_ + 8);
  bool swap;
  if (bom == kByteOrderMagic) {
    swap = false;
  } else if (bom == __builtin_bswap32(kByteOrderMagic)) {
    swap = true;
  } else {
    stop(cur_, fmt::format("corrupt section header: byte-order magic {:08x}", bom));
    return Step::kStop;
  }
  const uint32_t len = swap ? rd32<true>(cur_ + 4) : rd32<false>(cur_ + 4);
  if (len < kShbMinLen || len % 4 != 0) {
    stop(cur_, fmt::format("corrupt section header: length {}", len));
    return Step::kStop;
  }
  if (len > left) {
    if (!eof_) return need_more(len);
    stop(cur_, fmt::format("truncated section header: {} bytes announced, {} remain", len, left));
    return Step::kStop;
  }
  const bool was_swapped = swap_;
  swap_ = swap;
  if (ld32(cur_ + len - 4) != len) {
    stop(cur_, "corrupt section header: leading and trailing lengths differ");
    return Step::kStop;
  }
  const uint16_t major = ld16(cur_ + 12);
  const uint16_t minor = ld16(cur_ + 14);
  if (major != 1) {
    stop(cur_, fmt::format("pcapng section of version {}.{}, which is not readable (only 1.x is)",
                           major, minor));
    return Step::kStop;
  }
  // Interface ids are per section: the new section starts with none.
  section_.clear();
  cur_ += len;
  return swap_ != was_swapped ? Step::kByteOrder : Step::kSkipped;
}

void PcapFileReader::ng_interface(const uint8_t* p, uint32_t len) {
  NgInterface f;
  f.linktype = ld16(p + 8);
  f.snaplen = ld32(p + 12);
  std::string ifname;
  uint8_t tsresol = 6;
  uint64_t tsoffset = 0;
  const uint8_t* opts = p + 16;
  const size_t opts_len = len - 20;
  size_t off = 0;
  while (opts_len - off >= 4) {
    const uint16_t code = ld16(opts + off);
    const uint16_t olen = ld16(opts + off + 2);
    if (code == 0) break;
    if (olen > opts_len - off - 4) {
      warn(
          fmt::format("{}: interface description block at offset {}: option {} overruns the "
                      "block; ignored the rest of its options",
                      name_, p - begin_, code));
      break;
    }
    const uint8_t* v = opts + off + 4;
    if (code == kOptIfName) {
      ifname.assign(reinterpret_cast<const char*>(v), olen);
      while (!ifname.empty() && ifname.back() == '\0') ifname.pop_back();
    } else if (code == kOptIfTsresol && olen >= 1) {
      tsresol = v[0];
    } else if (code == kOptIfTsoffset && olen >= 8) {
      uint64_t raw;
      std::memcpy(&raw, v, 8);
      tsoffset = swap_ ? __builtin_bswap64(raw) : raw;
    }
    off += 4 + ((size_t(olen) + 3) & ~size_t(3));
    if (off > opts_len) break;
  }
  f.tsresol = tsresol;
  if (tsresol & 0x80) {
    f.mul = (tsresol & 0x7f) == 0 ? 1'000'000'000u : 0;
  } else if (tsresol <= 9) {
    f.mul = 1;
    for (int k = tsresol; k < 9; ++k) f.mul *= 10;
  } else {
    f.mul = 0;
  }
  f.offset_ns = int64_t(tsoffset * uint64_t(kNanosPerSecond));
  f.global = uint32_t(interfaces_.size());
  bool device = !ifname.empty();
  if (!device) ifname = fmt::format("{}#{}", name_, f.global);
  interfaces_.push_back({std::move(ifname), f.linktype, device});
  section_.push_back(f);
}

// Reads the blocks before the first packet so that interfaces() is known after open().
void PcapFileReader::ng_prime() {
  while (!done_) {
    if (end_ - cur_ >= 8) {
      const uint32_t type = ld32(cur_);
      if (type == kBlockEpb || type == kBlockSpb || type == kBlockPb) break;
    }
    const Step step = ng_block(nullptr);
    if (step == Step::kStop) break;
    if (step == Step::kNeedMore && !refill(need_)) break;
  }
}

PcapFileReader::Step PcapFileReader::ng_packet(uint32_t type, uint32_t len, RawPacket* out) {
  const uint8_t* p = cur_;
  const NgInterface* f;
  uint32_t caplen, wirelen;
  Timestamp ts;
  const uint8_t* data;
  if (type == kBlockSpb) {
    if (len < kSpbMinLen) return bad_block(len, "simple packet block too short");
    if (section_.empty()) {
      return bad_block(len, "simple packet block before any interface description");
    }
    f = &section_[0];
    wirelen = ld32(p + 8);
    caplen = std::min(wirelen, len - kSpbMinLen);
    if (f->snaplen != 0) caplen = std::min(caplen, f->snaplen);
    // No timestamp of its own: the previous packet's keeps the stream in order.
    ts = last_ts_;
    data = p + 12;
  } else {
    if (len < kEpbMinLen) return bad_block(len, "packet block too short");
    const uint32_t ifc = type == kBlockEpb ? ld32(p + 8) : ld16(p + 8);
    if (ifc >= section_.size()) {
      return bad_block(len, fmt::format("packet of interface {}, but the section defines {}", ifc,
                                        section_.size()));
    }
    f = &section_[ifc];
    caplen = ld32(p + 20);
    wirelen = ld32(p + 24);
    if (caplen > len - kEpbMinLen) {
      return bad_block(
          len, fmt::format("captured length {} overruns the block of {} bytes", caplen, len));
    }
    ts.ns = ng_time(*f, uint64_t(ld32(p + 12)) << 32 | ld32(p + 16));
    data = p + 28;
  }
  if (caplen > kMaxCaplen) {
    return bad_block(len, fmt::format("captured length {} exceeds {} bytes", caplen, kMaxCaplen));
  }
  out->ts = ts;
  out->data = data;
  out->caplen = caplen;
  out->wirelen = wirelen;
  out->linktype = f->linktype;
  out->interface = f->global;
  last_ts_ = ts;
  cur_ += len;
  return Step::kEmitted;
}

}  // namespace flowkit::capture
