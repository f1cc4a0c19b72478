#include "export/line_writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/field_registry.h"

namespace flowkit::exporter {

namespace {

// Cells are written into room() taken with this much to spare: spaces and short copies go in
// 16- and 32-byte pieces that may run past the cell (the next cell writes over them), cheaper
// than a memset or memcpy call for a few bytes each.
constexpr size_t kSlack = 32;
// The longest line: 20-digit counts, IPv6 endpoints, and the slack.
constexpr size_t kMaxLine = 256;

char* spaces(char* p, size_t n) {
  char* end = p + n;
  for (; p < end; p += 16) std::memcpy(p, "                ", 16);
  return end;
}

// n bytes of buf, which has at least kSlack bytes to read.
char* copy(char* p, const char* buf, size_t n) {
  if (n <= kSlack)
    std::memcpy(p, buf, kSlack);
  else
    std::memcpy(p, buf, n);
  return p + n;
}

// The n bytes of buf right-aligned in `width` characters (as they are when longer).
char* right(char* p, const char* buf, size_t n, size_t width) {
  if (n < width) p = spaces(p, width - n);
  return copy(p, buf, n);
}

// What was written since `start` left-aligned in `width` characters.
char* pad_to(char* p, const char* start, size_t width) {
  const size_t n = size_t(p - start);
  return n < width ? spaces(p, width - n) : p;
}

char* write_scaled(char* p, uint64_t v, size_t width) {
  char tmp[48];
  size_t n = 0;
  if (v >= 1'000'000'000) {
    n = size_t(std::snprintf(tmp, sizeof tmp, "%.1f G", double(v) / 1e9));
  } else if (v >= 1'000'000) {
    n = size_t(std::snprintf(tmp, sizeof tmp, "%.1f M", double(v) / 1e6));
  } else {
    n = size_t(TextOutput::write_u64(tmp, v) - tmp);
  }
  return right(p, tmp, n, width);
}

// nfdump's endpoint column: the address right-aligned in 16 characters, then `:port` for IPv4
// and `.port` for IPv6 (whose address has colons of its own). An IPv6 address longer than 16
// characters is condensed as nfdump does without -6: its first 7 and last 7 characters around
// "..", so that IPv6 rows keep the columns of IPv4 ones.
char* write_endpoint(char* p, const IpAddress& ip, uint32_t port_or_icmp, bool icmp) {
  char text[48];
  size_t n = ip.format(text);
  if (n > 16) {
    std::memcpy(text + 7, "..", 2);
    std::memmove(text + 9, text + n - 7, 7);
    n = 16;
  }
  p = right(p, text, n, 16);
  *p++ = ip.is_v4() ? ':' : '.';
  const char* start = p;
  if (icmp) {
    p = TextOutput::write_u64(p, port_or_icmp >> 8);
    *p++ = '.';
    p = TextOutput::write_u64(p, port_or_icmp & 0xff);
  } else {
    p = TextOutput::write_u64(p, port_or_icmp);
  }
  return pad_to(p, start, 5);
}

// HH:MM:SS.mmm, right-aligned in 16 characters, more hours when it has them.
char* write_duration(char* p, Timestamp first, Timestamp last) {
  uint64_t ms = uint64_t(last.ns - first.ns) / 1'000'000;
  char text[48];
  char* t = text;
  uint64_t hours = ms / 3600000;
  if (hours < 10) *t++ = '0';
  t = TextOutput::write_u64(t, hours);
  const uint64_t parts[] = {ms / 60000 % 60, ms / 1000 % 60};
  for (uint64_t part : parts) {
    *t++ = ':';
    *t++ = char('0' + part / 10);
    *t++ = char('0' + part % 10);
  }
  *t++ = '.';
  *t++ = char('0' + ms % 1000 / 100);
  *t++ = char('0' + ms % 100 / 10);
  *t++ = char('0' + ms % 10);
  return right(p, text, size_t(t - text), 16);
}

char* write_protocol(char* p, uint8_t protocol) {
  std::string_view name = protocol_name(protocol);
  if (name.empty()) return TextOutput::write_u64(p, protocol);
  for (char c : name) *p++ = c;
  return p;
}

}  // namespace

void put_scaled(TextOutput& out, uint64_t v, size_t width) {
  out.commit(write_scaled(out.room(std::max<size_t>(width, 48) + kSlack), v, width));
}

void put_endpoint(TextOutput& out, const IpAddress& ip, uint32_t port_or_icmp, bool icmp) {
  out.commit(write_endpoint(out.room(64 + kSlack), ip, port_or_icmp, icmp));
}

void put_duration(TextOutput& out, Timestamp first, Timestamp last) {
  out.commit(write_duration(out.room(48 + kSlack), first, last));
}

void put_protocol(TextOutput& out, uint8_t protocol) {
  out.commit(write_protocol(out.room(TextOutput::kMaxNumber), protocol));
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
  // The whole line in one room(), its cells written straight in: a room() and a commit() per
  // piece cost more than the formatting.
  char* p = out_.write_nfdump_time(out_.room(kMaxLine), r.first);
  *p++ = ' ';
  p = write_duration(p, r.first, r.last);
  *p++ = ' ';
  const char* proto = p;
  p = pad_to(write_protocol(p, r.protocol), proto, 5);
  *p++ = ' ';
  p = write_endpoint(p, r.src_ip, r.src_port, false);
  std::memcpy(p, r.biflow ? " <-> " : " ->  ", 5);
  p += r.biflow ? 5 : 4;
  p = write_endpoint(p, r.dst_ip, r.dst_port, is_icmp(r.protocol));
  *p++ = ' ';
  p = write_scaled(p, r.packets, 8);
  *p++ = ' ';
  p = write_scaled(p, r.bytes, 8);
  *p++ = ' ';
  p = write_scaled(p, r.flows, 5);
  *p++ = '\n';
  out_.commit(p);
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
