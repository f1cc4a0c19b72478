#include "gen/traffic_generator.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numbers>
#include <random>
#include <vector>

#include "core/byte_io.h"
#include "gen/checksum.h"
#include "gen/payloads.h"

namespace flowkit::gen {
namespace {

constexpr std::string_view kKindNames[] = {"tcp", "http", "tls", "dns", "dns-large", "icmp"};
static_assert(std::size(kKindNames) == kSessionKinds);

constexpr int64_t kUs = 1000;
constexpr int64_t kMs = 1000 * kUs;
constexpr int64_t kSec = 1000 * kMs;

constexpr uint8_t kFin = 0x01, kSynFlag = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
constexpr uint8_t kProtoIcmp = 1, kProtoTcp = 6, kProtoUdp = 17, kProtoFrag = 44, kProtoIcmp6 = 58;

// Filler for payload bodies: 64 KiB of pseudo-random (or printable) bytes plus a mirror of the
// start, so any slice of one segment is a single memcpy.
constexpr size_t kFill = 65536;
constexpr size_t kFillTable = kFill + TrafficGenerator::kMaxFrameSize;

constexpr uint32_t kSubnetHosts = 30;                        // clients per /27
constexpr uint32_t kMaxClients = 255 * 2048 * kSubnetHosts;  // all /27s of 10.1.0.0-10.255.255.255

uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
uint64_t hash3(uint64_t a, uint64_t b, uint64_t c = 0) {
  return mix64(a ^ mix64(b ^ mix64(c)));
}

// Randomness in the generator's own terms, over mt19937_64 so results do not depend on the
// standard library's distribution implementations.
class Rng {
 public:
  explicit Rng(uint64_t seed) : e_(seed) {}
  uint64_t u64() { return e_(); }
  double uniform() { return double(e_() >> 11) * 0x1p-53; }
  uint64_t below(uint64_t n) { return uint64_t((unsigned __int128)e_() * n >> 64); }
  uint64_t between(uint64_t lo, uint64_t hi) { return lo + below(hi - lo + 1); }
  bool chance(double p) { return uniform() < p; }
  double exponential(double mean) { return -std::log1p(-uniform()) * mean; }
  double normal() {
    double u1 = 1.0 - uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * std::numbers::pi * u2);
  }
  double lognormal(double median, double sigma) { return median * std::exp(sigma * normal()); }
  // Popularity: index 0 is the most likely; larger powers skew harder.
  size_t skewed(size_t n, double power) {
    size_t i = size_t(double(n) * std::pow(uniform(), power));
    return i < n ? i : n - 1;
  }

 private:
  std::mt19937_64 e_;
};

struct Host {
  uint8_t v4[4]{};
  uint8_t v6[16]{};
  uint8_t mac[6]{};
  bool has_v6 = false;
  uint8_t ttl = 64;  // as seen at the capture point
  uint8_t tags = 0;  // VLAN tags on this host's packets: 0, 1 or 2 (QinQ)
  uint16_t vlan = 0, svlan = 0;
  TlsProfile profile = TlsProfile::kChrome;
  uint8_t resolver = 0;  // clients: resolver they use
  bool windows = false;
  uint16_t next_port = 0;  // clients: next TCP ephemeral port
  uint16_t name = 0;       // servers: index into host_names()
  uint32_t rtt_us = 0;     // servers: round trip from the capture point
};

enum Phase : uint8_t {
  kPhaseSyn,
  kPhaseSynAck,
  kPhaseHandshakeAck,
  kPhaseRefuse,
  kPhaseData,
  kPhaseDataAck,
  kPhaseFin1,
  kPhaseFinAck,
  kPhaseFin2,
  kPhaseLastAck,
  kPhaseReset,
  kPhaseDnsQuery,
  kPhaseDnsResponse,
  kPhaseFragQuery,
  kPhaseFragment,
  kPhaseEchoRequest,
  kPhaseEchoReply,
  kPhaseDone,
};

enum class EndMode : uint8_t { kFin, kReset, kOpen };
enum class OpenMode : uint8_t { kNormal, kRefused, kUnanswered };
enum BodyType : uint8_t { kBodyBinary, kBodyText, kBodyTls };

// One session's whole state; sessions live in a pool and are reused.
struct Session {
  uint64_t seed;
  int64_t next_ns;
  int64_t last_seg_ns;
  int64_t flight_ns;  // start of the current flight; ICMP: time of the last request
  uint32_t client, server;
  uint32_t target;  // DNS: server whose name is asked
  uint32_t seq[2];  // next sequence number of client (0) and server (1)
  uint32_t rtt_ns, gap_ns, turn_ns;
  uint32_t msg_len, msg_sent, plain;
  uint16_t port[2];
  uint16_t ip_id[2];
  uint16_t window[2];
  uint16_t prefix_len;
  uint16_t cwnd, flight_left;
  uint16_t counter, count;
  uint16_t id;
  uint16_t status;  // HTTP response status
  uint16_t exchange, exchanges;
  uint16_t mss;
  SessionKind kind;
  uint8_t phase;
  bool v6;
  uint8_t sender, unacked, closer, body;
  EndMode end;
  OpenMode open;
  bool fin_combined, reorder, answered;
  uint16_t qtype;
  uint8_t rcode;
};

struct Event {
  int64_t t;
  uint64_t order;  // FIFO among equal times, so the output never depends on heap internals
  uint32_t slot;
  bool operator<(const Event& o) const { return t != o.t ? t < o.t : order < o.order; }
};

constexpr std::string_view kPaths[] = {
    "/",
    "/index.html",
    "/favicon.ico",
    "/generate_204",
    "/success.txt",
    "/connecttest.txt",
    "/debian/dists/bookworm/InRelease",
    "/debian/pool/main/c/curl/libcurl4_7.88.1-10_amd64.deb",
    "/ubuntu/dists/jammy-updates/main/binary-amd64/Packages.xz",
    "/static/js/main.5f3c1a.js",
    "/static/css/site.css",
    "/images/logo.png",
    "/api/v1/status",
    "/msdownload/update/v3/static/trustedr/en/authrootstl.cab",
    "/download/firmware.bin",
    "/news/latest",
};

constexpr std::string_view kUserAgents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/7.88.1",
    "Debian APT-HTTP/1.3 (2.6.1)",
    "Microsoft-CryptoAPI/10.0",
};

constexpr std::string_view kMissingNames[] = {
    "wpad.lan",      "isatap.lan",       "_ldap._tcp.dc._msdcs.corp.lan",
    "printer.lan",   "nas.home.arpa",    "time.corp.lan",
    "localhost.lan", "router.home.arpa", "_dns.resolver.arpa",
};

// Public first octets for server addresses (no private, shared, loopback, test or multicast).
constexpr uint8_t kPublicFirstOctets[] = {
    13,  17,  20,  23,  31,  34,  35,  40,  44,  45,  51,  52,  54,  63,  64,  66,
    69,  72,  74,  76,  78,  80,  82,  85,  87,  91,  93,  95,  104, 107, 108, 116,
    121, 130, 131, 138, 140, 142, 143, 146, 151, 152, 157, 162, 163, 173, 176, 178,
    185, 188, 193, 194, 195, 199, 204, 205, 206, 207, 208, 209, 212, 213, 216, 217};
constexpr uint16_t kServerV6Prefixes[][2] = {{0x2a00, 0x1450}, {0x2606, 0x4700}, {0x2a03, 0x2880},
                                             {0x2620, 0x01ec}, {0x2600, 0x9000}, {0x2a02, 0x26f0},
                                             {0x2a04, 0x4e42}, {0x2001, 0x4860}};
constexpr uint8_t kClientOuis[][3] = {{0x3c, 0x22, 0xfb}, {0xf8, 0xbc, 0x12}, {0x8c, 0x8c, 0xaa},
                                      {0xa4, 0x83, 0xe7}, {0x00, 0x1b, 0x21}, {0xdc, 0xa6, 0x32}};
constexpr uint8_t kServerOuis[][3] = {{0x00, 0x1c, 0x73}, {0x00, 0x50, 0x56}, {0x3c, 0xfd, 0xfe}};
// Ports for generic TCP sessions: ones where tshark runs no strict dissector over the random
// payload (on 8080 it would parse HTTP and flag every session as malformed).
constexpr uint16_t kTcpPorts[] = {5201, 8888, 2222, 10050, 4443};

}  // namespace

std::string_view session_kind_name(SessionKind kind) {
  size_t k = size_t(kind);
  return k < kSessionKinds ? kKindNames[k] : "?";
}

struct TrafficGenerator::Impl {
  explicit Impl(const GeneratorOptions& o) : opt(o), rng(o.seed) {}

  GeneratorOptions opt;
  GeneratorStats stats;
  Rng rng;
  std::vector<Host> clients, servers, resolvers;
  std::vector<uint32_t> dual_clients, v6_servers;
  std::vector<std::vector<uint32_t>> servers_by_name;
  std::vector<Session> sessions;
  std::vector<uint32_t> free_slots;
  std::vector<Event> heap;
  std::array<double, kSessionKinds> cumulative{};
  std::vector<uint8_t> binary_fill, text_fill;
  std::vector<uint8_t> scratch;
  // The last fragmented datagram built; its fragments usually go out before any other's.
  std::vector<uint8_t> datagram;
  uint64_t datagram_seed = 0;
  bool datagram_valid = false;
  int64_t next_arrival = 0;
  double mean_gap_ns = 0;
  uint64_t order = 0;

  void setup();
  void make_clients(uint32_t n);
  void make_servers(uint32_t n);
  void spawn(int64_t t);
  size_t step(Session& s, int64_t now, uint8_t* f);

  const Host& peer(const Session& s) const {
    return s.kind == SessionKind::kDns || s.kind == SessionKind::kDnsLarge ? resolvers[s.server]
                                                                           : servers[s.server];
  }
  void schedule(Session& s, uint8_t phase, int64_t t) {
    s.phase = phase;
    s.next_ns = t;
  }
  int64_t reply_delay(const Session& s, int responder) const {
    return responder ? int64_t(s.rtt_ns) + s.turn_ns : s.turn_ns;
  }

  // Packet building.
  uint8_t* put_ip(uint8_t* f, Session& s, int side, uint8_t proto, size_t l4_len, bool df,
                  uint32_t* pseudo);
  size_t put_tcp(uint8_t* f, Session& s, int side, uint8_t flags, uint32_t len, bool syn);
  size_t put_udp(uint8_t* f, Session& s, int side, const uint8_t* payload, size_t len);
  void fill_payload(const Session& s, uint32_t off, uint32_t len, uint8_t* out);
  size_t build_prefix(const Session& s, uint8_t* out) const;
  size_t build_large_datagram(const Session& s, uint8_t* out) const;
  std::string_view dns_name(const Session& s) const;
  size_t build_dns(const Session& s, bool response, uint8_t* out) const;

  // TCP session flow.
  void start_message(Session& s, int sender, int64_t at);
  void message_done(Session& s, int64_t now);
  size_t step_tcp(Session& s, int64_t now, uint8_t* f);
  size_t step_dns(Session& s, int64_t now, uint8_t* f);
  size_t step_fragment(Session& s, int64_t now, uint8_t* f);
  size_t step_icmp(Session& s, int64_t now, uint8_t* f);

  // Event queue: a binary min-heap with replace-top for the common "same session again" case.
  void heap_push(uint32_t slot, int64_t t);
  void heap_sift_down(size_t i);
};

// ---------------------------------------------------------------------------------------------
// Hosts

void TrafficGenerator::Impl::make_clients(uint32_t n) {
  clients.resize(n);
  // Clients sit in /27 subnets of 30 hosts; a VLAN is a subnet, so tagged hosts share VLAN ids
  // as on real LANs, and small captures still get a fair share of tagged subnets.
  uint32_t subnets = (n + kSubnetHosts - 1) / kSubnetHosts;
  std::vector<uint8_t> subnet_tags(subnets);
  uint32_t tagged = 0;
  for (uint32_t k = 0; k < subnets; ++k) {
    if (rng.chance(opt.vlan_share)) subnet_tags[k] = tagged++ % 10 == 1 ? 2 : 1;
  }
  double dual_share = opt.ipv6_share <= 0 ? 0 : std::min(1.0, opt.ipv6_share + 0.2);
  for (uint32_t i = 0; i < n; ++i) {
    Host& h = clients[i];
    uint32_t k = i / kSubnetHosts, host = i % kSubnetHosts + 1;
    h.v4[0] = 10;
    h.v4[1] = uint8_t(1 + k / 2048);
    h.v4[2] = uint8_t(k / 8 % 256);
    h.v4[3] = uint8_t(32 * (k % 8) + host);
    h.tags = subnet_tags[k];
    h.vlan = uint16_t(100 + k % 3900);
    h.svlan = uint16_t(2000 + k % 16);
    std::memcpy(h.mac, kClientOuis[rng.below(std::size(kClientOuis))], 3);
    uint64_t r = rng.u64();
    std::memcpy(h.mac + 3, &r, 3);
    h.windows = rng.chance(0.35);
    h.ttl = h.windows ? 128 : 64;
    double p = rng.uniform();
    h.profile = p < 0.6 ? TlsProfile::kChrome : p < 0.85 ? TlsProfile::kFirefox : TlsProfile::kCurl;
    double q = rng.uniform();
    h.resolver = q < 0.7 ? 0 : q < 0.85 ? 1 : q < 0.95 ? 2 : 3;
    h.next_port =
        h.windows ? uint16_t(rng.between(49152, 65535)) : uint16_t(rng.between(32768, 60999));
    if (rng.chance(dual_share)) {
      h.has_v6 = true;
      static constexpr uint8_t kPrefix[4] = {0x20, 0x01, 0x0d, 0xb8};
      std::memcpy(h.v6, kPrefix, 4);
      store_be16(h.v6 + 4, uint16_t(0x1000 + (k >> 16)));
      store_be16(h.v6 + 6, uint16_t(k));
      uint64_t iid = rng.u64() & ~(uint64_t(2) << 56);  // privacy address: random, u/l bit 0
      store_be64(h.v6 + 8, iid);
      dual_clients.push_back(i);
    }
  }
}

void TrafficGenerator::Impl::make_servers(uint32_t n) {
  const auto names = host_names();
  servers.resize(n);
  servers_by_name.assign(names.size(), {});
  double v6_share = opt.ipv6_share <= 0 ? 0 : std::min(1.0, opt.ipv6_share + 0.3);
  for (uint32_t i = 0; i < n; ++i) {
    Host& h = servers[i];
    h.v4[0] = kPublicFirstOctets[rng.below(std::size(kPublicFirstOctets))];
    h.v4[1] = uint8_t(rng.below(256));
    h.v4[2] = uint8_t(rng.below(256));
    h.v4[3] = uint8_t(rng.between(1, 254));
    std::memcpy(h.mac, kServerOuis[rng.below(std::size(kServerOuis))], 3);
    uint64_t r = rng.u64();
    std::memcpy(h.mac + 3, &r, 3);
    double p = rng.uniform();
    uint8_t initial = p < 0.75 ? 64 : p < 0.9 ? 128 : 255;
    h.ttl = uint8_t(initial - rng.between(6, 24));
    h.rtt_us = uint32_t(std::clamp(rng.lognormal(25000, 0.9), 500.0, 350000.0));
    h.name = uint16_t(i % names.size());
    servers_by_name[h.name].push_back(i);
    if (rng.chance(v6_share)) {
      h.has_v6 = true;
      const auto& pre = kServerV6Prefixes[rng.below(std::size(kServerV6Prefixes))];
      store_be16(h.v6, pre[0]);
      store_be16(h.v6 + 2, pre[1]);
      store_be32(h.v6 + 4, uint32_t(rng.u64()));
      store_be16(h.v6 + 14, uint16_t(rng.between(1, 0x2fff)));
      v6_servers.push_back(i);
    }
  }
  // Resolvers: the site's own and three public ones, all dual-stack.
  struct R {
    uint8_t v4[4];
    uint16_t v6[8];
    uint32_t rtt_us;
  };
  static constexpr R kResolvers[] = {
      {{10, 0, 0, 53}, {0x2001, 0x0db8, 0x0fff, 0, 0, 0, 0, 0x53}, 400},
      {{8, 8, 8, 8}, {0x2001, 0x4860, 0x4860, 0, 0, 0, 0, 0x8888}, 9000},
      {{1, 1, 1, 1}, {0x2606, 0x4700, 0x4700, 0, 0, 0, 0, 0x1111}, 7000},
      {{9, 9, 9, 9}, {0x2620, 0x00fe, 0, 0, 0, 0, 0, 0x00fe}, 14000},
  };
  for (const R& r : kResolvers) {
    Host h;
    std::memcpy(h.v4, r.v4, 4);
    for (int j = 0; j < 8; ++j) store_be16(h.v6 + 2 * j, r.v6[j]);
    h.has_v6 = true;
    std::memcpy(h.mac, kServerOuis[0], 3);
    h.mac[3] = 0x53;
    h.mac[4] = r.v4[0];
    h.mac[5] = uint8_t(resolvers.size());
    h.ttl = r.v4[0] == 10 ? 64 : 64 - 12;
    h.rtt_us = r.rtt_us;
    resolvers.push_back(h);
  }
}

void TrafficGenerator::Impl::setup() {
  uint64_t target = opt.packets ? opt.packets : opt.bytes / 600;
  uint32_t hosts = opt.hosts ? opt.hosts : uint32_t(std::clamp<uint64_t>(target / 200, 64, 20000));
  uint32_t nservers = opt.servers ? opt.servers : std::clamp<uint32_t>(hosts / 8, 16, 4000);
  make_clients(hosts);
  make_servers(nservers);
  if (dual_clients.empty() || v6_servers.empty()) opt.ipv6_share = 0;

  double sum = 0;
  for (size_t k = 0; k < kSessionKinds; ++k) cumulative[k] = sum += opt.weights[k];
  for (double& c : cumulative) c /= sum;

  // Payload filler: one table of random bytes, one of text, both seeded.
  binary_fill.resize(kFillTable);
  text_fill.resize(kFillTable);
  static constexpr char kText[] =
      "the quick brown fox jumps over the lazy dog. Lorem ipsum dolor sit amet, consectetur "
      "adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua.\n";
  for (size_t i = 0; i < kFill; i += 8) {
    uint64_t v = rng.u64();
    std::memcpy(&binary_fill[i], &v, 8);
    text_fill[i] = uint8_t(kText[rng.below(sizeof kText - 1)]);
    for (size_t j = 1; j < 8; ++j)
      text_fill[i + j] = uint8_t(kText[(i + j * 7 + v) % (sizeof kText - 1)]);
  }
  std::memcpy(&binary_fill[kFill], binary_fill.data(), kFillTable - kFill);
  std::memcpy(&text_fill[kFill], text_fill.data(), kFillTable - kFill);
  scratch.resize(16384);
  datagram.resize(16384);

  sessions.reserve(4096);
  heap.reserve(4096);
  mean_gap_ns = 1e9 / opt.sessions_per_second;
  next_arrival = opt.start.ns;
}

// ---------------------------------------------------------------------------------------------
// Event queue

void TrafficGenerator::Impl::heap_push(uint32_t slot, int64_t t) {
  heap.push_back({t, order++, slot});
  size_t i = heap.size() - 1;
  while (i > 0) {
    size_t parent = (i - 1) / 2;
    if (!(heap[i] < heap[parent])) break;
    std::swap(heap[i], heap[parent]);
    i = parent;
  }
}

void TrafficGenerator::Impl::heap_sift_down(size_t i) {
  size_t n = heap.size();
  Event e = heap[i];
  for (;;) {
    size_t c = 2 * i + 1;
    if (c >= n) break;
    if (c + 1 < n && heap[c + 1] < heap[c]) ++c;
    if (!(heap[c] < e)) break;
    heap[i] = heap[c];
    i = c;
  }
  heap[i] = e;
}

// ---------------------------------------------------------------------------------------------
// Sessions

void TrafficGenerator::Impl::spawn(int64_t t) {
  double u = rng.uniform();
  size_t k = 0;
  while (k + 1 < kSessionKinds && u >= cumulative[k]) ++k;
  uint32_t slot;
  if (free_slots.empty()) {
    slot = uint32_t(sessions.size());
    sessions.emplace_back();
  } else {
    slot = free_slots.back();
    free_slots.pop_back();
  }
  Session& s = sessions[slot];
  s = Session{};
  s.kind = SessionKind(k);
  s.seed = rng.u64();
  s.v6 = opt.ipv6_share > 0 && rng.chance(opt.ipv6_share);
  s.client = s.v6 ? dual_clients[rng.skewed(dual_clients.size(), 1.3)]
                  : uint32_t(rng.skewed(clients.size(), 1.3));
  Host& c = clients[s.client];
  const bool dns = s.kind == SessionKind::kDns || s.kind == SessionKind::kDnsLarge;
  if (dns) {
    s.server = c.resolver;
    s.target = uint32_t(rng.skewed(servers.size(), 2.5));
  } else {
    s.server = s.v6 ? v6_servers[rng.skewed(v6_servers.size(), 2.5)]
                    : uint32_t(rng.skewed(servers.size(), 2.5));
  }
  const Host& p = peer(s);
  s.rtt_ns = uint32_t(p.rtt_us * kUs * (1.0 + 0.2 * rng.uniform()));
  s.turn_ns = uint32_t(rng.between(30, 300) * kUs);
  double mbps = std::clamp(rng.lognormal(40, 1.0), 2.0, 1000.0);
  s.gap_ns = uint32_t(1514 * 8 * 1000 / mbps);
  s.ip_id[0] = uint16_t(rng.u64());
  s.ip_id[1] = uint16_t(rng.u64());
  s.id = uint16_t(rng.u64());
  s.mss = s.v6 ? 1440 : 1460;
  ++stats.sessions[k];

  switch (s.kind) {
    case SessionKind::kTcp:
    case SessionKind::kHttp:
    case SessionKind::kTls: {
      s.port[0] = c.next_port;
      uint16_t lo = c.windows ? 49152 : 32768, hi = c.windows ? 65535 : 60999;
      uint32_t np = uint32_t(c.next_port) + 1 + uint32_t(rng.below(4));
      c.next_port = np > hi ? lo : uint16_t(np);
      s.port[1] = s.kind == SessionKind::kHttp  ? 80
                  : s.kind == SessionKind::kTls ? (rng.chance(0.95) ? 443 : 8443)
                                                : kTcpPorts[rng.skewed(std::size(kTcpPorts), 1.5)];
      s.seq[0] = uint32_t(rng.u64());
      s.seq[1] = uint32_t(rng.u64());
      s.window[0] = uint16_t(rng.between(500, 2052));
      s.window[1] = uint16_t(rng.between(480, 1200));
      double o = rng.uniform();
      s.open = o < 0.02 ? OpenMode::kRefused : o < 0.04 ? OpenMode::kUnanswered : OpenMode::kNormal;
      s.count = uint16_t(rng.between(1, 3));  // SYNs sent when unanswered
      double e = rng.uniform();
      s.end = e < 0.8 ? EndMode::kFin : e < 0.92 ? EndMode::kReset : EndMode::kOpen;
      s.closer = rng.chance(0.65) ? 0 : 1;
      s.fin_combined = rng.chance(0.5);
      uint16_t extra = uint16_t(std::min(rng.exponential(1.0), 18.0));
      s.exchanges = s.kind == SessionKind::kTls ? 2 + extra : 1 + extra;
      s.phase = kPhaseSyn;
      break;
    }
    case SessionKind::kDns:
    case SessionKind::kDnsLarge: {
      s.port[0] =
          c.windows ? uint16_t(rng.between(49152, 65535)) : uint16_t(rng.between(32768, 60999));
      s.port[1] = 53;
      s.answered = rng.chance(0.97);
      double q = rng.uniform();
      s.qtype = s.kind == SessionKind::kDnsLarge ? kDnsTypeTxt
                : q < 0.55                       ? kDnsTypeA
                : q < 0.9                        ? kDnsTypeAaaa
                                                 : kDnsTypeHttps;
      s.rcode = s.kind == SessionKind::kDns && rng.chance(0.04) ? 3 : 0;
      // Resolvers answer from cache quickly; misses take a recursive lookup.
      if (rng.chance(0.3)) s.rtt_ns += uint32_t(rng.exponential(40) * kMs);
      if (s.kind == SessionKind::kDnsLarge) {
        s.plain = uint32_t(rng.between(1600, 4300));  // target DNS message size
        s.reorder = rng.chance(0.15);
        s.answered = true;
        s.gap_ns = uint32_t(rng.between(12, 150) * kUs);
        s.phase = kPhaseFragQuery;
      } else {
        s.phase = kPhaseDnsQuery;
      }
      break;
    }
    case SessionKind::kIcmp: {
      double n = rng.uniform();
      s.count = n < 0.3 ? 1 : n < 0.8 ? 4 : uint16_t(rng.between(2, 10));
      s.answered = rng.chance(0.9);
      s.phase = kPhaseEchoRequest;
      break;
    }
    case SessionKind::kCount:
      break;
  }
  heap_push(slot, t);
}

// ---------------------------------------------------------------------------------------------
// Packet building

uint8_t* TrafficGenerator::Impl::put_ip(uint8_t* f, Session& s, int side, uint8_t proto,
                                        size_t l4_len, bool df, uint32_t* pseudo) {
  const Host& c = clients[s.client];
  const Host& p = peer(s);
  const Host& src = side ? p : c;
  const Host& dst = side ? c : p;
  std::memcpy(f, dst.mac, 6);
  std::memcpy(f + 6, src.mac, 6);
  uint8_t* q = f + 12;
  // Tags belong to the client's access VLAN, in both directions.
  if (c.tags == 2) {
    store_be16(q, 0x88a8);
    store_be16(q + 2, c.svlan);
    q += 4;
  }
  if (c.tags >= 1) {
    store_be16(q, 0x8100);
    store_be16(q + 2, c.vlan);
    q += 4;
  }
  store_be16(q, s.v6 ? 0x86dd : 0x0800);
  q += 2;
  if (!s.v6) {
    q[0] = 0x45;
    q[1] = 0;
    store_be16(q + 2, uint16_t(20 + l4_len));
    store_be16(q + 4, s.ip_id[side]++);
    store_be16(q + 6, df ? 0x4000 : 0);
    q[8] = src.ttl;
    q[9] = proto;
    q[10] = q[11] = 0;
    std::memcpy(q + 12, src.v4, 4);
    std::memcpy(q + 16, dst.v4, 4);
    store_be16(q + 10, ones_finish(ones_sum(q, 20)));
    *pseudo = pseudo_sum_v4(src.v4, dst.v4, proto, uint32_t(l4_len));
    return q + 20;
  }
  uint32_t flow = uint32_t(hash3(s.seed, side, 0xf10e)) & 0xfffff;
  store_be32(q, 0x60000000 | flow);
  store_be16(q + 4, uint16_t(l4_len));
  q[6] = proto;
  q[7] = src.ttl;
  std::memcpy(q + 8, src.v6, 16);
  std::memcpy(q + 24, dst.v6, 16);
  *pseudo = pseudo_sum_v6(src.v6, dst.v6, proto, uint32_t(l4_len));
  return q + 40;
}

size_t TrafficGenerator::Impl::put_tcp(uint8_t* f, Session& s, int side, uint8_t flags,
                                       uint32_t len, bool syn) {
  size_t hl = syn ? 32 : 20;
  size_t l4_len = hl + len;
  uint32_t pseudo;
  uint8_t* t = put_ip(f, s, side, kProtoTcp, l4_len, true, &pseudo);
  store_be16(t, s.port[side]);
  store_be16(t + 2, s.port[1 - side]);
  store_be32(t + 4, s.seq[side]);
  store_be32(t + 8, (flags & kAck) ? s.seq[1 - side] : 0);
  t[12] = uint8_t(hl / 4 << 4);
  t[13] = flags;
  store_be16(t + 14, syn ? (side ? 65160 : 64240) : s.window[side]);
  store_be32(t + 16, 0);  // checksum, urgent pointer
  if (syn) {
    static constexpr uint8_t kOptions[12] = {2, 4, 0, 0, 1, 3, 3, 7, 1, 1, 4, 2};
    std::memcpy(t + 20, kOptions, 12);
    store_be16(t + 22, s.mss);
    t[27] = side ? 9 : (clients[s.client].windows ? 8 : 7);
  }
  if (len) fill_payload(s, s.msg_sent, len, t + hl);
  store_be16(t + 16, ones_finish(ones_add(pseudo, ones_sum(t, l4_len))));
  return size_t(t - f) + l4_len;
}

size_t TrafficGenerator::Impl::put_udp(uint8_t* f, Session& s, int side, const uint8_t* payload,
                                       size_t len) {
  uint32_t pseudo;
  uint8_t* u = put_ip(f, s, side, kProtoUdp, 8 + len, false, &pseudo);
  store_be16(u, s.port[side]);
  store_be16(u + 2, s.port[1 - side]);
  store_be16(u + 4, uint16_t(8 + len));
  store_be16(u + 6, 0);
  std::memcpy(u + 8, payload, len);
  uint16_t sum = ones_finish(ones_add(pseudo, ones_sum(u, 8 + len)));
  store_be16(u + 6, sum ? sum : 0xffff);
  return size_t(u - f) + 8 + len;
}

std::string_view TrafficGenerator::Impl::dns_name(const Session& s) const {
  if (s.rcode == 3) return kMissingNames[s.seed % std::size(kMissingNames)];
  return host_names()[servers[s.target].name];
}

size_t TrafficGenerator::Impl::build_dns(const Session& s, bool response, uint8_t* out) const {
  std::string_view name = dns_name(s);
  uint16_t edns = s.kind == SessionKind::kDnsLarge ? 4096 : 1232;
  if (!response) return build_dns_query(out, s.id, name, s.qtype, edns);
  // Answers: the asked server first, then others that share its name (CDN style).
  uint8_t addrs[4 * 16];
  size_t n = 0;
  if (s.rcode == 0 && (s.qtype == kDnsTypeA || s.qtype == kDnsTypeAaaa)) {
    bool v6 = s.qtype == kDnsTypeAaaa;
    size_t width = v6 ? 16 : 4;
    size_t want = 1 + s.seed % 4;
    auto add = [&](const Host& h) {
      if (n < want && (!v6 || h.has_v6)) std::memcpy(addrs + width * n++, v6 ? h.v6 : h.v4, width);
    };
    const Host& target = servers[s.target];
    add(target);
    for (uint32_t i : servers_by_name[target.name]) {
      if (i != s.target) add(servers[i]);
    }
    n *= width;
  }
  uint32_t ttl = uint32_t(30 + (s.seed >> 20) % 3570);
  return build_dns_response(out, s.id, name, s.qtype, s.rcode, {addrs, n}, ttl, edns);
}

size_t TrafficGenerator::Impl::build_large_datagram(const Session& s, uint8_t* out) const {
  // UDP header and a TXT answer. The checksum needs the whole datagram; rather than keep one per
  // session, the generator caches the last one built and rebuilds on the rare interleaving.
  const Host& c = clients[s.client];
  const Host& r = resolvers[s.server];
  size_t len = 8 + build_dns_txt_response(out + 8, s.id, dns_name(s), s.seed, s.plain);
  store_be16(out, s.port[1]);
  store_be16(out + 2, s.port[0]);
  store_be16(out + 4, uint16_t(len));
  store_be16(out + 6, 0);
  uint32_t pseudo = s.v6 ? pseudo_sum_v6(r.v6, c.v6, kProtoUdp, uint32_t(len))
                         : pseudo_sum_v4(r.v4, c.v4, kProtoUdp, uint32_t(len));
  uint16_t sum = ones_finish(ones_add(pseudo, ones_sum(out, len)));
  store_be16(out + 6, sum ? sum : 0xffff);
  return len;
}

size_t TrafficGenerator::Impl::build_prefix(const Session& s, uint8_t* out) const {
  const Host& c = clients[s.client];
  std::string_view host = host_names()[servers[s.server].name];
  uint64_t h = hash3(s.seed, s.exchange, s.sender);
  switch (s.kind) {
    case SessionKind::kHttp:
      if (s.sender == 0) {
        std::string_view ua = c.profile == TlsProfile::kCurl     ? kUserAgents[2 + h % 3]
                              : c.profile == TlsProfile::kChrome ? kUserAgents[0]
                                                                 : kUserAgents[1];
        return build_http_request(reinterpret_cast<char*>(out), host,
                                  kPaths[(h >> 8) % std::size(kPaths)], ua, s.plain);
      } else {
        int status = int(s.status);
        std::string_view type =
            s.body == kBodyText ? "text/html; charset=utf-8" : "application/octet-stream";
        return build_http_response(reinterpret_cast<char*>(out), status, type, s.plain, host);
      }
    case SessionKind::kTls:
      if (s.exchange == 0 && s.sender == 0) {
        ClientHelloParams p;
        p.sni = host;
        p.profile = c.profile;
        p.offer_h2 = c.profile != TlsProfile::kCurl || (s.seed & 1);
        p.seed = s.seed;
        return build_client_hello(out, p);
      }
      if (s.exchange == 0) {
        static constexpr uint16_t kSuites[] = {0x1301, 0x1302, 0x1303};
        return build_server_hello(out, s.seed, kSuites[(s.seed >> 8) % 3]);
      }
      if (s.exchange == 1 && s.sender == 0) return build_client_finished(out, s.seed);
      return 0;
    default:
      return 0;
  }
}

void TrafficGenerator::Impl::fill_payload(const Session& s, uint32_t off, uint32_t len,
                                          uint8_t* out) {
  if (off < s.prefix_len) {
    build_prefix(s, scratch.data());
    uint32_t k = std::min(len, uint32_t(s.prefix_len - off));
    std::memcpy(out, scratch.data() + off, k);
    out += k;
    off += k;
    len -= k;
  }
  if (!len) return;
  uint64_t b = off - s.prefix_len;  // offset in the body
  size_t base = size_t(hash3(s.seed, s.exchange, s.sender) % kFill);
  const uint8_t* fill = s.body == kBodyText ? text_fill.data() : binary_fill.data();
  if (s.body != kBodyTls) {
    std::memcpy(out, fill + (base + b) % kFill, len);
    return;
  }
  const uint64_t full = kTlsMaxPlain + kTlsRecordOverhead;
  const uint64_t records = (s.plain + kTlsMaxPlain - 1) / kTlsMaxPlain;
  while (len) {
    uint64_t r = b / full, q = b % full;
    uint64_t plain = r + 1 < records ? kTlsMaxPlain : s.plain - r * kTlsMaxPlain;
    uint64_t k;
    if (q < 5) {
      uint16_t rec_len = uint16_t(plain + 17);
      const uint8_t head[5] = {23, 3, 3, uint8_t(rec_len >> 8), uint8_t(rec_len)};
      k = std::min<uint64_t>(5 - q, len);
      std::memcpy(out, head + q, k);
    } else {
      k = std::min<uint64_t>(plain + kTlsRecordOverhead - q, len);
      std::memcpy(out, fill + (base + b) % kFill, k);
    }
    out += k;
    b += k;
    len -= uint32_t(k);
  }
}

// ---------------------------------------------------------------------------------------------
// TCP sessions

void TrafficGenerator::Impl::start_message(Session& s, int sender, int64_t at) {
  s.sender = uint8_t(sender);
  s.msg_sent = 0;
  s.unacked = 0;
  s.body = kBodyBinary;
  s.plain = 0;
  const bool first = s.exchange == 0;
  switch (s.kind) {
    case SessionKind::kHttp:
      if (sender == 0) {
        if (rng.chance(0.1)) s.plain = uint32_t(std::clamp(rng.lognormal(3000, 1.5), 50.0, 4e6));
      } else {
        double u = rng.uniform();
        int status = u < 0.8 ? 200 : u < 0.88 ? 304 : u < 0.93 ? 404 : 301;
        s.status = uint16_t(status);
        if (status == 200) {
          s.body = rng.chance(0.4) ? kBodyText : kBodyBinary;
          s.plain = uint32_t(std::clamp(rng.lognormal(4000, 1.5), 40.0, 8e6));
        } else if (status != 304) {
          s.body = kBodyText;
          s.plain = uint32_t(rng.between(120, 600));
        }
      }
      break;
    case SessionKind::kTls:
      s.body = kBodyTls;
      if (first) {
        s.plain = sender ? uint32_t(rng.between(2500, 5500)) : 0;
      } else if (sender == 0) {
        s.plain = rng.chance(0.08) ? uint32_t(std::clamp(rng.lognormal(20000, 1.5), 100.0, 4e6))
                                   : uint32_t(rng.between(60, 900));
      } else {
        s.plain = uint32_t(std::clamp(rng.lognormal(4000, 1.5), 30.0, 8e6));
        if (s.exchange == 1) s.plain += uint32_t(rng.between(400, 600));  // session tickets
      }
      break;
    default:
      s.plain = sender ? uint32_t(std::clamp(rng.lognormal(2000, 1.8), 1.0, 4e6))
                       : uint32_t(std::clamp(rng.lognormal(300, 1.0), 1.0, 65536.0));
      break;
  }
  s.prefix_len = uint16_t(build_prefix(s, scratch.data()));
  uint64_t body_wire = s.body == kBodyTls ? tls_wire_size(s.plain) : s.plain;
  s.msg_len = uint32_t(s.prefix_len + body_wire);
  s.cwnd = 10;
  s.flight_left = s.cwnd;
  s.flight_ns = at;
  schedule(s, kPhaseData, at);
}

void TrafficGenerator::Impl::message_done(Session& s, int64_t now) {
  ++s.exchange;
  if (s.exchange < s.exchanges) {
    double think_ms = s.kind == SessionKind::kTls && s.exchange == 1 ? 0.5 + rng.uniform()
                      : s.kind == SessionKind::kHttp                 ? rng.exponential(300)
                                                                     : rng.exponential(250);
    start_message(s, 0, now + int64_t(think_ms * kMs));
    return;
  }
  int64_t idle = int64_t(rng.exponential(1500) * kMs);
  switch (s.end) {
    case EndMode::kFin:
      schedule(s, kPhaseFin1, now + idle);
      break;
    case EndMode::kReset:
      schedule(s, kPhaseReset, now + idle);
      break;
    case EndMode::kOpen:
      s.phase = kPhaseDone;
      break;
  }
}

size_t TrafficGenerator::Impl::step_tcp(Session& s, int64_t now, uint8_t* f) {
  size_t n = 0;
  const int closer = s.closer, other = 1 - s.closer;
  switch (s.phase) {
    case kPhaseSyn:
      n = put_tcp(f, s, 0, kSynFlag, 0, true);
      if (s.open == OpenMode::kUnanswered) {
        if (++s.counter < s.count) {
          schedule(s, kPhaseSyn, now + (kSec << (s.counter - 1)));
        } else {
          s.phase = kPhaseDone;
        }
      } else {
        schedule(s, s.open == OpenMode::kRefused ? kPhaseRefuse : kPhaseSynAck, now + s.rtt_ns);
      }
      break;
    case kPhaseRefuse:
      s.seq[0] += 1;
      s.seq[1] = 0;
      n = put_tcp(f, s, 1, kRst | kAck, 0, false);
      s.phase = kPhaseDone;
      break;
    case kPhaseSynAck:
      s.seq[0] += 1;
      n = put_tcp(f, s, 1, kSynFlag | kAck, 0, true);
      s.seq[1] += 1;
      schedule(s, kPhaseHandshakeAck, now + s.turn_ns);
      break;
    case kPhaseHandshakeAck:
      n = put_tcp(f, s, 0, kAck, 0, false);
      start_message(s, 0, now + s.turn_ns / 4 + 1);
      break;
    case kPhaseData: {
      const int snd = s.sender;
      uint32_t len = std::min<uint32_t>(s.mss, s.msg_len - s.msg_sent);
      bool last = s.msg_sent + len == s.msg_len;
      n = put_tcp(f, s, snd, uint8_t(kAck | (last ? kPsh : 0)), len, false);
      s.seq[snd] += len;
      s.msg_sent += len;
      ++s.unacked;
      --s.flight_left;
      s.last_seg_ns = now;
      int64_t ack_at = now + std::min<int64_t>(s.turn_ns / 4 + 1, s.gap_ns / 2);
      if (last) {
        if (snd == 0) {
          // The server's ACK of the request rides on its response.
          int64_t serve = int64_t(100 * kUs + rng.exponential(3) * kMs);
          start_message(s, 1, now + s.rtt_ns + serve);
        } else {
          schedule(s, kPhaseDataAck, ack_at);
        }
      } else if (s.unacked >= 2) {
        schedule(s, kPhaseDataAck, ack_at);
      } else if (s.flight_left == 0) {
        s.cwnd = uint16_t(std::min(s.cwnd * 2, 512));
        s.flight_left = s.cwnd;
        s.flight_ns = std::max(now + s.gap_ns, s.flight_ns + int64_t(s.rtt_ns));
        schedule(s, kPhaseData, s.flight_ns);
      } else {
        schedule(s, kPhaseData, now + s.gap_ns);
      }
      break;
    }
    case kPhaseDataAck:
      n = put_tcp(f, s, 1 - s.sender, kAck, 0, false);
      s.unacked = 0;
      if (s.msg_sent == s.msg_len) {
        message_done(s, now);
      } else if (s.flight_left == 0) {
        s.cwnd = uint16_t(std::min(s.cwnd * 2, 512));
        s.flight_left = s.cwnd;
        s.flight_ns = std::max(now + 1, s.flight_ns + int64_t(s.rtt_ns));
        schedule(s, kPhaseData, s.flight_ns);
      } else {
        schedule(s, kPhaseData, std::max(now + 1, s.last_seg_ns + s.gap_ns));
      }
      break;
    case kPhaseFin1:
      n = put_tcp(f, s, closer, kFin | kAck, 0, false);
      s.seq[closer] += 1;
      schedule(s, s.fin_combined ? kPhaseFin2 : kPhaseFinAck, now + reply_delay(s, other));
      break;
    case kPhaseFinAck:
      n = put_tcp(f, s, other, kAck, 0, false);
      schedule(s, kPhaseFin2, now + s.turn_ns + int64_t(rng.exponential(2) * kMs));
      break;
    case kPhaseFin2:
      n = put_tcp(f, s, other, kFin | kAck, 0, false);
      s.seq[other] += 1;
      schedule(s, kPhaseLastAck, now + reply_delay(s, closer));
      break;
    case kPhaseLastAck:
      n = put_tcp(f, s, closer, kAck, 0, false);
      s.phase = kPhaseDone;
      break;
    case kPhaseReset:
      n = put_tcp(f, s, closer, kRst | kAck, 0, false);
      s.phase = kPhaseDone;
      break;
    default:
      s.phase = kPhaseDone;
      break;
  }
  return n;
}

// ---------------------------------------------------------------------------------------------
// UDP and ICMP sessions

size_t TrafficGenerator::Impl::step_dns(Session& s, int64_t now, uint8_t* f) {
  size_t len;
  if (s.phase == kPhaseDnsQuery) {
    len = build_dns(s, false, scratch.data());
    size_t n = put_udp(f, s, 0, scratch.data(), len);
    if (s.answered) {
      schedule(s, kPhaseDnsResponse, now + s.rtt_ns);
    } else if (s.counter++ == 0) {
      schedule(s, kPhaseDnsQuery, now + kSec);  // the stub resolver retries once
    } else {
      s.phase = kPhaseDone;
    }
    return n;
  }
  len = build_dns(s, true, scratch.data());
  s.phase = kPhaseDone;
  return put_udp(f, s, 1, scratch.data(), len);
}

size_t TrafficGenerator::Impl::step_fragment(Session& s, int64_t now, uint8_t* f) {
  if (s.phase == kPhaseFragQuery) {
    size_t len = build_dns(s, false, scratch.data());
    size_t n = put_udp(f, s, 0, scratch.data(), len);
    s.msg_len = uint32_t(build_large_datagram(s, datagram.data()));
    datagram_seed = s.seed;
    datagram_valid = true;
    uint32_t chunk = s.v6 ? 1448 : 1480;  // MTU 1500 minus headers, a multiple of 8
    s.count = uint16_t((s.msg_len + chunk - 1) / chunk);
    s.counter = 0;
    if (s.reorder) ++stats.reordered_datagrams;
    schedule(s, kPhaseFragment, now + s.rtt_ns);
    return n;
  }
  // Reordered datagrams send their last fragment first, then the rest in order.
  uint16_t i = s.reorder ? uint16_t((s.counter + s.count - 1) % s.count) : s.counter;
  uint32_t chunk = s.v6 ? 1448 : 1480;
  uint32_t off = i * chunk;
  uint32_t len = std::min(chunk, s.msg_len - off);
  bool more = off + len < s.msg_len;
  if (!datagram_valid || datagram_seed != s.seed) {
    build_large_datagram(s, datagram.data());
    datagram_seed = s.seed;
    datagram_valid = true;
  }
  ++stats.fragments;

  uint8_t* q;
  size_t n;
  if (!s.v6) {
    uint32_t pseudo;
    q = put_ip(f, s, 1, kProtoUdp, len, false, &pseudo);
    // put_ip advanced the IP id; every fragment of a datagram carries the same one.
    --s.ip_id[1];
    uint8_t* ip = q - 20;
    store_be16(ip + 6, uint16_t((more ? 0x2000 : 0) | off / 8));
    store_be16(ip + 10, 0);
    store_be16(ip + 10, ones_finish(ones_sum(ip, 20)));
    std::memcpy(q, datagram.data() + off, len);
    n = size_t(q - f) + len;
  } else {
    uint32_t pseudo;
    q = put_ip(f, s, 1, kProtoFrag, 8 + len, false, &pseudo);
    q[0] = kProtoUdp;
    q[1] = 0;
    store_be16(q + 2, uint16_t(off | (more ? 1 : 0)));
    store_be32(q + 4, uint32_t(hash3(s.seed, 0xf7a6)));
    std::memcpy(q + 8, datagram.data() + off, len);
    n = size_t(q - f) + 8 + len;
  }
  if (++s.counter < s.count) {
    schedule(s, kPhaseFragment, now + s.gap_ns);
  } else {
    ++s.ip_id[1];
    s.phase = kPhaseDone;
  }
  return n;
}

size_t TrafficGenerator::Impl::step_icmp(Session& s, int64_t now, uint8_t* f) {
  const bool reply = s.phase == kPhaseEchoReply;
  if (!reply) s.flight_ns = now;
  const int side = reply ? 1 : 0;
  const size_t l4_len = 8 + 56;
  uint32_t pseudo;
  uint8_t* m = put_ip(f, s, side, s.v6 ? kProtoIcmp6 : kProtoIcmp, l4_len, true, &pseudo);
  m[0] = s.v6 ? (reply ? 129 : 128) : (reply ? 0 : 8);
  m[1] = 0;
  store_be16(m + 2, 0);
  store_be16(m + 4, s.id);
  store_be16(m + 6, uint16_t(s.counter + 1));
  // Linux ping: the request's struct timeval, then bytes 0x10, 0x11, ...; replies echo it.
  uint64_t sec = uint64_t(s.flight_ns / kSec), usec = uint64_t(s.flight_ns % kSec / kUs);
  std::memcpy(m + 8, &sec, 8);
  std::memcpy(m + 16, &usec, 8);
  for (int i = 0; i < 40; ++i) m[24 + i] = uint8_t(0x10 + i);
  uint32_t sum = ones_sum(m, l4_len);
  if (s.v6) sum = ones_add(sum, pseudo);
  store_be16(m + 2, ones_finish(sum));

  if (!reply && s.answered) {
    schedule(s, kPhaseEchoReply, now + s.rtt_ns);
  } else if (++s.counter < s.count) {
    schedule(s, kPhaseEchoRequest, std::max(now + 1, s.flight_ns + kSec));
  } else {
    s.phase = kPhaseDone;
  }
  return size_t(m - f) + l4_len;
}

size_t TrafficGenerator::Impl::step(Session& s, int64_t now, uint8_t* f) {
  switch (s.kind) {
    case SessionKind::kDns:
      return step_dns(s, now, f);
    case SessionKind::kDnsLarge:
      return step_fragment(s, now, f);
    case SessionKind::kIcmp:
      return step_icmp(s, now, f);
    default:
      return step_tcp(s, now, f);
  }
}

// ---------------------------------------------------------------------------------------------
// Public interface

TrafficGenerator::TrafficGenerator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TrafficGenerator::~TrafficGenerator() = default;

Result<std::unique_ptr<TrafficGenerator>> TrafficGenerator::create(
    const GeneratorOptions& options) {
  auto share_ok = [](double v) { return v >= 0 && v <= 1; };
  if (!share_ok(options.ipv6_share))
    return Status::invalid_argument("ipv6 share must be within [0, 1]");
  if (!share_ok(options.vlan_share))
    return Status::invalid_argument("vlan share must be within [0, 1]");
  if (options.packets == 0 && options.bytes == 0)
    return Status::invalid_argument("set a packet or byte target");
  if (!(options.sessions_per_second > 0))
    return Status::invalid_argument("session rate must be positive");
  double sum = 0;
  for (double w : options.weights) {
    if (!(w >= 0)) return Status::invalid_argument("session weights must not be negative");
    sum += w;
  }
  if (!(sum > 0))
    return Status::invalid_argument("at least one session kind needs a positive weight");
  if (options.hosts > kMaxClients)
    return Status::invalid_argument("too many hosts: at most " + std::to_string(kMaxClients) +
                                    " clients fit in 10.0.0.0/8");
  auto impl = std::make_unique<Impl>(options);
  impl->setup();
  return std::unique_ptr<TrafficGenerator>(new TrafficGenerator(std::move(impl)));
}

bool TrafficGenerator::next(uint8_t* frame, PacketMeta* meta) {
  Impl& g = *impl_;
  if ((g.opt.packets && g.stats.packets >= g.opt.packets) ||
      (g.opt.bytes && g.stats.bytes >= g.opt.bytes))
    return false;
  while (g.heap.empty() || g.next_arrival <= g.heap[0].t) {
    g.spawn(g.next_arrival);
    g.next_arrival += int64_t(g.rng.exponential(g.mean_gap_ns)) + 1;
  }
  const Event ev = g.heap[0];
  Session& s = g.sessions[ev.slot];
  size_t len = g.step(s, ev.t, frame);
  if (s.v6) ++g.stats.ipv6_packets;
  if (g.clients[s.client].tags) ++g.stats.vlan_packets;
  if (s.phase == kPhaseDone) {
    g.free_slots.push_back(ev.slot);
    g.heap[0] = g.heap.back();
    g.heap.pop_back();
    if (!g.heap.empty()) g.heap_sift_down(0);
  } else {
    g.heap[0] = {s.next_ns, g.order++, ev.slot};
    g.heap_sift_down(0);
  }
  ++g.stats.packets;
  g.stats.bytes += len;
  meta->ts = Timestamp{ev.t};
  meta->length = uint32_t(len);
  return true;
}

const GeneratorStats& TrafficGenerator::stats() const {
  return impl_->stats;
}
const GeneratorOptions& TrafficGenerator::options() const {
  return impl_->opt;
}

Result<GeneratorStats> write_generated_pcap(const GeneratorOptions& options,
                                            const std::string& path,
                                            const PcapWriterOptions& writer_options,
                                            const ProgressFn& progress) {
  auto gen = TrafficGenerator::create(options);
  if (!gen.ok()) return gen.status();
  auto writer = PcapWriter::open(path, writer_options);
  if (!writer.ok()) return writer.status();
  TrafficGenerator& g = **gen;
  Status st = write_all(**writer, options.packets, progress, [&g](PcapWriter& w) {
    PacketMeta meta;
    if (!g.next(w.reserve(TrafficGenerator::kMaxFrameSize), &meta)) return false;
    w.commit(meta.ts, meta.length, meta.length);
    return true;
  });
  if (!st.ok()) return st;
  return g.stats();
}

}  // namespace flowkit::gen
