// DNS over UDP and TCP (RFC 1035): the first query's question, each direction's first flags
// word, and the first response's code and answer records.
#include <arpa/inet.h>

#include <cstring>

#include "core/byte_io.h"
#include "core/ip_address.h"
#include "dissect/protocols.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kProtoTcp = 6;
constexpr uint16_t kHeader = 12;
// Answer records kept per response (FlowTest lists a handful; a huge response is cut).
constexpr uint16_t kMaxAnswers = 32;

bool dns_port(uint16_t p) {
  return p == 53 || p == 5353 || p == 5355;
}

// Reads the possibly compressed name at `at` of `msg` into `out` (dotted, no final dot) and
// returns the offset after it where it stands, or 0 when it is malformed. Pointers may only
// point backwards, which also bounds the loop.
size_t read_name(std::span<const uint8_t> msg, size_t at, std::string& out) {
  out.clear();
  size_t after = 0;
  size_t limit = at;  // a pointer must point before every label read so far
  for (int hops = 0; hops < 128; ++hops) {
    if (at >= msg.size()) return 0;
    uint8_t len = msg[at];
    if (len == 0) return after ? after : at + 1;
    if ((len & 0xc0) == 0xc0) {
      if (at + 1 >= msg.size()) return 0;
      size_t to = size_t(len & 0x3f) << 8 | msg[at + 1];
      if (!after) after = at + 2;
      if (to >= limit) return 0;
      limit = at = to;
      continue;
    }
    if (len & 0xc0 || at + 1 + len > msg.size()) return 0;
    if (!out.empty()) out += '.';
    out.append(reinterpret_cast<const char*>(msg.data() + at + 1), len);
    if (out.size() > 255) return 0;
    at += 1 + len;
  }
  return 0;
}

// Record data as text, as FlowTest's dns_resp_rr shows it.
void rdata_text(std::span<const uint8_t> msg, size_t at, uint16_t type, uint16_t len,
                std::string& out, std::string& scratch) {
  out.clear();
  std::span<const uint8_t> d = msg.subspan(at, len);
  // Addresses in inet_ntop's text by IpAddress::format (inet_ntop goes through sprintf, a tenth
  // of the dissectors' work on DNS-heavy traffic), but for a mapped IPv4 address in an AAAA,
  // which format would write as the IPv4 address alone.
  char buf[48];
  switch (type) {
    case 1:  // A
      if (len == 4) out.assign(buf, IpAddress::v4(d.data()).format(buf));
      return;
    case 28:  // AAAA
      if (len != 16) return;
      if (IpAddress a = IpAddress::v6(d.data()); !a.is_v4())
        out.assign(buf, a.format(buf));
      else if (inet_ntop(AF_INET6, d.data(), buf, sizeof buf))
        out = buf;
      return;
    case 2:   // NS
    case 5:   // CNAME
    case 12:  // PTR
    case 39:  // DNAME
      read_name(msg, at, out);
      return;
    case 15:  // MX: preference and exchange
      if (len > 2 && read_name(msg, at + 2, scratch))
        out = std::to_string(load_be16(d.data())) + ' ' + scratch;
      return;
    case 6: {  // SOA: primary name server, responsible mailbox, then the five numbers
      size_t next = read_name(msg, at, out);
      if (!next || !(next = read_name(msg, next, scratch))) return;
      out += ' ';
      out += scratch;
      if (next + 20 > at + len) return;
      for (int i = 0; i < 5; ++i) out += ' ' + std::to_string(load_be32(msg.data() + next + 4 * i));
      return;
    }
    case 16:  // TXT: the character strings, joined by spaces
      for (size_t i = 0; i < d.size();) {
        size_t n = d[i];
        if (i + 1 + n > d.size()) break;
        if (i) out += ' ';
        out.append(reinterpret_cast<const char*>(d.data() + i + 1), n);
        i += 1 + n;
      }
      return;
    default:
      return;
  }
}

class Dns final : public Dissector {
 public:
  Protocol protocol() const override { return kDns; }

  bool claims(const Packet& p) const override {
    if (!dns_port(p.src_port) && !dns_port(p.dst_port)) return false;
    std::span<const uint8_t> m = p.payload;
    if (p.protocol == kProtoTcp) {
      // A message may come in pieces: the port is the evidence until its header is there.
      if (m.size() < 2 + kHeader) return true;
      m = m.subspan(2);
    }
    if (m.size() < kHeader) return false;
    uint16_t qd = load_be16(m.data() + 4);
    uint8_t opcode = m[2] >> 3 & 0xf;
    return qd <= 4 && opcode <= 6;
  }

  // state[0]: bit d set once direction d's first message was read.
  bool feed(FlowContext& f, const Packet& p, std::span<const uint8_t> data) const override {
    int d = int(p.dir);
    if (f.state[0] >> d & 1) return f.state[0] != 3;
    std::span<const uint8_t> m = data;
    if (p.protocol == kProtoTcp) {
      if (m.size() < 2) return true;
      size_t len = load_be16(m.data());
      if (m.size() < 2 + len) return m.size() < kMaxStream;  // wait for the whole message
      m = m.subspan(2, len);
    }
    f.state[0] |= 1u << d;
    if (m.size() >= kHeader) read_message(f.results, f.hosts, p.dir, m);
    return f.state[0] != 3;
  }

 private:
  static void read_message(Results& out, HostNames* hosts, Direction dir,
                           std::span<const uint8_t> m) {
    uint16_t id = load_be16(m.data());
    uint16_t flags = load_be16(m.data() + 2);
    uint16_t qd = load_be16(m.data() + 4), an = load_be16(m.data() + 6);
    bool response = flags & 0x8000;
    if (!out.has(FieldId::kDnsId)) out.set(FieldId::kDnsId, id);
    out.set(FieldId::kDnsFlags, flags, dir);
    // Reused from message to message: names rarely fit a string's inline buffer.
    static thread_local std::string name, text, scratch;
    size_t at = kHeader;
    static thread_local std::string question;
    question.clear();
    for (uint16_t i = 0; i < qd; ++i) {
      size_t next = read_name(m, at, name);
      if (!next || next + 4 > m.size()) return;
      if (i == 0) question = name;
      if (i == 0 && !out.has(FieldId::kDnsReqQueryName)) {
        out.set(FieldId::kDnsReqQueryName, name);
        out.set(FieldId::kDnsReqQueryType, load_be16(m.data() + next));
        out.set(FieldId::kDnsReqQueryClass, load_be16(m.data() + next + 2));
      }
      at = next + 4;
    }
    if (response && !out.has(FieldId::kDnsRespRcode)) out.set(FieldId::kDnsRespRcode, flags & 0xf);
    // The first message with answers gives the list: a response's, or an update's
    // (opcode 5, whose update section stands where answers do).
    if (an == 0 || out.has(FieldId::kDnsRespRr)) return;
    for (uint16_t i = 0; i < an && i < kMaxAnswers; ++i) {
      size_t next = read_name(m, at, name);
      if (!next || next + 10 > m.size()) return;
      uint16_t type = load_be16(m.data() + next);
      uint16_t rr_class = load_be16(m.data() + next + 2);
      uint32_t ttl = load_be32(m.data() + next + 4);
      uint16_t len = load_be16(m.data() + next + 8);
      size_t data = next + 10;
      if (data + len > m.size()) return;
      rdata_text(m, data, type, len, text, scratch);
      // Addresses answered teach hosts their names: the name asked for, which the user saw
      // (not a CNAME chain's last link).
      if (hosts && response && ((type == 1 && len == 4) || (type == 28 && len == 16)))
        hosts->learn(len == 4 ? IpAddress::v4(m.data() + data) : IpAddress::v6(m.data() + data),
                     question.empty() ? std::string_view(name) : std::string_view(question));
      out.add_item(FieldId::kDnsRespRr);
      out.set_item(1, name);
      out.set_item(2, type);
      out.set_item(3, rr_class);
      out.set_item(4, ttl);
      out.set_item(5, text);
      at = data + len;
    }
  }
};

}  // namespace

std::unique_ptr<Dissector> make_dns() {
  return std::make_unique<Dns>();
}

}  // namespace flowkit::dissect
