// LineWriter: nfdump's default `-o line` layout, so that nfdump users read flowkit's output
// at a glance. A biflow is one line with `<->` and the packets and bytes of both directions.
// IPv6 addresses are condensed to 16 characters and their ports follow a '.', as nfdump
// prints them. Ends with nfdump's summary line.
#pragma once

#include <string>

#include "core/flow_sink.h"
#include "export/text_output.h"

namespace flowkit::exporter {

// What a line shows of a flow: a record's, or a query's straight from a block's columns
// (making whole records cost more than printing them).
struct LineRow {
  Timestamp first, last;  // of either direction
  IpAddress src_ip, dst_ip;
  uint64_t packets = 0, bytes = 0;  // both directions
  uint64_t flows = 1;
  uint32_t dst_port = 0;  // as nfdump holds it: ICMP's type * 256 + code
  uint16_t src_port = 0;
  uint8_t protocol = 0;
  bool biflow = false;
  static LineRow of(const FlowRecord& r);
};

class LineWriter : public FlowSink {
 public:
  // `bare`: no header and no summary (nfdump -q).
  explicit LineWriter(TextOutput& out, bool bare = false);
  void write(std::span<const FlowRecord> records) override;
  void write(std::span<const LineRow> rows);
  // Writes the summary line, then flushes.
  Status flush() override;

 private:
  void put(const LineRow& r);

  TextOutput& out_;
  bool bare_;
  uint64_t flows_ = 0, packets_ = 0, bytes_ = 0;
  Timestamp first_{INT64_MAX}, last_{INT64_MIN};
};

// nfdump's protocol column: "TCP", "UDP", "ICMP6", ... or the number.
std::string_view protocol_name(uint8_t protocol);

// nfdump's columns, shared with the fmt: writer.
// A count as nfdump scales it ("1.5 M"), right-aligned to width.
void put_scaled(TextOutput& out, uint64_t v, size_t width);
// ADDR:PORT (ADDR.PORT for IPv6, condensed to 16 characters; ICMP's type.code as the port).
void put_endpoint(TextOutput& out, const IpAddress& ip, uint32_t port_or_icmp, bool icmp);
// HH:MM:SS.mmm right-aligned in 16 characters.
void put_duration(TextOutput& out, Timestamp first, Timestamp last);
void put_protocol(TextOutput& out, uint8_t protocol);
// nfdump's closing line: "Summary: total flows: ..., avg bps: ..." (span: last - first).
std::string nfdump_summary(uint64_t flows, uint64_t bytes, uint64_t packets, int64_t span_ns);

}  // namespace flowkit::exporter
