// The collector's decoding side: a session per exporter (address and port, or TCP connection)
// with its own ipfix::Decoder, records handed to a FlowSink in batches, and counts per exporter.
// Sessions are bounded: when max_exporters are known, the one heard from least recently makes
// room for a newcomer (a flood of fake exporters cannot lock a genuine one out). Templates can be
// saved to a file and loaded at start, so that a restarted collector decodes at once.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "collect/packet_queue.h"
#include "core/arena.h"
#include "core/flow_sink.h"
#include "dissect/geoip.h"
#include "dissect/hosts.h"
#include "ipfix/decoder.h"

namespace flowkit::collect {

struct CollectorOptions {
  ipfix::DecoderLimits limits;
  size_t max_exporters = 512;
  uint32_t own_pen = ipfix::kDefaultPen;
  bool renormalize = false;       // counters times the sampling interval
  dissect::LocalNets local_nets;  // --local-net: traffic_direction
  dissect::GeoIp geoip;           // --geoip: countries and AS of both ends
};

struct ExporterCounts {
  Origin from;
  uint64_t messages = 0;
  uint64_t bytes = 0;
  uint64_t errors = 0;       // messages (or their rest) dropped as malformed
  int64_t last_seen_ns = 0;  // wall clock
  ipfix::DecoderStats decoder;
};

class Collector {
 public:
  Collector(const CollectorOptions& options, FlowSink& sink);

  // Decodes one message; its records go to the sink at the next flush() (or when many wait).
  void receive(const Datagram& d);
  // Hands the decoded records to the sink.
  void flush();
  // At the end: data still waiting for its template is counted as dropped.
  void drop_held();

  // Every session's counts, and the sum over every session there was (evicted ones too).
  std::vector<ExporterCounts> exporters() const;
  ExporterCounts totals() const;
  uint64_t evicted() const { return evicted_; }
  // The last error of a message, with its exporter (for a rate-limited log), cleared.
  std::vector<std::string> take_errors();

  // Whether templates changed since the last save.
  bool templates_changed() const;
  Status save_templates(const std::string& path);
  // A missing file is no error (a first start).
  Status load_templates(const std::string& path);

 private:
  struct Key {
    IpAddress address;
    uint16_t port;
    uint16_t source;
    bool stream;
    friend bool operator==(const Key&, const Key&) = default;
  };
  struct KeyHash {
    size_t operator()(const Key& k) const;
  };
  struct Session {
    ipfix::Decoder decoder;
    ExporterCounts counts;
  };
  Session& session(const Origin& from);
  void retire(Session& s);

  CollectorOptions options_;
  FlowSink& sink_;
  std::unordered_map<Key, Session, KeyHash> sessions_;
  ExporterCounts retired_;  // sums of the sessions that ended
  uint64_t evicted_ = 0;
  uint64_t saved_templates_ = ~uint64_t(0);  // template count + withdrawals at the last save
  std::vector<FlowRecord> records_;
  Arena arena_;
  std::vector<std::string> errors_;
  size_t errors_dropped_ = 0;
};

// Adds b's counts to a.
void add_counts(ipfix::DecoderStats& a, const ipfix::DecoderStats& b);

}  // namespace flowkit::collect
