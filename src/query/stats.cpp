#include "query/stats.h"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>
#include <functional>
#include <unordered_map>

#include "core/field_registry.h"
#include "core/ip_address.h"
#include "export/line_writer.h"

namespace flowkit::query {
namespace {

enum class Order { kFlows, kPackets, kBytes, kPps, kBps, kBpp };

struct Counters {
  uint64_t flows = 0, packets = 0, bytes = 0;
  int64_t first = INT64_MAX, last = INT64_MIN;
  uint8_t protocol = 0;  // the protocol of the flows, 0 when they mix
  bool mixed = false;
};

bool icmp(const FlowRecord& r) {
  return r.protocol == 1 || r.protocol == 58;
}

std::string value_text(const FieldValue& v) {
  if (auto* u = std::get_if<uint64_t>(&v)) return std::to_string(*u);
  if (auto* d = std::get_if<double>(&v)) return fmt::format("{}", *d);
  if (auto* a = std::get_if<IpAddress>(&v)) return a->to_string();
  if (auto* m = std::get_if<MacAddress>(&v)) return m->to_string();
  if (auto* t = std::get_if<Timestamp>(&v)) return std::to_string(t->ns);
  if (auto* s = std::get_if<std::string_view>(&v)) return std::string(*s);
  return "";
}

// The keys a record adds to: one value, or one per end (both the same: once).
using Keys = std::function<void(const FlowRecord&, std::string (&out)[2], int* n)>;

std::string human(double v) {
  if (v >= 1e9) return fmt::format("{:.1f} G", v / 1e9);
  if (v >= 1e6) return fmt::format("{:.1f} M", v / 1e6);
  return fmt::format("{:.0f}", v);
}

std::string date(int64_t ns) {
  std::time_t t = std::time_t(ns / 1'000'000'000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return fmt::format("{}.{:03d}", buf, int(ns / 1'000'000 % 1000));
}

}  // namespace

struct TopN::Impl {
  std::string title;  // "Src IP Addr"
  Order order = Order::kFlows;
  Keys keys;
  std::unordered_map<std::string, Counters> table;
  uint64_t flows = 0, packets = 0, bytes = 0;

  double rank(const Counters& c) const {
    double secs = c.last > c.first ? double(c.last - c.first) / 1e9 : 0;
    switch (order) {
      case Order::kFlows:
        return double(c.flows);
      case Order::kPackets:
        return double(c.packets);
      case Order::kBytes:
        return double(c.bytes);
      case Order::kPps:
        return secs > 0 ? double(c.packets) / secs : 0;
      case Order::kBps:
        return secs > 0 ? double(c.bytes) * 8 / secs : 0;
      case Order::kBpp:
        return c.packets ? double(c.bytes) / double(c.packets) : 0;
    }
    return 0;
  }
  std::vector<const std::pair<const std::string, Counters>*> top(size_t n) const {
    std::vector<const std::pair<const std::string, Counters>*> rows;
    rows.reserve(table.size());
    for (const auto& e : table) rows.push_back(&e);
    n = std::min(n, rows.size());
    // Ties in the order by the value's text, so that the answer does not depend on hashing.
    std::partial_sort(rows.begin(), rows.begin() + ptrdiff_t(n), rows.end(),
                      [&](const auto* a, const auto* b) {
                        double x = rank(a->second), y = rank(b->second);
                        return x != y ? x > y : a->first < b->first;
                      });
    rows.resize(n);
    return rows;
  }
};

TopN::TopN() : impl_(std::make_unique<Impl>()) {}
TopN::TopN(TopN&&) noexcept = default;
TopN& TopN::operator=(TopN&&) noexcept = default;
TopN::~TopN() = default;

Result<TopN> TopN::parse(std::string_view spec) {
  TopN t;
  Impl& m = *t.impl_;
  std::string_view name = spec, order;
  if (size_t slash = spec.find('/'); slash != std::string_view::npos) {
    name = spec.substr(0, slash);
    order = spec.substr(slash + 1);
  }
  static const std::pair<std::string_view, Order> kOrders[] = {
      {"flows", Order::kFlows}, {"packets", Order::kPackets}, {"bytes", Order::kBytes},
      {"pps", Order::kPps},     {"bps", Order::kBps},         {"bpp", Order::kBpp}};
  if (!order.empty()) {
    auto it = std::find_if(std::begin(kOrders), std::end(kOrders),
                           [&](const auto& o) { return o.first == order; });
    if (it == std::end(kOrders))
      return Status::invalid_argument("-s " + std::string(spec) +
                                      ": order by flows, packets, "
                                      "bytes, pps, bps or bpp");
    m.order = it->second;
  }
  using R = const FlowRecord&;
  auto one = [](std::function<std::string(R)> f) -> Keys {
    return [f](R r, std::string(&out)[2], int* n) {
      out[0] = f(r);
      *n = 1;
    };
  };
  auto two = [](std::function<std::string(R)> a, std::function<std::string(R)> b) -> Keys {
    return [a, b](R r, std::string(&out)[2], int* n) {
      out[0] = a(r);
      out[1] = b(r);
      *n = out[0] == out[1] ? 1 : 2;
    };
  };
  auto src_ip = [](R r) { return r.src_ip.to_string(); };
  auto dst_ip = [](R r) { return r.dst_ip.to_string(); };
  auto src_port = [](R r) { return std::to_string(icmp(r) ? 0 : r.src_port); };
  auto dst_port = [](R r) {
    return std::to_string(icmp(r) ? r.fwd.icmp_type * 256 + r.fwd.icmp_code : r.dst_port);
  };
  auto src_as = [](R r) { return std::to_string(r.src_as); };
  auto dst_as = [](R r) { return std::to_string(r.dst_as); };
  if (name == "srcip") {
    m.title = "Src IP Addr", m.keys = one(src_ip);
  } else if (name == "dstip") {
    m.title = "Dst IP Addr", m.keys = one(dst_ip);
  } else if (name == "ip") {
    m.title = "IP Addr", m.keys = two(src_ip, dst_ip);
  } else if (name == "srcport") {
    m.title = "Src Port", m.keys = one(src_port);
  } else if (name == "dstport") {
    m.title = "Dst Port", m.keys = one(dst_port);
  } else if (name == "port") {
    m.title = "Port", m.keys = two(src_port, dst_port);
  } else if (name == "proto") {
    m.title = "Protocol",
    m.keys = one([](R r) { return std::string(exporter::protocol_name(r.protocol)); });
  } else if (name == "srcas") {
    m.title = "Src AS", m.keys = one(src_as);
  } else if (name == "dstas") {
    m.title = "Dst AS", m.keys = one(dst_as);
  } else if (name == "as") {
    m.title = "AS", m.keys = two(src_as, dst_as);
  } else if (name == "inif") {
    m.title = "Input If", m.keys = one([](R r) { return std::to_string(r.fwd.in_if); });
  } else if (name == "outif") {
    m.title = "Output If", m.keys = one([](R r) { return std::to_string(r.fwd.out_if); });
  } else if (name == "router") {
    m.title = "Router", m.keys = one([](R r) { return r.exporter_ip.to_string(); });
  } else if (name == "tos") {
    m.title = "Tos", m.keys = one([](R r) { return std::to_string(r.fwd.tos); });
  } else if (name == "vlan") {
    m.title = "Vlan", m.keys = one([](R r) { return std::to_string(r.fwd.vlan_id); });
  } else {
    Direction dir = Direction::kForward;
    const FieldInfo* f = find_field(name, &dir);
    if (!f || f->type == FieldType::kList)
      return Status::invalid_argument(
          "-s " + std::string(spec) +
          ": give srcip, dstip, ip, srcport, dstport, port, proto, srcas, dstas, as, inif, "
          "outif, router, tos, vlan or a field name (flowkit fields lists them)");
    m.title = std::string(name);
    // Records without the field are left out of its statistic.
    m.keys = [f, dir](R r, std::string(&out)[2], int* n) {
      *n = field_present(*f, r, dir) ? 1 : 0;
      if (*n) out[0] = value_text(f->get(r, dir));
    };
  }
  return t;
}

void TopN::add(const FlowRecord& r) {
  Impl& m = *impl_;
  uint64_t packets = r.fwd.packets + r.rev.packets, bytes = r.fwd.bytes + r.rev.bytes;
  ++m.flows;
  m.packets += packets;
  m.bytes += bytes;
  std::string keys[2];
  int n = 0;
  m.keys(r, keys, &n);
  for (int i = 0; i < n; ++i) {
    Counters& c = m.table[keys[i]];
    if (c.flows == 0) {
      c.protocol = r.protocol;
    } else if (c.protocol != r.protocol) {
      c.mixed = true;
    }
    ++c.flows;
    c.packets += packets;
    c.bytes += bytes;
    c.first = std::min(c.first, r.first().ns);
    c.last = std::max(c.last, r.last().ns);
  }
}

std::string TopN::format(size_t n) const {
  const Impl& m = *impl_;
  static const char* kOrderNames[] = {"flows", "packets", "bytes", "pps", "bps", "bpp"};
  std::string out =
      fmt::format("Top {} {} ordered by {}:\n", n, m.title, kOrderNames[int(m.order)]);
  out += fmt::format("{:<23} {:>12} {:<5} {:>39} {:>14} {:>16} {:>16} {:>8} {:>8} {:>6}\n",
                     "Date first seen", "Duration", "Proto", m.title, "Flows(%)", "Packets(%)",
                     "Bytes(%)", "pps", "bps", "bpp");
  auto pct = [](uint64_t part, uint64_t all) {
    return all ? 100.0 * double(part) / double(all) : 0;
  };
  for (const auto* e : m.top(n)) {
    const Counters& c = e->second;
    double secs = c.last > c.first ? double(c.last - c.first) / 1e9 : 0;
    std::string proto = c.mixed ? "any" : std::string(exporter::protocol_name(c.protocol));
    out += fmt::format(
        "{:<23} {:>12.3f} {:<5} {:>39} {:>6}({:4.1f}) {:>8}({:4.1f}) {:>8}({:4.1f}) {:>8} {:>8} "
        "{:>6}\n",
        date(c.first), secs, proto, e->first, human(double(c.flows)), pct(c.flows, m.flows),
        human(double(c.packets)), pct(c.packets, m.packets), human(double(c.bytes)),
        pct(c.bytes, m.bytes), human(secs > 0 ? double(c.packets) / secs : 0),
        human(secs > 0 ? double(c.bytes) * 8 / secs : 0), c.packets ? c.bytes / c.packets : 0);
  }
  return out;
}

std::string TopN::json(size_t n) const {
  const Impl& m = *impl_;
  std::string out;
  for (const auto* e : m.top(n)) {
    const Counters& c = e->second;
    // The value as a JSON string: escape what JSON needs.
    std::string v;
    for (char ch : e->first) {
      if (ch == '"' || ch == '\\') v += '\\';
      if (static_cast<unsigned char>(ch) < 0x20) {
        v += fmt::format("\\u{:04x}", int(ch));
        continue;
      }
      v += ch;
    }
    out += fmt::format(
        "{{\"stat\":\"{}\",\"value\":\"{}\",\"flows\":{},\"packets\":{},\"bytes\":{},"
        "\"first\":{},\"last\":{}}}\n",
        m.title, v, c.flows, c.packets, c.bytes, c.first, c.last);
  }
  return out;
}

}  // namespace flowkit::query
