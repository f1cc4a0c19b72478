#include "core/huge_region.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace flowkit {

namespace {
constexpr size_t kHugePage = size_t(2) << 20;
constexpr size_t kSmallStep = size_t(64) << 10;

size_t round_up(size_t n, size_t to) {
  return (n + to - 1) / to * to;
}
}  // namespace

HugeRegion::HugeRegion(size_t capacity) {
  if (capacity == 0) return;
  size_t size = round_up(capacity, kHugePage);
  // One huge page more, so that the region can start on a huge-page boundary. MAP_NORESERVE:
  // only what is committed counts against memory.
  mapped_ = size + kHugePage;
  void* m = ::mmap(nullptr, mapped_, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    mapped_ = 0;
    return;
  }
  map_ = static_cast<uint8_t*>(m);
  base_ = reinterpret_cast<uint8_t*>(round_up(reinterpret_cast<uintptr_t>(map_), kHugePage));
  capacity_ = size;
  // Advice only: without transparent huge pages the region works with small pages.
  if (capacity_ > kHugePage) ::madvise(base_ + kHugePage, capacity_ - kHugePage, MADV_HUGEPAGE);
}

HugeRegion::~HugeRegion() {
  if (map_) ::munmap(map_, mapped_);
}

void HugeRegion::swap(HugeRegion& o) noexcept {
  std::swap(base_, o.base_);
  std::swap(mapped_, o.mapped_);
  std::swap(map_, o.map_);
  std::swap(capacity_, o.capacity_);
  std::swap(committed_, o.committed_);
}

bool HugeRegion::commit(size_t bytes) {
  if (bytes <= committed_) return true;
  if (bytes > capacity_) return false;
  size_t to = round_up(bytes, bytes <= kHugePage ? kSmallStep : kHugePage);
  if (to > capacity_) to = capacity_;
  uint8_t* from = base_ + committed_;
  size_t len = to - committed_;
#ifdef MADV_POPULATE_WRITE
  if (::madvise(from, len, MADV_POPULATE_WRITE) != 0) {
    if (errno == ENOMEM || errno == EFAULT) return false;
#else
  {
#endif
    // A kernel before 5.14: touch every page instead.
    long page = ::sysconf(_SC_PAGESIZE);
    for (size_t off = 0; off < len; off += size_t(page > 0 ? page : 4096))
      reinterpret_cast<volatile uint8_t*>(from)[off] = 0;
  }
  committed_ = to;
  return true;
}

}  // namespace flowkit
