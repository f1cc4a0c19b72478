#include "store/format.h"

#include <xxhash.h>

#include <cstring>

#include "core/byte_io.h"

namespace flowkit::store {

uint64_t checksum(std::span<const uint8_t> bytes) {
  return XXH3_64bits(bytes.data(), bytes.size());
}

void put_file_header(const FileHeader& h, uint8_t out[kFileHeaderSize]) {
  std::memcpy(out, kFileMagic, 8);
  store_le16(out + 8, h.version);
  store_le16(out + 10, kFileHeaderSize);
  store_le32(out + 12, 0);
  store_le64(out + 16, uint64_t(h.interval_start.ns));
  store_le32(out + 24, h.interval_seconds);
  store_le32(out + 28, uint32_t(checksum({out, 28})));
}

std::optional<FileHeader> parse_file_header(std::span<const uint8_t> b, std::string* error) {
  if (b.size() < kFileHeaderSize || std::memcmp(b.data(), kFileMagic, 8) != 0) {
    *error = "not a flowkit store file (no FKS magic)";
    return std::nullopt;
  }
  if (!checksum_matches(load_le32(b.data() + 28), b.first(28), 0xffffffff)) {
    *error = "file header checksum mismatch";
    return std::nullopt;
  }
  FileHeader h;
  h.version = load_le16(b.data() + 8);
  if (h.version > kVersion || h.version == 0) {
    *error = "format version " + std::to_string(h.version) + "; this flowkit reads version " +
             std::to_string(kVersion) + " (upgrade flowkit)";
    return std::nullopt;
  }
  if (load_le16(b.data() + 10) != kFileHeaderSize) {
    *error = "unexpected file header size";
    return std::nullopt;
  }
  h.interval_start = Timestamp{int64_t(load_le64(b.data() + 16))};
  h.interval_seconds = load_le32(b.data() + 24);
  return h;
}

void put_block_header(const BlockHeader& h, std::vector<uint8_t>& out) {
  size_t at = out.size();
  size_t size = kBlockHeaderSize + h.columns.size() * kDescriptorSize + 8;
  out.resize(at + size);
  uint8_t* p = out.data() + at;
  std::memcpy(p, kBlockMagic, 4);
  store_le32(p + 4, uint32_t(size));
  store_le32(p + 8, h.rows);
  store_le16(p + 12, uint16_t(h.columns.size()));
  store_le16(p + 14, 0);
  store_le64(p + 16, uint64_t(h.time_min.ns));
  store_le64(p + 24, uint64_t(h.time_max.ns));
  store_le64(p + 32, h.data_size);
  uint8_t* d = p + kBlockHeaderSize;
  for (const ColumnDescriptor& c : h.columns) {
    store_le16(d, c.field);
    d[2] = uint8_t(c.dir);
    d[3] = c.type;
    d[4] = uint8_t(c.codec);
    d[5] = uint8_t(uint8_t(c.encoding) | (c.shared_presence ? kSharedPresence : 0));
    d[6] = c.bitmap;
    d[7] = c.has_minmax;
    store_le32(d + 8, c.stored_size);
    store_le32(d + 12, c.raw_size);
    store_le64(d + 16, c.checksum);
    store_le64(d + 24, c.min);
    store_le64(d + 32, c.max);
    d += kDescriptorSize;
  }
  store_le64(d, checksum({p, size - 8}));
}

uint32_t peek_block_header_size(std::span<const uint8_t> b) {
  if (b.size() < 8 || std::memcmp(b.data(), kBlockMagic, 4) != 0) return 0;
  return load_le32(b.data() + 4);
}

HeaderCheck parse_block_header(std::span<const uint8_t> b, BlockHeader* h) {
  if (b.size() < kBlockHeaderSize) return HeaderCheck::kTruncated;
  if (std::memcmp(b.data(), kBlockMagic, 4) != 0) return HeaderCheck::kCorrupt;
  const uint8_t* p = b.data();
  uint32_t size = load_le32(p + 4);
  uint16_t columns = load_le16(p + 12);
  if (size != kBlockHeaderSize + columns * kDescriptorSize + 8) return HeaderCheck::kCorrupt;
  if (b.size() < size) return HeaderCheck::kTruncated;
  if (!checksum_matches(load_le64(p + size - 8), {p, size - 8})) return HeaderCheck::kCorrupt;
  h->header_size = size;
  h->rows = load_le32(p + 8);
  if (h->rows > kMaxReadRows) return HeaderCheck::kCorrupt;
  h->time_min = Timestamp{int64_t(load_le64(p + 16))};
  h->time_max = Timestamp{int64_t(load_le64(p + 24))};
  h->data_size = load_le64(p + 32);
  h->columns.resize(columns);
  const uint8_t* d = p + kBlockHeaderSize;
  uint64_t sum = 0;
  for (ColumnDescriptor& c : h->columns) {
    c.field = load_le16(d);
    c.dir = d[2] ? Direction::kReverse : Direction::kForward;
    c.type = d[3];
    c.codec = Codec(d[4]);
    c.encoding = Encoding(d[5] & ~kSharedPresence);
    c.shared_presence = (d[5] & kSharedPresence) != 0;
    c.bitmap = d[6] != 0;
    c.has_minmax = d[7] != 0;
    c.stored_size = load_le32(d + 8);
    c.raw_size = load_le32(d + 12);
    c.checksum = load_le64(d + 16);
    c.min = load_le64(d + 24);
    c.max = load_le64(d + 32);
    sum += c.stored_size;
    d += kDescriptorSize;
  }
  // A header whose checksum holds but whose sizes disagree was written wrong: corrupt.
  if (sum != h->data_size) return HeaderCheck::kCorrupt;
  return HeaderCheck::kOk;
}

void put_footer(std::span<const IndexEntry> index, uint64_t index_offset,
                std::vector<uint8_t>& out) {
  size_t at = out.size();
  out.resize(at + footer_size(index.size()));
  uint8_t* p = out.data() + at;
  for (const IndexEntry& e : index) {
    store_le64(p, e.offset);
    store_le32(p + 8, e.rows);
    store_le32(p + 12, 0);
    store_le64(p + 16, uint64_t(e.time_min.ns));
    store_le64(p + 24, uint64_t(e.time_max.ns));
    p += kIndexEntrySize;
  }
  store_le64(p, index_offset);
  store_le32(p + 8, uint32_t(index.size()));
  store_le32(p + 12, kVersion);
  store_le64(p + 16, checksum({out.data() + at, size_t(p + 16 - (out.data() + at))}));
  std::memcpy(p + 24, kFooterMagic, 8);
}

std::optional<std::vector<IndexEntry>> parse_footer(std::span<const uint8_t> tail,
                                                    uint64_t file_size, uint64_t* index_offset) {
  if (tail.size() < kTrailerSize) return std::nullopt;
  const uint8_t* t = tail.data() + tail.size() - kTrailerSize;
  if (std::memcmp(t + 24, kFooterMagic, 8) != 0) return std::nullopt;
  uint64_t offset = load_le64(t);
  uint32_t blocks = load_le32(t + 8);
  uint64_t index_bytes = uint64_t(blocks) * kIndexEntrySize;
  if (offset < kFileHeaderSize || offset + index_bytes + kTrailerSize != file_size)
    return std::nullopt;
  if (index_bytes + kTrailerSize > tail.size()) return std::nullopt;
  const uint8_t* p = t - index_bytes;
  if (!checksum_matches(load_le64(t + 16), {p, size_t(index_bytes + 16)})) return std::nullopt;
  std::vector<IndexEntry> index(blocks);
  for (IndexEntry& e : index) {
    e.offset = load_le64(p);
    e.rows = load_le32(p + 8);
    e.time_min = Timestamp{int64_t(load_le64(p + 16))};
    e.time_max = Timestamp{int64_t(load_le64(p + 24))};
    if (e.offset < kFileHeaderSize || e.offset >= offset) return std::nullopt;
    p += kIndexEntrySize;
  }
  *index_offset = offset;
  return index;
}

}  // namespace flowkit::store
