#include "meter/fragment_tracker.h"

#include <xxhash.h>

#include <cstring>

namespace flowkit::meter {

namespace {
bool carries_ports(uint8_t protocol) {
  return protocol == 6 || protocol == 17 || protocol == 132 || protocol == 136 || protocol == 33;
}
}  // namespace

bool FragmentTracker::Key::operator==(const Key& o) const {
  return std::memcmp(this, &o, sizeof *this) == 0;
}

size_t FragmentTracker::KeyHash::operator()(const Key& k) const {
  return XXH3_64bits_withSeed(&k, sizeof k, seed);
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

bool FragmentTracker::on_fragment(packet::PacketView& v, int64_t ts, uint32_t interface) {
  ++stats_.fragments;
  Key k;
  std::memcpy(k.src, v.src, 16);
  std::memcpy(k.dst, v.dst, 16);
  k.id = v.frag_id;
  k.protocol = v.protocol;
  k.ip_version = v.ip_version;
  k.pad = 0;
  auto [it, created] = datagrams_.try_emplace(k);
  Datagram& d = it->second;
  if (created) {
    d.created = ts;
    by_age_.emplace_back(ts, k);
  }
  check_overlap(d, v);
  if (v.first_fragment) {
    if (!d.first_seen) {
      d.first_seen = true;
      d.has_ports = v.has_ports;
      d.src_port = v.src_port;
      d.dst_port = v.dst_port;
      make_ready(d, false);
    }
    return true;
  }
  if (d.first_seen) {
    v.has_ports = d.has_ports;
    v.src_port = d.src_port;
    v.dst_port = d.dst_port;
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
  for (HeldFragment& h : d.held) {
    if (orphan) {
      ++stats_.orphaned;
    } else {
      h.view.has_ports = d.has_ports;
      h.view.src_port = d.src_port;
      h.view.dst_port = d.dst_port;
    }
    ready_.push_back(h);
  }
  held_count_ -= d.held.size();
  d.held.clear();
  d.held.shrink_to_fit();
}

void FragmentTracker::expire(int64_t now) {
  while (!by_age_.empty() && by_age_.front().first < now - opt_.timeout_ns) {
    auto it = datagrams_.find(by_age_.front().second);
    if (it != datagrams_.end() && it->second.created == by_age_.front().first) {
      make_ready(it->second, true);
      datagrams_.erase(it);
    }
    by_age_.pop_front();
  }
}

void FragmentTracker::release_all() {
  expire(INT64_MAX);  // in arrival order, so that output stays deterministic
  datagrams_.clear();
}

bool FragmentTracker::pop_ready(HeldFragment& out) {
  if (ready_.empty()) return false;
  out = ready_.front();
  ready_.pop_front();
  return true;
}

}  // namespace flowkit::meter
