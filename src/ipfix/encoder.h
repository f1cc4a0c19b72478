// Encoders for IPFIX (RFC 7011), NetFlow v9 (RFC 3954) and NetFlow v5: flow records in, whole
// export messages out (to a MessageSink: a UDP socket, a TCP stream, a file). Each encoder
// keeps the message within the configured size (for UDP: the path MTU less IP and UDP headers,
// so exports are never IP-fragmented), numbers messages the way its format says (IPFIX: data
// records sent before; v9: export packets; v5: flows), and sends templates and options (exporter
// statistics, sampling, and for IPFIX the RFC 5610 type information of flowkit's enterprise
// elements) at the start and then again by time and by message count when the transport can
// lose them (UDP).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "core/flow_record.h"
#include "ipfix/information_elements.h"
#include "ipfix/template.h"

namespace flowkit::ipfix {

enum class Format : uint8_t { kIpfix, kNetflow9, kNetflow5 };

struct EncoderOptions {
  Format format = Format::kIpfix;
  uint32_t observation_domain = 0;  // IPFIX observation domain / v9 source id / v5 engine id
  ElementOptions elements;
  size_t max_message = 1472;  // bytes: 1500 MTU - 20 IPv4 - 8 UDP
  // Templates and options again after this much export time or this many messages (UDP).
  // 0 disables that trigger; both 0 with resend = false: once per session (TCP, files).
  bool resend_templates = true;
  int64_t template_refresh_ns = 60 * kNanosPerSecond;
  uint32_t template_refresh_messages = 100;
  uint32_t sampling_interval = 1;
  // IPFIX: send each biflow as two uniflow records, for collectors that cannot read RFC 5103.
  bool split_biflows = false;
};

// What the exporter reports about itself in its options records.
struct ExporterCounters {
  uint64_t ignored_packets = 0;  // packets the meter could not count in a flow
};

struct EncoderStats {
  uint64_t messages = 0;
  uint64_t data_records = 0;       // flow records sent (after splitting biflows where needed)
  uint64_t octets = 0;             // message bytes
  uint64_t not_exportable = 0;     // v5: IPv6 flows, which v5 cannot carry
  uint64_t truncated_records = 0;  // sent with their strings and lists empty: too long to fit
  uint64_t template_sends = 0;

  EncoderStats& operator+=(const EncoderStats& o) {
    messages += o.messages;
    data_records += o.data_records;
    octets += o.octets;
    not_exportable += o.not_exportable;
    truncated_records += o.truncated_records;
    template_sends += o.template_sends;
    return *this;
  }
};

// Receives each finished message.
using MessageSink = std::function<void(std::span<const uint8_t>)>;

class Encoder {
 public:
  virtual ~Encoder() = default;
  // Encodes a record; `now` is export time (packet time metering a file, wall time live).
  // Biflows are split into two records where the format cannot carry RFC 5103 (v9, v5) or the
  // options say so.
  virtual void add(const FlowRecord& r, Timestamp now) = 0;
  // Sends what is buffered.
  virtual void flush(Timestamp now) = 0;
  // Templates and options go out with the next message (a new TCP connection, say).
  virtual void resend_templates() = 0;
  virtual const EncoderStats& stats() const = 0;
};

// `system_init` is the exporter's boot time: v9 and v5 count flow times from it (sysUpTime);
// IPFIX reports it as systemInitTimeMilliseconds. `counters` may be null.
std::unique_ptr<Encoder> make_encoder(const EncoderOptions& options, Timestamp system_init,
                                      MessageSink sink, const ExporterCounters* counters);

// Appends an IPFIX variable-length field: a 1-byte length below 255, else 255 and a 2-byte
// length (RFC 7011 7). Strings longer than 65535 bytes are cut there.
void append_varlen(std::vector<uint8_t>& out, std::string_view s);

// The reverse direction of a biflow as a uniflow record of its own (empty when it has no
// packets), and the forward direction alone.
FlowRecord forward_half(const FlowRecord& r);
FlowRecord reverse_half(const FlowRecord& r);

}  // namespace flowkit::ipfix
