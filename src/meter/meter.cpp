#include "meter/meter.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace flowkit::meter {

namespace {

constexpr size_t kBatch = 256;
constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

IpAddress ip_of(const uint8_t* b) {
  return IpAddress::v6(b);
}

}  // namespace

template <class T>
uint32_t Meter::Pool<T>::take() {
  if (!free.empty()) {
    uint32_t i = free.back();
    free.pop_back();
    items[i] = T{};
    return i;
  }
  items.emplace_back();
  return uint32_t(items.size() - 1);
}

void Meter::Moments::add(double x, uint64_t n) {
  if (n == 1) {
    min = max = mean = x;
    m2 = 0;
    return;
  }
  if (x < min) min = x;
  if (x > max) max = x;
  double delta = x - mean;
  mean += delta / double(n);
  m2 += delta * (x - mean);
}

SummaryStats Meter::Moments::summary(uint64_t n) const {
  if (n == 0) return {};
  return SummaryStats{min, max, mean, std::sqrt(std::max(0.0, m2 / double(n)))};
}

Meter::Meter(const MeterOptions& options, FlowSink& sink)
    : opt_(options), sink_(sink), table_(options.max_flows), fragments_(options.fragments) {
  if (opt_.sample == 0) opt_.sample = 1;
  batch_.reserve(kBatch);
}

Meter::~Meter() = default;

void Meter::process(std::span<const capture::RawPacket> packets) {
  for (const capture::RawPacket& p : packets) packet(p);
  emit_batch();
}

void Meter::advance(Timestamp now) {
  if (now.ns > now_) {
    now_ = now.ns;
    expire(now_);
  }
  emit_batch();
}

void Meter::packet(const capture::RawPacket& p) {
  ++stats_.packets;
  int64_t ts = p.ts.ns;
  if (ts > now_) {
    now_ = ts;
    expire(now_);
  }
  if (opt_.sample > 1 && sample_counter_++ % opt_.sample != 0) {
    ++stats_.not_sampled;
    return;
  }
  packet::decode(p.data, p.caplen, p.wirelen, p.linktype, opt_.decode, view_);
  if (view_.skip != packet::SkipReason::kNone) {
    ++stats_.skipped[size_t(view_.skip)];
    return;
  }
  if (view_.is_fragment) {
    if (!fragments_.on_fragment(view_, ts, p.interface)) return;
    account(view_, ts, p.interface);
    HeldFragment h;
    while (fragments_.pop_ready(h)) account(h.view, h.ts, h.interface);
    return;
  }
  account(view_, ts, p.interface);
}

void Meter::account(packet::PacketView& v, int64_t ts, uint32_t interface) {
  ++stats_.decoded;
  stats_.ip_bytes += v.ip_bytes;
  if (v.l4_truncated) ++stats_.l4_truncated;
  if (v.tunnel != TunnelType::kNone) ++stats_.tunneled;

  FlowKey key;
  bool swapped = make_key(v, opt_.key, key);
  uint64_t hash = hash_key(key);
  bool inserted;
  uint32_t id = table_.find_or_insert(key, hash, !table_.full(), &inserted);
  if (id == kNoFlow) {  // cache full: the least recently used flow makes room
    export_flow(table_.lru_head(), EndReason::kLackOfResources, false);
    id = table_.find_or_insert(key, hash, true, &inserted);
  } else if (!inserted && table_.at(id).closing && (v.tcp_flags & (kTcpSyn | kTcpAck)) == kTcpSyn &&
             v.protocol == 6) {
    // A new connection reuses the ports of one that has just ended.
    export_flow(id, EndReason::kEndOfFlow, false);
    id = table_.find_or_insert(key, hash, true, &inserted);
  }
  FlowState& f = table_.at(id);
  if (inserted) {
    f.fwd_endpoint = swapped ? 1 : 0;
    ++stats_.flows_created;
    if (table_.size() > stats_.peak_flows) stats_.peak_flows = table_.size();
  }
  int d = (swapped ? 1 : 0) == f.fwd_endpoint ? 0 : 1;
  DirState& s = f.dir[d];
  bool first_of_record = f.dir[0].packets == 0 && f.dir[1].packets == 0;
  if (first_of_record && !f.closing) table_.age_push_back(AgeList::kActive, id, ts);

  int64_t prev_dir_last = s.last;
  int64_t prev_any = f.last_seen;
  if (s.packets == 0) {
    s.first = s.last = ts;
    s.flow_label = v.flow_label;
    s.interface = uint16_t(interface);
    s.tos = v.tos;
    s.ttl = s.ttl_min = s.ttl_max = v.ttl;
    s.icmp_type = v.icmp_type;
    s.icmp_code = v.icmp_code;
    s.has_mac = v.has_mac;
    if (v.has_mac) {
      std::memcpy(s.src_mac, v.src_mac, 6);
      std::memcpy(s.dst_mac, v.dst_mac, 6);
    }
    s.vlan_depth = v.vlan_depth;
    s.vlan_id = v.vlan_id;
  } else {
    if (ts < s.first) s.first = ts;
    if (ts > s.last) s.last = ts;
    if (v.ttl < s.ttl_min) s.ttl_min = v.ttl;
    if (v.ttl > s.ttl_max) s.ttl_max = v.ttl;
  }
  ++s.packets;
  s.bytes += v.ip_bytes;
  s.tcp_flags |= v.tcp_flags;
  if (first_of_record || ts > f.last_seen) f.last_seen = ts;

  if (v.tunnel != TunnelType::kNone || v.mpls_depth || v.vlan_depth >= 2) {
    if (!f.ext) {
      f.ext = ext_.take();
      FlowExt& e = ext_.items[f.ext];
      e.tunnel = v.tunnel;
      e.tunnel_id = v.tunnel_id;
      // The tunnel endpoints as seen in the forward direction.
      std::memcpy(e.outer_src, d == 0 ? v.outer_src : v.outer_dst, 16);
      std::memcpy(e.outer_dst, d == 0 ? v.outer_dst : v.outer_src, 16);
    }
    DirExt& de = ext_.items[f.ext].dir[d];
    de.bytes_outer += v.outer_ip_bytes;
    if (s.packets == 1) {
      de.mpls_depth = v.mpls_depth;
      std::memcpy(de.mpls_label, v.mpls_label, sizeof de.mpls_label);
      de.vlan_id_inner = v.vlan_id_inner;
    }
  }

  if (opt_.stats) {
    if (!f.stats) f.stats = stats_pool_.take();
    FlowStatsExt& st = stats_pool_.items[f.stats];
    double size = double(v.ip_bytes);
    st.size[d].add(size, s.packets);
    st.size[2].add(size, ++st.both_packets);
    if (s.packets > 1) st.piat[d].add(double(ts - prev_dir_last) / 1e9, s.packets - 1);
    if (st.both_packets > 1) st.piat[2].add(double(ts - prev_any) / 1e9, st.both_packets - 1);
  }

  table_.touch(id);

  if (v.protocol == 6 && opt_.tcp_end && !f.closing) {
    bool end = v.tcp_flags & kTcpRst;
    if (v.tcp_flags & kTcpFin) {
      f.fin_mask |= uint8_t(1 << d);
      end = end || !opt_.key.biflow || f.fin_mask == 3;
    }
    if (end) {
      f.closing = 1;
      table_.age_push_back(AgeList::kClosing, id, ts);
    }
  }
}

void Meter::expire(int64_t now) {
  for (uint32_t id; (id = table_.lru_head()) != kNoFlow &&
                    table_.at(id).last_seen < now - opt_.idle_timeout_ns;) {
    const FlowState& f = table_.at(id);
    export_flow(id, f.closing ? EndReason::kEndOfFlow : EndReason::kIdleTimeout, false);
  }
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
  HeldFragment h;
  while (fragments_.pop_ready(h)) account(h.view, h.ts, h.interface);
}

void Meter::export_flow(uint32_t id, EndReason reason, bool keep) {
  FlowState& f = table_.at(id);
  if (f.dir[0].packets || f.dir[1].packets) {
    batch_.emplace_back();
    to_record(f, reason, batch_.back());
    ++stats_.flows;
    ++stats_.flows_by_reason[size_t(reason)];
    if (batch_.size() >= kBatch) emit_batch();
  }
  if (keep) {
    // Active timeout: the flow goes on as a new record with the same orientation; it rejoins
    // the active list with its next packet.
    table_.age_remove(id);
    std::memset(f.dir, 0, sizeof f.dir);
    if (f.ext) {
      for (DirExt& de : ext_.items[f.ext].dir) de.bytes_outer = 0;
    }
    if (f.stats) {
      stats_pool_.items[f.stats] = FlowStatsExt{};
    }
    return;
  }
  if (f.ext) ext_.give(f.ext);
  if (f.stats) stats_pool_.give(f.stats);
  table_.erase(id);
}

void Meter::to_record(const FlowState& f, EndReason reason, FlowRecord& r) const {
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
  const FlowExt* e = f.ext ? &ext_.items[f.ext] : nullptr;
  if (e) {
    r.tunnel_type = e->tunnel;
    r.tunnel_id = e->tunnel_id;
    if (e->tunnel != TunnelType::kNone) {
      r.outer_src_ip = ip_of(e->outer_src);
      r.outer_dst_ip = ip_of(e->outer_dst);
    }
  }
  for (int d = 0; d < 2; ++d) {
    const DirState& s = f.dir[d];
    DirectionRecord& o = d == 0 ? r.fwd : r.rev;
    if (s.packets == 0) continue;
    o.packets = s.packets;
    o.bytes = s.bytes;
    o.first = Timestamp{s.first};
    o.last = Timestamp{s.last};
    o.flow_label = s.flow_label;
    o.interface = s.interface;
    o.tcp_flags = s.tcp_flags;
    o.tos = s.tos;
    o.ttl = s.ttl;
    o.ttl_min = s.ttl_min;
    o.ttl_max = s.ttl_max;
    o.icmp_type = s.icmp_type;
    o.icmp_code = s.icmp_code;
    o.has_mac = s.has_mac;
    if (s.has_mac) {
      std::memcpy(o.src_mac.b.data(), s.src_mac, 6);
      std::memcpy(o.dst_mac.b.data(), s.dst_mac, 6);
    }
    o.vlan_depth = s.vlan_depth;
    o.vlan_id = s.vlan_id;
    if (e) {
      const DirExt& de = e->dir[d];
      o.bytes_outer = de.bytes_outer;
      o.vlan_id_inner = de.vlan_id_inner;
      o.mpls_depth = de.mpls_depth;
      for (int i = 0; i < 3; ++i) o.mpls_label[i] = de.mpls_label[i];
    }
  }
  if (f.stats) {
    const FlowStatsExt& st = stats_pool_.items[f.stats];
    r.has_stats = true;
    for (int d = 0; d < 2; ++d) {
      DirectionRecord& o = d == 0 ? r.fwd : r.rev;
      o.pkt_size = st.size[d].summary(f.dir[d].packets);
      o.piat = st.piat[d].summary(f.dir[d].packets > 1 ? f.dir[d].packets - 1 : 0);
    }
    r.pkt_size = st.size[2].summary(st.both_packets);
    r.piat = st.piat[2].summary(st.both_packets > 1 ? st.both_packets - 1 : 0);
  }
}

void Meter::emit_batch() {
  if (batch_.empty()) return;
  sink_.write(batch_);
  batch_.clear();
}

void Meter::flush() {
  fragments_.release_all();
  HeldFragment h;
  while (fragments_.pop_ready(h)) account(h.view, h.ts, h.interface);
  // Every flow still in the table, in the order it started.
  std::vector<std::pair<int64_t, uint32_t>> order;
  order.reserve(table_.size());
  for (uint32_t id = table_.lru_head(); id != kNoFlow; id = table_.at(id).lru_next) {
    const FlowState& f = table_.at(id);
    int64_t start = INT64_MAX;
    for (const DirState& s : f.dir)
      if (s.packets && s.first < start) start = s.first;
    order.emplace_back(start, id);
  }
  std::stable_sort(order.begin(), order.end(), [this](const auto& a, const auto& b) {
    if (a.first != b.first) return a.first < b.first;
    return std::memcmp(&table_.at(a.second).key, &table_.at(b.second).key, sizeof(FlowKey)) < 0;
  });
  for (const auto& [start, id] : order) {
    export_flow(id, table_.at(id).closing ? EndReason::kEndOfFlow : EndReason::kForcedEnd, false);
  }
  emit_batch();
}

const MeterStats& Meter::stats() const {
  stats_.fragments = fragments_.stats();
  return stats_;
}

size_t Meter::memory_bytes() const {
  return table_.memory_bytes() + ext_.items.capacity() * sizeof(FlowExt) +
         stats_pool_.items.capacity() * sizeof(FlowStatsExt);
}

}  // namespace flowkit::meter
