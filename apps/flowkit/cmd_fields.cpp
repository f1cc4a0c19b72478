// flowkit fields: the field registry for people: every flow field, its names and numbers.
#include <fmt/core.h>

#include <string>

#include "commands.h"
#include "core/field_registry.h"
#include "dissect/dissect.h"
#include "dissect/hosts.h"
#include "ipfix/information_elements.h"

namespace flowkit::app {

namespace {

std::string ipfix_name(const FieldInfo& f) {
  if (f.ipfix.id == kNoElement) return "";
  std::string id = f.ipfix.id_v6 != kNoElement ? fmt::format("{}/{}", f.ipfix.id, f.ipfix.id_v6)
                                               : fmt::format("{}", f.ipfix.id);
  if (f.ipfix.pen == kPen) return "flowkit PEN, " + id;
  return id;
}

// nfdump's filter keywords for a field: `src ip`, `in if`, `out packets`, `inet`...
std::string nfdump_names(const FieldInfo& f) {
  static constexpr std::string_view kQualifier[] = {"",     "src ",    "dst ",  "in ",
                                                    "out ", "router ", "next ", "bgpnext "};
  std::string out;
  for (const NfdumpAlias& a : nfdump_aliases()) {
    if (a.field != f.id) continue;
    if (!out.empty()) out += ", ";
    out += fmt::format("`{}{}`", kQualifier[size_t(a.qualifier)], a.keyword);
  }
  return out;
}

// Text for a Markdown table cell: a `|` would end the cell.
std::string cell(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '|') out += '\\';
    out += c;
  }
  return out;
}

// What the one-line descriptions cannot say: which packets the metadata comes from. Its limits
// are the dissectors' own constants, formatted in by markdown().
constexpr std::string_view kDissectionRules = R"(
## Which packets the metadata comes from

These rules hold for every application field (DNS, HTTP, TLS, QUIC, SSH, OpenVPN, WireGuard,
the application label) unless its description above says otherwise, so that a result can be
reproduced from the capture by hand.

- **Which flows.** `flowkit meter --dissect LIST` chooses the dissectors (`all` by default:
  dns, tls, quic, http, ssh, ovpn, wg, tcp, ndpi). A field is absent from a record when its
  dissector did not run or did not find its message; it is never a guess, except
  `app_label`, which is nDPI's guess by ports when nDPI found nothing better.
- **Which packets.** Packets with payload, in the order the meter counts them, both
  directions. The first payload packet that a dissector recognises gives it the flow (DNS by
  its header, TLS by a handshake record, HTTP by a request or response line, and so on); one
  flow has one dissector. A flow whose first {0} payload packets no dissector recognised is
  not dissected further (room for a STARTTLS exchange before the ClientHello;
  `dissect::kMaxUnclaimed`).
  The dissector then reads the flow until it has what it wants (usually the first request
  and the first response) and stops. Two read alongside it: nDPI reads every packet of the
  flow until it has decided, as `ndpiReader` does, and `tcp` reads the TCP header (not the
  payload) of every packet of the flow.
- **How much of each packet.** At most {1} bytes of a packet's payload
  (`dissect::kMaxPayload`); both meter threads cut at the same place, so `--threads 1` and
  `--threads 2` give the same records. TCP is read as each direction's byte stream,
  reassembled in sequence order from that direction's first payload segment, up to {2}
  bytes (`dissect::kMaxStream`): a handshake or a request split over segments reads as one;
  a missing segment ends the stream at the gap (later bytes are not read). UDP is read a
  datagram at a time, and so is OpenVPN over TCP (a packet, its length prefix included). Of
  a fragmented IP packet, only the first fragment's payload is read.
- **Which message.** "First" in a description means the first message of that kind in the
  order above: the first DNS question and response, the first HTTP request and response,
  the ClientHello and ServerHello of the handshake, the server's first certificate.
  Per-direction fields (`dns_flags`, `tcp_*`, `banner`) are each direction's own, in
  `_rev` for the reverse direction of a biflow.
- **Long flows.** A flow exported by the active timeout carries, in each of its records,
  the values learned since it began; the dissectors do not start over. A dissector may end a
  flow and start a new record on the same key when its protocol starts a new session
  (WireGuard: an initiation with a new sender index; end reason `end`).
- **Host names** (`src_host`, `dst_host`) come from the A and AAAA answers of DNS responses
  the meter read earlier in the same run (the question's name; the most recent answer for an
  address wins; the last {3} answers are kept).
- **WireGuard** (`wg_conf_level`): every payload packet of the flow must be a WireGuard
  message: types 1-4 followed by three zero bytes, an initiation 148 bytes, a response 92,
  a cookie reply 64, transport data at least 32 (a multiple of 16 when it is the flow's
  first packet).
  The level is 100, or 1 when bytes 4-7 of the first message are 00 01 00 00 (what a DNS
  header's counts look like), and becomes 0, with no further packets read, at the first
  packet that is not such a message. `wg_src_peer` and `wg_dst_peer` are the sender indexes
  each side chose (from initiations and responses, or the receiver index of later messages).
- **OpenVPN** (`ovpn_conf_level`, ipfixprobe's measure): the opcodes of every packet drive
  a state machine: client reset, server reset, the client's ACK, a control packet holding a
  TLS ClientHello from the client and one holding a ServerHello from the server, control and
  ACK packets, then data. Four packets in a row that do not advance it reset it. At export,
  a flow of more than 20 packets that reached the data state has 100; otherwise, with more
  than 20 large packets (over 500 payload bytes, RTP left out) of which at least 60% carry a
  data opcode, 80 times that share; flows of 5 packets or fewer have no value, others 0.
)";

std::string markdown() {
  std::string out =
      "# Flow fields\n\n"
      "Every field of a flowkit flow record, as `src/core/fields.def` declares it. This page is\n"
      "generated by `flowkit fields --markdown`; a test keeps it in step with the code.\n\n"
      "- **id**: the field's permanent number. Files, templates and APIs name fields by it (or by\n"
      "  name); it never changes and is never reused.\n"
      "- **name**: the CSV column and JSON key. Per-direction fields also exist for the reverse\n"
      "  direction of a biflow with the suffix `_rev` (`bytes_rev`), exported as RFC 5103 reverse\n"
      "  elements (PEN 29305 for IANA elements).\n"
      "- **IPFIX**: IANA element id (IPv4/IPv6 variants where they differ), or flowkit's own\n"
      "  enterprise element. **v9**: NetFlow v9 field type. **nfdump**: the filter keywords.\n"
      "- Fields without a value in a record (a TCP flag on UDP, a router's AS number on a metered\n"
      "  flow) are left out of JSON and IPFIX and empty in CSV.\n"
      "- Strings are UTF-8 (JSON escapes them; CSV quotes a value with a comma, quote or line\n"
      "  break); lists are JSON arrays of objects (in CSV, the same JSON text).\n\n"
      "| id | name | scope | type | IPFIX | v9 | nfdump | description |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for (const FieldInfo& f : all_fields()) {
    out += fmt::format("| {} | `{}` | {} | {} | {} | {} | {} | {}{} |\n", uint16_t(f.id), f.name,
                       f.scope == FieldScope::kFlow ? "flow" : "per direction",
                       field_type_name(f.type), ipfix_name(f),
                       f.nf9.id ? fmt::format("{}", f.nf9.id) : "", nfdump_names(f),
                       cell(f.description), f.derived ? " (derived)" : "");
    for (const ItemInfo& item : f.items)
      out += fmt::format("| {}.{} | `{}.{}` | item | {} | {} | | | {} |\n", uint16_t(f.id),
                         item.num, f.name, item.name, field_type_name(item.type),
                         item.ipfix.pen == kPen ? fmt::format("flowkit PEN, {}", item.ipfix.id)
                                                : fmt::format("{}", item.ipfix.id),
                         cell(item.description));
  }
  out += fmt::format(kDissectionRules, dissect::kMaxUnclaimed, dissect::kMaxPayload,
                     dissect::kMaxStream, dissect::HostNames::kDefaultCapacity);
  return out;
}

// Every element flowkit sends: (field, direction, IPv4/IPv6 form) -> element, without repeats;
// then the fields of list items.
template <class Fn>
void for_each_element(Fn&& fn) {
  ipfix::ElementOptions o;
  for (const Column& c : all_columns()) {
    const FieldInfo& f = *c.field;
    auto v4 = ipfix::ipfix_element(f, c.dir, false, o);
    if (!v4) continue;
    fn(std::string(f.name), c.dir, *v4, f.ipfix.semantics);
    auto v6 = ipfix::ipfix_element(f, c.dir, true, o);
    if (v6->id != v4->id || v6->type != v4->type)
      fn(std::string(f.name), c.dir, *v6, f.ipfix.semantics);
  }
  for (const FieldInfo& f : all_fields())
    for (const ItemInfo& item : f.items)
      fn(std::string(f.name) + "." + std::string(item.name), Direction::kForward,
         ipfix::item_element(item, o), item.ipfix.semantics);
}

std::string ipfix_markdown() {
  std::string out =
      "# IPFIX and NetFlow v9 elements\n\n"
      "Every information element flowkit exports, generated from the field registry by\n"
      "`flowkit fields --ipfix-markdown` (a test keeps this page in step with the code).\n\n"
      "- IANA elements (PEN 0) keep their registered type; flowkit's own elements use its\n"
      "  Private Enterprise Number, by default 32473 (RFC 5612's documentation number; set yours\n"
      "  with `--export-pen`).\n"
      "- The reverse direction of a biflow (RFC 5103) uses PEN 29305 with the same id for IANA\n"
      "  elements, and the same PEN with bit 14 (0x4000) set for flowkit's elements.\n"
      "  `--export-uniflow` sends two plain records instead. NetFlow v9 and v5 always split.\n"
      "- Flow times: `flowStartMilliseconds`/`flowEndMilliseconds` (152/153) by default,\n"
      "  154/155 with `--export-time us`, 156/157 with `--export-time ns`. NetFlow v9 sends\n"
      "  FIRST_SWITCHED/LAST_SWITCHED (22/21) as milliseconds of sysUpTime, and\n"
      "  systemInitTimeMilliseconds (160) in its options record. flowkit reads all of these,\n"
      "  flowStartSeconds/flowEndSeconds (150/151), and flowStartSysUpTime/flowEndSysUpTime in\n"
      "  IPFIX with the exporter's systemInitTimeMilliseconds.\n"
      "- Strings are variable-length elements (RFC 7011 7). Lists are RFC 6313 structured data:\n"
      "  `subTemplateList` with the items' own template (sent with the other templates), or\n"
      "  `basicList` for items of one field; the list semantic is `ordered` (4). A record too "
      "long\n"
      "  for a UDP message goes with its strings and lists empty, and the run summary counts it.\n"
      "- Options records: template 256 carries the exporter's statistics (observationDomainId\n"
      "  scope; exportedMessageTotalCount 41, exportedFlowRecordTotalCount 42,\n"
      "  exportedOctetTotalCount 40, ignoredPacketTotalCount 164, samplingInterval 34,\n"
      "  samplingAlgorithm 35, systemInitTimeMilliseconds 160); IPFIX template 257 carries the\n"
      "  RFC 5610 type of each flowkit element, so collectors that read RFC 5610\n"
      "  (`ipfixDump --rfc5610`) name them without configuration. The items of each\n"
      "  subTemplateList field have the next ids (258 for `dns_resp_rr`), and data templates\n"
      "  follow them (IPFIX) or start at 258 (NetFlow v9).\n"
      "- `docs/flowkit-elements.xml` describes flowkit's elements in the IANA registry's XML\n"
      "  format, for tools that load element files (`ipfixDump --element-file`).\n\n"
      "| field | direction | element | PEN | id | type | length | semantics |\n"
      "|---|---|---|---|---|---|---|---|\n";
  for_each_element(
      [&](const std::string& name, Direction d, const ipfix::Element& e, IeSemantics sem) {
        std::string element = "IANA";
        if (e.pen != 0 && e.pen != kReversePen)
          element = "flowkit_" + name + (d == Direction::kReverse ? "_rev" : "");
        for (char& c : element)
          if (c == '.') c = '_';
        out += fmt::format("| `{}` | {} | {} | {} | {} | {} | {} | {} |\n", name,
                           d == Direction::kReverse ? "reverse" : "forward", element, e.pen, e.id,
                           ie_type_name(e.type),
                           e.length == ipfix::kVarLen ? "variable" : fmt::format("{}", e.length),
                           ie_semantics_name(sem));
      });
  return out;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (c == '&')
      out += "&amp;";
    else if (c == '<')
      out += "&lt;";
    else if (c == '>')
      out += "&gt;";
    else
      out += c;
  }
  return out;
}

std::string ipfix_xml() {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<!-- flowkit's enterprise IPFIX elements (PEN 32473 unless --export-pen says otherwise),\n"
      "     in the IANA registry format. Generated by `flowkit fields --ipfix-xml`. -->\n"
      "<registry xmlns=\"http://www.iana.org/assignments\" id=\"ipfix\">\n"
      "  <registry id=\"ipfix-information-elements\">\n";
  for (const ipfix::EnterpriseElement& ee : ipfix::enterprise_elements({})) {
    out += fmt::format(
        "    <record>\n      <name>{}</name>\n      <dataType>{}</dataType>\n"
        "      <group>flowkit</group>\n      <dataTypeSemantics>{}</dataTypeSemantics>\n"
        "      <elementId>{}</elementId>\n      <enterpriseId>{}</enterpriseId>\n"
        "      <description><paragraph>{}</paragraph></description>\n    </record>\n",
        ee.name, ie_type_name(ee.element.type), ie_semantics_name(ee.semantics), ee.element.id,
        ee.element.pen, xml_escape(ee.description));
  }
  out += "  </registry>\n</registry>\n";
  return out;
}

}  // namespace

void add_fields_command(CLI::App& app, int* exit_code) {
  auto md = std::make_shared<bool>(false);
  auto ipfix_md = std::make_shared<bool>(false);
  auto ipfix_x = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "fields", "List every flow field: its CSV/JSON name, type, IPFIX and NetFlow numbers");
  cmd->add_flag("--markdown", *md, "Print the table of docs/fields.md");
  cmd->add_flag("--ipfix-markdown", *ipfix_md, "Print docs/ipfix-elements.md");
  cmd->add_flag(
      "--ipfix-xml", *ipfix_x,
      "Print flowkit's enterprise elements as IANA-registry XML (docs/flowkit-elements.xml)");
  cmd->callback([md, ipfix_md, ipfix_x, exit_code] {
    if (*ipfix_md) {
      fmt::print("{}", ipfix_markdown());
    } else if (*ipfix_x) {
      fmt::print("{}", ipfix_xml());
    } else if (*md) {
      fmt::print("{}", markdown());
    } else {
      fmt::print("{:>4} {:<22} {:<13} {:<12} {:<20} {}\n", "id", "name", "scope", "type", "IPFIX",
                 "description");
      for (const FieldInfo& f : all_fields()) {
        fmt::print("{:>4} {:<22} {:<13} {:<12} {:<20} {}\n", uint16_t(f.id), f.name,
                   f.scope == FieldScope::kFlow ? "flow" : "per direction", field_type_name(f.type),
                   ipfix_name(f), f.description);
      }
    }
    *exit_code = 0;
  });
}

}  // namespace flowkit::app
