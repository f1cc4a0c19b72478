#include "export/exporter_sink.h"

#include <fmt/core.h>

namespace flowkit::exporter {

namespace {
constexpr int64_t kMaxWait = kNanosPerSecond;  // a message waits at most this long for company
}

Result<std::unique_ptr<ExporterSink>> ExporterSink::open(const ExportTarget& target,
                                                         const ExporterSettings& settings,
                                                         Clock clock,
                                                         const ipfix::ExporterCounters* counters) {
  auto transport = open_transport(target);
  if (!transport) return transport.status();
  ExporterSettings s = settings;
  s.encoder.format = target.format;
  switch (target.transport) {
    case ExportTarget::Transport::kUdp:
      // The path MTU less the IP and UDP headers: no export is ever fragmented.
      if (s.mtu < 576)
        return Status::invalid_argument(fmt::format("--export-mtu {} is below 576", s.mtu));
      s.encoder.max_message = s.mtu - (target.ipv6 ? 40 : 20) - 8;
      s.encoder.resend_templates = true;
      break;
    case ExportTarget::Transport::kTcp:
    case ExportTarget::Transport::kFile:
      // A stream keeps its templates: once per session, and messages as large as allowed.
      s.encoder.max_message = 65000;
      s.encoder.resend_templates = false;
      break;
  }
  if (target.format == ipfix::Format::kNetflow5) s.encoder.max_message = 24 + 30 * 48;
  return std::unique_ptr<ExporterSink>(
      new ExporterSink(target, s, std::move(clock), std::move(*transport), counters));
}

ExporterSink::ExporterSink(ExportTarget target, ExporterSettings settings, Clock clock,
                           std::unique_ptr<Transport> transport,
                           const ipfix::ExporterCounters* counters)
    : target_(std::move(target)),
      settings_(std::move(settings)),
      clock_(std::move(clock)),
      transport_(std::move(transport)),
      counters_(counters) {}

void ExporterSink::start_session() {
  Transport* t = transport_.get();
  // The exporter "booted" a second before the first packet: no flow time is then at uptime 0,
  // which some collectors (nfcapd) read as "no time".
  Timestamp boot{clock_.start().ns - kNanosPerSecond};
  encoder_ = ipfix::make_encoder(
      settings_.encoder, boot, [t](std::span<const uint8_t> m) { t->send(m); }, counters_);
}

void ExporterSink::write(std::span<const FlowRecord> records) {
  if (records.empty()) return;
  // A new TCP connection is a new transport session: templates go first. The encoder stays,
  // with the records it holds (replacing it lost them).
  bool fresh = transport_->connected() && transport_->new_session();
  if (!encoder_)
    start_session();
  else if (fresh)
    encoder_->resend_templates();
  Timestamp now = clock_.now();
  for (const FlowRecord& r : records) encoder_->add(r, now);
  records_in_ += records.size();
  if (pending_since_.ns == INT64_MIN) pending_since_ = now;
  tick(now);
}

void ExporterSink::tick(Timestamp now) {
  if (!encoder_ || pending_since_.ns == INT64_MIN) return;
  if (now.ns - pending_since_.ns >= kMaxWait) {
    encoder_->flush(now);
    pending_since_ = Timestamp{INT64_MIN};
  }
}

Status ExporterSink::flush() {
  if (encoder_) encoder_->flush(clock_.now());
  pending_since_ = Timestamp{INT64_MIN};
  return transport_->close();
}

uint64_t ExporterSink::lost_messages() const {
  const TransportStats& t = transport_->stats();
  return t.dropped + t.send_errors;
}

uint64_t ExporterSink::messages_out() const {
  return encoder_ ? encoder_->stats().messages : 0;
}

std::string ExporterSink::loss_reason() const {
  const TransportStats& t = transport_->stats();
  if (!t.last_error.empty()) return t.last_error;
  return t.dropped ? "no connection" : "send errors";
}

std::string ExporterSink::summary() const {
  ipfix::EncoderStats s;
  if (encoder_) s = encoder_->stats();
  const TransportStats& t = transport_->stats();
  std::string out = fmt::format("  export {}: {} flows in, {} messages ({} bytes) with {} records",
                                target_.url, records_in_, s.messages, s.octets, s.data_records);
  if (s.not_exportable) out += fmt::format("; {} IPv6 flows v5 cannot carry", s.not_exportable);
  if (t.send_errors) out += fmt::format("; {} send errors (is the collector up?)", t.send_errors);
  if (t.dropped) out += fmt::format("; {} messages dropped", t.dropped);
  if (t.reconnects) out += fmt::format("; {} reconnects", t.reconnects);
  return out + "\n";
}

}  // namespace flowkit::exporter
