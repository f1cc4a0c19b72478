#include "ipfix/encoder.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/byte_io.h"
#include "core/field_registry.h"
#include "ipfix/field_codec.h"
#include "ipfix/wire_format.h"

namespace flowkit::ipfix {

namespace {

constexpr uint16_t kStatsTemplate = kFirstTemplateId;          // options: exporter statistics
constexpr uint16_t kTypeInfoTemplate = kFirstTemplateId + 1;   // options: RFC 5610 type info
constexpr uint16_t kFirstListTemplate = kFirstTemplateId + 2;  // items of subTemplateLists
constexpr uint16_t kV9FirstDataTemplate = kFirstTemplateId + 2;
constexpr size_t kV5MaxRecords = 30;

// How each list field's items are encoded: subTemplateLists get template ids from
// kFirstListTemplate on, in registry order.
std::vector<ListLayout> list_layouts(const ElementOptions& o) {
  std::vector<ListLayout> out;
  uint16_t next = kFirstListTemplate;
  for (const FieldInfo& f : all_fields()) {
    if (f.type != FieldType::kList || f.ipfix.id == kNoElement) continue;
    ListLayout l;
    l.field = f.id;
    if (f.ipfix.type == IeType::kSubTemplateList) l.template_id = next++;
    for (const ItemInfo& item : f.items) l.items.push_back(item_element(item, o));
    out.push_back(std::move(l));
  }
  return out;
}

uint16_t first_data_template(const std::vector<ListLayout>& layouts) {
  uint16_t id = kFirstListTemplate;
  for (const ListLayout& l : layouts)
    if (l.template_id) id = uint16_t(std::max<int>(id, l.template_id + 1));
  return id;
}

// A message under construction: a header, then sets, each with a 4-byte header. The buffer
// is allocated once; bytes are written in place, never zero-filled first.
class MessageBuffer {
 public:
  MessageBuffer(size_t header, size_t max)
      : header_(header),
        max_(max),
        cap_(std::max<size_t>(max, 65535) + 64),
        buf_(new uint8_t[cap_]) {
    reset();
  }
  void reset() {
    std::memset(buf_.get(), 0, header_);
    size_ = header_;
    set_start_ = 0;
    records_ = 0;
  }
  bool empty() const { return size_ == header_; }
  size_t size() const { return size_; }
  size_t room() const { return max_ > size_ ? max_ - size_ : 0; }
  // The largest data record an empty message holds.
  size_t max_record() const {
    return max_ > header_ + kSetHeader + 3 ? max_ - header_ - kSetHeader - 3 : 0;
  }
  uint16_t open_set_id() const { return set_start_ ? set_id_ : 0xffff; }
  // Room for n more bytes in a set with this id (opening it costs a set header; 3 bytes stay
  // free for the padding that may close it).
  bool fits(uint16_t set_id, size_t n) const {
    return room() >= n + 3 + (open_set_id() == set_id ? 0 : kSetHeader);
  }
  void open_set(uint16_t id) {
    if (open_set_id() == id) return;
    close_set(false);
    set_start_ = size_;
    set_id_ = id;
    put16(id);
    put16(0);
  }
  // pad: round the set to 4 bytes (NetFlow v9 recommends it).
  void close_set(bool pad) {
    if (!set_start_) return;
    if (pad)
      while ((size_ - set_start_) % 4) put8(0);
    store_be16(buf_.get() + set_start_ + 2, uint16_t(size_ - set_start_));
    set_start_ = 0;
  }
  // REQUIRES: n bytes fit the buffer (callers check fits() first; templates and options records
  // are far below the 64 KiB the buffer holds beyond max).
  uint8_t* grow(size_t n) {
    if (size_ + n > cap_) std::abort();
    uint8_t* p = buf_.get() + size_;
    size_ += n;
    return p;
  }
  void put8(uint8_t v) { *grow(1) = v; }
  void put16(uint16_t v) { store_be16(grow(2), v); }
  void put32(uint32_t v) { store_be32(grow(4), v); }
  void put64(uint64_t v) { store_be64(grow(8), v); }
  void put_bytes(const void* p, size_t n) { std::memcpy(grow(n), p, n); }
  uint8_t* data() { return buf_.get(); }
  void count_record() { ++records_; }
  uint32_t records() const { return records_; }

 private:
  size_t header_, max_, cap_;
  std::unique_ptr<uint8_t[]> buf_;
  size_t size_ = 0;
  size_t set_start_ = 0;
  uint16_t set_id_ = 0;
  uint32_t records_ = 0;
};

// A field specifier as templates list it.
struct Spec {
  uint16_t id;
  uint16_t length;
  uint32_t pen;
};

size_t spec_bytes(const std::vector<Spec>& specs, bool ipfix) {
  size_t n = 0;
  for (const Spec& s : specs) n += 4 + (ipfix && s.pen ? 4 : 0);
  return n;
}

// What every encoder shares: the message, the refresh policy, the statistics, the sink.
class EncoderBase : public Encoder {
 public:
  EncoderBase(const EncoderOptions& o, Timestamp init, MessageSink sink,
              const ExporterCounters* counters, size_t header)
      : opt_(o),
        init_(init),
        sink_(std::move(sink)),
        counters_(counters),
        msg_(header, o.max_message),
        layouts_(list_layouts(o.elements)) {
    ctx_.system_init = init;
    ctx_.lists = layouts_;
  }

  const EncoderStats& stats() const override { return stats_; }
  void resend_templates() override { templates_due_ = true; }
  // Biflows go as two uniflow records where the format (or the options) cannot carry RFC 5103.
  void add(const FlowRecord& r, Timestamp now) override {
    if (r.biflow && must_split()) {
      add_one(forward_half(r), now);
      if (r.rev.packets) add_one(reverse_half(r), now);
    } else {
      add_one(r, now);
    }
  }
  void flush(Timestamp now) override {
    if (!msg_.empty()) emit(now);
  }

 protected:
  // Whether templates and options should go out again before the next data.
  bool refresh_due(Timestamp now) const {
    if (templates_due_) return true;
    if (!opt_.resend_templates) return false;
    if (opt_.template_refresh_ns > 0 && now.ns - last_templates_.ns >= opt_.template_refresh_ns)
      return true;
    return opt_.template_refresh_messages > 0 &&
           messages_since_templates_ >= opt_.template_refresh_messages;
  }
  void templates_sent(Timestamp now) {
    templates_due_ = false;
    last_templates_ = now;
    messages_since_templates_ = 0;
    ++stats_.template_sends;
  }
  void emit(Timestamp now) {
    finish_header(now);
    stats_.messages++;
    stats_.octets += msg_.size();
    ++messages_since_templates_;
    sink_(std::span<const uint8_t>(msg_.data(), msg_.size()));
    after_emit();
    msg_.reset();
  }
  virtual void finish_header(Timestamp now) = 0;
  virtual bool must_split() const { return true; }
  virtual void add_one(const FlowRecord& r, Timestamp now) = 0;
  virtual void send_all_templates(Timestamp) {}
  virtual void write_template(const Template&, Timestamp) {}
  // The template of r (sent first when it is new, or when all templates are due again), with
  // room for r's data record in the message; *size is the record's length.
  const Template& template_for(TemplateCache& cache, const FlowRecord& r, Timestamp now,
                               size_t* size) {
    if (refresh_due(now)) send_all_templates(now);
    bool created;
    const Template& t = cache.for_record(r, &created);
    if (created) write_template(t, now);
    *size = record_size(t, r);
    make_room(t, *size, now);
    return t;
  }
  // The bytes of r's data record. A record that no message could hold (long strings sent over
  // UDP) goes with its strings and lists empty, and is counted.
  size_t record_size(const Template& t, const FlowRecord& r) {
    ctx_.empty_variable = false;
    if (!t.variable) return t.record_length;
    size_t n = t.record_length;
    for (const Element& e : t.elements)
      if (e.length == kVarLen) n += encoded_size(r, e, ctx_);
    if (n <= msg_.max_record()) return n;
    ++stats_.truncated_records;
    ctx_.empty_variable = true;
    n = t.record_length;
    for (const Element& e : t.elements)
      if (e.length == kVarLen) n += encoded_size(r, e, ctx_);
    return n;
  }
  // Writes r's data record of template t (record_size() first).
  void write_record(const Template& t, const FlowRecord& r, size_t size) {
    uint8_t* out = msg_.grow(size);
    for (const Element& e : t.elements) out += encode_field(r, e, out, ctx_);
    msg_.count_record();
    ++stats_.data_records;
  }
  // Makes room for a data record of n bytes of t, starting a new message (with templates when
  // they are due) if needed.
  void make_room(const Template& t, size_t n, Timestamp now) {
    if (msg_.fits(t.id, n)) return;
    emit(now);
    if (!refresh_due(now)) return;
    send_all_templates(now);
    if (!msg_.fits(t.id, n)) emit(now);
  }
  virtual void after_emit() {}

  // Milliseconds since the exporter's boot, as v9 and v5 count flow times.
  uint32_t uptime_ms(Timestamp t) const {
    return t.millis() > init_.millis() ? uint32_t(t.millis() - init_.millis()) : 0;
  }
  // v9 and v5 headers pair sysUpTime with a UNIX time in whole seconds; collectors subtract one
  // from the other. Both describe the next whole second, so that every flow time (<= now) is
  // exact to the millisecond and none lies after the header's instant.
  static Timestamp header_instant(Timestamp now) {
    int64_t s = now.seconds() + (now.subsec_ns() ? 1 : 0);
    return Timestamp::from_seconds(s);
  }
  uint64_t ignored() const { return counters_ ? counters_->ignored_packets : 0; }

  EncoderOptions opt_;
  Timestamp init_;
  MessageSink sink_;
  const ExporterCounters* counters_;
  MessageBuffer msg_;
  EncoderStats stats_;
  bool templates_due_ = true;
  Timestamp last_templates_;
  uint32_t messages_since_templates_ = 0;
  std::vector<ListLayout> layouts_;
  EncodeContext ctx_;
};

// ---- IPFIX ------------------------------------------------------------------------------------

class IpfixEncoder final : public EncoderBase {
 public:
  IpfixEncoder(const EncoderOptions& o, Timestamp init, MessageSink sink,
               const ExporterCounters* counters)
      : EncoderBase(o, init, std::move(sink), counters, kIpfixHeader),
        cache_(Flavor::kIpfix, o.elements, first_data_template(layouts_)) {
    build_type_info();
  }

 private:
  bool must_split() const override { return opt_.split_biflows; }
  void add_one(const FlowRecord& r, Timestamp now) override {
    size_t size;
    const Template& t = template_for(cache_, r, now, &size);
    msg_.open_set(t.id);
    write_record(t, r, size);
  }

  static std::vector<Spec> specs_of(std::span<const Element> elements) {
    std::vector<Spec> s;
    for (const Element& e : elements) s.push_back({e.id, e.length, e.pen});
    return s;
  }

  // A template or options template record, in a set of its kind; a new message if needed.
  void write_template_record(uint16_t set, uint16_t id, const std::vector<Spec>& specs,
                             uint16_t scope_count, Timestamp now) {
    size_t n = 4 + (set == kOptionsTemplateSet ? 2 : 0) + spec_bytes(specs, true);
    if (!msg_.fits(set, n)) emit(now);
    msg_.open_set(set);
    msg_.put16(id);
    msg_.put16(uint16_t(specs.size()));
    if (set == kOptionsTemplateSet) msg_.put16(scope_count);
    for (const Spec& s : specs) {
      msg_.put16(uint16_t(s.id | (s.pen ? 0x8000 : 0)));
      msg_.put16(s.length);
      if (s.pen) msg_.put32(s.pen);
    }
  }

  void write_template(const Template& t, Timestamp now) override {
    write_template_record(kTemplateSet, t.id, specs_of(t.elements), 0, now);
  }

  static std::vector<Spec> stats_specs() {
    return {{149, 4, 0}, {41, 8, 0}, {42, 8, 0}, {40, 8, 0},
            {164, 8, 0}, {34, 4, 0}, {35, 1, 0}, {160, 8, 0}};
  }
  // RFC 5610's full record, in the order libfixbuf's readers look for.
  static std::vector<Spec> type_info_specs() {
    return {{346, 4, 0}, {303, 2, 0}, {339, 1, 0},      {344, 1, 0},     {345, 2, 0},
            {342, 8, 0}, {343, 8, 0}, {341, 0xffff, 0}, {340, 0xffff, 0}};
  }

  void send_all_templates(Timestamp now) override {
    write_template_record(kOptionsTemplateSet, kStatsTemplate, stats_specs(), 1, now);
    write_template_record(kOptionsTemplateSet, kTypeInfoTemplate, type_info_specs(), 2, now);
    for (const ListLayout& l : layouts_)
      if (l.template_id)
        write_template_record(kTemplateSet, l.template_id, specs_of(l.items), 0, now);
    for (const Template& t : cache_.all()) write_template(t, now);
    // Options data: the exporter's statistics, then the type of each enterprise element.
    if (!msg_.fits(kStatsTemplate, 53)) emit(now);
    msg_.open_set(kStatsTemplate);
    msg_.put32(opt_.observation_domain);
    msg_.put64(stats_.messages);
    msg_.put64(stats_.data_records);
    msg_.put64(stats_.octets);
    msg_.put64(ignored());
    msg_.put32(opt_.sampling_interval);
    msg_.put8(opt_.sampling_interval > 1 ? 1 : 0);  // 1: systematic count-based
    msg_.put64(uint64_t(init_.millis()));
    msg_.count_record();
    ++stats_.data_records;
    for (const std::vector<uint8_t>& rec : type_info_) {
      if (!msg_.fits(kTypeInfoTemplate, rec.size())) emit(now);
      msg_.open_set(kTypeInfoTemplate);
      msg_.put_bytes(rec.data(), rec.size());
      msg_.count_record();
      ++stats_.data_records;
    }
    templates_sent(now);
  }

  // One RFC 5610 record per enterprise element.
  void build_type_info() {
    for (const EnterpriseElement& ee : enterprise_elements(opt_.elements)) {
      std::vector<uint8_t> rec(26, 0);  // units 0 (none), range 0-0 (unspecified)
      store_be32(rec.data(), ee.element.pen);
      store_be16(rec.data() + 4, ee.element.id);
      rec[6] = uint8_t(ee.element.type);
      rec[7] = uint8_t(ee.semantics);
      append_varlen(rec, ee.name);
      append_varlen(rec, ee.description);
      type_info_.push_back(std::move(rec));
    }
  }

  void finish_header(Timestamp now) override {
    msg_.close_set(false);
    uint8_t* h = msg_.data();
    store_be16(h, kIpfixVersion);
    store_be16(h + 2, uint16_t(msg_.size()));
    store_be32(h + 4, uint32_t(now.seconds()));
    // RFC 7011: data records sent before this message, templates not counted.
    store_be32(h + 8, uint32_t(sequence_));
    store_be32(h + 12, opt_.observation_domain);
  }
  void after_emit() override { sequence_ += msg_.records(); }

  TemplateCache cache_;
  std::vector<std::vector<uint8_t>> type_info_;
  uint64_t sequence_ = 0;
};

// ---- NetFlow v9 -------------------------------------------------------------------------------

class Netflow9Encoder final : public EncoderBase {
 public:
  Netflow9Encoder(const EncoderOptions& o, Timestamp init, MessageSink sink,
                  const ExporterCounters* counters)
      : EncoderBase(o, init, std::move(sink), counters, kV9Header),
        cache_(Flavor::kNetflow9, o.elements, kV9FirstDataTemplate) {}

 private:
  void add_one(const FlowRecord& r, Timestamp now) override {
    size_t size;
    const Template& t = template_for(cache_, r, now, &size);
    if (msg_.open_set_id() != t.id) msg_.close_set(true);
    msg_.open_set(t.id);
    write_record(t, r, size);
  }

  void write_template(const Template& t, Timestamp now) override {
    size_t n = 4 + 4 * t.elements.size();
    if (!msg_.fits(kV9TemplateSet, n)) emit(now);
    if (msg_.open_set_id() != kV9TemplateSet) msg_.close_set(true);
    msg_.open_set(kV9TemplateSet);
    msg_.put16(t.id);
    msg_.put16(uint16_t(t.elements.size()));
    for (const Element& e : t.elements) {
      msg_.put16(e.id);
      msg_.put16(e.length);
    }
    msg_.count_record();
  }

  void send_all_templates(Timestamp now) override {
    // Options template: scope System (1), then statistics, sampling and the boot time.
    static const Spec kScope{1, 4, 0};
    static const std::vector<Spec> kOptions = {{40, 8, 0}, {41, 8, 0}, {42, 8, 0},
                                               {34, 4, 0}, {35, 1, 0}, {160, 8, 0}};
    if (!msg_.fits(kV9OptionsTemplateSet, 10 + 4 + 4 * kOptions.size())) emit(now);
    if (msg_.open_set_id() != kV9OptionsTemplateSet) msg_.close_set(true);
    msg_.open_set(kV9OptionsTemplateSet);
    msg_.put16(kStatsTemplate);
    msg_.put16(4);
    msg_.put16(uint16_t(4 * kOptions.size()));
    msg_.put16(kScope.id);
    msg_.put16(kScope.length);
    for (const Spec& s : kOptions) {
      msg_.put16(s.id);
      msg_.put16(s.length);
    }
    msg_.count_record();
    for (const Template& t : cache_.all()) write_template(t, now);
    if (!msg_.fits(kStatsTemplate, 41)) emit(now);
    if (msg_.open_set_id() != kStatsTemplate) msg_.close_set(true);
    msg_.open_set(kStatsTemplate);
    msg_.put32(opt_.observation_domain);
    msg_.put64(stats_.octets);
    msg_.put64(stats_.data_records);  // flows: the v9 meaning of "packets exported" is unclear
    msg_.put64(stats_.data_records);
    msg_.put32(opt_.sampling_interval);
    msg_.put8(opt_.sampling_interval > 1 ? 1 : 0);
    msg_.put64(uint64_t(init_.millis()));
    msg_.count_record();
    templates_sent(now);
  }

  void finish_header(Timestamp now) override {
    msg_.close_set(true);
    uint8_t* h = msg_.data();
    Timestamp at = header_instant(now);
    store_be16(h, kV9Version);
    store_be16(h + 2, uint16_t(msg_.records()));
    store_be32(h + 4, uptime_ms(at));
    store_be32(h + 8, uint32_t(at.seconds()));
    store_be32(h + 12, uint32_t(stats_.messages));  // RFC 3954: export packets sent before
    store_be32(h + 16, opt_.observation_domain);
  }

  TemplateCache cache_;
};

// ---- NetFlow v5 -------------------------------------------------------------------------------

class Netflow5Encoder final : public EncoderBase {
 public:
  Netflow5Encoder(const EncoderOptions& o, Timestamp init, MessageSink sink,
                  const ExporterCounters* counters)
      : EncoderBase(o, init, std::move(sink), counters, kV5Header) {}

  void add(const FlowRecord& r, Timestamp now) override {
    if (r.ip_version != 4) {
      ++stats_.not_exportable;
      return;
    }
    EncoderBase::add(r, now);
  }
  void resend_templates() override {}

 private:
  void add_one(const FlowRecord& r, Timestamp now) override {
    if (msg_.records() == kV5MaxRecords || msg_.room() < kV5Record) emit(now);
    const DirectionRecord& d = r.fwd;
    uint8_t* o = msg_.grow(kV5Record);
    std::memset(o, 0, kV5Record);
    std::memcpy(o, r.src_ip.v4_bytes(), 4);
    std::memcpy(o + 4, r.dst_ip.v4_bytes(), 4);
    if (r.next_hop.is_v4()) std::memcpy(o + 8, r.next_hop.v4_bytes(), 4);
    store_be16(o + 12, uint16_t(d.in_if));
    store_be16(o + 14, uint16_t(d.out_if));
    store_be32(o + 16, uint32_t(std::min<uint64_t>(d.packets, UINT32_MAX)));
    store_be32(o + 20, uint32_t(std::min<uint64_t>(d.bytes, UINT32_MAX)));
    store_be32(o + 24, uptime_ms(d.first));
    store_be32(o + 28, uptime_ms(d.last));
    bool icmp = r.protocol == 1;
    store_be16(o + 32, icmp ? 0 : r.src_port);
    // ICMP's type and code go where the destination port would, as v5 collectors expect.
    store_be16(o + 34, icmp ? uint16_t(d.icmp_type << 8 | d.icmp_code) : r.dst_port);
    o[37] = d.tcp_flags;
    o[38] = r.protocol;
    o[39] = d.tos;
    store_be16(o + 40, as16(r.src_as));
    store_be16(o + 42, as16(r.dst_as));
    o[44] = r.src_mask;
    o[45] = r.dst_mask;
    msg_.count_record();
    ++stats_.data_records;
  }

  // v5 has 16-bit AS numbers; a 32-bit one goes as AS_TRANS (RFC 6793).
  static uint16_t as16(uint32_t as) { return as > 0xffff ? 23456 : uint16_t(as); }

  void finish_header(Timestamp now) override {
    uint8_t* h = msg_.data();
    Timestamp at = header_instant(now);
    store_be16(h, kV5Version);
    store_be16(h + 2, uint16_t(msg_.records()));
    store_be32(h + 4, uptime_ms(at));
    store_be32(h + 8, uint32_t(at.seconds()));
    store_be32(h + 12, 0);
    store_be32(h + 16, uint32_t(flow_sequence_));  // flows sent before this packet
    h[20] = 0;                                     // engine type
    h[21] = uint8_t(opt_.observation_domain);      // engine id
    uint16_t interval = uint16_t(std::min<uint32_t>(opt_.sampling_interval, 0x3fff));
    store_be16(h + 22, interval > 1 ? uint16_t(0x4000 | interval) : 0);
  }
  void after_emit() override { flow_sequence_ += msg_.records(); }

  uint64_t flow_sequence_ = 0;
};

}  // namespace

void append_varlen(std::vector<uint8_t>& out, std::string_view s) {
  if (s.size() > 65535) s = s.substr(0, 65535);
  if (s.size() < 255) {
    out.push_back(uint8_t(s.size()));
  } else {
    out.push_back(255);
    out.push_back(uint8_t(s.size() >> 8));
    out.push_back(uint8_t(s.size()));
  }
  out.insert(out.end(), s.begin(), s.end());
}

FlowRecord forward_half(const FlowRecord& r) {
  FlowRecord f = r;
  f.biflow = false;
  f.rev = DirectionRecord{};
  if (r.has_stats) {
    f.pkt_size = r.fwd.pkt_size;
    f.piat = r.fwd.piat;
  }
  return f;
}

FlowRecord reverse_half(const FlowRecord& r) {
  FlowRecord f = r;
  f.biflow = false;
  std::swap(f.src_ip, f.dst_ip);
  std::swap(f.src_port, f.dst_port);
  std::swap(f.outer_src_ip, f.outer_dst_ip);
  f.fwd = r.rev;
  f.rev = DirectionRecord{};
  if (r.has_stats) {
    f.pkt_size = r.rev.pkt_size;
    f.piat = r.rev.piat;
  }
  return f;
}

std::unique_ptr<Encoder> make_encoder(const EncoderOptions& options, Timestamp system_init,
                                      MessageSink sink, const ExporterCounters* counters) {
  switch (options.format) {
    case Format::kIpfix:
      return std::make_unique<IpfixEncoder>(options, system_init, std::move(sink), counters);
    case Format::kNetflow9:
      return std::make_unique<Netflow9Encoder>(options, system_init, std::move(sink), counters);
    case Format::kNetflow5:
      return std::make_unique<Netflow5Encoder>(options, system_init, std::move(sink), counters);
  }
  return nullptr;
}

}  // namespace flowkit::ipfix
