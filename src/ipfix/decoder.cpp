#include "ipfix/decoder.h"

#include <fmt/core.h>

#include <cstring>

#include "core/byte_io.h"
#include "core/field_registry.h"
#include "ipfix/field_codec.h"
#include "ipfix/wire_format.h"

namespace flowkit::ipfix {

namespace {

// RFC 7011 limits a message to 65535 bytes; a template that long is hostile.
constexpr size_t kMaxTemplateFields = 1024;
// How far back a message may come and count as late rather than as an exporter's restart.
constexpr uint32_t kReorderWindow = 1 << 16;

// systemInitTimeMilliseconds: the exporter's boot time, which sysUpTime times count from.
constexpr uint16_t kSystemInitTime = 160;

// samplingInterval (34), samplerRandomInterval (50), samplingPacketInterval (305): 1 in N.
bool is_sampling_interval(uint16_t id) {
  return id == 34 || id == 50 || id == 305;
}

// The value of template field f at p[off...len): sets *value and *n and moves off past it; false
// when the record ends first.
bool next_value(const uint8_t* p, size_t len, size_t& off, uint16_t length, const uint8_t** value,
                size_t* n) {
  size_t flen = length;
  if (length == kVarLen) {
    size_t header;
    if (!read_varlen(p + off, len - off, &flen, &header)) return false;
    off += header;
  }
  if (flen > len - off) return false;
  *value = p + off;
  *n = flen;
  off += flen;
  return true;
}

// The index of the item field of list f that element (id, pen) carries; -1 when none.
int item_index(const FieldInfo& f, uint16_t id, uint32_t pen, uint32_t own_pen) {
  for (size_t k = 0; k < f.items.size(); ++k) {
    const IpfixSpec& s = f.items[k].ipfix;
    if (s.id == id && (s.pen == kPen ? pen == own_pen : s.pen == pen)) return int(k);
  }
  return -1;
}

constexpr uint64_t kV5Present = presence_bit(FieldId::kNextHop) | presence_bit(FieldId::kSrcAs) |
                                presence_bit(FieldId::kDstAs) | presence_bit(FieldId::kSrcMask) |
                                presence_bit(FieldId::kDstMask);
constexpr uint32_t kV5DirPresent =
    uint32_t(presence_bit(FieldId::kInIf) | presence_bit(FieldId::kOutIf));

}  // namespace

Decoder::Domain* Decoder::domain(int version, uint32_t id) {
  auto it = domains_.find({version, id});
  if (it != domains_.end()) return &it->second;
  if (domains_.size() >= limits_.domains) {
    ++stats_.refused_domains;
    return nullptr;
  }
  return &domains_[{version, id}];
}

bool Decoder::check_sequence(uint64_t& next, bool& seen, uint32_t seq, uint32_t window,
                             uint64_t& lost) {
  bool late = false;
  if (seen) {
    int32_t diff = int32_t(seq - uint32_t(next));
    if (diff > 0) {
      lost += uint32_t(diff);
    } else if (diff < 0 && uint32_t(-int64_t(diff)) <= window) {
      ++stats_.reordered;
      late = true;
    } else if (diff < 0) {
      ++stats_.restarts;
    }
  }
  seen = true;
  return late;
}

void Decoder::ipfix_sequence(Domain& d, uint32_t seq, uint64_t flows, uint64_t all,
                             bool unreadable_before) {
  bool unreadable = d.unreadable || unreadable_before;
  int32_t step = int32_t(seq - d.last_seq);
  if (d.seen && step < 0 && uint32_t(-int64_t(step)) <= kReorderWindow) {
    // A late message: its records were counted lost when its gap was seen.
    ++stats_.reordered;
    stats_.lost_records -= std::min(stats_.lost_records, all);
    return;
  }
  if (d.seen && step >= 0) {
    // RFC 7011 counts the data records sent before the message. Some exporters count the
    // message's own too, or leave options records out (softflowd does both): the first of
    // these ways that fits two messages in a row is taken as the exporter's.
    const uint64_t expected[4] = {d.last_all, d.last_flows, all, flows};
    if (d.convention < 0 && !unreadable) {
      for (int i = 0; i < 4 && d.convention < 0; ++i)
        if (uint64_t(step) == expected[i]) d.convention = int8_t(i);
    }
    int64_t gap = int64_t(step) - int64_t(expected[d.convention < 0 ? 0 : d.convention]);
    if (gap > 0) (unreadable ? stats_.unreadable_records : stats_.lost_records) += uint64_t(gap);
  } else if (d.seen) {
    ++stats_.restarts;
  }
  d.seen = true;
  d.last_seq = seq;
  d.last_flows = flows;
  d.last_all = all;
}

Status Decoder::decode(std::span<const uint8_t> m, std::vector<FlowRecord>& out, Arena& arena) {
  ++stats_.messages;
  if (m.size() < 4) {
    ++stats_.malformed;
    return Status::corruption(
        fmt::format("{} bytes is too short for a flow export header", m.size()));
  }
  uint16_t version = load_be16(m.data());
  if (version == kV5Version) return decode_v5(m, out);
  Header h{};
  h.version = version;
  if (version == kIpfixVersion) {
    if (m.size() < kIpfixHeader) {
      ++stats_.malformed;
      return Status::corruption("truncated IPFIX header");
    }
    uint16_t len = load_be16(m.data() + 2);
    if (len < kIpfixHeader || len > m.size()) {
      ++stats_.malformed;
      return Status::corruption(
          fmt::format("IPFIX length {} but {} bytes received", len, m.size()));
    }
    m = m.first(len);
    h.export_secs = load_be32(m.data() + 4);
    h.domain = load_be32(m.data() + 12);
    Domain* d = domain(kIpfixVersion, h.domain);
    if (!d) return Status::unavailable("too many observation domains from one exporter");
    size_t before = out.size();
    uint64_t options_before = stats_.options_records;
    bool unreadable_before = d->unreadable;
    d->unreadable = false;
    Status st = decode_sets(m.subspan(kIpfixHeader), h, *d, out, arena);
    uint64_t flows = out.size() - before;
    ipfix_sequence(*d, load_be32(m.data() + 8), flows,
                   flows + (stats_.options_records - options_before), unreadable_before);
    release_held(*d, h, out, arena);
    return st;
  }
  if (version == kV9Version) {
    if (m.size() < kV9Header) {
      ++stats_.malformed;
      return Status::corruption("truncated NetFlow v9 header");
    }
    h.uptime_ms = load_be32(m.data() + 4);
    h.export_secs = load_be32(m.data() + 8);
    h.domain = load_be32(m.data() + 16);
    Domain* d = domain(kV9Version, h.domain);
    if (!d) return Status::unavailable("too many source ids from one exporter");
    uint32_t seq = load_be32(m.data() + 12);
    // v9 counts packets: a packet whose sets could not be read is still not lost.
    if (check_sequence(d->next_sequence, d->seen, seq, 256, stats_.lost_messages)) {
      stats_.lost_messages -= std::min<uint64_t>(stats_.lost_messages, 1);
    } else {
      d->next_sequence = uint64_t(seq) + 1;
    }
    Status st = decode_sets(m.subspan(kV9Header), h, *d, out, arena);
    release_held(*d, h, out, arena);
    return st;
  }
  ++stats_.malformed;
  return Status::corruption(fmt::format("version {} is not NetFlow v5, v9 or IPFIX", version));
}

Status Decoder::decode_v5(std::span<const uint8_t> m, std::vector<FlowRecord>& out) {
  if (m.size() < kV5Header) {
    ++stats_.malformed;
    return Status::corruption("truncated NetFlow v5 header");
  }
  uint16_t count = load_be16(m.data() + 2);
  uint32_t uptime = load_be32(m.data() + 4);
  uint32_t secs = load_be32(m.data() + 8);
  uint32_t nsecs = load_be32(m.data() + 12);
  uint32_t seq = load_be32(m.data() + 16);
  uint32_t engine = uint32_t(m[20]) << 8 | m[21];
  uint16_t sampling = load_be16(m.data() + 22);
  size_t n = std::min<size_t>(count, (m.size() - kV5Header) / kV5Record);
  // v5 counts flows per engine; engines beyond the limit go uncounted rather than grow the map.
  auto it = v5_sequence_.find(engine);
  if (it == v5_sequence_.end() && v5_sequence_.size() < limits_.domains)
    it = v5_sequence_.emplace(engine, std::pair<uint64_t, bool>{0, false}).first;
  if (it != v5_sequence_.end()) {
    auto& [next, seen] = it->second;
    if (check_sequence(next, seen, seq, 1 << 16, stats_.lost_records)) {
      stats_.lost_records -= std::min<uint64_t>(stats_.lost_records, n);
    } else {
      next = uint64_t(seq) + n;
    }
  }
  // The exporter's boot: the header's time (with its nanoseconds) less its uptime.
  int64_t boot_ns = int64_t(secs) * kNanosPerSecond + std::min<uint32_t>(nsecs, 999'999'999) -
                    int64_t(uptime) * 1'000'000;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = m.data() + kV5Header + kV5Record * i;
    FlowRecord r;
    r.ip_version = 4;
    r.src_ip = IpAddress::v4(p);
    r.dst_ip = IpAddress::v4(p + 4);
    r.next_hop = IpAddress::v4(p + 8);
    DirectionRecord& d = r.fwd;
    d.in_if = load_be16(p + 12);
    d.out_if = load_be16(p + 14);
    d.packets = load_be32(p + 16);
    d.bytes = load_be32(p + 20);
    d.first = Timestamp{boot_ns + int64_t(load_be32(p + 24)) * 1'000'000};
    d.last = Timestamp{boot_ns + int64_t(load_be32(p + 28)) * 1'000'000};
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
    r.src_as = load_be16(p + 40);
    r.dst_as = load_be16(p + 42);
    r.src_mask = p[44];
    r.dst_mask = p[45];
    r.present |= kV5Present;
    d.present |= kV5DirPresent;
    r.sampling_interval = (sampling & 0x3fff) ? (sampling & 0x3fff) : 1;
    if (sampling >> 14) {
      r.sampling_algorithm = uint8_t(sampling >> 14);
      r.present |= presence_bit(FieldId::kSamplingAlgorithm);
    }
    Header h{kV5Version, secs, uptime, engine};
    finish_record(r, h);
    out.push_back(r);
    ++stats_.records;
  }
  if (n < count) {
    ++stats_.malformed;
    return Status::corruption(
        fmt::format("NetFlow v5 says {} records, the packet holds {}", count, n));
  }
  return {};
}

Status Decoder::decode_sets(std::span<const uint8_t> m, const Header& h, Domain& d,
                            std::vector<FlowRecord>& out, Arena& arena) {
  bool ipfix = h.version == kIpfixVersion;
  size_t off = 0;
  while (off + kSetHeader <= m.size()) {
    uint16_t set_id = load_be16(m.data() + off);
    uint16_t set_len = load_be16(m.data() + off + 2);
    if (set_len < kSetHeader || set_len > m.size() - off) {
      ++stats_.malformed;
      return Status::corruption(
          fmt::format("set {} claims {} bytes, {} are left", set_id, set_len, m.size() - off));
    }
    const uint8_t* body = m.data() + off + kSetHeader;
    size_t body_len = set_len - size_t(kSetHeader);
    bool is_template = set_id == (ipfix ? kTemplateSet : kV9TemplateSet);
    bool is_options = set_id == (ipfix ? kOptionsTemplateSet : kV9OptionsTemplateSet);
    if (is_template || is_options) {
      if (!read_templates(body, body_len, is_options, ipfix, d, h.export_secs)) ++stats_.malformed;
    } else if (set_id >= kFirstTemplateId) {
      auto it = d.templates.find(set_id);
      if (it != d.templates.end() && limits_.template_lifetime_s) {
        // UDP templates live as long as the exporter keeps announcing them (RFC 7011 8.4). A
        // template known from before a restart counts as announced when its data first comes.
        Tmpl& t = it->second;
        if (t.refreshed == 0) t.refreshed = h.export_secs;
        if (int64_t(h.export_secs) - int64_t(t.refreshed) > int64_t(limits_.template_lifetime_s)) {
          template_fields_ -= t.fields.size();
          d.templates.erase(it);
          it = d.templates.end();
          ++stats_.templates_expired;
        }
      }
      if (it == d.templates.end()) {
        d.unreadable = true;
        hold(d, set_id, h, body, body_len);
      } else {
        read_data(body, body_len, it->second, h, d, out, arena);
      }
    }
    off += set_len;
  }
  return {};
}

void Decoder::hold(Domain& d, uint16_t set_id, const Header& h, const uint8_t* p, size_t len) {
  if (held_bytes_ + len > limits_.held_bytes) {
    ++stats_.missing_template;
    return;
  }
  d.held.push_back({set_id, h.export_secs, h.uptime_ms, std::vector<uint8_t>(p, p + len)});
  held_bytes_ += len;
  ++stats_.held_sets;
}

void Decoder::release_held(Domain& d, const Header& h, std::vector<FlowRecord>& out, Arena& arena) {
  if (d.held.empty()) return;
  size_t kept = 0;
  for (Held& held : d.held) {
    auto it = d.templates.find(held.set_id);
    bool expired = h.export_secs - held.export_secs > limits_.held_seconds &&
                   int32_t(h.export_secs - held.export_secs) > 0;
    if (it != d.templates.end()) {
      Header hh{h.version, held.export_secs, held.uptime_ms, h.domain};
      size_t before = out.size();
      read_data(held.body.data(), held.body.size(), it->second, hh, d, out, arena);
      uint64_t n = out.size() - before;
      stats_.late_records += n;
      stats_.unreadable_records -= std::min(stats_.unreadable_records, n);
    } else if (expired) {
      ++stats_.missing_template;
    } else {
      std::swap(d.held[kept++], held);
      continue;
    }
    held_bytes_ -= held.body.size();
  }
  d.held.resize(kept);
}

void Decoder::drop_held() {
  for (auto& [key, d] : domains_) {
    stats_.missing_template += d.held.size();
    d.held.clear();
  }
  held_bytes_ = 0;
}

bool Decoder::read_templates(const uint8_t* p, size_t len, bool options, bool ipfix, Domain& d,
                             uint32_t export_secs) {
  size_t off = 0;
  while (off + 4 <= len) {
    uint16_t id = load_be16(p + off);
    uint16_t count = load_be16(p + off + 2);
    // Exporters send their templates again and again (nfreplay in every packet): the same bytes
    // as the template known are that template, without parsing it once more.
    if (auto known = d.templates.find(id); known != d.templates.end()) {
      const std::vector<uint8_t>& wire = known->second.wire;
      if (!wire.empty() && len - off >= wire.size() &&
          std::memcmp(p + off, wire.data(), wire.size()) == 0) {
        known->second.refreshed = export_secs;
        off += wire.size();
        if (!ipfix && len - off < 4) break;
        continue;
      }
    }
    size_t start = off;
    off += 4;
    // A withdrawal (RFC 7011 8.1) is the id and a count of 0, also in an options template set:
    // no scope count follows. Ids 2 and 3 withdraw every template or options template.
    if (ipfix && count == 0) {
      for (auto it = d.templates.begin(); it != d.templates.end();) {
        bool all = id == kTemplateSet || id == kOptionsTemplateSet;
        bool match =
            all ? (it->second.scope_count > 0) == (id == kOptionsTemplateSet) : it->first == id;
        if (match) {
          template_fields_ -= it->second.fields.size();
          it = d.templates.erase(it);
        } else {
          ++it;
        }
      }
      ++stats_.withdrawn;
      continue;
    }
    uint16_t scope = 0;
    if (options) {
      if (off + 2 > len) return false;
      if (ipfix) {
        scope = load_be16(p + off);
        off += 2;
        if (scope == 0 || scope > count) return false;
      } else {  // v9 gives byte lengths of the scope and option specifiers
        uint16_t scope_bytes = count, option_bytes = load_be16(p + off);
        off += 2;
        scope = uint16_t(scope_bytes / 4);
        count = uint16_t((scope_bytes + option_bytes) / 4);
      }
    }
    if (id < kFirstTemplateId || count == 0) return false;
    if (count > kMaxTemplateFields) return false;
    Tmpl t;
    t.scope_count = scope;
    for (uint16_t i = 0; i < count; ++i) {
      if (off + 4 > len) return false;
      Field f{load_be16(p + off), load_be16(p + off + 2), 0, std::nullopt};
      off += 4;
      if (ipfix && (f.id & kEnterpriseBit)) {
        if (off + 4 > len) return false;
        f.id &= uint16_t(~kEnterpriseBit);
        f.pen = load_be32(p + off);
        off += 4;
      }
      if (f.length == kVarLen && !ipfix) return false;
      t.min_length += f.length == kVarLen ? 1 : f.length;
      if (!scope) f.ref = find_element(f.id, f.pen, own_pen_);
      if (f.ref) {
        f.decode = field_decoder(*f.ref);
        f.list = field_info(f.ref->field).type == FieldType::kList;
      }
      if (!scope && !f.ref && !(f.id == kSystemInitTime && f.pen == 0)) ++t.unknown;
      t.fields.push_back(f);
    }
    if (t.min_length == 0) return false;  // records of no bytes: a set would never end
    t.wire.assign(p + start, p + off);
    t.refreshed = export_secs;
    auto old = d.templates.find(id);
    size_t replaced = old == d.templates.end() ? 0 : old->second.fields.size();
    if (template_fields_ - replaced + t.fields.size() > limits_.template_fields) {
      ++stats_.template_limit;
    } else {
      template_fields_ += t.fields.size() - replaced;
      d.templates[id] = std::move(t);
      ++stats_.templates;
    }
    // v9 pads template sets; stop at padding.
    if (!ipfix && len - off < 4) break;
  }
  return true;
}

void Decoder::read_data(const uint8_t* p, size_t len, const Tmpl& t, const Header& h, Domain& d,
                        std::vector<FlowRecord>& out, Arena& arena) {
  bool v9 = h.version == kV9Version;
  DecodeContext ctx{&arena, Timestamp{}, Timestamp::from_seconds(h.export_secs)};
  size_t off = 0;
  // Padding at the end of a set is shorter than any record.
  while (len - off >= t.min_length) {
    // Built in place: a record is large, and most are kept.
    FlowRecord& r = out.emplace_back();
    // sysUpTime times wait for the end of the record: its own systemInitTimeMilliseconds may
    // come after them.
    struct Uptime {
      FieldRef ref;
      uint32_t ms;
    };
    Uptime uptimes[4];
    size_t n_uptimes = 0;
    Timestamp record_init;
    bool ok = true;
    for (const Field& f : t.fields) {
      const uint8_t* v;
      size_t flen;
      if (!next_value(p, len, off, f.length, &v, &flen)) {
        ok = false;
        break;
      }
      if (f.id == kSystemInitTime && f.pen == 0 && flen == 8) {
        if (!millis_to_time(load_be64(v), &record_init)) ++stats_.bad_fields;
        if (t.scope_count && record_init.is_set()) d.system_init = record_init;
        continue;
      }
      if (t.scope_count && f.pen == 0 && is_sampling_interval(f.id) && flen <= 8) {
        uint64_t interval = 0;
        for (size_t i = 0; i < flen; ++i) interval = interval << 8 | v[i];
        if (interval > 0 && interval <= UINT32_MAX) d.sampling = uint32_t(interval);
        continue;
      }
      if (!f.ref) continue;  // an element flowkit does not know, or options data
      const FieldRef& ref = *f.ref;
      bool good;
      if (ref.type == IeType::kSysUpTime) {
        good = flen == 4 && n_uptimes < std::size(uptimes);
        if (good) uptimes[n_uptimes++] = {ref, load_be32(v)};
      } else if (f.list) {
        good = read_list(r, ref, v, flen, d, arena);
      } else {
        good = f.decode && f.decode(r, ref.dir, v, uint16_t(flen), ref.type, ctx);
      }
      if (!good) {
        ++stats_.bad_fields;
        continue;
      }
      if (ref.dir == Direction::kReverse) r.biflow = true;
    }
    if (!ok) {
      out.pop_back();
      ++stats_.malformed;
      break;
    }
    if (t.scope_count) {
      out.pop_back();
      ++stats_.options_records;
      continue;
    }
    if (n_uptimes) {
      Timestamp boot = v9 ? Timestamp{(int64_t(h.export_secs) * 1000 - h.uptime_ms) * 1'000'000}
                       : record_init.is_set() ? record_init
                                              : d.system_init;
      for (size_t i = 0; i < n_uptimes; ++i) {
        uint8_t be[4];
        store_be32(be, uptimes[i].ms);
        // sysUpTime wraps after 2^32 ms (49.7 days): of the times it can stand for, the one
        // nearest the message's export time.
        constexpr int64_t kWrap = int64_t(1) << 32;
        int64_t at_ms = boot.ns / 1'000'000 + uptimes[i].ms;
        int64_t x = int64_t(h.export_secs) * 1000 - at_ms + kWrap / 2;
        int64_t wraps = x >= 0 ? x / kWrap : -((-x + kWrap - 1) / kWrap);
        // (A hostile boot time far from the export would overflow: then it stays as given.)
        int64_t shift;
        if (__builtin_mul_overflow(wraps, kWrap * 1'000'000, &shift) ||
            __builtin_add_overflow(boot.ns, shift, &ctx.system_init.ns))
          ctx.system_init = boot;
        if (!boot.is_set() || !decode_field(r, uptimes[i].ref, be, 4, ctx)) ++stats_.no_boot_time;
      }
    }
    stats_.unknown_fields += t.unknown;
    // A sampling rate the exporter announced in options data covers records without their own.
    if (d.sampling > 1 && r.sampling_interval <= 1) r.sampling_interval = d.sampling;
    finish_record(r, h);
    ++stats_.records;
  }
}

bool Decoder::read_list(FlowRecord& r, const FieldRef& ref, const uint8_t* p, size_t len,
                        const Domain& d, Arena& arena) {
  const FieldInfo& f = field_info(ref.field);
  if (len == 0) {  // an empty list, sent without its header
    make_list(f, r, ref.dir, 0, arena);
    return true;
  }
  if (len < 3) return false;
  DecodeContext ctx{&arena, d.system_init};
  size_t off = 3;
  if (f.ipfix.type == IeType::kBasicList) {
    if (len < 5) return false;
    uint16_t id = load_be16(p + 1), elem_len = load_be16(p + 3);
    uint32_t pen = 0;
    off = 5;
    if (id & kEnterpriseBit) {
      if (len < 9) return false;
      pen = load_be32(p + 5);
      off = 9;
      id &= uint16_t(~kEnterpriseBit);
    }
    int k = item_index(f, id, pen, own_pen_);
    if (k < 0 || f.items.size() != 1) return false;
    uint32_t n = 0;
    for (size_t o = off; o < len; ++n) {
      const uint8_t* v;
      size_t vlen;
      if (!next_value(p, len, o, elem_len, &v, &vlen)) return false;
      if (elem_len == 0) return false;  // items of no bytes: the list would never end
    }
    auto* items = static_cast<uint8_t*>(make_list(f, r, ref.dir, n, arena));
    for (uint32_t i = 0; i < n; ++i) {
      const uint8_t* v;
      size_t vlen;
      next_value(p, len, off, elem_len, &v, &vlen);
      if (!decode_item_field(items + size_t(i) * f.item_size, f.items[size_t(k)],
                             f.items[size_t(k)].ipfix.type, v, uint16_t(vlen), ctx))
        return false;
    }
    return true;
  }
  // subTemplateList: records of a template announced in the same domain.
  auto it = d.templates.find(load_be16(p + 1));
  if (it == d.templates.end() || it->second.scope_count) return false;
  const Tmpl& t = it->second;
  uint32_t n = 0;
  for (size_t o = off; o < len; ++n) {
    if (len - o < t.min_length) return false;
    for (const Field& tf : t.fields) {
      const uint8_t* v;
      size_t vlen;
      if (!next_value(p, len, o, tf.length, &v, &vlen)) return false;
    }
  }
  auto* items = static_cast<uint8_t*>(make_list(f, r, ref.dir, n, arena));
  for (uint32_t i = 0; i < n; ++i) {
    for (const Field& tf : t.fields) {
      const uint8_t* v;
      size_t vlen;
      next_value(p, len, off, tf.length, &v, &vlen);
      int k = item_index(f, tf.id, tf.pen, own_pen_);
      if (k < 0) continue;
      const ItemInfo& item = f.items[size_t(k)];
      if (!decode_item_field(items + size_t(i) * f.item_size, item, item.ipfix.type, v,
                             uint16_t(vlen), ctx))
        ++stats_.bad_fields;
    }
  }
  return true;
}

std::vector<std::vector<uint8_t>> Decoder::save_templates() const {
  std::vector<std::vector<uint8_t>> out;
  for (const auto& [key, d] : domains_) {
    bool ipfix = key.first == kIpfixVersion;
    for (const auto& [id, t] : d.templates) {
      std::vector<uint8_t> m(ipfix ? kIpfixHeader : kV9Header, 0);
      auto put16 = [&m](uint16_t v) {
        m.push_back(uint8_t(v >> 8));
        m.push_back(uint8_t(v));
      };
      store_be16(m.data(), uint16_t(key.first));
      if (ipfix) {
        store_be32(m.data() + 12, key.second);
      } else {
        store_be16(m.data() + 2, 1);  // one record (the template)
        store_be32(m.data() + 16, key.second);
      }
      size_t set_at = m.size();
      put16(t.scope_count ? (ipfix ? kOptionsTemplateSet : kV9OptionsTemplateSet)
                          : (ipfix ? kTemplateSet : kV9TemplateSet));
      put16(0);  // the set's length, below
      put16(id);
      if (ipfix) {
        put16(uint16_t(t.fields.size()));
        if (t.scope_count) put16(t.scope_count);
      } else if (t.scope_count) {
        put16(uint16_t(t.scope_count * 4));
        put16(uint16_t((t.fields.size() - t.scope_count) * 4));
      } else {
        put16(uint16_t(t.fields.size()));
      }
      for (const Field& f : t.fields) {
        put16(uint16_t(f.id | (f.pen ? kEnterpriseBit : 0)));
        put16(f.length);
        if (f.pen) {
          put16(uint16_t(f.pen >> 16));
          put16(uint16_t(f.pen));
        }
      }
      store_be16(m.data() + set_at + 2, uint16_t(m.size() - set_at));
      if (ipfix) store_be16(m.data() + 2, uint16_t(m.size()));
      out.push_back(std::move(m));
    }
  }
  return out;
}

void Decoder::load_templates(std::span<const uint8_t> m) {
  if (m.size() < 4) return;
  uint16_t version = load_be16(m.data());
  bool ipfix = version == kIpfixVersion;
  size_t header = ipfix ? kIpfixHeader : kV9Header;
  if ((!ipfix && version != kV9Version) || m.size() < header) return;
  Domain* d = domain(version, load_be32(m.data() + (ipfix ? 12 : 16)));
  if (!d) return;
  for (size_t off = header; off + kSetHeader <= m.size();) {
    uint16_t set_id = load_be16(m.data() + off), set_len = load_be16(m.data() + off + 2);
    if (set_len < kSetHeader || set_len > m.size() - off) return;
    bool options = set_id == (ipfix ? kOptionsTemplateSet : kV9OptionsTemplateSet);
    if (options || set_id == (ipfix ? kTemplateSet : kV9TemplateSet))
      read_templates(m.data() + off + kSetHeader, set_len - kSetHeader, options, ipfix, *d, 0);
    off += set_len;
  }
}

void Decoder::finish_record(FlowRecord& r, const Header& h) const {
  if (r.ip_version == 0) r.ip_version = r.src_ip.is_v4() ? 4 : 6;
  r.observation_domain = h.domain;
  r.present |= presence_bit(FieldId::kObservationDomain);
  if (exporter_) {
    r.exporter_ip = *exporter_;
    r.present |= presence_bit(FieldId::kExporterIp);
  }
}

}  // namespace flowkit::ipfix
