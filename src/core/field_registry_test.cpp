#include "core/field_registry.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace flowkit {
namespace {

TEST(FieldRegistry, NamesAreUniqueAndIdsMatchPositions) {
  std::set<std::string_view> names;
  size_t i = 0;
  for (const FieldInfo& f : all_fields()) {
    EXPECT_EQ(size_t(f.id), i++) << f.name;
    EXPECT_TRUE(names.insert(f.name).second) << "duplicate " << f.name;
    EXPECT_FALSE(f.description.empty()) << f.name;
    EXPECT_EQ(f.derived, f.set == nullptr) << f.name;
  }
  EXPECT_EQ(i, size_t(FieldId::kCount));
}

TEST(FieldRegistry, IpfixElementsAreUniquePerScope) {
  std::set<std::pair<uint32_t, uint16_t>> seen;
  for (const FieldInfo& f : all_fields()) {
    if (f.ipfix_id == 0 || f.derived) continue;
    EXPECT_TRUE(seen.insert({f.ipfix_pen, f.ipfix_id}).second) << f.name;
  }
}

TEST(FieldRegistry, GetAndSetRoundTripEveryWritableField) {
  FlowRecord r;
  r.biflow = true;
  for (const FieldInfo& f : all_fields()) {
    if (f.derived) continue;
    for (Direction d : {Direction::kForward, Direction::kReverse}) {
      if (f.scope == FieldScope::kFlow && d == Direction::kReverse) continue;
      FieldValue v;
      switch (f.type) {
        case FieldType::kU8:
          v = uint64_t(200);
          break;
        case FieldType::kU16:
          v = uint64_t(60000);
          break;
        case FieldType::kU32:
          v = uint64_t(4000000000u);
          break;
        case FieldType::kU64:
          v = uint64_t(1) << 40;
          break;
        case FieldType::kF64:
          v = 1.25;
          break;
        case FieldType::kIp:
          v = *IpAddress::parse("2001:db8::1");
          break;
        case FieldType::kMac:
          v = *MacAddress::parse("00:11:22:33:44:55");
          break;
        case FieldType::kTime:
          v = Timestamp{1234567890123456789};
          break;
        case FieldType::kEndReason:
          v = uint64_t(EndReason::kEndOfFlow);
          break;
        case FieldType::kTunnelType:
          v = uint64_t(TunnelType::kVxlan);
          break;
      }
      ASSERT_TRUE(f.set(r, d, v)) << f.name;
      EXPECT_EQ(f.get(r, d), v) << f.name;
    }
  }
  // A value that does not fit is refused, not truncated.
  const FieldInfo& port = field_info(FieldId::kSrcPort);
  EXPECT_FALSE(port.set(r, Direction::kForward, uint64_t(70000)));
  EXPECT_FALSE(port.set(r, Direction::kForward, 1.5));
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

}  // namespace
}  // namespace flowkit
