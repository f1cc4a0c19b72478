// Top-N statistics (nfdump -s): flows, packets and bytes per value of a key, ordered by one of
// them or a rate, the first N printed in nfdump's layout or as JSON.
//   srcip dstip ip srcport dstport port proto srcas dstas as inif outif router tos vlan
//   srcnet/N dstnet/N, or any registry field by name; `ip`, `port`, `as` count a flow for each
//   of its two ends (twice when both are the same, as nfdump). ORDER: flows (the default), packets,
//   bytes, pps, bps, bpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "query/group.h"

namespace flowkit::query {

// What -O and the orders of -s sort by.
enum class Order { kFlows, kPackets, kBytes, kPps, kBps, kBpp, kTstart, kTend };
// "flows", "tstart"... nullopt for a word that is not an order.
std::optional<Order> parse_order(std::string_view word);
// The value a group (or a record: flows 1) ranks by, larger first (tstart, tend: earlier first,
// as the negated time).
double rank(const Counters& c, Order order);

class TopN {
 public:
  // "srcip", "dstport/bytes", "srcnet/24/bytes", "tls_sni/packets"... kInvalidArgument saying
  // what is known.
  static Result<TopN> parse(std::string_view spec);

  const GroupSpec& spec() const { return spec_; }
  // The sum the order ranks by (flows, packets, bytes); none for rates.
  std::optional<Measure> measure() const;
  // The value the n-th group of the table ranks by (n >= 1); none when it holds fewer groups.
  std::optional<double> nth(const GroupTable& t, size_t n) const;
  // The first n rows of a table grouped by spec(), in nfdump's layout: a title, a header and a
  // line each, with percentages of `total` (every flow that passed).
  std::string format(const GroupTable& t, size_t n, const Counters& total) const;
  // The same as JSON lines, one object per value.
  std::string json(const GroupTable& t, size_t n) const;

 private:
  std::vector<const GroupTable::Entry*> top(const GroupTable& t, size_t n) const;

  std::string title_;
  Order order_ = Order::kFlows;
  GroupSpec spec_;
};

}  // namespace flowkit::query
