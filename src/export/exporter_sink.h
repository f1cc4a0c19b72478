// ExporterSink: a FlowSink that sends flows to a collector or an IPFIX file (`--export URL`).
// It encodes with the target's format, sends each message when it is full or has waited a
// second of export time, starts a new transport session's templates after a TCP reconnect,
// and reports what it sent.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "core/flow_sink.h"
#include "export/export_target.h"
#include "ipfix/encoder.h"

namespace flowkit::exporter {

struct ExporterSettings {
  ipfix::EncoderOptions encoder;  // format and max_message are set from the target and mtu
  size_t mtu = 1500;
};

class ExporterSink : public FlowSink {
 public:
  // `clock` gives the exporter's boot time (the meter's first packet) and export time.
  struct Clock {
    std::function<Timestamp()> start;
    std::function<Timestamp()> now;
  };
  static Result<std::unique_ptr<ExporterSink>> open(const ExportTarget& target,
                                                    const ExporterSettings& settings, Clock clock,
                                                    const ipfix::ExporterCounters* counters);

  void write(std::span<const FlowRecord> records) override;
  void tick(Timestamp now) override;
  Status flush() override;

  const ExportTarget& target() const { return target_; }
  // "ipfix://127.0.0.1:4739: 12 messages, 300 records, ..." for the run summary.
  std::string summary() const;
  // Messages encoded, and those that never reached the collector or file (TCP without a
  // connection, UDP refused by the collector's host, a write error), with why.
  uint64_t messages_out() const;
  uint64_t lost_messages() const;
  std::string loss_reason() const;

 private:
  ExporterSink(ExportTarget target, ExporterSettings settings, Clock clock,
               std::unique_ptr<Transport> transport, const ipfix::ExporterCounters* counters);
  void start_session();

  ExportTarget target_;
  ExporterSettings settings_;
  Clock clock_;
  std::unique_ptr<Transport> transport_;
  const ipfix::ExporterCounters* counters_;
  std::unique_ptr<ipfix::Encoder> encoder_;
  Timestamp pending_since_{INT64_MIN};
  uint64_t records_in_ = 0;
};

}  // namespace flowkit::exporter
