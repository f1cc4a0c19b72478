#include "collect/packet_queue.h"

#include <cstring>

namespace flowkit::collect {

bool PacketBlock::append(const Origin& from, int64_t received_ns, std::span<const uint8_t> bytes) {
  size_t need = sizeof(Header) + ((bytes.size() + 7) & ~size_t(7));
  if (used_ + need > kSize) return false;
  Header h{from.address, from.port,   from.source, uint32_t(bytes.size()),
           received_ns,  from.stream, from.end,    {}};
  std::memcpy(data_.get() + used_, &h, sizeof h);
  if (!bytes.empty()) std::memcpy(data_.get() + used_ + sizeof h, bytes.data(), bytes.size());
  used_ += need;
  ++count_;
  return true;
}

size_t PacketBlock::read(size_t off, Datagram& d) const {
  Header h;
  std::memcpy(&h, data_.get() + off, sizeof h);
  d.from = {h.address, h.port, h.source, h.stream != 0, h.end != 0};
  d.received_ns = h.received_ns;
  d.bytes = {data_.get() + off + sizeof h, h.size};
  return off + sizeof h + ((h.size + 7) & ~size_t(7));
}

PacketQueue::PacketQueue(size_t max_bytes)
    : max_blocks_(std::max<size_t>(4, max_bytes / PacketBlock::kSize)) {}

std::unique_ptr<PacketBlock> PacketQueue::get_block() {
  std::lock_guard lock(mu_);
  if (!free_.empty()) {
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  if (allocated_ >= max_blocks_) return nullptr;
  ++allocated_;
  return std::make_unique<PacketBlock>();
}

std::unique_ptr<PacketBlock> PacketQueue::get_block_waiting() {
  std::unique_lock lock(mu_);
  free_cv_.wait(lock, [&] { return closed_ || !free_.empty() || allocated_ < max_blocks_; });
  if (closed_) return nullptr;
  if (!free_.empty()) {
    auto b = std::move(free_.back());
    free_.pop_back();
    return b;
  }
  ++allocated_;
  return std::make_unique<PacketBlock>();
}

void PacketQueue::push(std::unique_ptr<PacketBlock> b) {
  {
    std::lock_guard lock(mu_);
    queued_bytes_ += b->bytes();
    queue_.push_back(std::move(b));
    peak_ = std::max(peak_, queue_.size());
    peak_bytes_ = std::max(peak_bytes_, queued_bytes_);
  }
  ready_cv_.notify_one();
}

bool PacketQueue::consumer_idle() const {
  std::lock_guard lock(mu_);
  return waiting_ > 0 && queue_.empty();
}

std::unique_ptr<PacketBlock> PacketQueue::pop(std::chrono::milliseconds wait) {
  std::unique_lock lock(mu_);
  ++waiting_;
  bool ready = ready_cv_.wait_for(lock, wait, [&] { return !queue_.empty(); });
  --waiting_;
  if (!ready) return nullptr;
  auto b = std::move(queue_.front());
  queue_.pop_front();
  queued_bytes_ -= b->bytes();
  return b;
}

void PacketQueue::recycle(std::unique_ptr<PacketBlock> b) {
  b->clear();
  {
    std::lock_guard lock(mu_);
    free_.push_back(std::move(b));
  }
  free_cv_.notify_one();
}

void PacketQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
  }
  free_cv_.notify_all();
  ready_cv_.notify_all();
}

size_t PacketQueue::peak_queued_bytes() const {
  std::lock_guard lock(mu_);
  return peak_bytes_;
}

size_t PacketQueue::peak_queued() const {
  std::lock_guard lock(mu_);
  return peak_;
}

}  // namespace flowkit::collect
