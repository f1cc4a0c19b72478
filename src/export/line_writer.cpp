#include "export/line_writer.h"

#include <cstdio>
#include <cstring>

#include "core/field_registry.h"

namespace flowkit::exporter {

void put_scaled(TextOutput& out, uint64_t v, size_t width) {
  char tmp[32];
  size_t n = 0;
  if (v >= 1'000'000'000) {
    n = size_t(std::snprintf(tmp, sizeof tmp, "%.1f G", double(v) / 1e9));
  } else if (v >= 1'000'000) {
    n = size_t(std::snprintf(tmp, sizeof tmp, "%.1f M", double(v) / 1e6));
  } else {
    n = size_t(TextOutput::write_u64(tmp, v) - tmp);
  }
  out.put_right({tmp, n}, width);
}

// nfdump's endpoint column: the address right-aligned in 16 characters, then `:port` for IPv4
// and `.port` for IPv6 (whose address has colons of its own). An IPv6 address longer than 16
// characters is condensed as nfdump does without -6: its first 7 and last 7 characters around
// "..", so that IPv6 rows keep the columns of IPv4 ones.
void put_endpoint(TextOutput& out, const IpAddress& ip, uint32_t port_or_icmp, bool icmp) {
  char text[48];
  size_t n = ip.format(text);
  if (n > 16) {
    std::memcpy(text + 7, "..", 2);
    std::memmove(text + 9, text + n - 7, 7);
    n = 16;
  }
  out.put_right({text, n}, 16);
  out.put(ip.is_v4() ? ':' : '.');
  size_t m = out.mark();
  if (icmp) {
    out.put_u64(port_or_icmp >> 8);
    out.put('.');
    out.put_u64(port_or_icmp & 0xff);
  } else {
    out.put_u64(port_or_icmp);
  }
  out.align_left(m, 5);
}

void put_duration(TextOutput& out, Timestamp first, Timestamp last) {
  // HH:MM:SS.mmm, right-aligned, more hours when it has them.
  uint64_t ms = uint64_t(last.ns - first.ns) / 1'000'000;
  char text[48];
  char* p = text;
  uint64_t hours = ms / 3600000;
  if (hours < 10) *p++ = '0';
  p = TextOutput::write_u64(p, hours);
  const uint64_t parts[] = {ms / 60000 % 60, ms / 1000 % 60};
  for (uint64_t part : parts) {
    *p++ = ':';
    *p++ = char('0' + part / 10);
    *p++ = char('0' + part % 10);
  }
  *p++ = '.';
  *p++ = char('0' + ms % 1000 / 100);
  *p++ = char('0' + ms % 100 / 10);
  *p++ = char('0' + ms % 10);
  out.put_right({text, size_t(p - text)}, 16);
}

void put_protocol(TextOutput& out, uint8_t protocol) {
  std::string_view name = protocol_name(protocol);
  if (name.empty())
    out.put_u64(protocol);
  else
    out.put(name);
}

std::string_view protocol_name(uint8_t p) {
  switch (p) {
    case 1:
      return "ICMP";
    case 2:
      return "IGMP";
    case 4:
      return "IPIP";
    case 6:
      return "TCP";
    case 17:
      return "UDP";
    case 41:
      return "IPv6";
    case 47:
      return "GRE";
    case 50:
      return "ESP";
    case 51:
      return "AH";
    case 58:
      return "ICMP6";
    case 89:
      return "OSPF";
    case 103:
      return "PIM";
    case 112:
      return "VRRP";
    case 132:
      return "SCTP";
    default:
      return {};
  }
}

LineWriter::LineWriter(TextOutput& out, bool bare) : out_(out), bare_(bare) {
  if (bare_) return;
  out_.put(
      "Date first seen             Duration     Proto      Src IP Addr:Port          Dst IP "
      "Addr:Port   Packets    Bytes Flows\n");
}

LineRow LineRow::of(const FlowRecord& r) {
  LineRow l;
  l.first = r.first();
  l.last = r.last();
  l.src_ip = r.src_ip;
  l.dst_ip = r.dst_ip;
  l.packets = r.packets();
  l.bytes = r.bytes();
  l.flows = r.present & presence_bit(FieldId::kFlows) ? r.flows : 1;
  l.dst_port = r.nfdump_dst_port();
  l.src_port = r.src_port;
  l.protocol = r.protocol;
  l.biflow = r.biflow;
  return l;
}

void LineWriter::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) put(LineRow::of(r));
}

void LineWriter::write(std::span<const LineRow> rows) {
  for (const LineRow& r : rows) put(r);
}

void LineWriter::put(const LineRow& r) {
  out_.put_nfdump_time(r.first);
  out_.put(' ');
  put_duration(out_, r.first, r.last);
  out_.put(' ');
  size_t m = out_.mark();
  put_protocol(out_, r.protocol);
  out_.align_left(m, 5);
  out_.put(' ');
  put_endpoint(out_, r.src_ip, r.src_port, false);
  out_.put(r.biflow ? " <-> " : " -> ");
  put_endpoint(out_, r.dst_ip, r.dst_port, is_icmp(r.protocol));
  out_.put(' ');
  put_scaled(out_, r.packets, 8);
  out_.put(' ');
  put_scaled(out_, r.bytes, 8);
  out_.put(' ');
  put_scaled(out_, r.flows, 5);
  out_.put('\n');
  flows_ += r.flows;
  packets_ += r.packets;
  bytes_ += r.bytes;
  if (r.first < first_) first_ = r.first;
  if (r.last > last_) last_ = r.last;
  out_.end_record();
}

Status LineWriter::flush() {
  if (bare_) return out_.flush();
  out_.put(nfdump_summary(flows_, bytes_, packets_, flows_ ? last_.ns - first_.ns : 0));
  return out_.flush();
}

std::string nfdump_summary(uint64_t flows, uint64_t bytes, uint64_t packets, int64_t span_ns) {
  double secs = double(span_ns) / 1e9;
  char tmp[256];
  std::snprintf(tmp, sizeof tmp,
                "Summary: total flows: %llu, total bytes: %llu, total packets: %llu, avg bps: "
                "%llu, avg pps: %llu, avg bpp: %llu\n",
                (unsigned long long)flows, (unsigned long long)bytes, (unsigned long long)packets,
                (unsigned long long)(secs > 0 ? double(bytes) * 8 / secs : 0),
                (unsigned long long)(secs > 0 ? double(packets) / secs : 0),
                (unsigned long long)(packets ? bytes / packets : 0));
  return tmp;
}

}  // namespace flowkit::exporter
