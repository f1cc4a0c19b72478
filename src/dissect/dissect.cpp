#include "dissect/dissect.h"

#include <fmt/format.h>

#include <cstdlib>
#include <cstring>

#include "core/byte_io.h"
#include "dissect/app_label.h"
#include "dissect/protocols.h"

namespace flowkit::dissect {

namespace {

constexpr uint8_t kProtoTcp = 6;

}  // namespace

Result<uint32_t> parse_protocols(std::string_view list) {
  if (list == "all") return uint32_t(kAllProtocols);
  if (list == "none" || list.empty()) return uint32_t(0);
  uint32_t mask = 0;
  while (!list.empty()) {
    size_t comma = list.find(',');
    std::string_view name = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view() : list.substr(comma + 1);
    bool found = false;
    for (const ProtocolName& p : kProtocolNames) {
      if (p.name == name) {
        mask |= p.protocol;
        found = true;
      }
    }
    if (!found) {
      std::string names;
      for (const ProtocolName& p : kProtocolNames) names += fmt::format(" {}", p.name);
      return Status::invalid_argument(fmt::format(
          "unknown dissector '{}': give all, none, or a comma-separated list of:{}", name, names));
    }
  }
  return mask;
}

// ---- Results -----------------------------------------------------------------------------------

void Results::put(Entry e) {
  if (e.kind == Kind::kNumber || e.kind == Kind::kText) {
    for (Entry& old : entries_) {
      if (old.field == e.field && old.dir == e.dir &&
          (old.kind == Kind::kNumber || old.kind == Kind::kText)) {
        old = e;
        return;
      }
    }
  }
  entries_.push_back(e);
}

void Results::set(FieldId f, uint64_t v, Direction d) {
  put({f, d, Kind::kNumber, 0, 0, 0, v});
}

void Results::set(FieldId f, std::string_view v, Direction d) {
  put({f, d, Kind::kText, 0, uint32_t(text_.size()), uint32_t(v.size()), 0});
  text_.append(v);
}

bool Results::has(FieldId f, Direction d) const {
  for (const Entry& e : entries_)
    if (e.field == f && e.dir == d && e.kind != Kind::kItemNumber && e.kind != Kind::kItemText)
      return true;
  return false;
}

void Results::add_item(FieldId list) {
  entries_.push_back({list, Direction::kForward, Kind::kItem, 0, 0, 0, 0});
}

void Results::set_item(uint16_t num, uint64_t v) {
  entries_.push_back({FieldId{}, Direction::kForward, Kind::kItemNumber, num, 0, 0, v});
}

void Results::set_item(uint16_t num, std::string_view v) {
  entries_.push_back({FieldId{}, Direction::kForward, Kind::kItemText, num, uint32_t(text_.size()),
                      uint32_t(v.size()), 0});
  text_.append(v);
}

void Results::clear() {
  entries_.clear();
  text_.clear();
}

void Results::apply(FlowRecord& r, Arena& arena) const {
  apply(entries_, text_, r, arena);
}

void* Results::pack() const {
  size_t entries = entries_.size() * sizeof(Entry);
  auto* p = static_cast<uint8_t*>(std::malloc(sizeof(Packed) + entries + text_.size()));
  if (!p) return nullptr;
  Packed head{uint32_t(entries_.size()), uint32_t(text_.size())};
  std::memcpy(p, &head, sizeof head);
  if (entries) std::memcpy(p + sizeof head, entries_.data(), entries);
  if (!text_.empty()) std::memcpy(p + sizeof head + entries, text_.data(), text_.size());
  return p;
}

size_t Results::packed_bytes(const void* packed) {
  Packed head;
  std::memcpy(&head, packed, sizeof head);
  return sizeof head + head.entries * sizeof(Entry) + head.text;
}

void Results::apply_packed(const void* packed, FlowRecord& r, Arena& arena) {
  Packed head;
  std::memcpy(&head, packed, sizeof head);
  const auto* p = static_cast<const uint8_t*>(packed) + sizeof head;
  // Entry is 8-byte aligned and so is the block (malloc) past its 8-byte head.
  apply({reinterpret_cast<const Entry*>(p), head.entries},
        {reinterpret_cast<const char*>(p + head.entries * sizeof(Entry)), head.text}, r, arena);
}

void Results::apply(std::span<const Entry> entries, std::string_view chars, FlowRecord& r,
                    Arena& arena) {
  auto text = [&](const Entry& e) { return arena.copy(chars.substr(e.off, e.len)); };
  for (size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const FieldInfo& f = field_info(e.field);
    if (e.kind == Kind::kNumber) {
      f.set(r, e.dir, FieldValue(e.num));
    } else if (e.kind == Kind::kText) {
      f.set(r, e.dir, FieldValue(text(e)));
    } else if (e.kind == Kind::kItem) {
      // All items of this list, which follow one another's fields.
      uint32_t n = 0;
      size_t end = i;
      for (; end < entries.size(); ++end) {
        const Entry& x = entries[end];
        if (x.kind == Kind::kItem && x.field == e.field)
          ++n;
        else if (x.kind != Kind::kItemNumber && x.kind != Kind::kItemText)
          break;
      }
      auto* items = static_cast<uint8_t*>(make_list(f, r, e.dir, n, arena));
      int64_t at = -1;
      for (size_t j = i; j < end; ++j) {
        const Entry& x = entries[j];
        if (x.kind == Kind::kItem) {
          ++at;
          continue;
        }
        for (const ItemInfo& it : f.items) {
          if (it.num != x.item) continue;
          void* item = items + size_t(at) * f.item_size;
          it.set(item, x.kind == Kind::kItemNumber ? FieldValue(x.num) : FieldValue(text(x)));
        }
      }
      i = end - 1;
    }
  }
}

// ---- Flows
// ---------------------------------------------------------------------------------------

void FlowContext::reset() {
  owner = nullptr;
  unclaimed = 0;
  done = false;
  for (Stream& s : stream) {
    s.next_seq = 0;
    s.started = s.ended = false;
    s.bytes.clear();
  }
  for (uint64_t& w : state) w = 0;
  results.clear();
  label_flow = nullptr;
  label_packets = 0;
  label_done = false;
}

Dissection::Dissection(uint32_t protocols) {
  add_dissectors(protocols, dissectors_);
  if (protocols & kAppLabel) labeler_ = AppLabeler::create();
}

void add_dissectors(uint32_t protocols, std::vector<std::unique_ptr<Dissector>>& out) {
  // DNS first: its ports are the surest sign. OpenVPN last: its test is the weakest.
  if (protocols & kDns) out.push_back(make_dns());
  if (protocols & kTls) out.push_back(make_tls());
  if (protocols & kTls) out.push_back(make_dtls());
  if (protocols & kQuic) out.push_back(make_quic());
  if (protocols & kHttp) out.push_back(make_http());
  if (protocols & kSsh) out.push_back(make_ssh());
  if (protocols & kWireGuard) out.push_back(make_wireguard());
  if (protocols & kOpenVpn) out.push_back(make_openvpn());
}

Dissection::~Dissection() {
  // nDPI's state of flows still in the pool (a meter stopped without flushing, a test).
  for (FlowContext& f : pool_)
    if (f.label_flow) labeler_->free_flow(f.label_flow);
  for (void* p : packed_) std::free(p);
}

namespace {

// Appends the segment to its direction's stream when it continues it. A retransmission's
// bytes already held are skipped; a segment past a gap ends the stream.
bool append_segment(Stream& s, const Packet& p) {
  if (s.ended || p.l4.size() < 8) return false;
  uint32_t seq = load_be32(p.l4.data() + 4);
  if (!s.started) {
    s.started = true;
    s.next_seq = seq;
  }
  int32_t ahead = int32_t(seq - s.next_seq);
  if (ahead > 0) {
    s.ended = true;
    return false;
  }
  size_t skip = size_t(-int64_t(ahead));
  if (skip >= p.payload.size()) return false;  // nothing new
  size_t n = std::min(p.payload.size() - skip, size_t(kMaxStream) - s.bytes.size());
  s.bytes.append(reinterpret_cast<const char*>(p.payload.data() + skip), n);
  s.next_seq += uint32_t(n);
  if (s.bytes.size() >= kMaxStream) s.ended = true;
  return n > 0;
}

}  // namespace

bool Dissection::wants_empty(const FlowContext& f) const {
  return (labeler_ && f.label_flow && !f.label_done) ||
         (!f.done && f.owner && f.owner->per_packet());
}

bool Dissection::packet(uint32_t& slot, const Packet& p) {
  if (slot & kPacked) return false;  // its dissection is over: the values are packed
  bool more = feed(slot, p);
  if (!more && slot) pack(slot);
  return more;
}

void Dissection::pack(uint32_t& slot) {
  FlowContext& f = pool_[slot - 1];
  if (f.owner && f.owner->exports_late()) return;
  if (f.label_flow) labeler_->label(f.label_flow, f.results);
  if (f.results.empty()) {  // nothing learned (and no label): nothing to keep
    release(slot);
    return;
  }
  void* packed = f.results.pack();
  if (!packed) return;  // no memory: the context stays
  release(slot);
  if (!packed_free_.empty()) {
    slot = packed_free_.back();
    packed_free_.pop_back();
    packed_[slot] = packed;
  } else {
    slot = uint32_t(packed_.size());
    packed_.push_back(packed);
  }
  slot |= kPacked;
  packed_bytes_ += Results::packed_bytes(packed);
}

bool Dissection::feed(uint32_t& slot, const Packet& p) {
  // Packets without payload matter only to nDPI once it started and to a dissector that
  // judges every packet.
  if (p.payload.empty() && (slot == 0 || !wants_empty(pool_[slot - 1]))) return true;
  if (slot == 0) {
    if (!free_.empty()) {
      slot = free_.back();
      free_.pop_back();
    } else {
      pool_.emplace_back();
      slot = uint32_t(pool_.size());
    }
  }
  FlowContext& f = pool_[slot - 1];
  f.hosts = &hosts_;
  // Whatever this packet makes the stream buffers grow by is counted on the way out.
  struct CountGrowth {
    FlowContext& f;
    size_t& total;
    size_t before = capacity();
    size_t capacity() const { return f.stream[0].bytes.capacity() + f.stream[1].bytes.capacity(); }
    ~CountGrowth() { total += capacity() - before; }
  } count_growth{f, stream_bytes_};
  if (labeler_ && !f.label_done) {
    if (!f.label_flow && (f.label_flow = labeler_->new_flow())) ++label_flows_;
    f.label_done = !f.label_flow || !labeler_->packet(f.label_flow, p, f.label_packets);
  }
  const bool label_wants = labeler_ && !f.label_done;
  if (f.done || (p.payload.empty() && !(f.owner && f.owner->per_packet())))
    return !f.done || label_wants;
  if (!f.owner) {
    for (const auto& d : dissectors_) {
      if (d->claims(p)) {
        f.owner = d.get();
        break;
      }
    }
    if (!f.owner) {
      f.done = dissectors_.empty() || ++f.unclaimed >= kMaxUnclaimed;
      return !f.done || label_wants;
    }
  }
  std::span<const uint8_t> data = p.payload;
  if (p.protocol == kProtoTcp && !f.owner->per_packet()) {
    Stream& s = f.stream[int(p.dir)];
    bool was_ended = s.ended;
    bool grew = append_segment(s, p);
    // Nothing new for the dissector, unless this segment just ended the stream (a gap): it
    // then reads what it has.
    if (!grew && (was_ended || !s.ended)) return true;
    data = {reinterpret_cast<const uint8_t*>(s.bytes.data()), s.bytes.size()};
  }
  if (!f.owner->feed(f, p, data)) {
    f.done = true;
    // The reassembled bytes are no longer needed; their capacity stays for the next flow.
    for (Stream& s : f.stream) s.bytes.clear();
  }
  return !f.done || label_wants;
}

void Dissection::finish(uint32_t slot, FlowRecord& r, Arena& arena) {
  hosts_.label(r, arena);
  if (slot & kPacked) {
    Results::apply_packed(packed_[slot & ~kPacked], r, arena);
    return;
  }
  if (slot == 0) {
    if (labeler_) labeler_->guess(r, arena);
    return;
  }
  FlowContext& f = pool_[slot - 1];
  if (f.owner) f.owner->before_export(f, r);
  f.results.apply(r, arena);
  if (f.label_flow) labeler_->finish(f.label_flow, r, arena);
}

void Dissection::release(uint32_t& slot) {
  if (slot & kPacked) {
    uint32_t i = slot & ~kPacked;
    packed_bytes_ -= Results::packed_bytes(packed_[i]);
    std::free(packed_[i]);
    packed_[i] = nullptr;
    packed_free_.push_back(i);
    slot = 0;
    return;
  }
  if (slot == 0) return;
  FlowContext& f = pool_[slot - 1];
  if (f.label_flow) {
    labeler_->free_flow(f.label_flow);
    --label_flows_;
  }
  f.reset();
  free_.push_back(slot);
  slot = 0;
}

size_t Dissection::memory_bytes() const {
  // Counted as they change: the run loop asks after every batch.
  return pool_.size() * sizeof(FlowContext) + free_.capacity() * sizeof(uint32_t) + stream_bytes_ +
         packed_bytes_ + (packed_.capacity() + packed_free_.capacity()) * sizeof(void*) +
         (labeler_ ? label_flows_ * labeler_->flow_bytes() : 0);
}

}  // namespace flowkit::dissect
