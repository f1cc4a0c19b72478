// Reads a store file: its blocks' headers at open (from the footer's index when the file was
// closed, else by walking the blocks from the start, as for a file still being written), then a
// block's columns on demand, each chunk checked against its checksum. Damage is reported, never
// fatal: a torn end is ignored with a warning, a corrupt block is named and skipped.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "core/result.h"
#include "store/block.h"
#include "store/format.h"

namespace flowkit::store {

struct BlockEntry {
  uint64_t offset = 0;
  BlockHeader header;
};

class FileReader {
 public:
  // kNotFound, kIoError, or kCorruption when the file is not a store file at all.
  static Result<FileReader> open(const std::string& path);
  FileReader(FileReader&&) noexcept;
  FileReader& operator=(FileReader&&) noexcept;
  ~FileReader();

  const std::string& path() const { return path_; }
  const FileHeader& header() const { return header_; }
  uint64_t size() const { return size_; }
  bool has_footer() const { return has_footer_; }
  // Blocks whose headers read correctly, in file order.
  const std::vector<BlockEntry>& blocks() const { return blocks_; }
  // Damage met while opening: a torn end, blocks with broken headers (one line each).
  const std::vector<std::string>& warnings() const { return warnings_; }
  // Blocks whose headers were unreadable (skipped), and bytes at the end that held no block.
  size_t bad_blocks() const { return bad_blocks_; }
  uint64_t ignored_bytes() const { return ignored_bytes_; }

  // Reads block i's columns into out: those named in `want` (every stored column when empty).
  // kCorruption (naming the file, offset and column) when a chunk fails its checks.
  Status read_block(size_t i, std::span<const Column> want, Block& out) const;
  // Adds the columns of `want` that `out` (block i, as read_block left it) lacks, their values
  // decoded only for the rows with only[row] != 0 where the encoding allows (a scan reads the
  // filter's columns first, then the others for the rows that passed).
  Status read_more(size_t i, std::span<const Column> want, Block& out,
                   std::span<const uint8_t> only) const;

 private:
  FileReader() = default;
  Status pread_exact(uint64_t offset, size_t n, std::vector<uint8_t>& out) const;
  Status pread_into(uint64_t offset, std::span<uint8_t> out) const;
  void scan_blocks(uint64_t end);
  // A column's chunk at `at`: read into `stored`, checked against its checksum and decompressed
  // into the start of `raw`. Both only grow: shrinking them to each chunk and growing them again
  // for the next zeroed the difference every time.
  Result<std::span<const uint8_t>> load_chunk(uint64_t at, const ColumnDescriptor& d,
                                              std::vector<uint8_t>& stored,
                                              std::vector<uint8_t>& raw) const;
  // The bitmap of the earlier column whose presence a shared_presence column's chunk (raw,
  // decompressed) names; chunk_offsets holds the block's chunks up to that column.
  Result<std::span<const uint8_t>> shared_presence(const BlockEntry& b,
                                                   std::span<const uint64_t> chunk_offsets,
                                                   std::span<const uint8_t> raw) const;

  std::string path_;
  int fd_ = -1;
  uint64_t size_ = 0;
  FileHeader header_;
  bool has_footer_ = false;
  std::vector<BlockEntry> blocks_;
  std::vector<std::string> warnings_;
  size_t bad_blocks_ = 0;
  uint64_t ignored_bytes_ = 0;
};

}  // namespace flowkit::store
