// VPN detection with ipfixprobe's measures, so that FlowTest's confidence values reproduce:
// WireGuard by its message formats, OpenVPN by its opcodes' state machine and the share of
// large data packets.
#include "core/byte_io.h"
#include "dissect/protocols.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kProtoTcp = 6, kProtoUdp = 17;

// ---- WireGuard (https://www.wireguard.com/protocol/) -------------------------------------------

constexpr size_t kWgInitiation = 148, kWgResponse = 92, kWgCookie = 64, kWgMinData = 32;

// A WireGuard message: type 1-4 with three zero bytes, in the type's size. Transport data is
// padded to 16 bytes, but captures hold data packets that are not (as ipfixprobe, which takes
// any of 32 bytes or more): only a flow's first packet, which claims it, must be.
bool wg_message(std::span<const uint8_t> b, bool first = false) {
  if (b.size() < kWgMinData || b[0] < 1 || b[0] > 4 || b[1] || b[2] || b[3]) return false;
  switch (b[0]) {
    case 1:
      return b.size() == kWgInitiation;
    case 2:
      return b.size() == kWgResponse;
    case 3:
      return b.size() == kWgCookie;
    default:
      return !first || b.size() % 16 == 0;
  }
}

class WireGuard final : public Dissector {
 public:
  Protocol protocol() const override { return kWireGuard; }
  bool claims(const Packet& p) const override {
    return p.protocol == kProtoUdp && wg_message(p.payload, true);
  }
  // An initiation whose sender index is not the one its side had: a new handshake, so a new
  // session (WireGuard starts one every two minutes on the same ports).
  bool new_session(const FlowContext& f, const Packet& p) const override {
    uint64_t had = f.state[int(p.dir)];
    return p.payload.size() == kWgInitiation && wg_message(p.payload) && p.payload[0] == 1 &&
           had != 0 && had != load_le32(p.payload.data() + 4);
  }
  // state[0]: the forward side's index, state[1] the reverse side's (each chosen by that side).
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> b) const override {
    if (!wg_message(b)) {
      f.results.set(FieldId::kWgConfLevel, uint64_t(0));
      return false;
    }
    int d = int(p.dir);
    uint32_t first = load_le32(b.data() + 4);
    switch (b[0]) {
      case 1:  // initiation: the sender's index
        f.state[d] = first;
        break;
      case 2:  // response: the sender's and the initiator's
        f.state[d] = first;
        f.state[1 - d] = load_le32(b.data() + 8);
        break;
      default:  // cookie reply, data: the receiver's index
        f.state[1 - d] = first;
        break;
    }
    if (f.state[0]) f.results.set(FieldId::kWgSrcPeer, f.state[0]);
    if (f.state[1]) f.results.set(FieldId::kWgDstPeer, f.state[1]);
    // 00 01 00 00 there is what a DNS header's counts look like: little confidence.
    bool dns_like = b[4] == 0 && b[5] == 1 && b[6] == 0 && b[7] == 0;
    f.results.set(FieldId::kWgConfLevel, uint64_t(dns_like ? 1 : 100));
    return true;
  }
};

// ---- OpenVPN (https://openvpn.net/community-resources/openvpn-protocol/) ----------------------

enum Opcode : uint8_t {
  kResetClientV1 = 1,
  kResetServerV1 = 2,
  kSoftReset = 3,
  kControl = 4,
  kAck = 5,
  kDataV1 = 6,
  kResetClientV2 = 7,
  kResetServerV2 = 8,
  kDataV2 = 9,
  kResetClientV3 = 10,
};
enum State : uint8_t {
  kNone,
  kResetClient,
  kResetServer,
  kAcked,
  kClientHello,
  kServerHello,
  kControlAck,
  kData
};
constexpr size_t kLargePacket = 500;
constexpr uint64_t kMinPackets = 5, kDataPackets = 20, kMaxInvalid = 4;
constexpr double kDataShare = 0.6;

// The opcode's offset: TCP frames each packet with a 2-byte length.
size_t opcode_at(uint8_t protocol) {
  return protocol == kProtoTcp ? 2 : 0;
}

// A TLS ClientHello or ServerHello in a control packet, at either offset (without and with
// tls-auth's HMAC).
bool tls_hello(std::span<const uint8_t> b, size_t o, uint8_t type) {
  size_t first = type == 1 ? 14 : 26;
  for (size_t at : {o + first, o + first + 28})
    if (b.size() > at + 5 && b[at] == 0x16 && b[at + 5] == type) return true;
  return false;
}

// RTP (RFC 3550) version 2 with a payload type outside RTCP's range: calls, not a tunnel.
bool rtp(const Packet& p) {
  return p.protocol == kProtoUdp && p.payload.size() >= 12 && p.payload[0] >> 6 == 2 &&
         ((p.payload[1] & 0x7f) < 72 || (p.payload[1] & 0x7f) > 95);
}

class OpenVpn final : public Dissector {
 public:
  Protocol protocol() const override { return kOpenVpn; }
  bool per_packet() const override { return true; }

  bool claims(const Packet& p) const override {
    size_t o = opcode_at(p.protocol);
    if (p.payload.size() <= o + 8) return false;
    if (p.protocol == kProtoTcp && load_be16(p.payload.data()) + 2u != p.payload.size())
      return false;
    uint8_t op = p.payload[o] >> 3;
    return op >= kResetClientV1 && op <= kResetClientV3;
  }

  // state[0]: State; state[1]: 1 + the client's direction; state[2]: invalid packets in a row
  // (as ipfixprobe counts them: a packet that changes nothing adds one); state[3]: data packets <<
  // 32 | large packets.
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> b) const override {
    size_t o = opcode_at(p.protocol);
    uint64_t& st = f.state[0];
    uint64_t& client = f.state[1];
    int64_t inv = int64_t(f.state[2]);
    bool large = b.size() > kLargePacket && !rtp(p);
    bool from_client = client && int(p.dir) == int(client - 1);
    bool to_client = client && !from_client;
    if (b.size() > o) {
      switch (b[o] >> 3) {
        case kResetClientV1:
        case kResetClientV2:
        case kResetClientV3:
          st = kResetClient;
          client = uint64_t(p.dir) + 1;
          inv = -1;
          break;
        case kResetServerV1:
        case kResetServerV2:
          if (st == kResetClient && to_client) {
            st = kResetServer;
            inv = -1;
          } else if (++inv == int64_t(kMaxInvalid)) {
            st = kNone;
          }
          break;
        case kControl:
          if (st == kAcked && from_client && tls_hello(b, o, 1)) {
            st = kClientHello;
            inv = -1;
          } else if (st == kClientHello && to_client && tls_hello(b, o, 2)) {
            st = kServerHello;
            inv = -1;
          } else if (st == kServerHello || st == kControlAck) {
            st = kControlAck;
            inv = -1;
          } else if (++inv == int64_t(kMaxInvalid)) {
            st = kNone;
          }
          break;
        case kAck:
          if (st == kResetServer && from_client)
            st = kAcked;
          else if (st == kServerHello || st == kControlAck)
            st = kControlAck;
          break;
        case kDataV1:
        case kDataV2:
          if (st == kControlAck || st == kData) {
            st = kData;
            inv = -1;
          }
          if (large) f.state[3] += uint64_t(1) << 32;
          break;
        default:
          break;
      }
    }
    if (large) ++f.state[3];
    if (inv >= int64_t(kMaxInvalid)) {
      st = kNone;
      inv = -1;
    }
    f.state[2] = uint64_t(inv + 1);
    return true;
  }

  bool exports_late() const override { return true; }
  void before_export(FlowContext& f, const FlowRecord& r) const override {
    uint64_t packets = r.packets();
    if (packets <= kMinPackets) return;
    uint64_t data = f.state[3] >> 32, large = f.state[3] & 0xffffffff;
    uint8_t level = 0;
    if (packets > kDataPackets && f.state[0] == kData) {
      level = 100;
    } else if (large > kDataPackets && double(data) / double(large) >= kDataShare) {
      level = uint8_t(double(data) / double(large) * 80);
    }
    f.results.set(FieldId::kOvpnConfLevel, level);
  }
};

}  // namespace

std::unique_ptr<Dissector> make_wireguard() {
  return std::make_unique<WireGuard>();
}

std::unique_ptr<Dissector> make_openvpn() {
  return std::make_unique<OpenVpn>();
}

}  // namespace flowkit::dissect
