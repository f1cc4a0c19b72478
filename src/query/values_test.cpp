// What a query reads of a block's rows against what the same records hold: nfdump's line made
// from the columns must show what the line of the record shows.
#include "query/values.h"

#include <gtest/gtest.h>

#include <vector>

namespace flowkit::query {
namespace {

// Uniflows and biflows (one whose reverse direction starts first, one with no forward
// packets), ICMP and ICMPv6 with type and code, IPv6, aggregated records with a flow count.
std::vector<FlowRecord> varied_records() {
  std::vector<FlowRecord> v;
  for (uint32_t i = 0; i < 300; ++i) {
    FlowRecord r;
    r.ip_version = i % 5 == 0 ? 6 : 4;
    const uint8_t six[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, uint8_t(i)};
    r.src_ip = r.ip_version == 6 ? IpAddress::v6(six) : IpAddress::v4(0x0a000000 + i);
    r.dst_ip = IpAddress::v4(0xc0a80000 + i % 7);
    r.protocol = i % 4 == 0 ? (r.ip_version == 6 ? 58 : 1) : i % 4 == 1 ? 17 : 6;
    if (r.protocol == 1 || r.protocol == 58) {
      r.fwd.icmp_type = uint8_t(i % 9);
      r.fwd.icmp_code = uint8_t(i % 3);
    } else {
      r.src_port = uint16_t(1024 + i);
      r.dst_port = uint16_t(i % 2 ? 443 : 53);
    }
    r.fwd.packets = i % 11 == 0 ? 0 : 1 + i % 4;
    r.fwd.bytes = r.fwd.packets * (60 + i);
    r.fwd.first = Timestamp{1'700'000'000'000'000'000 + int64_t(i) * 1'000'000};
    r.fwd.last = Timestamp{r.fwd.first.ns + int64_t(i % 13) * 1000};
    if (i % 3 == 0 || r.fwd.packets == 0) {
      r.biflow = true;
      r.has_stats = true;
      r.rev.packets = 1 + i % 2;
      r.rev.bytes = 40 * r.rev.packets;
      r.rev.first = Timestamp{r.fwd.first.ns - (i % 2 ? 500 : -500)};
      r.rev.last = Timestamp{r.rev.first.ns + 9000};
    }
    if (i % 7 == 0) field_info(FieldId::kFlows).set(r, Direction::kForward, uint64_t(i));
    v.push_back(r);
  }
  return v;
}

TEST(LineRows, ShowWhatTheRecordsLinesShow) {
  const std::vector<FlowRecord> records = varied_records();
  store::Block b;
  std::vector<Column> want;
  line_inputs(want);
  source_inputs({Derived::kPps, {}}, want);  // the totals' columns
  store::records_to_block(records, want, b);
  // Runs of rows that fail, of several lengths and across the slices' bounds, among rows that
  // pass; the totals are read for the rows that pass alone.
  std::vector<uint8_t> mask;
  for (uint32_t k = 0; mask.size() < b.rows; ++k) {
    mask.insert(mask.end(), k * 7 % 19, 0);
    mask.insert(mask.end(), 1 + k % 3, 1);
  }
  mask.resize(b.rows);
  RowTotals totals;
  totals.read(b, true, mask);
  std::vector<exporter::LineRow> rows, part;
  // In slices, as a scan formats them.
  for (uint32_t from = 0; from < b.rows; from += 64) {
    line_rows(b, mask, totals, from, from + 64, part);
    rows.insert(rows.end(), part.begin(), part.end());
  }
  size_t k = 0;
  for (uint32_t i = 0; i < b.rows; ++i) {
    if (!mask[i]) continue;
    ASSERT_LT(k, rows.size());
    const exporter::LineRow want_row = exporter::LineRow::of(records[i]), &got = rows[k++];
    SCOPED_TRACE(i);
    EXPECT_EQ(got.first.ns, want_row.first.ns);
    EXPECT_EQ(got.last.ns, want_row.last.ns);
    EXPECT_EQ(got.src_ip, want_row.src_ip);
    EXPECT_EQ(got.dst_ip, want_row.dst_ip);
    EXPECT_EQ(got.packets, want_row.packets);
    EXPECT_EQ(got.bytes, want_row.bytes);
    EXPECT_EQ(got.flows, want_row.flows);
    EXPECT_EQ(got.dst_port, want_row.dst_port);
    EXPECT_EQ(got.src_port, want_row.src_port);
    EXPECT_EQ(got.protocol, want_row.protocol);
    EXPECT_EQ(got.biflow, want_row.biflow);
  }
  EXPECT_EQ(k, rows.size());
}

}  // namespace
}  // namespace flowkit::query
