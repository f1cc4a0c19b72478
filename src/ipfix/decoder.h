// Decoder for IPFIX, NetFlow v9 and NetFlow v5 messages from one exporter: keeps the templates
// each observation domain (v9: source id) announced, compiled into decode plans when they arrive,
// turns data records into FlowRecords and counts what it had to skip. Hostile input is data: a
// malformed message or set is counted and dropped, valid records around it are kept, and nothing
// reads past the bytes given.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/arena.h"
#include "core/flow_record.h"
#include "core/result.h"
#include "ipfix/information_elements.h"

namespace flowkit::ipfix {

struct DecoderStats {
  uint64_t messages = 0;
  uint64_t records = 0;           // flow records decoded
  uint64_t templates = 0;         // template and options template records accepted
  uint64_t options_records = 0;   // options data records
  uint64_t malformed = 0;         // messages or sets that could not be read
  uint64_t missing_template = 0;  // data sets whose template was never announced
  uint64_t bad_fields = 0;        // fields with a length that cannot be right (skipped)
  uint64_t no_boot_time = 0;      // sysUpTime times without the exporter's boot time (dropped)
  uint64_t lost_records = 0;      // sequence gaps: IPFIX data records, v5 flows
  uint64_t lost_messages = 0;     // sequence gaps: v9 export packets
};

class Decoder {
 public:
  explicit Decoder(uint32_t own_pen = kDefaultPen) : own_pen_(own_pen) {}

  // Decodes one message (version from its first two bytes) and appends its flows to out; their
  // strings and lists go to `arena`. Every record carries the observation domain (v5: engine
  // type << 8 | engine id) and, once set_exporter() was called, the exporter's address. An error
  // says why the message (or the rest of it) was dropped; records before it are kept.
  Status decode(std::span<const uint8_t> message, std::vector<FlowRecord>& out, Arena& arena);
  void set_exporter(const IpAddress& address) { exporter_ = address; }
  const DecoderStats& stats() const { return stats_; }

 private:
  // One field of a template, with what it decodes into, worked out when the template arrived.
  struct Field {
    uint16_t id;
    uint16_t length;  // kVarLen: variable length
    uint32_t pen;
    std::optional<FieldRef> ref;  // the registry field it fills; none: skipped
  };
  struct Tmpl {
    std::vector<Field> fields;
    uint16_t scope_count = 0;  // > 0: options template
    size_t min_length = 0;
  };
  struct Domain {
    std::map<uint16_t, Tmpl> templates;
    uint64_t next_sequence = 0;
    bool seen = false;
    Timestamp system_init;  // systemInitTimeMilliseconds from options data
  };
  struct Header {
    int version;
    uint32_t export_secs;
    uint32_t uptime_ms;  // v9
    uint32_t domain;
  };

  Status decode_v5(std::span<const uint8_t> m, std::vector<FlowRecord>& out);
  Status decode_sets(std::span<const uint8_t> m, const Header& h, std::vector<FlowRecord>& out,
                     Arena& arena);
  bool read_templates(const uint8_t* p, size_t len, bool options, bool ipfix, Domain& d);
  void read_data(const uint8_t* p, size_t len, const Tmpl& t, const Header& h, Domain& d,
                 std::vector<FlowRecord>& out, Arena& arena);
  // A list field's content (RFC 6313) into r; false when it cannot be read.
  bool read_list(FlowRecord& r, const FieldRef& ref, const uint8_t* p, size_t len, const Domain& d,
                 Arena& arena);
  void finish_record(FlowRecord& r, const Header& h) const;

  uint32_t own_pen_;
  std::optional<IpAddress> exporter_;
  std::map<std::pair<int, uint32_t>, Domain> domains_;  // (version, domain)
  uint64_t v5_next_sequence_ = 0;
  bool v5_seen_ = false;
  DecoderStats stats_;
};

}  // namespace flowkit::ipfix
