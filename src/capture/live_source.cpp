#include "capture/live_source.h"

#include <fmt/format.h>
#include <pcap/pcap.h>
#include <poll.h>

#include <cerrno>

#include "capture/libpcap_file_reader.h"

namespace flowkit::capture {

struct LiveSource::Handle {
  pcap_t* pcap = nullptr;
  int fd = -1;
  uint32_t interface = 0;
  uint32_t linktype = 0;
  bool nanos = false;
  bool alive = true;
  mutable uint64_t drops = 0;  // last pcap_stats() answer, kept when the handle fails
};

namespace {

std::string device_list() {
  std::vector<std::string> names = list_devices();
  if (names.empty()) return "libpcap finds no capture devices here";
  return fmt::format("devices here: {}", fmt::join(names, ", "));
}

std::string activate_error(const std::string& name, int rc, pcap_t* p) {
  const std::string detail = pcap_geterr(p);
  switch (rc) {
    case PCAP_ERROR_PERM_DENIED:
      return fmt::format(
          "cannot capture on '{}': permission denied ({}); run as root, or allow the program to "
          "capture: sudo setcap cap_net_raw,cap_net_admin=eip /path/to/flowkit",
          name, detail);
    case PCAP_ERROR_PROMISC_PERM_DENIED:
      return fmt::format(
          "cannot put '{}' in promiscuous mode: permission denied; run as root, or capture "
          "without promiscuous mode",
          name);
    case PCAP_ERROR_NO_SUCH_DEVICE:
      return fmt::format("no capture device '{}'{}; {}", name,
                         detail.empty() ? "" : " (" + detail + ")", device_list());
    case PCAP_ERROR_IFACE_NOT_UP:
      return fmt::format("interface '{0}' is down; bring it up first (ip link set {0} up)", name);
    default:
      return fmt::format("cannot capture on '{}': {}{}", name, pcap_statustostr(rc),
                         detail.empty() ? "" : " (" + detail + ")");
  }
}

struct DispatchContext {
  RawPacket* out;
  size_t capacity;
  size_t count;
  uint64_t bytes;
  PacketArena* arena;
  uint32_t interface;
  uint32_t linktype;
  int64_t frac_to_ns;
};

void on_packet(u_char* user, const pcap_pkthdr* hdr, const u_char* data) {
  auto* c = reinterpret_cast<DispatchContext*>(user);
  if (c->count == c->capacity) return;  // pcap_dispatch honours its count; never overrun
  RawPacket& r = c->out[c->count++];
  r.ts.ns = int64_t(hdr->ts.tv_sec) * kNanosPerSecond + int64_t(hdr->ts.tv_usec) * c->frac_to_ns;
  r.data = c->arena->copy(data, hdr->caplen);
  r.caplen = hdr->caplen;
  r.wirelen = hdr->len;
  r.linktype = c->linktype;
  r.interface = c->interface;
  c->bytes += hdr->caplen;
}

}  // namespace

std::vector<std::string> list_devices() {
  std::vector<std::string> names;
  char errbuf[PCAP_ERRBUF_SIZE] = {};
  pcap_if_t* all = nullptr;
  if (pcap_findalldevs(&all, errbuf) != 0) return names;
  for (pcap_if_t* d = all; d; d = d->next) names.emplace_back(d->name);
  pcap_freealldevs(all);
  return names;
}

LiveSource::LiveSource(const LiveOptions& options) : timeout_ms_(options.timeout_ms) {}

LiveSource::~LiveSource() {
  for (Handle& h : handles_) pcap_close(h.pcap);
}

Result<std::unique_ptr<LiveSource>> LiveSource::open(const LiveOptions& options) {
  if (options.interfaces.empty()) {
    return Status::invalid_argument(
        fmt::format("no interface to capture on; name one with -i ({})", device_list()));
  }
  std::unique_ptr<LiveSource> src(new LiveSource(options));
  for (const std::string& name : options.interfaces) {
    char errbuf[PCAP_ERRBUF_SIZE] = {};
    pcap_t* p = pcap_create(name.c_str(), errbuf);
    if (!p) return Status::error(fmt::format("cannot capture on '{}': {}", name, errbuf));
    src->handles_.push_back({});
    Handle& h = src->handles_.back();
    h.pcap = p;
    h.interface = uint32_t(src->interfaces_.size());
    pcap_set_snaplen(p, options.snaplen);
    pcap_set_promisc(p, options.promiscuous ? 1 : 0);
    pcap_set_timeout(p, options.timeout_ms);
    pcap_set_immediate_mode(p, options.immediate ? 1 : 0);
    pcap_set_buffer_size(p, options.buffer_bytes);
    // Where the platform cannot, libpcap keeps microseconds; the precision is read back below.
    pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO);
    const int rc = pcap_activate(p);
    if (rc < 0) return Status::error(activate_error(name, rc, p));
    if (rc > 0) {
      src->warnings_.push_back(
          fmt::format("{}: {} ({})", name, pcap_statustostr(rc), pcap_geterr(p)));
    }
    h.nanos = pcap_get_tstamp_precision(p) == PCAP_TSTAMP_PRECISION_NANO;
    h.linktype = linktype_from_dlt(pcap_datalink(p));
    if (!options.filter.empty()) {
      bpf_program prog;
      if (pcap_compile(p, &prog, options.filter.c_str(), 1, PCAP_NETMASK_UNKNOWN) != 0) {
        return Status::error(
            fmt::format("invalid capture filter '{}': {}", options.filter, pcap_geterr(p)));
      }
      const int set = pcap_setfilter(p, &prog);
      pcap_freecode(&prog);
      if (set != 0) {
        return Status::error(
            fmt::format("cannot apply the capture filter on '{}': {}", name, pcap_geterr(p)));
      }
    }
    if (pcap_setnonblock(p, 1, errbuf) != 0) {
      return Status::error(fmt::format("cannot capture on '{}': {}", name, errbuf));
    }
    h.fd = pcap_get_selectable_fd(p);
    src->interfaces_.push_back({name, h.linktype, true});
  }
  src->pollfds_.reserve(src->handles_.size());
  return src;
}

size_t LiveSource::dispatch(std::span<RawPacket> out) {
  size_t n = 0;
  const size_t count = handles_.size();
  bool any_alive = false;
  for (size_t j = 0; j < count && n < out.size(); ++j) {
    Handle& h = handles_[(next_handle_ + j) % count];
    if (!h.alive) continue;
    any_alive = true;
    DispatchContext c{out.data() + n, out.size() - n, 0,          0,
                      &arena_,        h.interface,    h.linktype, h.nanos ? 1 : 1000};
    // One pcap_dispatch() hands out at most one kernel block; go on until the ring is empty.
    while (c.count < c.capacity) {
      const int rc = pcap_dispatch(h.pcap, int(c.capacity - c.count), on_packet,
                                   reinterpret_cast<u_char*>(&c));
      if (rc == 0 || rc == PCAP_ERROR_BREAK) break;
      if (rc < 0) {
        warnings_.push_back(fmt::format("capture on '{}' failed: {}; stopped capturing there",
                                        interfaces_[h.interface].name, pcap_geterr(h.pcap)));
        h.alive = false;
        break;
      }
    }
    n += c.count;
    bytes_ += c.bytes;
  }
  next_handle_ = count ? (next_handle_ + 1) % count : 0;
  if (!any_alive) finished_ = true;
  return n;
}

size_t LiveSource::read_batch(std::span<RawPacket> out) {
  arena_.reset();
  if (finished_ || out.empty()) return 0;
  const bool stopping = stop_requested_.load(std::memory_order_relaxed);
  size_t n = dispatch(out);
  if (n == 0 && !stopping && !finished_) {
    pollfds_.clear();
    for (const Handle& h : handles_) {
      if (h.alive && h.fd >= 0) pollfds_.push_back({h.fd, POLLIN, 0});
    }
    // EINTR (a signal, likely the one that calls stop()) just ends the wait early.
    ::poll(pollfds_.data(), nfds_t(pollfds_.size()), timeout_ms_);
    n = dispatch(out);
  }
  // Stopping: the batch that did not fill up emptied every ring, so nothing more is pending.
  if (stopping && n < out.size()) finished_ = true;
  packets_ += n;
  return n;
}

std::vector<std::string> LiveSource::take_warnings() {
  return std::exchange(warnings_, {});
}

SourceStats LiveSource::stats() const {
  SourceStats s;
  s.packets = packets_;
  s.bytes_read = bytes_;
  for (const Handle& h : handles_) {
    pcap_stat ps{};
    if (h.alive && pcap_stats(h.pcap, &ps) == 0) h.drops = ps.ps_drop;
    s.kernel_drops += h.drops;
  }
  return s;
}

}  // namespace flowkit::capture
