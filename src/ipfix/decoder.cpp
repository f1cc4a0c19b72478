#include "ipfix/decoder.h"

#include <fmt/core.h>

#include "core/byte_io.h"
#include "core/field_registry.h"
#include "ipfix/field_codec.h"
#include "ipfix/wire_format.h"

namespace flowkit::ipfix {

namespace {

constexpr uint16_t kVarLen = 0xffff;
// RFC 7011 limits a message to 65535 bytes; a template that long is hostile.
constexpr size_t kMaxTemplateFields = 1024;

// NetFlow v9 times: milliseconds of the exporter's uptime.
constexpr uint16_t kV9LastSwitched = 21;
constexpr uint16_t kV9FirstSwitched = 22;

Timestamp from_uptime(uint32_t uptime_ms, uint32_t export_secs, uint32_t event_ms) {
  // The event happened (uptime - event) ms before the export time.
  int64_t age_ms = int64_t(uptime_ms) - int64_t(event_ms);
  return Timestamp{(int64_t(export_secs) * 1000 - age_ms) * 1'000'000};
}

}  // namespace

Status Decoder::decode(std::span<const uint8_t> m, std::vector<FlowRecord>& out) {
  ++stats_.messages;
  if (m.size() < 4) {
    ++stats_.malformed;
    return Status::error(fmt::format("{} bytes is too short for a flow export header", m.size()));
  }
  uint16_t version = load_be16(m.data());
  if (version == kV5Version) return decode_v5(m, out);
  Header h{};
  h.version = version;
  if (version == kIpfixVersion) {
    if (m.size() < kIpfixHeader) {
      ++stats_.malformed;
      return Status::error("truncated IPFIX header");
    }
    uint16_t len = load_be16(m.data() + 2);
    if (len < kIpfixHeader || len > m.size()) {
      ++stats_.malformed;
      return Status::error(fmt::format("IPFIX length {} but {} bytes received", len, m.size()));
    }
    m = m.first(len);
    h.export_secs = load_be32(m.data() + 4);
    h.domain = load_be32(m.data() + 12);
    Domain& d = domains_[{kIpfixVersion, h.domain}];
    uint32_t seq = load_be32(m.data() + 8);
    if (d.seen && seq != uint32_t(d.next_sequence)) {
      stats_.lost_records += uint32_t(seq - uint32_t(d.next_sequence));
    }
    d.seen = true;
    d.next_sequence = seq;
    size_t before = out.size();
    uint64_t options_before = stats_.options_records;
    Status st = decode_sets(m.subspan(kIpfixHeader), h, out);
    d.next_sequence += (out.size() - before) + (stats_.options_records - options_before);
    return st;
  }
  if (version == kV9Version) {
    if (m.size() < kV9Header) {
      ++stats_.malformed;
      return Status::error("truncated NetFlow v9 header");
    }
    h.uptime_ms = load_be32(m.data() + 4);
    h.export_secs = load_be32(m.data() + 8);
    h.domain = load_be32(m.data() + 16);
    Domain& d = domains_[{kV9Version, h.domain}];
    uint32_t seq = load_be32(m.data() + 12);
    if (d.seen && seq != uint32_t(d.next_sequence)) {
      stats_.lost_messages += uint32_t(seq - uint32_t(d.next_sequence));
    }
    d.seen = true;
    d.next_sequence = uint64_t(seq) + 1;
    return decode_sets(m.subspan(kV9Header), h, out);
  }
  ++stats_.malformed;
  return Status::error(fmt::format("version {} is not NetFlow v5, v9 or IPFIX", version));
}

Status Decoder::decode_v5(std::span<const uint8_t> m, std::vector<FlowRecord>& out) {
  if (m.size() < kV5Header) {
    ++stats_.malformed;
    return Status::error("truncated NetFlow v5 header");
  }
  uint16_t count = load_be16(m.data() + 2);
  uint32_t uptime = load_be32(m.data() + 4);
  uint32_t secs = load_be32(m.data() + 8);
  uint32_t seq = load_be32(m.data() + 16);
  uint16_t sampling = load_be16(m.data() + 22) & 0x3fff;
  if (v5_seen_ && seq != uint32_t(v5_next_sequence_))
    stats_.lost_records += uint32_t(seq - uint32_t(v5_next_sequence_));
  size_t n = std::min<size_t>(count, (m.size() - kV5Header) / kV5Record);
  v5_seen_ = true;
  v5_next_sequence_ = uint64_t(seq) + n;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = m.data() + kV5Header + kV5Record * i;
    FlowRecord r;
    r.ip_version = 4;
    r.src_ip = IpAddress::v4(p);
    r.dst_ip = IpAddress::v4(p + 4);
    DirectionRecord& d = r.fwd;
    d.interface = load_be16(p + 12);
    d.packets = load_be32(p + 16);
    d.bytes = load_be32(p + 20);
    d.first = from_uptime(uptime, secs, load_be32(p + 24));
    d.last = from_uptime(uptime, secs, load_be32(p + 28));
    r.protocol = p[38];
    if (r.protocol == 1) {
      d.icmp_type = p[34];
      d.icmp_code = p[35];
    } else {
      r.src_port = load_be16(p + 32);
      r.dst_port = load_be16(p + 34);
    }
    d.tcp_flags = p[37];
    d.tos = p[39];
    r.sampling_interval = sampling ? sampling : 1;
    out.push_back(r);
    ++stats_.records;
  }
  if (n < count) {
    ++stats_.malformed;
    return Status::error(fmt::format("NetFlow v5 says {} records, the packet holds {}", count, n));
  }
  return {};
}

Status Decoder::decode_sets(std::span<const uint8_t> m, const Header& h,
                            std::vector<FlowRecord>& out) {
  bool ipfix = h.version == kIpfixVersion;
  Domain& d = domains_[{h.version, h.domain}];
  size_t off = 0;
  while (off + kSetHeader <= m.size()) {
    uint16_t set_id = load_be16(m.data() + off);
    uint16_t set_len = load_be16(m.data() + off + 2);
    if (set_len < kSetHeader || set_len > m.size() - off) {
      ++stats_.malformed;
      return Status::error(
          fmt::format("set {} claims {} bytes, {} are left", set_id, set_len, m.size() - off));
    }
    const uint8_t* body = m.data() + off + kSetHeader;
    size_t body_len = set_len - size_t(kSetHeader);
    bool is_template = set_id == (ipfix ? kTemplateSet : kV9TemplateSet);
    bool is_options = set_id == (ipfix ? kOptionsTemplateSet : kV9OptionsTemplateSet);
    if (is_template || is_options) {
      if (!read_templates(body, body_len, is_options, ipfix, d)) ++stats_.malformed;
    } else if (set_id >= kFirstTemplateId) {
      auto it = d.templates.find(set_id);
      if (it == d.templates.end()) {
        ++stats_.missing_template;
      } else {
        read_data(body, body_len, it->second, h, out);
      }
    }
    off += set_len;
  }
  return {};
}

bool Decoder::read_templates(const uint8_t* p, size_t len, bool options, bool ipfix, Domain& d) {
  size_t off = 0;
  while (off + 4 <= len) {
    uint16_t id = load_be16(p + off);
    uint16_t count = load_be16(p + off + 2);
    off += 4;
    uint16_t scope = 0;
    if (options) {
      if (off + 2 > len) return false;
      if (ipfix) {
        scope = load_be16(p + off);
        off += 2;
      } else {  // v9 gives byte lengths of the scope and option specifiers
        if (off + 2 > len) return false;
        uint16_t scope_bytes = count, option_bytes = load_be16(p + off);
        off += 2;
        scope = uint16_t(scope_bytes / 4);
        count = uint16_t((scope_bytes + option_bytes) / 4);
      }
    }
    if (id < kFirstTemplateId) {
      // IPFIX template withdrawal of all templates uses id 2/3 with count 0; anything else
      // below 256 is not a template id.
      if (count == 0) continue;
      return false;
    }
    if (count == 0) {  // withdrawal
      d.templates.erase(id);
      continue;
    }
    if (count > kMaxTemplateFields) return false;
    Tmpl t;
    t.scope_count = scope;
    for (uint16_t i = 0; i < count; ++i) {
      if (off + 4 > len) return false;
      Field f{load_be16(p + off), load_be16(p + off + 2), 0};
      off += 4;
      if (ipfix && (f.id & 0x8000)) {
        if (off + 4 > len) return false;
        f.id &= 0x7fff;
        f.pen = load_be32(p + off);
        off += 4;
      }
      if (f.length == kVarLen && !ipfix) return false;
      t.min_length += f.length == kVarLen ? 1 : f.length;
      t.fields.push_back(f);
    }
    if (t.min_length == 0) return false;  // records of no bytes: a set would never end
    d.templates[id] = std::move(t);
    ++stats_.templates;
    // v9 pads template sets; stop at padding.
    if (!ipfix && len - off < 4) break;
  }
  return true;
}

size_t Decoder::read_data(const uint8_t* p, size_t len, const Tmpl& t, const Header& h,
                          std::vector<FlowRecord>& out) {
  size_t off = 0, n = 0;
  // Padding at the end of a set is shorter than any record.
  while (len - off >= t.min_length) {
    FlowRecord r;
    bool v9 = h.version == kV9Version;
    bool ok = true;
    for (const Field& f : t.fields) {
      size_t flen = f.length;
      if (flen == kVarLen) {
        if (off + 1 > len) return n;
        flen = p[off++];
        if (flen == 255) {
          if (off + 2 > len) return n;
          flen = load_be16(p + off);
          off += 2;
        }
      }
      if (flen > len - off) {
        ok = false;
        break;
      }
      const uint8_t* v = p + off;
      off += flen;
      if (t.scope_count) continue;  // options data: nothing to turn into a flow
      if (v9 && (f.id == kV9FirstSwitched || f.id == kV9LastSwitched) && flen == 4) {
        Timestamp ts = from_uptime(h.uptime_ms, h.export_secs, load_be32(v));
        (f.id == kV9FirstSwitched ? r.fwd.first : r.fwd.last) = ts;
        continue;
      }
      std::optional<FieldRef> ref = find_element(f.id, f.pen, own_pen_);
      if (!ref) continue;
      if (!decode_field(r, *ref, v, uint16_t(flen))) {
        ++stats_.bad_fields;
        continue;
      }
      if (ref->dir == Direction::kReverse) r.biflow = true;
    }
    if (!ok) {
      ++stats_.malformed;
      break;
    }
    if (t.scope_count) {
      ++stats_.options_records;
    } else {
      finish_record(r);
      out.push_back(r);
      ++stats_.records;
      ++n;
    }
  }
  return n;
}

void Decoder::finish_record(FlowRecord& r) const {
  if (r.ip_version == 0) r.ip_version = r.src_ip.is_v4() ? 4 : 6;
  // Statistics are present when any of them arrived.
  r.has_stats = r.fwd.pkt_size.max > 0 || r.rev.pkt_size.max > 0 || r.pkt_size.max > 0;
}

}  // namespace flowkit::ipfix
