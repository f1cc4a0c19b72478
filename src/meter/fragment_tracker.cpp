#include "meter/fragment_tracker.h"

#include <cstring>
#include <iterator>

namespace flowkit::meter {

namespace {
// Protocols whose key reads the transport header: ports, or ICMP's type and code.
bool carries_ports(uint8_t protocol) {
  return protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136 || protocol == 33 ||
         is_icmp(protocol);
}
}  // namespace

FragmentTracker::FragmentTracker(Options options, const HashSecret& secret)
    : opt_(options), secret_(secret), index_(1024) {
  if (opt_.max_datagrams == 0) opt_.max_datagrams = 1;
}

void FragmentTracker::check_overlap(Datagram& d, const packet::PacketView& v) {
  uint32_t begin = v.frag_offset, end = v.frag_offset + v.frag_len;
  if (end > 65535 || (v.frag_len == 0 && v.more_fragments)) ++stats_.bad;
  for (uint8_t i = 0; i < d.ranges_used; ++i) {
    if (begin < d.ranges[i].end && d.ranges[i].begin < end) {
      ++stats_.overlapping;
      break;
    }
  }
  if (d.ranges_used < std::size(d.ranges)) d.ranges[d.ranges_used++] = Range{begin, end};
}

uint32_t FragmentTracker::find_or_add(const FlowKey& k, uint32_t hash, int64_t ts) {
  size_t mask = index_.size() - 1;
  for (size_t i = hash & mask; index_[i].id != 0; i = (i + 1) & mask) {
    const IndexEntry& e = index_[i];
    if (e.hash32 == hash && slots_[e.id - 1].key == k) return e.id - 1;
  }
  if (by_age_.size() >= opt_.max_datagrams) {
    forget_oldest();
    ++stats_.evicted;
  }
  if ((by_age_.size() + 1) * 2 > index_.size()) grow_index();
  uint32_t slot;
  if (!free_.empty()) {
    slot = free_.back();
    free_.pop_back();
  } else {
    slot = uint32_t(slots_.size());
    slots_.emplace_back();
  }
  Datagram& d = slots_[slot];
  d.key = k;
  d.hash = hash;
  d.created = ts;
  d.first_seen = d.has_ports = false;
  d.src_port = d.dst_port = 0;
  d.icmp_type = d.icmp_code = 0;
  d.ranges_used = 0;
  index_[probe_empty(index_.data(), index_.size() - 1, hash)] = IndexEntry{hash, slot + 1};
  by_age_.push_back(slot);
  return slot;
}

void FragmentTracker::grow_index() {
  std::vector<IndexEntry> old(index_.size() * 2);
  old.swap(index_);
  probe_rehash(old.data(), old.size(), index_.data(), index_.size() - 1);
}

void FragmentTracker::forget_oldest() {
  uint32_t slot = by_age_.front();
  by_age_.pop_front();
  make_ready(slots_[slot], true);
  size_t mask = index_.size() - 1;
  probe_erase(index_.data(), mask, probe_find_id(index_.data(), mask, slots_[slot].hash, slot + 1));
  free_.push_back(slot);
}

bool FragmentTracker::on_fragment(packet::PacketView& v, int64_t ts, uint32_t interface) {
  ++stats_.fragments;
  FlowKey k{};
  std::memcpy(k.addr[0], v.src, 16);
  std::memcpy(k.addr[1], v.dst, 16);
  k.protocol = v.protocol;
  k.ip_version = v.ip_version;
  k.flow_label = v.frag_id;
  Datagram& d = slots_[find_or_add(k, uint32_t(hash_key(k, secret_)), ts)];
  check_overlap(d, v);
  if (v.first_fragment) {
    if (!d.first_seen) {
      d.first_seen = true;
      d.has_ports = v.has_ports;
      d.src_port = v.src_port;
      d.dst_port = v.dst_port;
      d.icmp_type = v.icmp_type;
      d.icmp_code = v.icmp_code;
      make_ready(d, false);
    }
    return true;
  }
  if (d.first_seen) {
    v.has_ports = d.has_ports;
    v.src_port = d.src_port;
    v.dst_port = d.dst_port;
    v.icmp_type = d.icmp_type;
    v.icmp_code = d.icmp_code;
    return true;
  }
  if (!carries_ports(v.protocol)) return true;  // the key has no ports to wait for
  if (held_count_ >= opt_.max_held) {
    ++stats_.orphaned;
    return true;
  }
  ++stats_.held;
  ++held_count_;
  d.held.push_back(HeldFragment{v, ts, interface});
  return false;
}

void FragmentTracker::make_ready(Datagram& d, bool orphan) {
  if (d.held.empty()) return;
  for (HeldFragment& h : d.held) {
    if (orphan) {
      ++stats_.orphaned;
    } else {
      h.view.has_ports = d.has_ports;
      h.view.src_port = d.src_port;
      h.view.dst_port = d.dst_port;
      h.view.icmp_type = d.icmp_type;
      h.view.icmp_code = d.icmp_code;
    }
    ready_.push_back(h);
  }
  held_count_ -= d.held.size();
  d.held.clear();
  d.held.shrink_to_fit();
}

void FragmentTracker::expire(int64_t now) {
  while (!by_age_.empty() && slots_[by_age_.front()].created < now - opt_.timeout_ns)
    forget_oldest();
}

void FragmentTracker::release_all() {
  expire(INT64_MAX);  // in arrival order, so that output stays deterministic
}

bool FragmentTracker::pop_ready(HeldFragment& out) {
  if (ready_.empty()) return false;
  out = ready_.front();
  ready_.pop_front();
  return true;
}

}  // namespace flowkit::meter
