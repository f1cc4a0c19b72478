#include "collect/collector.h"

#include <fmt/core.h>

#include <cstdio>
#include <cstring>
#include <fstream>

#include "core/byte_io.h"

namespace flowkit::collect {
namespace {

constexpr size_t kBatch = 4096;    // records handed to the sink at once, at most
constexpr size_t kMaxErrors = 16;  // error lines kept between two take_errors()
constexpr char kTemplatesMagic[8] = {'F', 'K', 'T', 'P', 'L', '0', '0', '1'};

}  // namespace

void add_counts(ipfix::DecoderStats& a, const ipfix::DecoderStats& b) {
  // Every member is a counter of the same type: add them as an array, so that a new counter
  // cannot be forgotten here.
  static_assert(sizeof(ipfix::DecoderStats) % sizeof(uint64_t) == 0);
  constexpr size_t n = sizeof(ipfix::DecoderStats) / sizeof(uint64_t);
  uint64_t x[n], y[n];
  std::memcpy(x, &a, sizeof a);
  std::memcpy(y, &b, sizeof b);
  for (size_t i = 0; i < n; ++i) x[i] += y[i];
  std::memcpy(&a, x, sizeof a);
}

// Every change to a decoder's templates adds to one of these.
static uint64_t template_changes(const ipfix::DecoderStats& d) {
  return d.templates + d.withdrawn + d.templates_expired;
}

size_t Collector::KeyHash::operator()(const Key& k) const {
  uint64_t h = load_le64(k.address.bytes()) * 0x9e3779b97f4a7c15ull;
  h ^= load_le64(k.address.bytes() + 8) +
       (uint64_t(k.port) << 17 | uint64_t(k.source) << 33 | uint64_t(k.stream));
  return size_t(h * 0xff51afd7ed558ccdull >> 7);
}

Collector::Collector(const CollectorOptions& options, FlowSink& sink)
    : options_(options), sink_(sink) {
  records_.reserve(kBatch + 1024);
}

void Collector::retire(Session& s) {
  s.decoder.drop_held();
  ExporterCounts& c = s.counts;
  retired_.messages += c.messages;
  retired_.bytes += c.bytes;
  retired_.errors += c.errors;
  add_counts(retired_.decoder, s.decoder.stats());
}

Collector::Session& Collector::session(const Origin& from) {
  Key key{from.address, from.port, from.source, from.stream};
  auto it = sessions_.find(key);
  if (it != sessions_.end()) return it->second;
  if (sessions_.size() >= options_.max_exporters) {
    // The exporter heard from least recently makes room: an idle one, or the oldest of a flood.
    auto oldest = sessions_.begin();
    for (auto i = sessions_.begin(); i != sessions_.end(); ++i)
      if (i->second.counts.last_seen_ns < oldest->second.counts.last_seen_ns) oldest = i;
    retire(oldest->second);
    sessions_.erase(oldest);
    ++evicted_;
  }
  // Templates of a TCP session live as long as it (RFC 7011 8.1): no lifetime there.
  ipfix::DecoderLimits limits = options_.limits;
  if (from.stream) limits.template_lifetime_s = 0;
  Session& s =
      sessions_
          .emplace(std::piecewise_construct, std::forward_as_tuple(key),
                   std::forward_as_tuple(Session{ipfix::Decoder(options_.own_pen, limits), {}}))
          .first->second;
  s.counts.from = from;
  s.counts.from.end = false;
  if (from.port) s.decoder.set_exporter(from.address);
  return s;
}

void Collector::receive(const Datagram& d) {
  if (d.from.end) {
    // A TCP session ended: its templates go with it.
    auto it = sessions_.find(Key{d.from.address, d.from.port, d.from.source, d.from.stream});
    if (it != sessions_.end()) {
      retire(it->second);
      sessions_.erase(it);
    }
    return;
  }
  Session& s = session(d.from);
  ExporterCounts& c = s.counts;
  ++c.messages;
  c.bytes += d.bytes.size();
  c.last_seen_ns = d.received_ns;
  size_t before = records_.size();
  Status st = s.decoder.decode(d.bytes, records_, arena_);
  if (!st.ok()) {
    ++c.errors;
    if (errors_.size() < kMaxErrors) {
      errors_.push_back(
          fmt::format("{} port {}: {}", c.from.address.to_string(), c.from.port, st.message()));
    } else {
      ++errors_dropped_;
    }
  }
  if (options_.renormalize) {
    for (size_t i = before; i < records_.size(); ++i) {
      FlowRecord& r = records_[i];
      if (r.sampling_interval <= 1) continue;
      for (DirectionRecord* dir : {&r.fwd, &r.rev}) {
        dir->packets *= r.sampling_interval;
        dir->bytes *= r.sampling_interval;
      }
    }
  }
  for (size_t i = before; i < records_.size(); ++i) {
    options_.local_nets.label(records_[i]);
    options_.geoip.label(records_[i]);
  }
  if (records_.size() >= kBatch) flush();
}

void Collector::flush() {
  if (records_.empty()) return;
  sink_.take(records_, arena_);
}

void Collector::drop_held() {
  for (auto& [key, s] : sessions_) s.decoder.drop_held();
}

std::vector<ExporterCounts> Collector::exporters() const {
  std::vector<ExporterCounts> out;
  out.reserve(sessions_.size());
  for (const auto& [key, s] : sessions_) {
    out.push_back(s.counts);
    out.back().decoder = s.decoder.stats();
  }
  return out;
}

ExporterCounts Collector::totals() const {
  ExporterCounts t = retired_;
  for (const auto& [key, s] : sessions_) {
    t.messages += s.counts.messages;
    t.bytes += s.counts.bytes;
    t.errors += s.counts.errors;
    add_counts(t.decoder, s.decoder.stats());
  }
  return t;
}

std::vector<std::string> Collector::take_errors() {
  std::vector<std::string> out = std::move(errors_);
  errors_.clear();
  if (errors_dropped_)
    out.push_back(fmt::format("... and {} more malformed messages", errors_dropped_));
  errors_dropped_ = 0;
  return out;
}

bool Collector::templates_changed() const {
  uint64_t n = 0;
  for (const auto& [key, s] : sessions_) n += template_changes(s.decoder.stats());
  return n != saved_templates_;
}

Status Collector::save_templates(const std::string& path) {
  std::vector<uint8_t> out(std::begin(kTemplatesMagic), std::end(kTemplatesMagic));
  uint64_t n = 0;
  for (const auto& [key, s] : sessions_) {
    n += template_changes(s.decoder.stats());
    if (key.stream) continue;  // a TCP session's templates end with it
    auto messages = s.decoder.save_templates();
    if (messages.empty()) continue;
    size_t at = out.size();
    out.resize(at + 16 + 2 + 2 + 1 + 4);
    std::memcpy(out.data() + at, key.address.bytes(), 16);
    store_be16(out.data() + at + 16, key.port);
    store_be16(out.data() + at + 18, key.source);
    out[at + 20] = 0;
    store_be32(out.data() + at + 21, uint32_t(messages.size()));
    for (const auto& m : messages) {
      size_t mat = out.size();
      out.resize(mat + 4 + m.size());
      store_be32(out.data() + mat, uint32_t(m.size()));
      std::memcpy(out.data() + mat + 4, m.data(), m.size());
    }
  }
  // A new file renamed over the old: a crash leaves one or the other, whole.
  std::string tmp = path + ".tmp";
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(out.data()), std::streamsize(out.size()));
    if (!f.flush()) return Status::io_error(tmp + ": cannot write the templates");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::io_error(path + ": " + std::strerror(errno));
  saved_templates_ = n;
  return {};
}

Status Collector::load_templates(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return {};
  std::vector<uint8_t> in((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  if (in.size() < 8 || std::memcmp(in.data(), kTemplatesMagic, 8) != 0)
    return Status::corruption(path + ": not a flowkit template file (remove it to start afresh)");
  size_t off = 8;
  while (in.size() - off >= 25) {
    Origin from;
    from.address = IpAddress::v6(in.data() + off);
    from.port = load_be16(in.data() + off + 16);
    from.source = load_be16(in.data() + off + 18);
    uint32_t count = load_be32(in.data() + off + 21);
    off += 25;
    Session& s = session(from);
    for (uint32_t i = 0; i < count; ++i) {
      if (in.size() - off < 4) return Status::corruption(path + ": truncated");
      uint32_t len = load_be32(in.data() + off);
      if (in.size() - off - 4 < len) return Status::corruption(path + ": truncated");
      s.decoder.load_templates({in.data() + off + 4, len});
      off += 4 + len;
    }
  }
  saved_templates_ = 0;
  for (const auto& [key, s] : sessions_) saved_templates_ += template_changes(s.decoder.stats());
  return {};
}

}  // namespace flowkit::collect
