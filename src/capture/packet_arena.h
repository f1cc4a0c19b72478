// PacketArena: where sources whose packet memory is short-lived (libpcap) copy the packets of one
// batch. A bump allocator over chunks that are kept across batches, so that after the first
// batches it allocates nothing. Internal to src/capture.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace flowkit::capture {

class PacketArena {
 public:
  explicit PacketArena(size_t chunk_size = size_t(4) << 20) : chunk_size_(chunk_size) {}
  PacketArena(const PacketArena&) = delete;
  PacketArena& operator=(const PacketArena&) = delete;

  // Makes every earlier copy invalid and its memory reusable.
  void reset() {
    chunk_ = 0;
    used_ = 0;
  }

  // Returns a copy of data[0, n) that stays valid until reset().
  const uint8_t* copy(const uint8_t* data, size_t n) {
    while (chunk_ < chunks_.size() && used_ + n > chunks_[chunk_].size) {
      ++chunk_;
      used_ = 0;
    }
    if (chunk_ == chunks_.size()) {
      const size_t size = n > chunk_size_ ? n : chunk_size_;
      chunks_.push_back({std::make_unique_for_overwrite<uint8_t[]>(size), size});
      used_ = 0;
    }
    uint8_t* dst = chunks_[chunk_].data.get() + used_;
    if (n != 0) std::memcpy(dst, data, n);
    used_ += n;
    return dst;
  }

 private:
  struct Chunk {
    std::unique_ptr<uint8_t[]> data;
    size_t size;
  };
  std::vector<Chunk> chunks_;
  size_t chunk_size_;
  size_t chunk_ = 0;  // chunk being filled
  size_t used_ = 0;   // bytes used in it
};

}  // namespace flowkit::capture
