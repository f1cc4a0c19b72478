// The filter language: nfdump 1.7's syntax, plus every registry field by its name.
//
//   any | not F | F and F | F or F | ( F )           (also !, &&, ||)
//   proto tcp|udp|icmp|icmp6|gre|esp|N   inet|ipv4|inet6|ipv6
//   [src|dst] ip|host ADDR      [src|dst] net CIDR | net ADDR MASK
//   [src|dst] port [OP] N       [src|dst] port in [ N N ... ]
//   [src|dst] as [OP] N         [in|out] if N        router ip ADDR   next ip ADDR
//   flags SAFRPU...             tos|vlan|icmp-type|icmp-code [OP] N
//   packets|bytes|duration|pps|bps|bpp [OP] N[k|M|G]     (duration in milliseconds)
//   FIELD OP VALUE   FIELD in [ V ... ]   FIELD ~ "regex"   FIELD contains "text"
// The keywords are the registry's nfdump aliases (FK_NFDUMP in core/fields.def); the rates
// pps, bps and bpp are the only words of nfdump's that name no field.
// OP is = == != < > <= >= or eq ne lt gt le ge; `src or dst` / `src and dst` qualify too. A
// qualifier left out means either end. On biflows `src` and `dst` are the initiator and the
// responder, and packets, bytes, flags and the rates count both directions; `bytes_rev` and
// the other registry names reach one direction. On ICMP flows `dst port` is type * 256 + code,
// as nfdump stores it. A record without a field's value fails every test of that field.
//
// A filter runs on a block of columns (DuckDB's model): each test fills a byte per row, `and`,
// `or` and `not` combine them, and a block whose column ranges rule the filter out is never
// read.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/field_registry.h"
#include "core/flow_record.h"
#include "core/result.h"
#include "store/block.h"

namespace flowkit::query {

class Filter {
 public:
  // A syntax error names the column, shows the filter with a caret under it and says what was
  // expected (kInvalidArgument).
  static Result<Filter> parse(std::string_view text);
  Filter();
  Filter(Filter&&) noexcept;
  Filter& operator=(Filter&&) noexcept;
  ~Filter();

  // The columns evaluation reads; every stored column when all_columns() (a test of a derived
  // field other than the duration works on whole records).
  const std::vector<Column>& columns() const;
  bool all_columns() const;
  // False when no row of a block with this header can match: a column the filter needs is
  // absent, or its least and greatest values rule the filter out.
  bool may_match(const store::BlockHeader& h) const;
  // mask[row] = 1 for the block's rows that match, 0 for the others (resized to b.rows). The
  // block holds columns() (and what their predictions need).
  void eval(const store::Block& b, std::vector<uint8_t>& mask) const;

  // One record (tests, and callers with records in hand).
  bool matches(const FlowRecord& r) const;
  // The filter is `any` (or empty): every record matches.
  bool any() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace flowkit::query
