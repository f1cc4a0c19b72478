#include "core/field_registry.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>

#include "core/arena.h"

namespace flowkit {
namespace {

// Every id ever assigned, with the name it was given. Files and templates name fields by these
// numbers, so a line here is never changed or removed: a retired field keeps its line (and its
// number stays unused). Append new fields at the end.
constexpr std::pair<uint16_t, std::string_view> kAssignedIds[] = {
    {1, "src_ip"},
    {2, "dst_ip"},
    {3, "src_port"},
    {4, "dst_port"},
    {5, "protocol"},
    {6, "ip_version"},
    {7, "packets"},
    {8, "bytes"},
    {9, "first"},
    {10, "last"},
    {11, "duration"},
    {12, "end_reason"},
    {13, "sampling_interval"},
    {14, "tcp_flags"},
    {15, "tos"},
    {16, "ttl"},
    {17, "ttl_min"},
    {18, "ttl_max"},
    {19, "flow_label"},
    {20, "icmp_type"},
    {21, "icmp_code"},
    {22, "icmp_type_code"},
    {23, "src_mac"},
    {24, "dst_mac"},
    {25, "vlan_id"},
    {26, "vlan_id_inner"},
    {27, "mpls_label_1"},
    {28, "mpls_label_2"},
    {29, "mpls_label_3"},
    {30, "in_if"},
    {31, "out_if"},
    {32, "interface_name"},
    {33, "tunnel_type"},
    {34, "tunnel_id"},
    {35, "vxlan_id"},
    {36, "outer_src_ip"},
    {37, "outer_dst_ip"},
    {38, "bytes_outer"},
    {39, "pkt_size_min"},
    {40, "pkt_size_max"},
    {41, "pkt_size_mean"},
    {42, "pkt_size_stddev"},
    {43, "piat_min"},
    {44, "piat_max"},
    {45, "piat_mean"},
    {46, "piat_stddev"},
    {47, "flow_pkt_size_min"},
    {48, "flow_pkt_size_max"},
    {49, "flow_pkt_size_mean"},
    {50, "flow_pkt_size_stddev"},
    {51, "flow_piat_min"},
    {52, "flow_piat_max"},
    {53, "flow_piat_mean"},
    {54, "flow_piat_stddev"},
    {55, "exporter_ip"},
    {56, "observation_domain"},
    {57, "flow_direction"},
    {58, "src_as"},
    {59, "dst_as"},
    {60, "src_mask"},
    {61, "dst_mask"},
    {62, "next_hop"},
    {63, "bgp_next_hop"},
    {64, "sampling_algorithm"},
    {65, "forwarding_status"},
    {66, "post_nat_src_ip"},
    {67, "post_nat_dst_ip"},
    {68, "post_nat_src_port"},
    {69, "post_nat_dst_port"},
    {70, "dns_resp_rr"},
    {71, "flows"},
    {72, "dns_id"},
    {73, "dns_flags"},
    {74, "dns_req_query_type"},
    {75, "dns_req_query_class"},
    {76, "dns_req_query_name"},
    {77, "dns_resp_rcode"},
    {78, "http_host"},
    {79, "http_url"},
    {80, "http_method"},
    {81, "http_method_id"},
    {82, "http_status_code"},
    {83, "http_agent"},
    {84, "http_content_type"},
    {85, "http_referer"},
    {86, "tls_client_version"},
    {87, "tls_server_version"},
    {88, "tls_cipher_suite"},
    {89, "tls_sni"},
    {90, "tls_alpn"},
    {91, "tls_ja3"},
    {92, "tls_ja3s"},
    {93, "tls_ja4"},
    {94, "tls_subject_cn"},
    {95, "tls_issuer_cn"},
    {96, "tls_validity_not_before"},
    {97, "tls_validity_not_after"},
    {98, "tls_public_key_alg"},
    {99, "tcp_options"},
    {100, "tcp_syn_size"},
    {101, "tcp_mss"},
    {102, "tcp_win_scale"},
    {103, "tcp_init_win"},
    {104, "ovpn_conf_level"},
    {105, "wg_conf_level"},
    {106, "wg_src_peer"},
    {107, "wg_dst_peer"},
    {108, "banner"},
    {109, "tcp_rtt_server"},
    {110, "tcp_rtt_client"},
    {111, "tcp_retransmitted"},
    {112, "tcp_out_of_order"},
    {113, "tcp_zero_windows"},
    {114, "app_label"},
    {115, "app_category"},
    {116, "quic_version"},
    {117, "traffic_direction"},
    {118, "src_host"},
    {119, "dst_host"},
    {120, "splt"},
    {121, "src_country"},
    {122, "dst_country"},
    {123, "src_as_org"},
    {124, "dst_as_org"},
};

TEST(FieldRegistry, IdsAreThoseEverAssigned) {
  std::map<uint16_t, std::string_view> assigned(std::begin(kAssignedIds), std::end(kAssignedIds));
  ASSERT_EQ(assigned.size(), std::size(kAssignedIds)) << "an id is listed twice";
  std::set<std::string_view> names;
  for (const FieldInfo& f : all_fields()) {
    uint16_t id = uint16_t(f.id);
    auto it = assigned.find(id);
    ASSERT_NE(it, assigned.end()) << f.name << " has id " << id
                                  << ", which kAssignedIds does not list: append it there";
    EXPECT_EQ(it->second, f.name) << "id " << id << " was " << it->second
                                  << "; ids are permanent, give the field a new one";
    EXPECT_EQ(find_field(id), &f);
    EXPECT_EQ(&field_info(f.id), &f);
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate " << f.name;
  }
  // A field may be retired, but its id stays taken: no other name may appear under it.
  for (const auto& [id, name] : assigned) {
    if (const FieldInfo* f = find_field(id)) {
      EXPECT_EQ(f->name, name);
    }
  }
  EXPECT_EQ(find_field(uint16_t(0)), nullptr);
  EXPECT_EQ(find_field(uint16_t(60000)), nullptr);
}

TEST(FieldRegistry, EveryFieldIsDescribedAndConsistent) {
  for (const FieldInfo& f : all_fields()) {
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_FALSE(f.clickhouse.empty()) << f.name;
    EXPECT_EQ(f.derived, f.set == nullptr) << f.name;
    EXPECT_EQ(f.type == FieldType::kList, !f.items.empty()) << f.name;
    if (f.ipfix.id != kNoElement) {
      EXPECT_NE(natural_length(f.ipfix.type), 0) << f.name;
      if (f.ipfix.length) {
        EXPECT_LE(f.ipfix.length, natural_length(f.ipfix.type)) << f.name;
      }
    }
    // A kSet field owns a presence bit; the others read the record.
    EXPECT_EQ(f.presence == Presence::kSet, presence_bit(f.id) != 0) << f.name;
  }
}

TEST(FieldRegistry, IpfixElementsAreUnique) {
  std::set<std::pair<uint32_t, uint16_t>> seen;
  for (const FieldInfo& f : all_fields()) {
    for (uint16_t id : {f.ipfix.id, f.ipfix.id_v6}) {
      if (id == kNoElement || (id == f.ipfix.id_v6 && id == f.ipfix.id)) continue;
      EXPECT_TRUE(seen.insert({f.ipfix.pen, id}).second) << f.name << " element " << id;
    }
    for (const ItemInfo& item : f.items)
      if (item.ipfix.id != kNoElement) {
        EXPECT_TRUE(seen.insert({item.ipfix.pen, item.ipfix.id}).second) << item.name;
      }
  }
  for (const AltElement& a : alt_elements())
    EXPECT_TRUE(seen.insert({0, a.id}).second) << "alternative element " << a.id;
}

// A value of the field's type that is not the default.
FieldValue sample_value(FieldType t, Arena& arena) {
  switch (t) {
    case FieldType::kU8:
      return uint64_t(200);
    case FieldType::kU16:
      return uint64_t(60000);
    case FieldType::kU32:
      return uint64_t(4000000000u);
    case FieldType::kU64:
      return uint64_t(1) << 40;
    case FieldType::kF64:
      return 1.25;
    case FieldType::kIp:
      return *IpAddress::parse("2001:db8::1");
    case FieldType::kMac:
      return *MacAddress::parse("00:11:22:33:44:55");
    case FieldType::kTime:
      return Timestamp{1234567890123456789};
    case FieldType::kEndReason:
      return uint64_t(EndReason::kEndOfFlow);
    case FieldType::kTunnelType:
      return uint64_t(TunnelType::kVxlan);
    case FieldType::kUtf8:
      return arena.copy("caf\xc3\xa9 \"quoted\", with\nnewline");
    case FieldType::kBytes:
      return arena.copy(std::string_view("\0\xff\x01", 3));
    case FieldType::kList:
      return ListRef{};
  }
  return {};
}

TEST(FieldRegistry, GetAndSetRoundTripEveryWritableField) {
  Arena arena;
  FlowRecord r;
  r.biflow = true;
  for (const FieldInfo& f : all_fields()) {
    if (f.derived) continue;
    for (Direction d : {Direction::kForward, Direction::kReverse}) {
      if (f.scope == FieldScope::kFlow && d == Direction::kReverse) continue;
      FieldValue v = sample_value(f.type, arena);
      if (f.type == FieldType::kList) {
        // Two items with every item field set.
        void* items = make_list(f, r, d, 2, arena);
        for (uint32_t i = 0; i < 2; ++i)
          for (const ItemInfo& item : f.items)
            ASSERT_TRUE(item.set(static_cast<uint8_t*>(items) + i * f.item_size,
                                 sample_value(item.type, arena)))
                << f.name << "." << item.name;
        v = ListRef{items, 2, &f};
      }
      ASSERT_TRUE(f.set(r, d, v)) << f.name;
      EXPECT_EQ(f.get(r, d), v) << f.name;
    }
  }
  // Every field is now present, in both directions where it has two.
  r.protocol = 6;
  r.ip_version = 6;
  r.rev.packets = r.fwd.packets;
  for (const Column& c : all_columns()) {
    if (c.field->derived || c.field->presence == Presence::kIcmp ||
        c.field->presence == Presence::kVxlan)
      continue;
    EXPECT_TRUE(field_present(*c.field, r, c.dir)) << c.field->name << " " << int(c.dir);
  }
  // A deep copy survives the arena it came from.
  Arena copy_arena;
  FlowRecord copy = copy_record(r, copy_arena);
  const FieldInfo& dns = field_info(FieldId::kDnsRespRr);
  FieldValue before = dns.get(r, Direction::kForward);
  EXPECT_EQ(dns.get(copy, Direction::kForward), before);
  EXPECT_NE(std::get<ListRef>(dns.get(copy, Direction::kForward)).items,
            std::get<ListRef>(before).items);
  // So does every string, however the record holds it.
  size_t strings = 0;
  for (const Column& c : all_columns()) {
    FieldValue was = c.field->get(r, c.dir);
    const auto* s = std::get_if<std::string_view>(&was);
    if (!s || s->empty()) continue;
    ++strings;
    FieldValue now = c.field->get(copy, c.dir);
    ASSERT_EQ(now, was) << c.field->name;
    EXPECT_NE(std::get<std::string_view>(now).data(), s->data()) << c.field->name;
  }
  EXPECT_GT(strings, 20u);
  // A value that does not fit is refused, not truncated.
  const FieldInfo& port = field_info(FieldId::kSrcPort);
  EXPECT_FALSE(port.set(r, Direction::kForward, uint64_t(70000)));
  EXPECT_FALSE(port.set(r, Direction::kForward, 1.5));
  EXPECT_FALSE(field_info(FieldId::kInterfaceName).set(r, Direction::kForward, uint64_t(1)));
}

TEST(FieldRegistry, FindFieldUnderstandsReverseSuffix) {
  Direction d;
  const FieldInfo* f = find_field("bytes_rev", &d);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->id, FieldId::kBytes);
  EXPECT_EQ(d, Direction::kReverse);
  EXPECT_EQ(find_field("src_ip_rev"), nullptr);  // flow-level fields have no reverse
  EXPECT_EQ(find_field("nope"), nullptr);
}

TEST(FieldRegistry, PresenceFollowsTheRecord) {
  FlowRecord r;
  r.protocol = 17;
  r.fwd.packets = 1;
  const FieldInfo& flags = field_info(FieldId::kTcpFlags);
  EXPECT_FALSE(field_present(flags, r, Direction::kForward));
  r.protocol = 6;
  EXPECT_TRUE(field_present(flags, r, Direction::kForward));
  EXPECT_FALSE(field_present(flags, r, Direction::kReverse));  // uniflow
  r.biflow = true;
  EXPECT_TRUE(field_present(field_info(FieldId::kPackets), r, Direction::kReverse));
  EXPECT_FALSE(field_present(flags, r, Direction::kReverse));  // no reverse packets
  r.rev.packets = 1;
  EXPECT_TRUE(field_present(flags, r, Direction::kReverse));
}

TEST(FieldRegistry, SetFieldsCarryTheirOwnBit) {
  FlowRecord r;
  const FieldInfo& as = field_info(FieldId::kSrcAs);
  const FieldInfo& in_if = field_info(FieldId::kInIf);
  EXPECT_FALSE(field_present(as, r, Direction::kForward));
  RecordShape before = shape_of(r);
  // A zero value set by an exporter is still a value.
  ASSERT_TRUE(as.set(r, Direction::kForward, uint64_t(0)));
  EXPECT_TRUE(field_present(as, r, Direction::kForward));
  EXPECT_FALSE(shape_of(r) == before);
  r.biflow = true;
  r.rev.packets = 1;
  ASSERT_TRUE(in_if.set(r, Direction::kReverse, uint64_t(3)));
  EXPECT_TRUE(field_present(in_if, r, Direction::kReverse));
  EXPECT_FALSE(field_present(in_if, r, Direction::kForward));
  // Bits of the same scope are distinct.
  std::set<uint64_t> flow_bits, dir_bits;
  for (const FieldInfo& f : all_fields()) {
    if (f.presence != Presence::kSet) continue;
    auto& bits = f.scope == FieldScope::kFlow ? flow_bits : dir_bits;
    EXPECT_TRUE(bits.insert(presence_bit(f.id)).second) << f.name;
  }
}

TEST(FieldRegistry, DerivedFields) {
  FlowRecord r;
  r.fwd.packets = 2;
  r.fwd.first = Timestamp::from_seconds(10);
  r.fwd.last = Timestamp::from_seconds(12);
  r.biflow = true;
  r.rev.packets = 1;
  r.rev.first = Timestamp::from_seconds(11);
  r.rev.last = Timestamp{13'500'000'000};
  EXPECT_EQ(field_info(FieldId::kDuration).get(r, Direction::kForward), FieldValue(3.5));
  r.fwd.icmp_type = 8;
  r.fwd.icmp_code = 1;
  EXPECT_EQ(field_info(FieldId::kIcmpTypeCode).get(r, Direction::kForward),
            FieldValue(uint64_t(0x0801)));
  EXPECT_EQ(enum_name(FieldType::kEndReason, 1), "idle");
  EXPECT_EQ(enum_value(FieldType::kTunnelType, "vxlan"), uint64_t(2));
}

TEST(FieldRegistry, NfdumpAliasesNameBothEndsOfBareKeywords) {
  // The bare keyword (`ip`, `port`, `as`, `if`) names the fields that carry it with opposite
  // qualifiers; the query language expands it to "either".
  std::map<std::string_view, std::set<NfdumpQualifier>> quals;
  for (const NfdumpAlias& a : nfdump_aliases()) {
    quals[a.keyword].insert(a.qualifier);
    if (a.value) {
      EXPECT_TRUE(field_info(a.field).type != FieldType::kList);
    }
  }
  auto both = [&](std::string_view k, NfdumpQualifier x, NfdumpQualifier y) {
    EXPECT_TRUE(quals[k].count(x) && quals[k].count(y)) << k;
  };
  both("ip", NfdumpQualifier::kSrc, NfdumpQualifier::kDst);
  both("port", NfdumpQualifier::kSrc, NfdumpQualifier::kDst);
  both("net", NfdumpQualifier::kSrc, NfdumpQualifier::kDst);
  both("as", NfdumpQualifier::kSrc, NfdumpQualifier::kDst);
  both("if", NfdumpQualifier::kIn, NfdumpQualifier::kOut);
  EXPECT_TRUE(quals["ip"].count(NfdumpQualifier::kRouter));
  EXPECT_TRUE(quals["ip"].count(NfdumpQualifier::kNext));
  int inet = 0;
  for (const NfdumpAlias& a : nfdump_aliases())
    if (a.keyword == "inet6") {
      EXPECT_EQ(a.field, FieldId::kIpVersion);
      EXPECT_EQ(a.value, uint64_t(6));
      ++inet;
    }
  EXPECT_EQ(inet, 1);
}

}  // namespace
}  // namespace flowkit
