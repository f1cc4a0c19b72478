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
#include "ipfix/field_codec.h"
#include "ipfix/information_elements.h"

namespace flowkit::ipfix {

struct DecoderStats {
  uint64_t messages = 0;
  uint64_t records = 0;            // flow records decoded
  uint64_t templates = 0;          // template and options template records accepted
  uint64_t withdrawn = 0;          // templates withdrawn (one count per withdrawal record)
  uint64_t options_records = 0;    // options data records
  uint64_t malformed = 0;          // messages or sets that could not be read
  uint64_t missing_template = 0;   // data sets whose template did not come in time (dropped)
  uint64_t held_sets = 0;          // data sets held for a template that had not come yet
  uint64_t late_records = 0;       // records of held sets decoded once their template came
  uint64_t template_limit = 0;     // templates refused: the exporter's template budget was spent
  uint64_t templates_expired = 0;  // not announced again within their lifetime
  uint64_t bad_fields = 0;         // fields with a length that cannot be right (skipped)
  uint64_t unknown_fields = 0;     // values of elements flowkit does not know (skipped by length)
  uint64_t no_boot_time = 0;       // sysUpTime times without the exporter's boot time (dropped)
  // Sequence numbers (RFC 7011: data records per domain; v9: export packets per source id;
  // v5: flows per engine). A gap is loss; a message that comes late fills its gap again; a step
  // far back is an exporter restart, not loss.
  uint64_t lost_records = 0;   // IPFIX data records, v5 flows
  uint64_t lost_messages = 0;  // v9 export packets
  uint64_t reordered = 0;      // messages that came after a later one
  uint64_t restarts = 0;       // sequence numbers that started again
  // Records of data sets dropped for a missing template: the gap they leave in the sequence is
  // not loss on the way.
  uint64_t unreadable_records = 0;
  uint64_t refused_domains = 0;  // messages of domains beyond the limit
};

// Bounds on what one exporter can make a decoder keep, whatever it sends. With the collector's
// default of 512 exporters, about 250 MB at most in all.
struct DecoderLimits {
  size_t domains = 64;  // observation domains / source ids
  // Fields of all templates together (~400 kB). A meter with its dissectors on sends a
  // template per shape of record (DNS, TLS, HTTP, TCP... each with its fields): 40 or more
  // templates of 60-90 fields.
  size_t template_fields = 8192;
  size_t held_bytes = size_t(64) << 10;  // data sets waiting for their template
  uint32_t held_seconds = 30;            // export time a held set waits at most
  // Export time a template lives without being announced again; 0: until replaced or withdrawn
  // (nfcapd's way). RFC 7011 asks for a lifetime on UDP: about 3 times the exporter's refresh.
  uint32_t template_lifetime_s = 0;
};

class Decoder {
 public:
  explicit Decoder(uint32_t own_pen = kDefaultPen, DecoderLimits limits = {})
      : own_pen_(own_pen), limits_(limits) {}

  // Decodes one message (version from its first two bytes) and appends its flows to out; their
  // strings and lists go to `arena`. Every record carries the observation domain (v5: engine
  // type << 8 | engine id) and, once set_exporter() was called, the exporter's address. An error
  // says why the message (or the rest of it) was dropped; records before it are kept. Data sets
  // whose template has not come are held (within the limits) and decoded when it does.
  Status decode(std::span<const uint8_t> message, std::vector<FlowRecord>& out, Arena& arena);
  void set_exporter(const IpAddress& address) { exporter_ = address; }
  const DecoderStats& stats() const { return stats_; }
  // Drops the held data sets, counting them as missing their template (an exporter going away).
  void drop_held();

  // The templates known, as template sets (one message per version and domain, a header and
  // the sets), for a collector to keep across restarts; load_templates() reads them back.
  std::vector<std::vector<uint8_t>> save_templates() const;
  void load_templates(std::span<const uint8_t> message);

 private:
  // One field of a template, with what it decodes into, worked out when the template arrived.
  struct Field {
    uint16_t id;
    uint16_t length;  // kVarLen: variable length
    uint32_t pen;
    std::optional<FieldRef> ref;    // the registry field it fills; none: skipped
    FieldDecoder decode = nullptr;  // ref's reader
    bool list = false;              // ref is a list (RFC 6313)
  };
  struct Tmpl {
    std::vector<Field> fields;
    uint16_t scope_count = 0;  // > 0: options template
    size_t min_length = 0;
    uint32_t unknown = 0;       // fields that decode into nothing (counted per record)
    std::vector<uint8_t> wire;  // the template record as it came: a resend is recognised
    uint32_t refreshed = 0;     // export time it was last announced (0: loaded, not yet seen)
  };
  struct Held {
    uint16_t set_id;
    uint32_t export_secs;
    uint32_t uptime_ms;
    std::vector<uint8_t> body;
  };
  struct Domain {
    std::map<uint16_t, Tmpl> templates;
    uint64_t next_sequence = 0;  // v9
    // IPFIX: the last in-order message's number and counts, and which way the exporter counts
    // (ipfix_sequence(); -1 until known).
    uint32_t last_seq = 0;
    uint64_t last_flows = 0, last_all = 0;
    int8_t convention = -1;
    bool seen = false;
    bool unreadable = false;  // the last message had data sets held for their template
    Timestamp system_init;    // systemInitTimeMilliseconds from options data
    uint32_t sampling = 0;    // 1 in N, from options data
    std::vector<Held> held;
  };
  struct Header {
    int version;
    uint32_t export_secs;
    uint32_t uptime_ms;  // v9
    uint32_t domain;
  };

  Status decode_v5(std::span<const uint8_t> m, std::vector<FlowRecord>& out);
  Status decode_sets(std::span<const uint8_t> m, const Header& h, Domain& d,
                     std::vector<FlowRecord>& out, Arena& arena);
  // nullptr when the exporter already has limits_.domains of them (counted).
  Domain* domain(int version, uint32_t id);
  // v9 and v5 sequence accounting at a message's start (`window`: how far back a message counts
  // as late rather than as a restart). True for a late message: its records were counted lost
  // when its gap was seen, and it must not move the next number back.
  bool check_sequence(uint64_t& next, bool& seen, uint32_t seq, uint32_t window, uint64_t& lost);
  // IPFIX sequence accounting once a message is decoded: `flows` and `all` (with options
  // records) are what it held; `unreadable_before`: the previous message had sets that could not
  // be read, so a gap after it is not loss.
  void ipfix_sequence(Domain& d, uint32_t seq, uint64_t flows, uint64_t all,
                      bool unreadable_before);
  bool read_templates(const uint8_t* p, size_t len, bool options, bool ipfix, Domain& d,
                      uint32_t export_secs);
  void read_data(const uint8_t* p, size_t len, const Tmpl& t, const Header& h, Domain& d,
                 std::vector<FlowRecord>& out, Arena& arena);
  void hold(Domain& d, uint16_t set_id, const Header& h, const uint8_t* p, size_t len);
  // Decodes the held sets whose template has come and ages out the old ones.
  void release_held(Domain& d, const Header& h, std::vector<FlowRecord>& out, Arena& arena);
  // A list field's content (RFC 6313) into r; false when it cannot be read.
  bool read_list(FlowRecord& r, const FieldRef& ref, const uint8_t* p, size_t len, const Domain& d,
                 Arena& arena);
  void finish_record(FlowRecord& r, const Header& h) const;

  uint32_t own_pen_;
  DecoderLimits limits_;
  std::optional<IpAddress> exporter_;
  std::map<std::pair<int, uint32_t>, Domain> domains_;         // (version, domain)
  std::map<uint32_t, std::pair<uint64_t, bool>> v5_sequence_;  // engine: next, seen
  size_t template_fields_ = 0;
  size_t held_bytes_ = 0;
  DecoderStats stats_;
};

}  // namespace flowkit::ipfix
