// The store's file format, version 1, as docs/file-format.md gives it byte by byte: the fixed
// headers and the footer, read and written here and nowhere else.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/flow_record.h"

namespace flowkit::store {

inline constexpr uint8_t kFileMagic[8] = {0x89, 'F', 'K', 'S', '\r', '\n', 0x1a, '\n'};
inline constexpr uint8_t kBlockMagic[4] = {'F', 'B', 'L', 'K'};
inline constexpr uint8_t kFooterMagic[8] = {'F', 'K', 'S', 'F', 'O', 'O', 'T', '\n'};
inline constexpr uint16_t kVersion = 1;
inline constexpr size_t kFileHeaderSize = 32;
inline constexpr size_t kBlockHeaderSize = 40;
inline constexpr size_t kDescriptorSize = 40;
inline constexpr size_t kIndexEntrySize = 32;
inline constexpr size_t kTrailerSize = 32;
// Rows per block: big enough for compression to find repeats, small enough that a query
// skipping by time range skips little it needs.
inline constexpr uint32_t kMaxBlockRows = 32768;
// What a reader accepts, so that a damaged or hostile file cannot make it allocate without
// bound: rows per block, and a string or list chunk's decompressed size (fixed-size columns are
// bounded by their rows).
inline constexpr uint32_t kMaxReadRows = 1 << 20;
inline constexpr uint32_t kMaxVariableChunk = 256 << 20;
// Distinct strings a string dictionary (encoding 11) holds at most: its indexes take 2 bytes.
inline constexpr uint32_t kMaxStringDictionary = 1 << 16;

enum class Codec : uint8_t { kNone = 0, kZstd = 1, kLz4 = 2 };
enum class Encoding : uint8_t {
  kPlain = 0,
  kFrameOfReference = 1,
  kDelta = 2,
  kIpv4 = 3,
  kStrings = 4,
  kList = 5,
  kDictionary = 6,
  kBytePlanes = 7,
  kPredicted = 8,
  kMixedIp = 9,
  kResidual = 10,
  kStringDictionary = 11,
  kLateResidual = 12,
  kKeyedStrings = 13,
};
inline constexpr uint8_t kLastEncoding = 13;
// The encoding byte's high bit: the column's presence is an earlier column's bitmap (its index
// among the block's columns starts the chunk, in place of a bitmap of its own).
inline constexpr uint8_t kSharedPresence = 0x80;

uint64_t checksum(std::span<const uint8_t> bytes);
// Set only by the reader's fuzz target (tests/fuzz/store_reader_fuzz.cpp): every checksum then
// matches, so that the fuzzer reaches the decoders behind them. A flag rather than a build mode,
// so that the sanitizer build's tests and fuzz targets share one tree.
inline bool fuzzing_accepts_any_checksum = false;
// Whether `stored` is the checksum of `bytes` (its low bits, under `mask`).
inline bool checksum_matches(uint64_t stored, std::span<const uint8_t> bytes,
                             uint64_t mask = ~uint64_t(0)) {
  return fuzzing_accepts_any_checksum || stored == (checksum(bytes) & mask);
}

struct FileHeader {
  uint16_t version = kVersion;
  Timestamp interval_start;
  uint32_t interval_seconds = 0;
};
void put_file_header(const FileHeader& h, uint8_t out[kFileHeaderSize]);
// nullopt for a file that is not a store file, or of a newer version (error says which).
std::optional<FileHeader> parse_file_header(std::span<const uint8_t> bytes, std::string* error);

struct ColumnDescriptor {
  uint16_t field = 0;  // permanent field id
  Direction dir = Direction::kForward;
  uint8_t type = 0;  // FieldType
  Codec codec = Codec::kNone;
  Encoding encoding = Encoding::kPlain;
  bool bitmap = false;  // the chunk starts with a presence bitmap
  // With bitmap: the chunk starts instead with the varint index of an earlier column of the
  // block, whose bitmap this column's presence is (kSharedPresence).
  bool shared_presence = false;
  bool has_minmax = false;
  uint32_t stored_size = 0;
  uint32_t raw_size = 0;
  uint64_t checksum = 0;
  uint64_t min = 0, max = 0;
};

struct BlockHeader {
  uint32_t header_size = 0;  // fixed part, descriptors and checksum
  uint32_t rows = 0;
  Timestamp time_min, time_max;
  uint64_t data_size = 0;
  std::vector<ColumnDescriptor> columns;
  size_t total_size() const { return header_size + data_size; }
};
// The header's bytes (fixed part, descriptors, checksum).
void put_block_header(const BlockHeader& h, std::vector<uint8_t>& out);
enum class HeaderCheck : uint8_t { kOk, kTruncated, kCorrupt };
// Reads a block header at the start of `bytes`; kTruncated when bytes end inside it (more may
// come), kCorrupt when its magic or checksum is wrong.
HeaderCheck parse_block_header(std::span<const uint8_t> bytes, BlockHeader* h);
// The header's size from its first 8 bytes (0 when they are not a block's).
uint32_t peek_block_header_size(std::span<const uint8_t> first8);

struct IndexEntry {
  uint64_t offset = 0;
  uint32_t rows = 0;
  Timestamp time_min, time_max;
};
void put_footer(std::span<const IndexEntry> index, uint64_t index_offset,
                std::vector<uint8_t>& out);
// The index from a file's last bytes, or nullopt when the file has no valid footer. `tail` is
// the end of the file, `file_size` its size.
std::optional<std::vector<IndexEntry>> parse_footer(std::span<const uint8_t> tail,
                                                    uint64_t file_size, uint64_t* index_offset);
// The bytes a footer of n blocks takes.
inline size_t footer_size(size_t blocks) {
  return blocks * kIndexEntrySize + kTrailerSize;
}

}  // namespace flowkit::store
