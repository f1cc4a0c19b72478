#include "meter/meter.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <utility>

#include "core/field_registry.h"
#include "dissect/tcp.h"

namespace flowkit::meter {

namespace {

constexpr size_t kRecordBatch = 256;
// Every metered direction has its capture interface.
constexpr uint32_t kMeterDirPresent = uint32_t(presence_bit(FieldId::kInIf));
constexpr uint32_t kInterfaceNamePresent = uint32_t(presence_bit(FieldId::kInterfaceName));
// Software pipeline over the batch: the index slot of packet i + 2k and the flow state of packet
// i + k load while packet i is counted.
constexpr size_t kPrefetchAhead = 6;
constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

// Running sums for flowRecorder's statistics, kept after the FlowState in its slot. Sums of
// squares are integers, so the moments are exact until the export divides them; the sum of
// the sizes is the byte count, the count is the packet count.
struct SizeSums {
  uint32_t min, max;
  uint64_t sumsq;
};
struct GapSums {  // gaps between consecutive packets, in ns
  int64_t min, max, sum;
  int64_t prev;  // time of the previous packet
  unsigned __int128 sumsq;
};
// A direction's sums in one cache line, so that a packet updates two lines: its direction's and
// the gaps of both. The sizes of both directions are not kept: they are the two directions'
// sizes together (both_sizes()).
struct DirStats {
  GapSums gap;
  SizeSums size;
};
static_assert(sizeof(DirStats) == 64);
struct FlowStats {
  DirStats dir[2];  // forward, reverse
  GapSums gap_both;
};

void add_size(SizeSums& s, uint32_t size, uint64_t n) {
  if (n == 1) s.min = s.max = size;
  s.min = std::min(s.min, size);
  s.max = std::max(s.max, size);
  s.sumsq += uint64_t(size) * size;
}

// Inlined by force: it runs twice per packet with statistics.
[[gnu::always_inline]] inline void add_time(GapSums& g, int64_t ts, uint64_t n) {
  if (n > 1) {
    int64_t gap = ts - g.prev;
    if (n == 2) g.min = g.max = gap;
    g.min = std::min(g.min, gap);
    g.max = std::max(g.max, gap);
    g.sum += gap;
    __int128 sq = __int128(gap) * gap;
    g.sumsq += (unsigned __int128)sq;
  }
  g.prev = ts;
}

SummaryStats summarize(double min, double max, long double sum, long double sumsq, uint64_t n,
                       double scale) {
  if (n == 0) return {};
  long double mean = sum / n;
  long double var = sumsq / n - mean * mean;
  double sd = var > 0 ? double(std::sqrt(var)) : 0;
  return SummaryStats{min / scale, max / scale, double(mean) / scale, sd / scale};
}

SummaryStats size_summary(const SizeSums& s, uint64_t bytes, uint64_t n) {
  return summarize(s.min, s.max, bytes, s.sumsq, n, 1);
}

// The packet sizes of both directions: the union of each direction's.
SizeSums both_sizes(const FlowStats& st, const DirCounters (&dir)[2]) {
  SizeSums s{UINT32_MAX, 0, 0};
  for (int d = 0; d < 2; ++d) {
    if (dir[d].packets == 0) continue;
    s.min = std::min(s.min, st.dir[d].size.min);
    s.max = std::max(s.max, st.dir[d].size.max);
    s.sumsq += st.dir[d].size.sumsq;
  }
  return s;
}

SummaryStats gap_summary(const GapSums& g, uint64_t packets) {
  if (packets < 2) return {};
  return summarize(double(g.min), double(g.max), g.sum, (long double)g.sumsq, packets - 1, 1e9);
}

IpAddress ip_of(const uint8_t* b) {
  return IpAddress::v6(b);
}

}  // namespace

namespace {

// A flow's extra bytes in the table: its statistics, its TCP state, then its first packets.
size_t stats_bytes(const MeterOptions& o) {
  return o.stats ? sizeof(FlowStats) : 0;
}
size_t tcp_bytes(const MeterOptions& o) {
  return o.dissect & dissect::kTcpOptions ? sizeof(dissect::TcpTrack) : 0;
}
// The first packets of a flow (--splt): how many were kept, the last one's time, then theirs.
struct SpltHead {
  int64_t last_ts;
  uint32_t count;
};
size_t splt_bytes(const MeterOptions& o) {
  return o.splt ? sizeof(SpltHead) + o.splt * sizeof(SpltPacket) : 0;
}
size_t extra_bytes(const MeterOptions& o) {
  return stats_bytes(o) + tcp_bytes(o) + splt_bytes(o);
}

// The part of a flow's extra bytes at `offset`, as T.
template <class T>
T& extra_at(FlowTable& table, uint32_t id, size_t offset) {
  return *reinterpret_cast<T*>(table.extra(id) + offset);
}
template <class T>
const T& extra_at(const FlowTable& table, uint32_t id, size_t offset) {
  return *reinterpret_cast<const T*>(table.extra(id) + offset);
}
// The packets kept after their SpltHead.
SpltPacket* splt_packets(SpltHead& head) {
  return reinterpret_cast<SpltPacket*>(reinterpret_cast<uint8_t*>(&head) + sizeof(SpltHead));
}
const SpltPacket* splt_packets(const SpltHead& head) {
  return splt_packets(const_cast<SpltHead&>(head));
}

}  // namespace

Meter::Meter(const MeterOptions& options, FlowSink& sink)
    : opt_(options),
      sink_(sink),
      table_(options.max_flows, options.idle_timeout_ns, extra_bytes(options)),
      fragments_(options.fragments, options.key.hash_secret),
      dissection_(options.dissect & ~uint32_t(dissect::kTcpOptions)),
      splt_extra_(options.splt ? stats_bytes(options) + tcp_bytes(options) : SIZE_MAX),
      tcp_extra_(options.dissect & dissect::kTcpOptions ? stats_bytes(options) : SIZE_MAX),
      preparer_(options) {
  if (opt_.sample == 0) opt_.sample = 1;
  batch_.reserve(kRecordBatch);
}

Meter::~Meter() = default;

PacketPreparer::PacketPreparer(const MeterOptions& options)
    : decode_(options.decode),
      key_(options.key),
      sample_(options.sample ? options.sample : 1),
      dissect_(options.dissect != 0) {}

namespace {

// Bytes from the transport header that dissectors read: the header and at most kMaxPayload.
uint32_t l4_bytes(const packet::PacketView& v) {
  return v.payload_offset - v.l4_offset + std::min(v.payload_len, dissect::kMaxPayload);
}

}  // namespace

void PacketPreparer::prepare(std::span<const capture::RawPacket> in, DecodedPacket* out,
                             bool with_keys, std::vector<uint8_t>* copy) {
  size_t copied = 0;
  for (size_t i = 0; i < in.size(); ++i) {
    const capture::RawPacket& p = in[i];
    DecodedPacket& d = out[i];
    d.ts = p.ts.ns;
    d.interface = p.interface;
    d.has_l4 = false;
    d.sampled_out = sample_ > 1 && sample_counter_++ % sample_ != 0;
    if (!d.sampled_out) {
      packet::decode(p.data, p.caplen, p.wirelen, p.linktype, decode_, d.view);
      if (dissect_ && d.view.payload_offset != 0) {
        d.has_l4 = true;
        d.l4 = p.data + d.view.l4_offset;
        copied += l4_bytes(d.view);
      }
    }
    if (with_keys) make_packet_key(d, key_, d.key);
  }
  if (!copy || copied == 0) return;
  // The source reuses its buffer: the bytes go with the batch. Sized first, so that the
  // pointers taken stay valid.
  if (copy->size() < copied) copy->resize(copied);
  uint8_t* at = copy->data();
  for (size_t i = 0; i < in.size(); ++i) {
    DecodedPacket& d = out[i];
    if (!d.has_l4) continue;
    uint32_t n = l4_bytes(d.view);
    std::memcpy(at, d.l4, n);
    d.l4 = at;
    at += n;
  }
}

void Meter::process(std::span<const capture::RawPacket> packets) {
  if (decoded_.size() < packets.size()) decoded_.resize(packets.size());
  preparer_.prepare(packets, decoded_.data(), false);
  count(std::span(decoded_.data(), packets.size()), false);
}

void Meter::count(std::span<const DecodedPacket> packets, bool keyed) {
  const size_t n = packets.size();
  if (!keyed) {
    if (keys_.size() < n) keys_.resize(n);
    // A copy that the stores into keys_ cannot alias: the options stay in registers.
    const KeyOptions o = opt_.key;
    for (size_t i = 0; i < n; ++i) make_packet_key(packets[i], o, keys_[i]);
  }
  auto key = [&](size_t i) -> const PacketKey& { return keyed ? packets[i].key : keys_[i]; };
  // Load index slots a few packets ahead of the one counted. Not the flow states too: that
  // measured 10% slower on the flow-heavy capture (each flow's few packets find it in cache) and
  // 4% faster on replicated real traffic.
  for (size_t i = 0; i < std::min(n, 2 * kPrefetchAhead); ++i)
    if (key(i).keyed) table_.prefetch_index(key(i).hash);
  for (size_t i = 0; i < n; ++i) {
    if (i + 2 * kPrefetchAhead < n && key(i + 2 * kPrefetchAhead).keyed)
      table_.prefetch_index(key(i + 2 * kPrefetchAhead).hash);
    handle(packets[i], key(i));
  }
  emit_batch();
  if (now_ != INT64_MIN) sink_.tick(Timestamp{now_});
}

void Meter::add_interfaces(std::span<const capture::InterfaceInfo> more) {
  for (const capture::InterfaceInfo& i : more) {
    // Both arms as views: a std::string arm would make the ternary a temporary copy.
    interface_names_.push_back(i.device ? std::string_view(interface_storage_.emplace_back(i.name))
                                        : std::string_view());
  }
}

void Meter::advance(Timestamp now) {
  if (now.ns > now_) {
    now_ = now.ns;
    expire(now_);
  }
  emit_batch();
  sink_.tick(now);
}

void Meter::handle(const DecodedPacket& w, const PacketKey& k) {
  ++stats_.packets;
  int64_t ts = w.ts;
  if (start_ == INT64_MIN) start_ = ts;
  if (ts > now_) {
    now_ = ts;
    if (now_ >= next_expire_) expire(now_);
  }
  if (w.sampled_out) {
    ++stats_.not_sampled;
    return;
  }
  if (w.view.skip != packet::SkipReason::kNone) {
    ++stats_.skipped[size_t(w.view.skip)];
    return;
  }
  if (k.keyed) {
    account(w.view, w.has_l4 ? w.l4 : nullptr, k.key, k.hash, k.swapped, ts, w.interface);
    return;
  }
  // A fragment: the tracker supplies its ports, or holds it until its first fragment comes.
  packet::PacketView v = w.view;
  bool count_now = fragments_.on_fragment(v, ts, w.interface);
  expire_by(fragments_.next_deadline());
  if (count_now) account_view(v, w.has_l4 ? w.l4 : nullptr, ts, w.interface);
  drain_fragments();
}

void Meter::account_view(const packet::PacketView& v, const uint8_t* l4, int64_t ts,
                         uint32_t interface) {
  FlowKey key;
  bool swapped = make_key(v, opt_.key, key);
  account(v, l4, key, hash_key(key, opt_.key.hash_secret), swapped, ts, interface);
}

void Meter::drain_fragments() {
  HeldFragment h;
  // Held fragments carry no payload for dissectors: their first fragment had it.
  while (fragments_.pop_ready(h)) account_view(h.view, nullptr, h.ts, h.interface);
}

void Meter::account(const packet::PacketView& v, const uint8_t* l4, const FlowKey& key,
                    uint64_t hash, bool swapped, int64_t ts, uint32_t interface) {
  bool inserted;
  uint32_t id = table_.find_or_insert(key, hash, !table_.full(), now_, &inserted);
  if (id == kNoFlow) {  // cache full (or memory refused): the least recently used flow makes room
    if (uint32_t victim = table_.eviction_victim(); victim != kNoFlow) {
      export_flow(victim, EndReason::kLackOfResources, false);
      id = table_.find_or_insert(key, hash, true, now_, &inserted);
    }
  } else if (!inserted) {
    const FlowState& f = table_.at(id);
    EndReason ended = EndReason::kUnknown;
    // The flow idled out and its bucket is not due yet: this packet starts a new one.
    if (f.last_seen() < ts - opt_.idle_timeout_ns)
      ended = f.closing ? EndReason::kEndOfFlow : EndReason::kIdleTimeout;
    // A new connection reuses the ports of one that has just ended.
    else if (f.closing && v.protocol == 6 && (v.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn)
      ended = EndReason::kEndOfFlow;
    // A dissector sees its protocol start a new session (a WireGuard handshake).
    else if (l4 && f.app && !f.app_done &&
             dissection_.new_session(f.app, app_packet(v, l4, int(swapped) ^ f.fwd_endpoint, ts)))
      ended = EndReason::kEndOfFlow;
    if (ended != EndReason::kUnknown) {
      export_flow(id, ended, false);
      id = table_.find_or_insert(key, hash, true, now_, &inserted);
    }
  }
  if (id == kNoFlow) {  // the system refused memory for even one flow
    ++stats_.no_memory;
    return;
  }
  ++stats_.decoded;
  stats_.ip_bytes += v.ip_bytes;
  if (v.l4_truncated) ++stats_.l4_truncated;
  if (v.tunnel != TunnelType::kNone) ++stats_.tunneled;
  FlowState& f = table_.at(id);
  if (inserted) {
    f.fwd_endpoint = swapped ? 1 : 0;
    ++stats_.flows_created;
    if (table_.size() > stats_.peak_flows) stats_.peak_flows = table_.size();
  }
  int d = int(swapped) ^ f.fwd_endpoint;  // 0: forward
  DirCounters& c = f.dir[d];
  bool first_of_record = f.dir[0].packets == 0 && f.dir[1].packets == 0;
  if (first_of_record && !f.closing && opt_.active_timeout_ns > 0) {
    table_.age_push_back(AgeList::kActive, id, ts);
    expire_by(ts, opt_.active_timeout_ns);
  }

  if (c.packets == 0) {
    c.first = c.last = ts;
    f.ttl_min[d] = f.ttl_max[d] = v.ttl;
    DirAttributes& a = f.attr[d];
    a.flow_label = v.flow_label;
    a.interface = uint16_t(interface);
    a.tos = v.tos;
    a.ttl = v.ttl;
    a.icmp_type = v.icmp_type;
    a.icmp_code = v.icmp_code;
    a.vlan_depth = v.vlan_depth & 3;
    a.vlan_id = v.vlan_id;
    a.has_mac = v.has_mac;
    if (v.has_mac) {
      if (d == 0) {
        std::memcpy(f.src_mac, v.src_mac, 6);
        std::memcpy(f.dst_mac, v.dst_mac, 6);
      } else if (!f.attr[0].has_mac || std::memcmp(v.src_mac, f.dst_mac, 6) != 0 ||
                 std::memcmp(v.dst_mac, f.src_mac, 6) != 0) {
        DirExt& de = ext_of(f).dir[1];
        de.own_mac = true;
        std::memcpy(de.src_mac, v.src_mac, 6);
        std::memcpy(de.dst_mac, v.dst_mac, 6);
      }
    }
  } else {
    if (ts < c.first) c.first = ts;
    if (ts > c.last) c.last = ts;
    if (v.ttl < f.ttl_min[d]) f.ttl_min[d] = v.ttl;
    if (v.ttl > f.ttl_max[d]) f.ttl_max[d] = v.ttl;
  }
  ++c.packets;
  c.bytes += v.ip_bytes;
  f.tcp_flags[d] |= v.tcp_flags;

  if (v.tunnel != TunnelType::kNone || v.mpls_depth || v.vlan_depth >= 2) {
    FlowExt& e = ext_of(f);
    if (e.tunnel == TunnelType::kNone && v.tunnel != TunnelType::kNone) {
      e.tunnel = v.tunnel;
      e.tunnel_id = v.tunnel_id;
      // The tunnel endpoints as seen in the forward direction.
      std::memcpy(e.outer_src, d == 0 ? v.outer_src : v.outer_dst, 16);
      std::memcpy(e.outer_dst, d == 0 ? v.outer_dst : v.outer_src, 16);
    }
    DirExt& de = e.dir[d];
    de.bytes_outer += v.outer_ip_bytes;
    if (c.packets == 1) {
      de.mpls_depth = v.mpls_depth;
      if (v.mpls_depth) std::memcpy(de.mpls_label, v.mpls_label, sizeof de.mpls_label);
      de.vlan_id_inner = v.vlan_id_inner;
    }
  }

  if (opt_.stats) {
    FlowStats& st = *reinterpret_cast<FlowStats*>(table_.extra(id));
    add_size(st.dir[d].size, v.ip_bytes, c.packets);
    add_time(st.dir[d].gap, ts, c.packets);
    add_time(st.gap_both, ts, f.dir[0].packets + f.dir[1].packets);
  }

  if (l4) dissect(f, id, d, v, l4, ts);
  if (splt_extra_ != SIZE_MAX) {
    auto& head = extra_at<SpltHead>(table_, id, splt_extra_);
    if (head.count < opt_.splt) {
      int64_t gap = head.count ? (ts - head.last_ts) / 1000 : 0;
      splt_packets(head)[head.count++] = {uint16_t(std::min<uint32_t>(v.ip_bytes, UINT16_MAX)),
                                          uint8_t(d),
                                          uint32_t(std::clamp<int64_t>(gap, 0, UINT32_MAX))};
      head.last_ts = ts;
    }
  }

  if (v.protocol == 6 && opt_.tcp_end && !f.closing) {
    bool end = v.tcp_flags & kTcpRst;
    if (v.tcp_flags & kTcpFin) {
      f.fin_mask |= uint8_t(1 << d);
      end = end || !opt_.key.biflow || f.fin_mask == 3;
    }
    if (end) {
      f.closing = 1;
      table_.age_push_back(AgeList::kClosing, id, ts);
      expire_by(ts, opt_.tcp_end_timeout_ns);
    }
  }
}

dissect::Packet Meter::app_packet(const packet::PacketView& v, const uint8_t* l4, int d,
                                  int64_t ts) {
  uint32_t header = v.payload_offset - v.l4_offset;
  return {ts,           Direction(d),
          v.protocol,   v.ip_version,
          v.src,        v.dst,
          v.src_port,   v.dst_port,
          {l4, header}, {l4 + header, std::min(v.payload_len, dissect::kMaxPayload)}};
}

void Meter::dissect(FlowState& f, uint32_t id, int d, const packet::PacketView& v,
                    const uint8_t* l4, int64_t ts) {
  uint32_t header = v.payload_offset - v.l4_offset;
  if (v.protocol == 6 && tcp_extra_ != SIZE_MAX) {
    extra_at<dissect::TcpTrack>(table_, id, tcp_extra_)
        .update({l4, header}, d, v.tcp_flags, v.ip_bytes, v.payload_len, ts,
                f.dir[0].packets + f.dir[1].packets == 1);
  }
  if (f.app_done || !dissection_.enabled()) return;
  if (!dissection_.packet(f.app, app_packet(v, l4, d, ts))) f.app_done = 1;
}

Meter::FlowExt& Meter::ext_of(FlowState& f) {
  if (!f.ext) {
    if (!ext_free_.empty()) {
      f.ext = ext_free_.back();
      ext_free_.pop_back();
      ext_[f.ext] = FlowExt{};
    } else {
      f.ext = uint32_t(ext_.size());
      ext_.emplace_back();
    }
  }
  return ext_[f.ext];
}

void Meter::expire(int64_t now) {
  table_.expire_idle(now, [this](uint32_t id) {
    export_flow(id, table_.at(id).closing ? EndReason::kEndOfFlow : EndReason::kIdleTimeout, false);
  });
  if (opt_.active_timeout_ns > 0) {
    for (uint32_t id; (id = table_.age_head(AgeList::kActive)) != kNoFlow &&
                      table_.at(id).age_time <= now - opt_.active_timeout_ns;) {
      export_flow(id, EndReason::kActiveTimeout, true);
    }
  }
  for (uint32_t id; (id = table_.age_head(AgeList::kClosing)) != kNoFlow &&
                    table_.at(id).age_time <= now - opt_.tcp_end_timeout_ns;) {
    export_flow(id, EndReason::kEndOfFlow, false);
  }
  fragments_.expire(now);
  drain_fragments();
  // What is due next: the wheel's next bucket, the heads of the age lists (each list is in
  // deadline order), the oldest held datagram.
  next_expire_ = std::min(table_.next_idle_check(now), fragments_.next_deadline());
  if (uint32_t id = table_.age_head(AgeList::kActive); id != kNoFlow && opt_.active_timeout_ns > 0)
    expire_by(table_.at(id).age_time, opt_.active_timeout_ns);
  if (uint32_t id = table_.age_head(AgeList::kClosing); id != kNoFlow)
    expire_by(table_.at(id).age_time, opt_.tcp_end_timeout_ns);
}

void Meter::export_flow(uint32_t id, EndReason reason, bool keep) {
  FlowState& f = table_.at(id);
  if (f.dir[0].packets || f.dir[1].packets) {
    batch_.emplace_back();
    to_record(id, reason, batch_.back());
    ++stats_.flows;
    ++stats_.flows_by_reason[size_t(reason)];
    if (batch_.size() >= kRecordBatch) emit_batch();
  }
  if (keep) {
    // Active timeout: the flow goes on as a new record with the same orientation; it rejoins
    // the active list with its next packet.
    table_.age_remove(id);
    for (DirCounters& c : f.dir) c.packets = c.bytes = c.first = 0;
    std::memset(f.tcp_flags, 0, sizeof f.tcp_flags);
    if (f.ext) {
      for (DirExt& de : ext_[f.ext].dir) de.bytes_outer = 0;
    }
    if (opt_.stats) *reinterpret_cast<FlowStats*>(table_.extra(id)) = FlowStats{};
    if (tcp_extra_ != SIZE_MAX) extra_at<dissect::TcpTrack>(table_, id, tcp_extra_).restart();
    if (splt_extra_ != SIZE_MAX) extra_at<SpltHead>(table_, id, splt_extra_).count = 0;
    return;
  }
  if (f.ext) ext_free_.push_back(f.ext);
  dissection_.release(f.app);
  table_.erase(id);
}

void Meter::to_record(uint32_t id, EndReason reason, FlowRecord& r) {
  const FlowState& f = table_.at(id);
  int fe = f.fwd_endpoint, re = 1 - fe;
  r = FlowRecord{};
  r.src_ip = ip_of(f.key.addr[fe]);
  r.dst_ip = ip_of(f.key.addr[re]);
  r.src_port = f.key.port[fe];
  r.dst_port = f.key.port[re];
  r.protocol = f.key.protocol;
  r.ip_version = f.key.ip_version;
  r.end_reason = reason;
  r.biflow = opt_.key.biflow;
  r.sampling_interval = opt_.sample;
  const FlowExt* e = f.ext ? &ext_[f.ext] : nullptr;
  if (e) {
    r.tunnel_type = e->tunnel;
    r.tunnel_id = e->tunnel_id;
    if (e->tunnel != TunnelType::kNone) {
      r.outer_src_ip = ip_of(e->outer_src);
      r.outer_dst_ip = ip_of(e->outer_dst);
    }
  }
  for (int d = 0; d < 2; ++d) {
    const DirCounters& c = f.dir[d];
    const DirAttributes& a = f.attr[d];
    DirectionRecord& o = d == 0 ? r.fwd : r.rev;
    if (c.packets == 0) continue;
    o.packets = c.packets;
    o.bytes = c.bytes;
    o.first = Timestamp{c.first};
    o.last = Timestamp{c.last};
    o.tcp_flags = f.tcp_flags[d];
    o.ttl_min = f.ttl_min[d];
    o.ttl_max = f.ttl_max[d];
    o.flow_label = a.flow_label;
    o.in_if = a.interface;
    o.present |= kMeterDirPresent;
    if (a.interface < interface_names_.size() && !interface_names_[a.interface].empty()) {
      o.interface_name = arena_.copy(interface_names_[a.interface]);  // a sink may keep it
      o.present |= kInterfaceNamePresent;
    }
    o.tos = a.tos;
    o.ttl = a.ttl;
    o.icmp_type = a.icmp_type;
    o.icmp_code = a.icmp_code;
    o.has_mac = a.has_mac;
    if (a.has_mac) {
      const uint8_t* src = d == 0 ? f.src_mac : f.dst_mac;
      const uint8_t* dst = d == 0 ? f.dst_mac : f.src_mac;
      if (d == 1 && e && e->dir[1].own_mac) {
        src = e->dir[1].src_mac;
        dst = e->dir[1].dst_mac;
      }
      std::memcpy(o.src_mac.b.data(), src, 6);
      std::memcpy(o.dst_mac.b.data(), dst, 6);
    }
    o.vlan_depth = a.vlan_depth;
    o.vlan_id = a.vlan_id;
    if (e) {
      const DirExt& de = e->dir[d];
      o.bytes_outer = de.bytes_outer;
      o.vlan_id_inner = de.vlan_id_inner;
      o.mpls_depth = de.mpls_depth;
      for (int i = 0; i < 3; ++i) o.mpls_label[i] = de.mpls_label[i];
    }
  }
  if (opt_.stats) {
    const FlowStats& st = *reinterpret_cast<const FlowStats*>(table_.extra(id));
    r.has_stats = true;
    for (int d = 0; d < 2; ++d) {
      DirectionRecord& o = d == 0 ? r.fwd : r.rev;
      o.pkt_size = size_summary(st.dir[d].size, f.dir[d].bytes, f.dir[d].packets);
      o.piat = gap_summary(st.dir[d].gap, f.dir[d].packets);
    }
    uint64_t packets = f.dir[0].packets + f.dir[1].packets;
    r.pkt_size = size_summary(both_sizes(st, f.dir), f.dir[0].bytes + f.dir[1].bytes, packets);
    r.piat = gap_summary(st.gap_both, packets);
  }
  if (r.protocol == 6 && tcp_extra_ != SIZE_MAX)
    extra_at<dissect::TcpTrack>(std::as_const(table_), id, tcp_extra_).to_record(r);
  dissection_.finish(f.app, r, arena_);
  opt_.local_nets.label(r);
  opt_.geoip.label(r);
  if (splt_extra_ != SIZE_MAX) {
    const auto& head = extra_at<SpltHead>(std::as_const(table_), id, splt_extra_);
    if (head.count) {
      const FieldInfo& field = field_info(FieldId::kSplt);
      void* items = make_list(field, r, Direction::kForward, head.count, arena_);
      std::memcpy(items, splt_packets(head), head.count * sizeof(SpltPacket));
      mark_present(field, r, Direction::kForward);
    }
  }
}

void Meter::emit_batch() {
  if (batch_.empty()) return;
  sink_.take(batch_, arena_);
}

void Meter::flush() {
  fragments_.release_all();
  drain_fragments();
  auto reason = [this](uint32_t id) {
    return table_.at(id).closing ? EndReason::kEndOfFlow : EndReason::kForcedEnd;
  };
  // Every flow still in the table, in the order it started; out of memory, in table order.
  std::vector<std::pair<int64_t, uint32_t>> order;
  try {
    order.reserve(table_.size());
  } catch (const std::bad_alloc&) {
    table_.for_each([&](uint32_t id) { export_flow(id, reason(id), false); });
    emit_batch();
    return;
  }
  table_.for_each([&](uint32_t id) {
    const FlowState& f = table_.at(id);
    int64_t start = INT64_MAX;
    for (const DirCounters& c : f.dir)
      if (c.packets && c.first < start) start = c.first;
    order.emplace_back(start, id);
  });
  std::stable_sort(order.begin(), order.end(), [this](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return std::memcmp(&table_.at(a.second).key, &table_.at(b.second).key, sizeof(FlowKey)) < 0;
  });
  for (const auto& [start, id] : order) export_flow(id, reason(id), false);
  emit_batch();
}

const MeterStats& Meter::stats() const {
  stats_.fragments = fragments_.stats();
  return stats_;
}

size_t Meter::memory_bytes() const {
  return table_.memory_bytes() + ext_.capacity() * sizeof(FlowExt) + dissection_.memory_bytes() +
         decoded_.capacity() * sizeof(DecodedPacket) + keys_.capacity() * sizeof(PacketKey);
}

}  // namespace flowkit::meter
