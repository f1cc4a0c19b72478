// PreparedSource: the meter's first stage (reading the capture, sampling, decoding) on a thread
// of its own, so that it overlaps with counting (Meter::count) on the caller's thread. On two
// cores a large file takes about 0.65 of the time (bench/meter_vs_nfpcapd.sh). Batches pass
// through a ring of slots in order, so the flows are the same as with one thread, record for
// record.
#pragma once

#include <array>
#include <atomic>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "capture/packet_source.h"
#include "meter/meter.h"

namespace flowkit::meter {

class PreparedSource {
 public:
  struct Batch {
    std::span<const DecodedPacket> packets;  // may be empty before the end (see end)
    bool end = false;                        // the source is exhausted: the last batch
    bool keyed = false;                      // the packets carry their keys
    capture::SourceStats stats;              // the source's statistics after this batch
    std::vector<std::string> warnings;       // the source's warnings that came with it
    // Interfaces the source learned since the previous batch (Meter::add_interfaces), before
    // the packets that use them.
    std::vector<capture::InterfaceInfo> new_interfaces;
  };

  // Starts reading `source` at once. The source belongs to the reader thread until this object
  // is destroyed. `options` must be the meter's.
  PreparedSource(capture::PacketSource& source, const MeterOptions& options);
  // Stops the reader thread (after its current batch) and waits for it.
  ~PreparedSource();
  PreparedSource(const PreparedSource&) = delete;
  PreparedSource& operator=(const PreparedSource&) = delete;

  // The next batch, valid until the next call.
  const Batch& next();

 private:
  static constexpr uint32_t kSlots = 64;
  static constexpr size_t kBatchSize = 256;
  // A count of slots that one thread raises and the other waits on. A waiting thread spins for
  // a short while first: each thread has a core of its own, and most waits are shorter than a
  // futex sleep and wake-up. A longer wait means the other thread is the slow one (a cold disk,
  // a pipe); the waiter then sleeps until the count has moved `ahead`, and only then does the
  // raising thread wake it. So waiting costs no CPU, and the other thread pays one wake-up per
  // `ahead` batches, not one per batch.
  class SlotCount {
   public:
    uint32_t load() const { return n_.load(std::memory_order_acquire); }
    // `urgent` (the end of the input, a stop) wakes a sleeping waiter whatever it waits for.
    void store(uint32_t n, bool urgent = false);
    // Returns once the count is no longer `old`: at once when it moves soon, else when it has
    // moved `ahead` (or an urgent store came).
    void wait_change(uint32_t old, uint32_t ahead);

   private:
    std::atomic<uint32_t> n_{0};
    std::atomic<uint32_t> wake_at_{0};
    std::atomic<bool> sleeping_{false};
    std::atomic<bool> urgent_{false};
  };
  static constexpr uint32_t kWakeAhead = kSlots / 4;
  struct Slot {
    std::vector<DecodedPacket> packets = std::vector<DecodedPacket>(kBatchSize);
    std::vector<uint8_t> payload;  // what dissectors read, when the source reuses its buffer
    Batch batch;
  };
  void run(MeterOptions options);

  capture::PacketSource& source_;
  std::array<Slot, kSlots> slots_;
  // Slots filled and slots given back, counted from the start (wrapping).
  alignas(64) SlotCount produced_;
  alignas(64) SlotCount consumed_;
  std::atomic<bool> stop_{false};
  uint32_t taken_ = 0;  // consumer: slots received
  bool holding_ = false;
  bool ended_ = false;
  Batch end_;
  std::thread thread_;
};

}  // namespace flowkit::meter
