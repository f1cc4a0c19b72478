#include "query/stats.h"

#include <fmt/core.h>

#include <algorithm>
#include <ctime>

#include "export/line_writer.h"
#include "export/text_output.h"

namespace flowkit::query {
namespace {

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

constexpr std::pair<std::string_view, Order> kOrders[] = {
    {"flows", Order::kFlows},   {"packets", Order::kPackets}, {"bytes", Order::kBytes},
    {"pps", Order::kPps},       {"bps", Order::kBps},         {"bpp", Order::kBpp},
    {"tstart", Order::kTstart}, {"tend", Order::kTend}};

std::string_view order_name(Order o) {
  for (auto [name, order] : kOrders)
    if (order == o) return name;
  return "";
}

std::string json_escape(std::string_view s) {
  std::string v;
  for (char ch : s) {
    if (ch == '"' || ch == '\\') v += '\\';
    if (static_cast<unsigned char>(ch) < 0x20) {
      v += fmt::format("\\u{:04x}", int(ch));
      continue;
    }
    v += ch;
  }
  return v;
}

}  // namespace

std::optional<Order> parse_order(std::string_view word) {
  for (auto [name, order] : kOrders)
    if (name == word) return order;
  return std::nullopt;
}

double rank(const Counters& c, Order order) {
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
    case Order::kTstart:
      return -double(c.first);
    case Order::kTend:
      return -double(c.last);
  }
  return 0;
}

Result<TopN> TopN::parse(std::string_view spec) {
  TopN t;
  // NAME[/PREFIX][/ORDER]: the last part is an order when it is one.
  std::string_view name = spec;
  if (size_t slash = spec.rfind('/'); slash != std::string_view::npos) {
    if (auto o = parse_order(spec.substr(slash + 1))) {
      t.order_ = *o;
      name = spec.substr(0, slash);
    } else if (spec.substr(slash + 1).find_first_not_of("0123456789") != std::string_view::npos) {
      return Status::invalid_argument("-s " + std::string(spec) +
                                      ": order by flows, packets, bytes, pps, bps or bpp");
    }
  }
  if (t.order_ == Order::kTstart || t.order_ == Order::kTend)
    return Status::invalid_argument("-s " + std::string(spec) +
                                    ": order by flows, packets, bytes, pps, bps or bpp");
  auto parts = parse_key_name(name);
  if (!parts) return Status::invalid_argument("-s " + parts.status().message());
  t.title_ = (*parts)[0].title;
  for (KeyPart& p : *parts) t.spec_.tuples.push_back({std::move(p)});
  return t;
}

std::optional<Measure> TopN::measure() const {
  switch (order_) {
    case Order::kFlows:
      return Measure::kFlows;
    case Order::kPackets:
      return Measure::kPackets;
    case Order::kBytes:
      return Measure::kBytes;
    default:
      return std::nullopt;
  }
}

std::optional<double> TopN::nth(const GroupTable& t, size_t n) const {
  std::vector<const GroupTable::Entry*> rows = top(t, n);
  if (n == 0 || rows.size() < n) return std::nullopt;
  return rank(rows.back()->c, order_);
}

std::vector<const GroupTable::Entry*> TopN::top(const GroupTable& t, size_t n) const {
  std::vector<const GroupTable::Entry*> rows = t.entries();
  n = std::min(n, rows.size());
  // Ties in the order by the key's bytes, so that the answer does not depend on hashing or on
  // the threads.
  std::partial_sort(rows.begin(), rows.begin() + ptrdiff_t(n), rows.end(),
                    [&](const GroupTable::Entry* a, const GroupTable::Entry* b) {
                      double x = rank(a->c, order_), y = rank(b->c, order_);
                      if (x != y) return x > y;
                      auto ka = t.key(*a), kb = t.key(*b);
                      return std::lexicographical_compare(ka.begin(), ka.end(), kb.begin(),
                                                          kb.end());
                    });
  rows.resize(n);
  return rows;
}

std::string TopN::format(const GroupTable& t, size_t n, const Counters& total) const {
  std::string out = fmt::format("Top {} {} ordered by {}:\n", n, title_, order_name(order_));
  out += fmt::format("{:<23} {:>12} {:<5} {:>39} {:>14} {:>16} {:>16} {:>8} {:>8} {:>6}\n",
                     "Date first seen", "Duration", "Proto", title_, "Flows(%)", "Packets(%)",
                     "Bytes(%)", "pps", "bps", "bpp");
  auto pct = [](uint64_t part, uint64_t all) {
    return all ? 100.0 * double(part) / double(all) : 0;
  };
  for (const GroupTable::Entry* e : top(t, n)) {
    const Counters& c = e->c;
    double secs = c.last > c.first ? double(c.last - c.first) / 1e9 : 0;
    std::string proto = c.mixed ? "any" : std::string(exporter::protocol_name(c.protocol));
    if (proto.empty()) proto = std::to_string(c.protocol);
    out += fmt::format(
        "{:<23} {:>12.3f} {:<5} {:>39} {:>6}({:4.1f}) {:>8}({:4.1f}) {:>8}({:4.1f}) {:>8} {:>8} "
        "{:>6}\n",
        date(c.first), secs, proto, exporter::escape_text(t.key_text(t.key(*e))[0]),
        human(double(c.flows)), pct(c.flows, total.flows), human(double(c.packets)),
        pct(c.packets, total.packets), human(double(c.bytes)), pct(c.bytes, total.bytes),
        human(secs > 0 ? double(c.packets) / secs : 0),
        human(secs > 0 ? double(c.bytes) * 8 / secs : 0), c.packets ? c.bytes / c.packets : 0);
  }
  return out;
}

std::string TopN::json(const GroupTable& t, size_t n) const {
  std::string out;
  for (const GroupTable::Entry* e : top(t, n)) {
    const Counters& c = e->c;
    out += fmt::format(
        "{{\"stat\":\"{}\",\"value\":\"{}\",\"flows\":{},\"packets\":{},\"bytes\":{},"
        "\"first\":{},\"last\":{}}}\n",
        title_, json_escape(t.key_text(t.key(*e))[0]), c.flows, c.packets, c.bytes, c.first,
        c.last);
  }
  return out;
}

}  // namespace flowkit::query
