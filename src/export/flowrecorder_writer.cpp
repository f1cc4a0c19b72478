#include "export/flowrecorder_writer.h"

#include <cmath>

namespace flowkit::exporter {

namespace {

constexpr std::string_view kStatColumns =
    "pktTotalCount,octetTotalCount,min_ps,max_ps,avg_ps,std_dev_ps,flowStart,flowEnd,"
    "flowDuration,min_piat,max_piat,avg_piat,std_dev_piat";

// flowRecorder reads pcap times as floats: seconds + microseconds / 1e6.
double py_time(Timestamp t) {
  return t.seconds_double_usec();
}

// Integer-valued sizes print as integers (Python ints); others as floats.
void put_number(TextOutput& out, double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    out.put_i64(int64_t(v));
  } else {
    out.put_python_float(v);
  }
}

// One group of 13 statistics: counts, sizes, times, gaps.
void put_stats(TextOutput& out, uint64_t packets, uint64_t bytes, const SummaryStats& size,
               Timestamp first, Timestamp last, const SummaryStats& piat) {
  if (packets == 0) {
    out.put("0,0,0,0,0,0,0,0,0,0,0,0,0");
    return;
  }
  double start = py_time(first), end = py_time(last);
  out.put_u64(packets);
  out.put(',');
  out.put_u64(bytes);
  out.put(',');
  put_number(out, size.min);
  out.put(',');
  put_number(out, size.max);
  out.put(',');
  out.put_python_float(size.mean);
  out.put(',');
  out.put_python_float(size.stddev);
  out.put(',');
  out.put_python_float(start);
  out.put(',');
  out.put_python_float(end);
  out.put(',');
  out.put_python_float(end - start);
  for (double v : {piat.min, piat.max, piat.mean, piat.stddev}) {
    out.put(',');
    out.put_python_float(v);
  }
}

}  // namespace

FlowRecorderWriter::FlowRecorderWriter(TextOutput& out, bool biflow) : out_(out), biflow_(biflow) {
  out_.put("src_ip,src_port,dst_ip,dst_port,proto,");
  out_.put(kStatColumns);
  if (biflow_) {
    for (std::string_view prefix : {"f_", "b_"}) {
      size_t start = 0;
      while (start < kStatColumns.size()) {
        size_t comma = kStatColumns.find(',', start);
        if (comma == std::string_view::npos) comma = kStatColumns.size();
        out_.put(',');
        out_.put(prefix);
        out_.put(kStatColumns.substr(start, comma - start));
        start = comma + 1;
      }
    }
  }
  out_.put('\n');
}

void FlowRecorderWriter::put_direction(const DirectionRecord& d) {
  out_.put(',');
  put_stats(out_, d.packets, d.bytes, d.pkt_size, d.first, d.last, d.piat);
}

void FlowRecorderWriter::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) {
    out_.put_ip(r.src_ip);
    out_.put(',');
    out_.put_u64(r.src_port);
    out_.put(',');
    out_.put_ip(r.dst_ip);
    out_.put(',');
    out_.put_u64(r.dst_port);
    out_.put(',');
    out_.put_u64(r.protocol);
    out_.put(',');
    put_stats(out_, r.packets(), r.bytes(), biflow_ ? r.pkt_size : r.fwd.pkt_size, r.first(),
              r.last(), biflow_ ? r.piat : r.fwd.piat);
    if (biflow_) {
      put_direction(r.fwd);
      put_direction(r.rev);
    }
    out_.put('\n');
    out_.end_record();
  }
}

}  // namespace flowkit::exporter
