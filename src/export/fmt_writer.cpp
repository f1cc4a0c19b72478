#include "export/fmt_writer.h"

#include <algorithm>
#include <cctype>

#include "core/field_registry.h"
#include "export/line_writer.h"

namespace flowkit::exporter {
namespace {

double seconds(const FlowRecord& r) {
  return double(r.last().ns - r.first().ns) / 1e9;
}
uint64_t flows_of(const FlowRecord& r) {
  return r.present & presence_bit(FieldId::kFlows) ? r.flows : 1;
}
void put_address(TextOutput& out, const IpAddress& a) {
  out.put_ip(a);
}
void put_flags(TextOutput& out, uint8_t f) {
  // nfdump's order, most significant first, '.' for a flag not seen.
  static constexpr char kNames[] = "CEUAPRSF";
  char* p = out.room(8);
  for (int i = 0; i < 8; ++i) p[i] = f & (0x80 >> i) ? kNames[i] : '.';
  out.commit(p + 8);
}

using Put = void (*)(TextOutput&, const FlowRecord&);
struct Token {
  std::string_view name;
  std::string_view title;
  int width;  // negative: left-aligned
  Put put;
  // The field it prints beyond nfdump's line (both directions are read).
  std::optional<FieldId> reads = std::nullopt;
};

const Token kTokens[] = {
    {"%ts", "Date first seen", -23,
     [](TextOutput& o, const FlowRecord& r) { o.put_nfdump_time(r.first()); }},
    {"%te", "Date last seen", -23,
     [](TextOutput& o, const FlowRecord& r) { o.put_nfdump_time(r.last()); }},
    {"%td", "Duration", 16,
     [](TextOutput& o, const FlowRecord& r) { put_duration(o, r.first(), r.last()); }},
    {"%pr", "Proto", -5, [](TextOutput& o, const FlowRecord& r) { put_protocol(o, r.protocol); }},
    {"%sap", "Src IP Addr:Port", 22,
     [](TextOutput& o, const FlowRecord& r) { put_endpoint(o, r.src_ip, r.src_port, false); }},
    {"%dap", "Dst IP Addr:Port", 22,
     [](TextOutput& o, const FlowRecord& r) {
       put_endpoint(o, r.dst_ip, r.nfdump_dst_port(), is_icmp(r.protocol));
     }},
    {"%sas", "Src AS", 6, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.src_as); },
     FieldId::kSrcAs},
    {"%das", "Dst AS", 6, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.dst_as); },
     FieldId::kDstAs},
    {"%sa", "Src IP Addr", 16,
     [](TextOutput& o, const FlowRecord& r) { put_address(o, r.src_ip); }},
    {"%da", "Dst IP Addr", 16,
     [](TextOutput& o, const FlowRecord& r) { put_address(o, r.dst_ip); }},
    {"%sp", "Src Pt", 6,
     [](TextOutput& o, const FlowRecord& r) { o.put_u64(is_icmp(r.protocol) ? 0 : r.src_port); }},
    {"%dp", "Dst Pt", 6,
     [](TextOutput& o, const FlowRecord& r) {
       if (!is_icmp(r.protocol)) return o.put_u64(r.dst_port);
       o.put_u64(r.fwd.icmp_type);
       o.put('.');
       o.put_u64(r.fwd.icmp_code);
     }},
    {"%ipkt", "In Pkt", 8,
     [](TextOutput& o, const FlowRecord& r) { put_scaled(o, r.fwd.packets, 0); }},
    {"%opkt", "Out Pkt", 8,
     [](TextOutput& o, const FlowRecord& r) { put_scaled(o, r.rev.packets, 0); }},
    {"%ibyt", "In Byte", 8,
     [](TextOutput& o, const FlowRecord& r) { put_scaled(o, r.fwd.bytes, 0); }},
    {"%obyt", "Out Byte", 8,
     [](TextOutput& o, const FlowRecord& r) { put_scaled(o, r.rev.bytes, 0); }},
    {"%pkt", "Packets", 8,
     [](TextOutput& o, const FlowRecord& r) { put_scaled(o, r.packets(), 0); }},
    {"%byt", "Bytes", 8, [](TextOutput& o, const FlowRecord& r) { put_scaled(o, r.bytes(), 0); }},
    {"%fl", "Flows", 5, [](TextOutput& o, const FlowRecord& r) { put_scaled(o, flows_of(r), 0); }},
    {"%flg", "Flags", 8,
     [](TextOutput& o, const FlowRecord& r) {
       put_flags(o, uint8_t(r.fwd.tcp_flags | r.rev.tcp_flags));
     },
     FieldId::kTcpFlags},
    {"%stos", "sTos", 4, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.fwd.tos); },
     FieldId::kTos},
    {"%dtos", "dTos", 4, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.rev.tos); },
     FieldId::kTos},
    {"%tos", "Tos", 4, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.fwd.tos); },
     FieldId::kTos},
    {"%bps", "bps", 8,
     [](TextOutput& o, const FlowRecord& r) {
       double s = seconds(r);
       put_scaled(o, s > 0 ? uint64_t(double(r.bytes()) * 8 / s) : 0, 0);
     }},
    {"%pps", "pps", 8,
     [](TextOutput& o, const FlowRecord& r) {
       double s = seconds(r);
       put_scaled(o, s > 0 ? uint64_t(double(r.packets()) / s) : 0, 0);
     }},
    {"%bpp", "Bpp", 6,
     [](TextOutput& o, const FlowRecord& r) {
       o.put_u64(r.packets() ? r.bytes() / r.packets() : 0);
     }},
    {"%in", "Input", 5, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.fwd.in_if); },
     FieldId::kInIf},
    {"%out", "Output", 6, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.fwd.out_if); },
     FieldId::kOutIf},
    {"%smk", "SMask", 5, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.src_mask); },
     FieldId::kSrcMask},
    {"%dmk", "DMask", 5, [](TextOutput& o, const FlowRecord& r) { o.put_u64(r.dst_mask); },
     FieldId::kDstMask},
    {"%ra", "Router IP", 16,
     [](TextOutput& o, const FlowRecord& r) { put_address(o, r.exporter_ip); },
     FieldId::kExporterIp},
    {"%nh", "Next-hop IP", 16,
     [](TextOutput& o, const FlowRecord& r) { put_address(o, r.next_hop); }, FieldId::kNextHop},
};

constexpr std::string_view kLong = "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %fl";
constexpr std::string_view kExtended =
    "%ts %td %pr %sap -> %dap %flg %tos %pkt %byt %pps %bps %bpp %fl";

}  // namespace

FmtWriter::~FmtWriter() = default;

bool is_fmt_format(std::string_view format) {
  return format == "long" || format == "extended" || format.starts_with("fmt:");
}

Result<std::unique_ptr<FmtWriter>> FmtWriter::open(TextOutput& out, std::string_view format,
                                                   bool bare) {
  std::string_view spec = format == "long"       ? kLong
                          : format == "extended" ? kExtended
                                                 : format.substr(4);
  std::unique_ptr<FmtWriter> w(new FmtWriter(out, bare));
  Column col;
  size_t i = 0;
  while (i < spec.size()) {
    if (spec[i] != '%') {
      col.text += spec[i++];
      continue;
    }
    std::string_view rest = spec.substr(i);
    if (rest.starts_with("%{")) {
      size_t end = rest.find('}');
      std::string_view name = end == std::string_view::npos ? "" : rest.substr(2, end - 2);
      Direction dir = Direction::kForward;
      const FieldInfo* f = find_field(name, &dir);
      if (!f)
        return Status::invalid_argument("-o " + std::string(format) + ": no field '" +
                                        std::string(name) + "' (flowkit fields lists them)");
      col.title = std::string(name);
      col.width = int(std::max<size_t>(name.size(), 8));
      col.field = f;
      col.dir = dir;
      col.put_field = field_writer(*f, TextStyle::kText);
      w->columns_.push_back(std::move(col));
      col = Column{};
      i += end + 1;
      continue;
    }
    // The longest token that fits (%flg, not %fl).
    const Token* t = std::end(kTokens);
    for (const Token& k : kTokens)
      if (rest.starts_with(k.name) && (t == std::end(kTokens) || k.name.size() > t->name.size()))
        t = &k;
    if (t == std::end(kTokens)) {
      size_t n = 1;
      while (n < rest.size() && std::isalpha(static_cast<unsigned char>(rest[n]))) ++n;
      return Status::invalid_argument(
          "-o " + std::string(format) + ": unknown token " + std::string(rest.substr(0, n)) +
          ": use %ts %te %td %pr %sa %da %sap %dap %sp %dp %pkt %byt %fl %ipkt %opkt %ibyt "
          "%obyt %flg %tos %bps %pps %bpp %in %out %sas %das %ra %nh or %{FIELD}");
    }
    col.title = std::string(t->title);
    col.width = t->width;
    col.put = t->put;
    col.reads = t->reads;
    w->columns_.push_back(std::move(col));
    col = Column{};
    i += t->name.size();
  }
  std::string tail = col.text;
  if (!tail.empty()) {
    col.title.clear();
    w->columns_.push_back(std::move(col));  // text after the last token
  }
  if (!bare) {
    for (const Column& c : w->columns_) {
      out.put(c.text);
      size_t m = out.mark();
      out.put(c.title);
      if (c.width < 0)
        out.align_left(m, size_t(-c.width));
      else
        out.align_right(m, size_t(c.width));
    }
    out.put('\n');
    out.end_record();
  }
  return w;
}

void FmtWriter::inputs(std::vector<flowkit::Column>& out) const {
  for (const Column& c : columns_) {
    if (c.field) out.push_back({c.field, c.dir});
    if (c.reads) {
      out.push_back(column(*c.reads));
      if (field_info(*c.reads).scope == FieldScope::kDir)
        out.push_back(column(*c.reads, Direction::kReverse));
    }
  }
}

Status fmt_inputs(std::string_view format, std::vector<flowkit::Column>& out) {
  std::string ignored;
  std::unique_ptr<TextOutput> text = TextOutput::to_string(&ignored);
  Result<std::unique_ptr<FmtWriter>> w = FmtWriter::open(*text, format, true);
  if (!w.ok()) return w.status();
  (*w)->inputs(out);
  return {};
}

void FmtWriter::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) {
    for (const Column& c : columns_) {
      out_.put(c.text);
      size_t m = out_.mark();
      if (c.put) {
        c.put(out_, r);
      } else if (c.field) {
        if (field_present(*c.field, r, c.dir)) {
          char* p = out_.room(64);
          out_.commit(c.put_field(p, out_, r, c.dir));
        }
      } else {
        continue;
      }
      if (c.width < 0)
        out_.align_left(m, size_t(-c.width));
      else
        out_.align_right(m, size_t(c.width));
    }
    out_.put('\n');
    flows_ += flows_of(r);
    packets_ += r.packets();
    bytes_ += r.bytes();
    first_ = std::min(first_, r.first());
    last_ = std::max(last_, r.last());
    out_.end_record();
  }
}

Status FmtWriter::flush() {
  if (!bare_) out_.put(nfdump_summary(flows_, bytes_, packets_, flows_ ? last_.ns - first_.ns : 0));
  return out_.flush();
}

}  // namespace flowkit::exporter
