#include "store/file_reader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/byte_io.h"

namespace flowkit::store {

Result<FileReader> FileReader::open(const std::string& path) {
  FileReader r;
  r.path_ = path;
  r.fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (r.fd_ < 0) {
    std::string why = path + ": " + std::strerror(errno);
    return errno == ENOENT ? Status::not_found(why) : Status::io_error(why);
  }
  struct stat st {};
  if (::fstat(r.fd_, &st) != 0) return Status::io_error(path + ": " + std::strerror(errno));
  if (S_ISDIR(st.st_mode)) return Status::invalid_argument(path + ": is a directory");
  r.size_ = uint64_t(st.st_size);
  // A writer writes the header with the first block: an empty file is one just begun.
  if (r.size_ == 0) return r;
  std::vector<uint8_t> buf;
  if (r.size_ < kFileHeaderSize)
    return Status::corruption(path + ": " + std::to_string(r.size_) +
                              " bytes, shorter than a store file's header");
  if (Status s = r.pread_exact(0, kFileHeaderSize, buf); !s.ok()) return s;
  std::string error;
  auto header = parse_file_header(buf, &error);
  if (!header) return Status::corruption(path + ": " + error);
  r.header_ = *header;

  // The footer's index, when the file was closed.
  uint64_t index_offset = 0;
  if (r.size_ >= kFileHeaderSize + kTrailerSize &&
      r.pread_exact(r.size_ - kTrailerSize, kTrailerSize, buf).ok()) {
    uint64_t blocks = load_le32(buf.data() + 8);
    uint64_t tail = blocks * kIndexEntrySize + kTrailerSize;
    bool magic = std::memcmp(buf.data() + 24, kFooterMagic, 8) == 0;
    if (magic && tail <= r.size_ - kFileHeaderSize &&
        r.pread_exact(r.size_ - tail, size_t(tail), buf).ok()) {
      if (auto index = parse_footer(buf, r.size_, &index_offset)) {
        r.has_footer_ = true;
        for (const IndexEntry& e : *index) {
          BlockEntry b{e.offset, {}};
          std::vector<uint8_t> head;
          bool ok = r.pread_exact(e.offset, 8, head).ok();
          uint32_t hs = ok ? peek_block_header_size(head) : 0;
          ok = hs && e.offset + hs <= index_offset && r.pread_exact(e.offset, hs, head).ok() &&
               parse_block_header(head, &b.header) == HeaderCheck::kOk &&
               e.offset + b.header.total_size() <= index_offset;
          if (ok) {
            r.blocks_.push_back(std::move(b));
          } else {
            ++r.bad_blocks_;
            r.warnings_.push_back(path + ": block at offset " + std::to_string(e.offset) +
                                  ": header damaged; block skipped");
          }
        }
        return r;
      }
    }
    // No footer is a file still being written (or cut short): its blocks are read from the
    // start. A footer that fails its checks is damage, and said.
    if (magic) r.warnings_.push_back(path + ": footer damaged; blocks read from the start");
  }
  r.scan_blocks(r.size_);
  return r;
}

void FileReader::scan_blocks(uint64_t end) {
  uint64_t pos = kFileHeaderSize;
  std::vector<uint8_t> head;
  while (pos < end) {
    BlockEntry b{pos, {}};
    uint32_t hs = 0;
    if (end - pos >= 8 && pread_exact(pos, 8, head).ok()) hs = peek_block_header_size(head);
    HeaderCheck check = HeaderCheck::kTruncated;
    if (hs && pos + hs <= end && pread_exact(pos, hs, head).ok())
      check = parse_block_header(head, &b.header);
    if (check == HeaderCheck::kOk && pos + b.header.total_size() <= end) {
      blocks_.push_back(std::move(b));
      pos += blocks_.back().header.total_size();
      continue;
    }
    // Without an index, nothing says where a next block would start: the file ends here. A
    // footer that failed its checks ends a file this way too.
    ignored_bytes_ = end - pos;
    warnings_.push_back(path_ + ": last " + std::to_string(ignored_bytes_) +
                        " bytes hold no complete block (a write cut short, or damage); ignored");
    return;
  }
}

FileReader::FileReader(FileReader&& o) noexcept {
  *this = std::move(o);
}

FileReader& FileReader::operator=(FileReader&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(o.path_);
    fd_ = std::exchange(o.fd_, -1);
    size_ = o.size_;
    header_ = o.header_;
    has_footer_ = o.has_footer_;
    blocks_ = std::move(o.blocks_);
    warnings_ = std::move(o.warnings_);
    bad_blocks_ = o.bad_blocks_;
    ignored_bytes_ = o.ignored_bytes_;
  }
  return *this;
}

FileReader::~FileReader() {
  if (fd_ >= 0) ::close(fd_);
}

Status FileReader::pread_exact(uint64_t offset, size_t n, std::vector<uint8_t>& out) const {
  out.resize(n);
  return pread_into(offset, out);
}

Status FileReader::pread_into(uint64_t offset, std::span<uint8_t> out) const {
  const size_t n = out.size();
  size_t done = 0;
  while (done < n) {
    ssize_t got = ::pread(fd_, out.data() + done, n - done, off_t(offset + done));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Status::io_error(path_ + ": " + std::strerror(errno));
    if (got == 0)
      return Status::corruption(path_ + ": ends before offset " + std::to_string(offset + n));
    done += size_t(got);
  }
  return {};
}

namespace {

bool known(const ColumnDescriptor& d) {
  return uint8_t(d.codec) <= uint8_t(Codec::kLz4) && uint8_t(d.encoding) <= kLastEncoding &&
         d.type <= uint8_t(FieldType::kList);
}

}  // namespace

Result<std::span<const uint8_t>> FileReader::load_chunk(uint64_t at, const ColumnDescriptor& d,
                                                        std::vector<uint8_t>& stored,
                                                        std::vector<uint8_t>& raw) const {
  hold(stored, d.stored_size);
  hold(raw, d.raw_size);
  const std::span<uint8_t> chunk(stored.data(), d.stored_size), out(raw.data(), d.raw_size);
  if (Status s = pread_into(at, chunk); !s.ok()) return s;
  if (!checksum_matches(d.checksum, chunk)) return Status::corruption("checksum mismatch");
  if (Status s = decompress(d.codec, chunk, out); !s.ok()) return s;
  return std::span<const uint8_t>(out);
}

Result<std::span<const uint8_t>> FileReader::shared_presence(
    const BlockEntry& b, std::span<const uint64_t> chunk_offsets,
    std::span<const uint8_t> raw) const {
  // The column named comes before this one (whose offset is the last known).
  uint64_t index = 0;
  const uint8_t* p = raw.data();
  if (!get_varint(p, raw.data() + raw.size(), &index) || index + 1 >= chunk_offsets.size())
    return Status::corruption("its presence names no earlier column");
  const ColumnDescriptor& owner = b.header.columns[index];
  if (!owner.bitmap || owner.shared_presence || uint8_t(owner.codec) > uint8_t(Codec::kLz4))
    return Status::corruption("its presence names a column without a bitmap of its own");
  const size_t bytes = (b.header.rows + 7) / 8;
  // Columns that share a bitmap mostly share it with the same column: keep the last one read,
  // known by its checksum (readers and blocks come and go at the same addresses and offsets).
  static thread_local struct {
    uint64_t checksum = 0;
    std::vector<uint8_t> bits, stored, raw;
  } last;
  if (!last.bits.empty() && last.checksum == owner.checksum && last.bits.size() == bytes)
    return std::span<const uint8_t>(last.bits);
  last.bits.clear();
  if (owner.raw_size < bytes || owner.raw_size > kMaxVariableChunk)
    return Status::corruption("the column holding its presence is too small for a bitmap");
  Result<std::span<const uint8_t>> bits =
      load_chunk(chunk_offsets[index], owner, last.stored, last.raw);
  if (!bits.ok())
    return Status::corruption("the column holding its presence: " + bits.status().message());
  last.bits.assign(bits->begin(), bits->begin() + ptrdiff_t(bytes));
  last.checksum = owner.checksum;
  return std::span<const uint8_t>(last.bits);
}

Status FileReader::read_block(size_t i, std::span<const Column> want, Block& out) const {
  const BlockEntry& b = blocks_.at(i);
  out.offset = b.offset;
  out.rows = b.header.rows;
  out.time_min = b.header.time_min;
  out.time_max = b.header.time_max;
  // The columns' vectors are kept for the next block (their capacity saves page faults).
  for (ColumnData& c : out.columns) out.spare.push_back(std::move(c));
  out.columns.clear();
  out.arena.reset();
  return read_more(i, want, out, {});
}

Status FileReader::read_more(size_t i, std::span<const Column> want, Block& out,
                             std::span<const uint8_t> only) const {
  const BlockEntry& b = blocks_.at(i);
  // Predicted columns need what their predictions read.
  std::vector<Column> wanted(want.begin(), want.end());
  if (!want.empty()) {
    std::vector<Column> inputs = prediction_inputs(want);
    wanted.insert(wanted.end(), inputs.begin(), inputs.end());
  }
  uint64_t at = b.offset + b.header.header_size;
  static thread_local std::vector<uint8_t> stored, raw_buf;
  static thread_local std::vector<uint32_t> chosen_buf;
  static thread_local std::vector<uint64_t> chunk_offsets;
  chunk_offsets.clear();
  std::span<const uint32_t> chosen;
  if (only.size() == b.header.rows) chosen = chosen_rows(only, chosen_buf);
  for (const ColumnDescriptor& d : b.header.columns) {
    uint64_t chunk_at = at;
    chunk_offsets.push_back(chunk_at);
    at += d.stored_size;
    const FieldInfo* f = find_field(d.field);
    if (!f || f->derived || !known(d) || d.type != uint8_t(f->type)) continue;  // newer or odd
    if (f->scope == FieldScope::kFlow && d.dir == Direction::kReverse) continue;
    if (!wanted.empty() && std::none_of(wanted.begin(), wanted.end(), [&](const Column& c) {
          return c.field == f && c.dir == d.dir;
        }))
      continue;
    if (out.find(f->id, d.dir)) continue;  // read before
    auto damaged = [&](const std::string& what) {
      return Status::corruption(path_ + ": block at offset " + std::to_string(b.offset) +
                                ", column " + std::string(f->name) +
                                (d.dir == Direction::kReverse ? "_rev" : "") + ": " + what);
    };
    // The largest raw chunk a writer makes for the rows: two bitmaps (presence, and address
    // families or predictions), a frame of reference, the values.
    size_t fixed = plain_size(f->type);
    uint64_t limit = fixed ? 2 * ((b.header.rows + 7) / 8) + 9 + uint64_t(b.header.rows) * fixed
                           : kMaxVariableChunk;
    if (d.raw_size > limit) return damaged("decompressed size out of bounds");
    Result<std::span<const uint8_t>> loaded = load_chunk(chunk_at, d, stored, raw_buf);
    if (!loaded.ok()) return damaged(loaded.status().message());
    const std::span<const uint8_t> raw = *loaded;
    std::span<const uint8_t> presence;
    if (d.shared_presence && d.bitmap) {
      Result<std::span<const uint8_t>> p = shared_presence(b, chunk_offsets, raw);
      if (!p.ok()) return damaged(p.status().message());
      presence = *p;
    }
    ColumnData& c = out.columns.emplace_back();
    if (!out.spare.empty()) {
      // The spare that held this column in an earlier block has vectors of its type and size
      // (another's would be grown and zeroed).
      auto same = std::find_if(out.spare.begin(), out.spare.end(),
                               [&](const ColumnData& s) { return s.field == f && s.dir == d.dir; });
      if (same != out.spare.end()) std::swap(*same, out.spare.back());
      c = std::move(out.spare.back());
      out.spare.pop_back();
    }
    if (Status s = decode_column(d, *f, raw, b.header.rows, c, out.arena, only, chosen, presence);
        !s.ok())
      return damaged(s.message());
  }
  out.resolve_predictions(only);
  return {};
}

}  // namespace flowkit::store
