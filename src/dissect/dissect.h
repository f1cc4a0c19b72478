// Payload dissectors: what a flow's first messages say (DNS names, TLS SNI and fingerprints,
// HTTP requests, VPN handshakes, software banners). The meter hands each flow's packets to a
// Dissection until no dissector wants more; the values learned go into the flow's record when
// it is exported.
//
// The model is ipfixprobe's process plugins: a Dissector claims a flow on its first payload, is
// fed the flow's data while it wants it, and its values are applied before export. Dissectors
// hold no per-flow state of their own: a flow's state is its FlowContext, in a pool the
// Dissection reuses, so a packet allocates nothing once the pool has grown.
//
// TCP payload is handed over as each direction's byte stream, reassembled in sequence order
// from the flow's first payload segment (up to kMaxStream bytes): a handshake split over
// segments reads as one. A gap (a segment lost or not yet arrived) ends the stream there.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/arena.h"
#include "core/field_registry.h"
#include "core/flow_record.h"
#include "core/result.h"
#include "dissect/hosts.h"

namespace flowkit::dissect {

// Bytes of one packet's payload that dissectors see. The meter's two threads hand over at most
// this much, and one thread cuts to it as well, so both modes produce the same records.
inline constexpr uint32_t kMaxPayload = 4096;
// Bytes of a TCP direction's stream kept for reassembly (a ClientHello, a server's first
// flight with its certificate, HTTP headers).
inline constexpr uint32_t kMaxStream = 16384;
// Payload packets a flow may show before every dissector has declined it: enough for a
// STARTTLS exchange (SMTP, IMAP, FTP) before its ClientHello.
inline constexpr uint8_t kMaxUnclaimed = 16;

// Which dissectors run (`flowkit meter --dissect`).
enum Protocol : uint32_t {
  kDns = 1 << 0,
  kTls = 1 << 1,  // TLS over TCP and DTLS over UDP
  kHttp = 1 << 2,
  kSsh = 1 << 3,
  kOpenVpn = 1 << 4,
  kWireGuard = 1 << 5,
  kTcpOptions = 1 << 6,  // options, SYN size, MSS, RTT, retransmissions (tcp.h; headers only)
  kAppLabel = 1 << 7,    // nDPI's application label (app_label.h), when built with libndpi
  kQuic = 1 << 8,        // QUIC Initials: version, and the ClientHello's SNI, ALPN, JA4
  kAllProtocols = (1 << 9) - 1,
};
struct ProtocolName {
  Protocol protocol;
  std::string_view name;
};
inline constexpr ProtocolName kProtocolNames[] = {
    {kDns, "dns"},        {kTls, "tls"},       {kHttp, "http"},
    {kSsh, "ssh"},        {kOpenVpn, "ovpn"},  {kWireGuard, "wg"},
    {kTcpOptions, "tcp"}, {kAppLabel, "ndpi"}, {kQuic, "quic"},
};
// "all", "none" or a comma-separated list of names; an unknown name is an error that lists them.
Result<uint32_t> parse_protocols(std::string_view list);

// One packet of a flow as a dissector sees it.
struct Packet {
  int64_t ts;
  Direction dir;  // in the flow: forward is the direction of its first packet
  uint8_t protocol;
  uint8_t ip_version;
  const uint8_t* src;  // this packet's addresses, 16 bytes (IPv4 as IPv4-mapped IPv6)
  const uint8_t* dst;
  uint16_t src_port, dst_port;       // this packet's
  std::span<const uint8_t> l4;       // the TCP/UDP header
  std::span<const uint8_t> payload;  // at most kMaxPayload bytes
};

// What dissectors learned about a flow: field values, applied to its record at export. A value
// set twice keeps the second.
class Results {
 public:
  void set(FieldId f, uint64_t v, Direction d = Direction::kForward);
  void set(FieldId f, std::string_view v, Direction d = Direction::kForward);
  bool has(FieldId f, Direction d = Direction::kForward) const;
  // Starts a new item of a list field (a DNS answer); set_item fills its fields by item number.
  void add_item(FieldId list);
  void set_item(uint16_t num, uint64_t v);
  void set_item(uint16_t num, std::string_view v);
  bool empty() const { return entries_.empty(); }
  void clear();
  // Sets the values in r, its strings copied into `arena`.
  void apply(FlowRecord& r, Arena& arena) const;
  // The values in one block of memory, for a flow whose dissection is over (its context goes
  // back to the pool while the flow lives on): give it to apply_packed, then to std::free.
  void* pack() const;
  static void apply_packed(const void* packed, FlowRecord& r, Arena& arena);
  static size_t packed_bytes(const void* packed);

 private:
  enum class Kind : uint8_t { kNumber, kText, kItem, kItemNumber, kItemText };
  struct Entry {
    FieldId field;
    Direction dir;
    Kind kind;
    uint16_t item;  // item field number
    uint32_t off, len;
    uint64_t num;
  };
  struct Packed {
    uint32_t entries, text;  // counts; the entries, then the text, follow
  };
  static void apply(std::span<const Entry> entries, std::string_view text, FlowRecord& r,
                    Arena& arena);
  void put(Entry e);
  std::vector<Entry> entries_;
  std::string text_;
};

// A TCP direction's bytes in sequence order.
struct Stream {
  uint32_t next_seq = 0;
  bool started = false;
  bool ended = false;  // a gap, or kMaxStream reached: nothing more is appended
  std::string bytes;
};

// A flow's dissection state, reused from flow to flow.
struct FlowContext {
  const class Dissector* owner = nullptr;  // the dissector that claimed the flow
  uint8_t unclaimed = 0;                   // payload packets nobody claimed
  bool done = false;                       // no dissector wants more packets
  Stream stream[2];                        // TCP, per direction
  uint64_t state[4] = {};                  // the owner's own, zero at the start
  Results results;
  HostNames* hosts = nullptr;  // where DNS answers teach names (the Dissection's)
  void* label_flow = nullptr;  // nDPI's state (AppLabeler), from the first payload on
  uint32_t label_packets = 0;
  bool label_done = false;

  void reset();
};

// One protocol's dissector: stateless; a flow's state is in its FlowContext.
class Dissector {
 public:
  virtual ~Dissector() = default;
  virtual Protocol protocol() const = 0;
  // Whether the first payload of a flow (either direction) is this protocol's.
  virtual bool claims(const Packet& p) const = 0;
  // The flow's data after packet p: for TCP the direction's stream so far (the packet's own
  // payload when per_packet()), for UDP the datagram. Returns false once it wants no more
  // packets of this flow.
  virtual bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> data) const = 0;
  // True for dissectors that judge each TCP segment on its own rather than the stream.
  virtual bool per_packet() const { return false; }
  // Before the flow is exported: values that follow from all its packets. A dissector that
  // needs its state there says so with exports_late(): its flows keep their context.
  virtual void before_export(FlowContext& /*f*/, const FlowRecord& /*r*/) const {}
  virtual bool exports_late() const { return false; }
  // Whether packet p, of a flow this dissector owns, starts a new session of its protocol on the
  // same key (a WireGuard handshake with a new sender index): the meter then ends the flow
  // before p and starts a new one with it, as ipfixprobe's FLOW_FLUSH_WITH_REINSERT does.
  virtual bool new_session(const FlowContext& /*f*/, const Packet& /*p*/) const { return false; }
};

class Dissection {
 public:
  explicit Dissection(uint32_t protocols);
  ~Dissection();
  Dissection(const Dissection&) = delete;
  Dissection& operator=(const Dissection&) = delete;

  // True when any payload dissector runs.
  bool enabled() const { return !dissectors_.empty() || labeler_; }
  // A packet of a flow whose slot is `slot` (0 until the flow's first payload). Returns false
  // once no dissector wants more packets of the flow: its values are then packed, its context
  // (and nDPI's state) go back to the pool, and the slot names the packed values.
  bool packet(uint32_t& slot, const Packet& p);
  // Whether p starts a new session in the flow (Dissector::new_session), before p is fed.
  bool new_session(uint32_t slot, const Packet& p) const {
    if (slot == 0 || slot & kPacked) return false;
    const FlowContext& f = pool_[slot - 1];
    return f.owner && !f.done && f.owner->new_session(f, p);
  }
  // Sets what was learned in r (strings in `arena`): the flow's own values, nDPI's label (its
  // guess for a flow without a slot), and the hosts' names from DNS answers seen so far.
  void finish(uint32_t slot, FlowRecord& r, Arena& arena);
  // The flow is gone: its slot returns to the pool.
  void release(uint32_t& slot);
  size_t memory_bytes() const;

 private:
  // Slots with this bit name packed values (packed_) rather than a context.
  static constexpr uint32_t kPacked = 1u << 31;
  bool feed(uint32_t& slot, const Packet& p);
  // The flow's dissection is over: its values packed, nDPI's label final, the context freed.
  void pack(uint32_t& slot);
  // Whether the flow's next packet without payload is wanted (by nDPI, or a per-packet owner).
  bool wants_empty(const FlowContext& f) const;
  std::vector<std::unique_ptr<Dissector>> dissectors_;
  std::unique_ptr<class AppLabeler> labeler_;
  HostNames hosts_;
  size_t stream_bytes_ = 0;  // capacity of every stream buffer in the pool
  size_t label_flows_ = 0;   // flows with nDPI state
  // Slot i at pool_[i - 1]. A deque: a vector moved every context (their buffers and results)
  // each time it grew.
  std::deque<FlowContext> pool_;
  std::vector<uint32_t> free_;
  std::vector<void*> packed_;  // slot kPacked | i at packed_[i]
  std::vector<uint32_t> packed_free_;
  size_t packed_bytes_ = 0;
};

}  // namespace flowkit::dissect
