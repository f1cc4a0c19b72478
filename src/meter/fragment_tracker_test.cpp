#include "meter/fragment_tracker.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "core/timestamp.h"

namespace flowkit::meter {
namespace {

// A fragment of datagram `id` from 10.0.0.1 to 10.0.0.2 (UDP), `offset` bytes into it.
packet::PacketView fragment(uint32_t id, uint16_t offset, uint32_t len = 8, bool more = true,
                            uint16_t sport = 0, uint16_t dport = 0) {
  packet::PacketView v;
  const uint8_t src[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  const uint8_t dst[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 2};
  std::memcpy(v.src, src, 16);
  std::memcpy(v.dst, dst, 16);
  v.ip_version = 4;
  v.protocol = 17;
  v.is_fragment = true;
  v.first_fragment = offset == 0;
  v.more_fragments = more;
  v.frag_offset = offset;
  v.frag_id = id;
  v.frag_len = len;
  if (offset == 0) {
    v.has_ports = true;
    v.src_port = sport;
    v.dst_port = dport;
  }
  return v;
}

std::vector<HeldFragment> drain(FragmentTracker& t) {
  std::vector<HeldFragment> out;
  for (HeldFragment h; t.pop_ready(h);) out.push_back(h);
  return out;
}

TEST(FragmentTracker, LaterFragmentsTakeTheFirstOnesPorts) {
  FragmentTracker t({}, HashSecret::from_seed(1));
  packet::PacketView first = fragment(7, 0, 8, true, 53, 1000);
  EXPECT_TRUE(t.on_fragment(first, 0, 0));
  packet::PacketView later = fragment(7, 8, 100, false);
  EXPECT_TRUE(t.on_fragment(later, 1, 0));
  EXPECT_TRUE(later.has_ports);
  EXPECT_EQ(later.src_port, 53);
  EXPECT_EQ(later.dst_port, 1000);
  // Another datagram between the same hosts is another datagram.
  packet::PacketView other = fragment(8, 8, 100, false);
  EXPECT_FALSE(t.on_fragment(other, 2, 0));  // held: its first fragment may still come
  EXPECT_EQ(t.stats().held, 1u);
}

TEST(FragmentTracker, HeldFragmentsAreReleasedWithPortsOrOrphaned) {
  FragmentTracker t({}, HashSecret::from_seed(2));
  packet::PacketView a = fragment(1, 16, 8, false), b = fragment(2, 16, 8, false);
  EXPECT_FALSE(t.on_fragment(a, 0, 3));
  EXPECT_FALSE(t.on_fragment(b, 0, 4));
  EXPECT_TRUE(drain(t).empty());
  packet::PacketView first = fragment(1, 0, 16, true, 5, 6);
  EXPECT_TRUE(t.on_fragment(first, kNanosPerSecond, 3));
  std::vector<HeldFragment> ready = drain(t);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_EQ(ready[0].view.src_port, 5);
  EXPECT_EQ(ready[0].interface, 3u);
  EXPECT_EQ(ready[0].ts, 0);
  // Datagram 2 never sees its first: after the timeout its fragment goes on without ports.
  EXPECT_EQ(t.next_deadline(), 30 * kNanosPerSecond + 1);
  t.expire(31 * kNanosPerSecond);
  ready = drain(t);
  ASSERT_EQ(ready.size(), 1u);
  EXPECT_FALSE(ready[0].view.has_ports);
  EXPECT_EQ(ready[0].interface, 4u);
  EXPECT_EQ(t.stats().orphaned, 1u);
  EXPECT_EQ(t.held_now(), 0u);
  EXPECT_EQ(t.datagrams_now(), 0u);
  EXPECT_EQ(t.next_deadline(), INT64_MAX);
}

// A flood of fragments of distinct datagrams, none with its first: the tracker remembers at
// most max_datagrams of them, forgets the oldest (counted), and loses no fragment.
TEST(FragmentTracker, AFloodOfDatagramsStaysBounded) {
  FragmentTracker::Options o;
  o.max_datagrams = 1000;
  o.max_held = 100000;
  FragmentTracker t(o, HashSecret::from_seed(3));
  constexpr uint32_t kDatagrams = 50000;
  size_t counted_now = 0, released = 0;
  for (uint32_t id = 0; id < kDatagrams; ++id) {
    packet::PacketView v = fragment(id, 8);
    counted_now += t.on_fragment(v, id, 0);
    released += drain(t).size();
    ASSERT_LE(t.datagrams_now(), o.max_datagrams);
  }
  EXPECT_EQ(counted_now, 0u);
  EXPECT_EQ(t.stats().evicted, kDatagrams - o.max_datagrams);
  EXPECT_EQ(released, kDatagrams - o.max_datagrams);
  t.release_all();
  released += drain(t).size();
  EXPECT_EQ(released, kDatagrams);
  EXPECT_EQ(t.stats().orphaned, kDatagrams);
  EXPECT_EQ(t.held_now(), 0u);
  // The slots are reused: the next datagrams find their first fragments as before.
  packet::PacketView first = fragment(1, 0, 8, true, 9, 10), later = fragment(1, 8, 8, false);
  EXPECT_TRUE(t.on_fragment(first, kDatagrams, 0));
  EXPECT_TRUE(t.on_fragment(later, kDatagrams, 0));
  EXPECT_EQ(later.src_port, 9);
}

// Overlaps are counted against every earlier range of the datagram.
TEST(FragmentTracker, OverlapsAndImpossibleFragmentsAreCounted) {
  FragmentTracker t({}, HashSecret::from_seed(4));
  packet::PacketView first = fragment(3, 0, 16, true, 1, 2);
  packet::PacketView again = fragment(3, 8, 16);
  packet::PacketView beyond = fragment(3, 65528, 16, false);
  t.on_fragment(first, 0, 0);
  t.on_fragment(again, 0, 0);
  t.on_fragment(beyond, 0, 0);
  EXPECT_EQ(t.stats().overlapping, 1u);
  EXPECT_EQ(t.stats().bad, 1u);
  EXPECT_EQ(t.stats().fragments, 3u);
}

}  // namespace
}  // namespace flowkit::meter
