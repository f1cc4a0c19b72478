// Meter: turns packets into flow records. Decodes each packet, finds its flow (biflow by
// default, RFC 5103: the first packet's sender is the forward direction), counts it, and expires
// flows by idle timeout, active timeout, TCP end (FIN both ways or RST, after a short grace for
// the last ACKs) and cache pressure. Time is packet time, so a file always gives the same flows;
// live capture advances time with advance().
//
// Packets are handled a batch at a time, in two stages: first every packet of the batch is decoded
// (PacketPreparer); then the batch is keyed and hashed, and counted in order while the index
// slots and flow states a few packets ahead are prefetched, so that the cache misses of a large
// flow table overlap. The first stage holds no flow state, so it can run on another thread
// (meter/pipeline.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "capture/packet_source.h"
#include "core/flow_sink.h"
#include "dissect/dissect.h"
#include "dissect/geoip.h"
#include "meter/flow_key.h"
#include "meter/flow_table.h"
#include "meter/fragment_tracker.h"
#include "packet/decoder.h"

namespace flowkit::meter {

struct MeterOptions {
  KeyOptions key;
  int64_t idle_timeout_ns = 300 * kNanosPerSecond;
  int64_t active_timeout_ns = 1800 * kNanosPerSecond;  // 0: none
  int64_t tcp_end_timeout_ns = 5 * kNanosPerSecond;
  bool tcp_end = true;  // expire TCP flows after FIN/RST
  size_t max_flows = 2'000'000;
  uint32_t sample = 1;                        // count 1 packet in N
  bool stats = true;                          // packet size and inter-arrival statistics
  uint32_t dissect = dissect::kAllProtocols;  // payload dissectors (dissect::Protocol bits)
  dissect::LocalNets local_nets;              // --local-net: traffic_direction
  dissect::GeoIp geoip;                       // --geoip: countries and AS of both ends
  uint32_t splt = 0;  // the first N packets of each flow as a list (--splt); 0: none
  packet::DecodeOptions decode;
  FragmentTracker::Options fragments;
};

struct MeterStats {
  uint64_t packets = 0;      // handed to the meter
  uint64_t not_sampled = 0;  // skipped by 1-in-N sampling
  uint64_t decoded = 0;      // counted in a flow
  uint64_t skipped[size_t(packet::SkipReason::kCount)] = {};
  uint64_t l4_truncated = 0;  // counted without ports: transport header cut by the snap length
  uint64_t no_memory = 0;     // not counted: the system refused memory for even one flow
  uint64_t ip_bytes = 0;      // sum of bytes over counted packets
  uint64_t flows = 0;         // records emitted
  uint64_t flows_by_reason[6] = {};
  uint64_t flows_created = 0;
  uint64_t peak_flows = 0;
  uint64_t tunneled = 0;  // packets keyed by an inner header
  FragmentStats fragments;

  uint64_t skipped_total() const {
    uint64_t n = 0;
    for (uint64_t s : skipped) n += s;
    return n;
  }
};

// A packet's flow key, or keyed false when it has none (skipped, sampled out, a fragment).
struct PacketKey {
  FlowKey key;
  uint32_t hash;
  bool swapped;  // the packet's source is endpoint 1 of the key
  bool keyed;
};

// A packet between the two stages: sampled and decoded, and keyed when the first stage has time
// for it. Holds no pointer into the packet, so it outlives the source's buffer. Laid out in cache
// lines for the crossing to another core: lines 0 and 1 hold all that most packets need, line 2
// the view's rare fields (PacketView::has_rare_fields()), line 3 the key.
struct alignas(64) DecodedPacket {
  int64_t ts;
  uint32_t interface;
  bool sampled_out;
  bool has_l4;  // l4 is set (line 3 crosses to the other thread then)
  packet::PacketView view;
  alignas(64) PacketKey key;  // valid only where the batch says it is keyed
  // The TCP/UDP header and what follows (view.payload_offset - view.l4_offset header bytes,
  // then at most dissect::kMaxPayload of payload): in the source's buffer when that outlives
  // the batch, else in a copy the batch owns. Valid only when has_l4.
  const uint8_t* l4;
};
static_assert(offsetof(DecodedPacket, view) + offsetof(packet::PacketView, mpls_label) <= 128,
              "the fields every packet needs in lines 0 and 1");
static_assert(offsetof(DecodedPacket, key) == 192 && sizeof(DecodedPacket) == 256);

// Makes the key of a decoded packet.
inline void make_packet_key(const DecodedPacket& p, const KeyOptions& o, PacketKey& k) {
  k.keyed = !p.sampled_out && p.view.skip == packet::SkipReason::kNone && !p.view.is_fragment;
  if (!k.keyed) return;
  k.swapped = make_key(p.view, o, k.key);
  k.hash = uint32_t(hash_key(k.key, o.hash_secret));
}

// The first stage: 1-in-N sampling, decoding and, when asked, keying.
class PacketPreparer {
 public:
  explicit PacketPreparer(const MeterOptions& options);
  // Decodes in[i] into out[i]; `out` holds at least in.size() packets. With `copy`, the
  // transport headers and payloads that dissectors read are copied there (for sources whose
  // buffers the next read reuses); otherwise DecodedPacket::l4 points into `in`.
  void prepare(std::span<const capture::RawPacket> in, DecodedPacket* out, bool with_keys,
               std::vector<uint8_t>* copy = nullptr);

 private:
  packet::DecodeOptions decode_;
  KeyOptions key_;
  uint32_t sample_;
  uint64_t sample_counter_ = 0;
  bool dissect_;
};

class Meter {
 public:
  // `sink` receives finished flows in batches and must outlive the meter.
  Meter(const MeterOptions& options, FlowSink& sink);
  ~Meter();
  Meter(const Meter&) = delete;
  Meter& operator=(const Meter&) = delete;

  // Counts a batch of packets; then hands finished flows to the sink.
  void process(std::span<const capture::RawPacket> packets);
  // The same for packets decoded by a PacketPreparer with this meter's options (and keyed by
  // it when `keyed`).
  void count(std::span<const DecodedPacket> packets, bool keyed);
  // The source's interfaces, numbered as RawPacket::interface, in the order it learns them: a
  // flow direction's interface_name is its first packet's interface's own name (live capture,
  // pcapng if_name; not a file name).
  void add_interfaces(std::span<const capture::InterfaceInfo> more);
  size_t interface_count() const { return interface_names_.size(); }
  // Moves the clock forward (live capture between packets) and expires what is due.
  void advance(Timestamp now);
  // Ends every flow in flight (end of input, Ctrl-C): held fragments are counted first, then
  // flows are exported in the order they started.
  void flush();

  const MeterStats& stats() const;
  // The meter's clock: the first packet's time, and the latest time seen (packet time, or what
  // advance() said). INT64_MIN before the first packet.
  Timestamp start_time() const { return Timestamp{start_}; }
  Timestamp now() const { return Timestamp{now_}; }
  size_t active_flows() const { return table_.size(); }
  // Bytes of flow state now (table slots, index, extensions, statistics).
  size_t memory_bytes() const;

 private:
  struct DirExt {
    uint64_t bytes_outer;
    uint32_t mpls_label[3];
    uint8_t mpls_depth;
    uint16_t vlan_id_inner;
    bool own_mac;  // reverse only: MACs that are not the forward ones swapped
    uint8_t src_mac[6], dst_mac[6];
  };
  struct FlowExt {  // what few flows need: tunnels, MPLS, QinQ, asymmetric MACs
    TunnelType tunnel;
    uint32_t tunnel_id;
    uint8_t outer_src[16];
    uint8_t outer_dst[16];
    DirExt dir[2];
  };
  // Both are the per-packet path: inlined, so a packet costs no call and no register spills.
  [[gnu::always_inline]] inline void handle(const DecodedPacket& p, const PacketKey& k);
  [[gnu::always_inline]] inline void account(const packet::PacketView& v, const uint8_t* l4,
                                             const FlowKey& key, uint64_t hash, bool swapped,
                                             int64_t ts, uint32_t interface);
  // The packet as dissectors see it, d its direction in the flow.
  static dissect::Packet app_packet(const packet::PacketView& v, const uint8_t* l4, int d,
                                    int64_t ts);
  void dissect(FlowState& f, uint32_t id, int d, const packet::PacketView& v, const uint8_t* l4,
               int64_t ts);
  FlowExt& ext_of(FlowState& f);
  void account_view(const packet::PacketView& v, const uint8_t* l4, int64_t ts, uint32_t interface);
  void drain_fragments();
  void expire(int64_t now);
  // Something falls due `delay` after `time`.
  void expire_by(int64_t time, int64_t delay = 0) {
    next_expire_ = std::min(next_expire_, saturating_add(time, delay));
  }
  void export_flow(uint32_t id, EndReason reason, bool keep);
  void to_record(uint32_t id, EndReason reason, FlowRecord& r);
  void emit_batch();

  MeterOptions opt_;
  FlowSink& sink_;
  FlowTable table_;
  FragmentTracker fragments_;
  dissect::Dissection dissection_;
  size_t splt_extra_ = 0;                // offset of the SPLT entries in a flow's extra bytes
  size_t tcp_extra_ = 0;                 // offset of dissect::TcpTrack in a flow's extra bytes
  std::vector<FlowExt> ext_{FlowExt{}};  // index 0 is "none"
  std::vector<uint32_t> ext_free_;
  PacketPreparer preparer_;
  std::vector<DecodedPacket> decoded_;
  std::vector<PacketKey> keys_;  // for batches that come without keys
  int64_t now_ = INT64_MIN;
  // Nothing expires before this time: packets before it need no expire() call. Lowered whenever
  // something with an earlier deadline is added.
  int64_t next_expire_ = INT64_MIN;
  int64_t start_ = INT64_MIN;
  std::vector<FlowRecord> batch_;
  Arena arena_;  // the batch's strings
  // "" for interfaces without a name of their own. Records view the strings, which a deque
  // keeps in place as interfaces are added; the views are what to_record reads.
  std::deque<std::string> interface_storage_;
  std::vector<std::string_view> interface_names_;
  mutable MeterStats stats_;
};

}  // namespace flowkit::meter
