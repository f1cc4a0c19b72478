// What a query reads of each row of a block: a registry column, or a value nfdump computes from
// several (the totals of both directions of a biflow, the duration, the rates, the ports with
// ICMP's type and code in the destination port). Filters compare them, statistics and
// aggregation group by them; both work a block of columns at a time.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/field_registry.h"
#include "export/line_writer.h"
#include "store/block.h"

namespace flowkit::query {

enum class Derived : uint8_t {
  kNone,        // the column itself
  kTotal,       // the column's field summed over both directions (packets, bytes)
  kFirst,       // the earliest packet of either direction (FlowRecord::first)
  kLast,        // the latest
  kDurationMs,  // last - first in milliseconds (nfdump's `duration`)
  kDurationS,   // ... in seconds (the registry's `duration`)
  kPps,         // total packets per second of duration (0 when the duration is 0)
  kBps,         // total bits per second
  kBpp,         // total bytes per packet
  kNfSrcPort,   // src_port, 0 for ICMP
  kNfDstPort,   // dst_port, type * 256 + code for ICMP
  kTcpFlags,    // the TCP flags of both directions together (absent unless TCP)
};

struct Source {
  Derived kind = Derived::kNone;
  Column col{};  // kNone and kTotal: the column (kTotal: of the forward direction)
};

// The columns a source reads.
void source_inputs(const Source& s, std::vector<Column>& out);
// Whether the source's values are doubles (else integers: times in nanoseconds, MAC addresses
// as the number of their 6 bytes).
bool source_is_double(const Source& s);

// One value per row of a block. `has` is empty when every row has a value; `none` when no row
// does (the block lacks the column).
struct Numbers {
  bool doubles = false;
  bool none = false;
  std::span<const int64_t> ints;
  std::span<const double> reals;
  std::span<const uint8_t> has;
  // Storage for values computed here (spans above may point into the block instead).
  std::vector<int64_t> int_buf;
  std::vector<double> real_buf;
  std::vector<uint8_t> has_buf;
};

// Per row of a block, what every scan sums and grouping adds up: the flow's first and last
// packet (as FlowRecord::first/last) and the packets and bytes of both directions. Read once
// per block by the scan and handed to its consumers.
struct RowTotals {
  std::vector<int64_t> first, last, packets, bytes;
  // The block holds the packets, bytes, first and last columns of both directions (without
  // `times`, first and last are not read and are left 0). With a mask, only the rows it lets
  // through are read; the others' totals are unspecified.
  void read(const store::Block& b, bool times = true, std::span<const uint8_t> mask = {});
};

// What nfdump's line shows of the rows of [from, to) that pass (mask[row] != 0), into out
// (replaced), from a block holding the line's columns and the rows' totals.
void line_rows(const store::Block& b, std::span<const uint8_t> mask, const RowTotals& totals,
               uint32_t from, uint32_t to, std::vector<exporter::LineRow>& out);
// The columns line_rows reads beyond the totals'.
void line_inputs(std::vector<Column>& out);

// Reads a source's values from a block holding its inputs.
void read_numbers(const Source& s, const store::Block& b, Numbers& out);

// A value as a number for a source of that type: the integer, or the bits of the double.
inline uint64_t number_bits(const Numbers& n, uint32_t row) {
  return n.doubles ? std::bit_cast<uint64_t>(n.reals[row]) : uint64_t(n.ints[row]);
}
inline bool number_has(const Numbers& n, uint32_t row) {
  return !n.none && (n.has.empty() || n.has[row]);
}

}  // namespace flowkit::query
