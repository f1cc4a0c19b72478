// Top-N statistics (nfdump -s): flows, packets and bytes per value of a field, ordered by one of
// them or a rate, the first N printed in nfdump's layout or as JSON.
//   srcip dstip ip srcport dstport port proto srcas dstas as inif outif router tos vlan, or any
//   registry field by name; `ip`, `port`, `as` count a flow for each of its two ends (once when
//   both are the same). ORDER: flows (the default), packets, bytes, pps, bps, bpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_record.h"
#include "core/result.h"

namespace flowkit::query {

class TopN {
 public:
  // "srcip", "dstport/bytes", "tls_sni/packets"... kInvalidArgument saying what is known.
  static Result<TopN> parse(std::string_view spec);
  TopN(TopN&&) noexcept;
  TopN& operator=(TopN&&) noexcept;
  ~TopN();

  void add(const FlowRecord& r);
  // The first n rows in nfdump's layout: a title, a header and a line each; percentages of the
  // totals of the records added.
  std::string format(size_t n) const;
  // The same as JSON lines, one object per value.
  std::string json(size_t n) const;

 private:
  TopN();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowkit::query
