// LiveSource: packets from one or more live interfaces through libpcap, multiplexed with poll()
// so that read_batch() returns within about one poll timeout even when nothing arrives: the
// caller runs flow expiry and checks its stop flag between calls.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "capture/packet_arena.h"
#include "capture/packet_source.h"
#include "core/result.h"

typedef struct pcap pcap_t;
struct pollfd;

namespace flowkit::capture {

struct LiveOptions {
  std::vector<std::string> interfaces;  // -i arguments, in order (none: open() fails)
  std::string filter;                   // BPF expression (tcpdump syntax); empty: all packets
  int snaplen = 262144;
  bool promiscuous = true;  // as tcpdump; false is tcpdump's -p
  // Deliver each packet at once instead of when the kernel's buffer block fills or the timeout
  // expires: lower latency, more wake-ups.
  bool immediate = false;
  int buffer_bytes = 32 << 20;  // kernel ring per interface
  int timeout_ms = 100;         // longest wait in read_batch() when nothing arrives
};

class LiveSource final : public PacketSource {
 public:
  // Opens and activates every interface, applies the filter to each and makes them
  // non-blocking. Fails with a message that says what to do: no permission (run as root or
  // setcap), no such device (lists the devices there are), interface down, bad filter (libpcap's
  // message).
  static Result<std::unique_ptr<LiveSource>> open(const LiveOptions& options);
  ~LiveSource() override;
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  // Copies up to out.size() packets into an internal buffer; their data stay valid until the
  // next call. Waits at most timeout_ms when nothing is pending, and then returns 0. Timestamps
  // are the kernel's (nanoseconds where the platform gives them). Packets of different
  // interfaces are not merged in time order.
  size_t read_batch(std::span<RawPacket> out) override;
  // True after stop() once what was already captured has been handed out, or when every
  // interface failed (the reason is in take_warnings()).
  bool finished() const override { return finished_; }
  std::vector<std::string> take_warnings() override;
  // One per -i argument, named by it, in order; RawPacket::interface indexes this list.
  const std::vector<InterfaceInfo>& interfaces() const override { return interfaces_; }
  // packets handed out; bytes_read: captured bytes; kernel_drops: from pcap_stats().
  SourceStats stats() const override;

  // Asks the source to finish: from the next read_batch() on it no longer waits, hands out
  // what is pending, then reports finished(). A read_batch() already waiting returns within
  // timeout_ms (at once when a signal interrupts it). Async-signal-safe (it only sets an atomic
  // flag), so a SIGINT handler may call it.
  void stop() { stop_requested_.store(true, std::memory_order_relaxed); }

 private:
  struct Handle;
  explicit LiveSource(const LiveOptions& options);
  size_t dispatch(std::span<RawPacket> out);

  std::vector<Handle> handles_;
  std::vector<pollfd> pollfds_;
  std::vector<InterfaceInfo> interfaces_;
  std::vector<std::string> warnings_;
  PacketArena arena_;
  int timeout_ms_;
  size_t next_handle_ = 0;  // where dispatch starts, so that no interface starves
  bool finished_ = false;
  std::atomic<bool> stop_requested_{false};
  uint64_t packets_ = 0;
  uint64_t bytes_ = 0;
  static_assert(std::atomic<bool>::is_always_lock_free, "stop() must be async-signal-safe");
};

// The names of the capture devices libpcap finds, or an empty list.
std::vector<std::string> list_devices();

}  // namespace flowkit::capture
