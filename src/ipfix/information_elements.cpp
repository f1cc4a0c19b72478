#include "ipfix/information_elements.h"

#include <map>
#include <utility>

namespace flowkit::ipfix {

namespace {

constexpr uint16_t kReverseBit = 0x4000;

uint16_t length_of(DataType t) {
  switch (t) {
    case DataType::kUnsigned8:
      return 1;
    case DataType::kUnsigned16:
      return 2;
    case DataType::kUnsigned32:
      return 4;
    case DataType::kIpv4Address:
      return 4;
    case DataType::kMacAddress:
      return 6;
    case DataType::kIpv6Address:
      return 16;
    case DataType::kOctetArray:
      return 3;  // MPLS label stack sections, the only arrays sent
    default:
      return 8;
  }
}

bool is_time(FieldId id) {
  return id == FieldId::kFirst || id == FieldId::kLast;
}

uint16_t time_id(FieldId id, TimePrecision p) {
  uint16_t base = id == FieldId::kFirst ? 152 : 153;  // flowStart/EndMilliseconds
  return uint16_t(base + 2 * int(p));                 // ...Micro 154/155, ...Nano 156/157
}

}  // namespace

DataType data_type_of(const FieldInfo& f, int ip_version, TimePrecision time) {
  if (f.ipfix_pen == 0) {
    // IANA's types where they differ from how flowkit holds the value.
    switch (f.ipfix_id) {
      case 6:
        return DataType::kUnsigned16;  // tcpControlBits (RFC 7125)
      case 25:                         // minimumIpTotalLength
      case 26:
        return DataType::kUnsigned64;  // maximumIpTotalLength
      case 70:
      case 71:
      case 72:
        return DataType::kOctetArray;  // mplsTopLabelStackSection...
      default:
        break;
    }
  }
  switch (f.type) {
    case FieldType::kU8:
    case FieldType::kEndReason:
    case FieldType::kTunnelType:
      return DataType::kUnsigned8;
    case FieldType::kU16:
      return DataType::kUnsigned16;
    case FieldType::kU32:
      return DataType::kUnsigned32;
    case FieldType::kU64:
      return DataType::kUnsigned64;
    case FieldType::kF64:
      return DataType::kFloat64;
    case FieldType::kIp:
      return ip_version == 6 ? DataType::kIpv6Address : DataType::kIpv4Address;
    case FieldType::kMac:
      return DataType::kMacAddress;
    case FieldType::kTime:
      return time == TimePrecision::kMilliseconds   ? DataType::kDateTimeMilliseconds
             : time == TimePrecision::kMicroseconds ? DataType::kDateTimeMicroseconds
                                                    : DataType::kDateTimeNanoseconds;
  }
  return DataType::kOctetArray;
}

Semantics semantics_of(const FieldInfo& f) {
  switch (f.id) {
    case FieldId::kPackets:
    case FieldId::kBytes:
    case FieldId::kBytesOuter:
      return Semantics::kDeltaCounter;
    case FieldId::kTcpFlags:
      return Semantics::kFlags;
    case FieldId::kTunnelType:
    case FieldId::kTunnelId:
    case FieldId::kOuterSrcIp:
    case FieldId::kOuterDstIp:
      return Semantics::kIdentifier;
    default:
      return f.type == FieldType::kF64 ? Semantics::kQuantity : Semantics::kDefault;
  }
}

std::optional<Element> ipfix_element(const FieldInfo& f, Direction d, int ip_version,
                                     const ElementOptions& options) {
  if (f.ipfix_id == 0) return std::nullopt;
  Element e;
  e.field = f.id;
  e.dir = d;
  e.type = data_type_of(f, ip_version, options.time);
  e.length = length_of(e.type);
  e.id =
      is_time(f.id) ? time_id(f.id, options.time) : (ip_version == 6 ? f.ipfix_id_v6 : f.ipfix_id);
  e.pen = f.ipfix_pen == kPen ? options.pen : f.ipfix_pen;
  if (d == Direction::kReverse) {
    if (e.pen == 0)
      e.pen = kReversePen;
    else
      e.id |= kReverseBit;
  }
  return e;
}

std::optional<FieldRef> find_element(uint16_t id, uint32_t pen, uint32_t own_pen) {
  // (id, pen-is-own-or-IANA, reverse) -> field; built once from the registry.
  using Key = std::pair<uint16_t, bool>;  // id, enterprise
  static const std::map<Key, FieldRef> table = [] {
    std::map<Key, FieldRef> t;
    for (const FieldInfo& f : all_fields()) {
      if (f.ipfix_id == 0) continue;
      bool enterprise = f.ipfix_pen == kPen;
      for (int v : {4, 6}) {
        DataType type = data_type_of(f, v, TimePrecision::kMilliseconds);
        uint16_t base = v == 6 ? f.ipfix_id_v6 : f.ipfix_id;
        t.emplace(Key{base, enterprise}, FieldRef{f.id, Direction::kForward, type});
      }
      if (is_time(f.id)) {
        for (TimePrecision p : {TimePrecision::kMicroseconds, TimePrecision::kNanoseconds}) {
          t.emplace(Key{time_id(f.id, p), false},
                    FieldRef{f.id, Direction::kForward, data_type_of(f, 4, p)});
        }
      }
    }
    return t;
  }();
  Direction dir = Direction::kForward;
  bool enterprise = false;
  if (pen == kReversePen) {
    dir = Direction::kReverse;
  } else if (pen != 0) {
    if (pen != own_pen) return std::nullopt;
    enterprise = true;
    if (id & kReverseBit) {
      dir = Direction::kReverse;
      id &= uint16_t(~kReverseBit);
    }
  }
  auto it = table.find(Key{id, enterprise});
  if (it == table.end()) return std::nullopt;
  FieldRef r = it->second;
  const FieldInfo& f = field_info(r.field);
  if (dir == Direction::kReverse && f.scope != FieldScope::kDirection) return std::nullopt;
  r.dir = dir;
  return r;
}

std::string_view data_type_name(DataType t) {
  switch (t) {
    case DataType::kOctetArray:
      return "octetArray";
    case DataType::kUnsigned8:
      return "unsigned8";
    case DataType::kUnsigned16:
      return "unsigned16";
    case DataType::kUnsigned32:
      return "unsigned32";
    case DataType::kUnsigned64:
      return "unsigned64";
    case DataType::kFloat64:
      return "float64";
    case DataType::kMacAddress:
      return "macAddress";
    case DataType::kString:
      return "string";
    case DataType::kDateTimeSeconds:
      return "dateTimeSeconds";
    case DataType::kDateTimeMilliseconds:
      return "dateTimeMilliseconds";
    case DataType::kDateTimeMicroseconds:
      return "dateTimeMicroseconds";
    case DataType::kDateTimeNanoseconds:
      return "dateTimeNanoseconds";
    case DataType::kIpv4Address:
      return "ipv4Address";
    case DataType::kIpv6Address:
      return "ipv6Address";
  }
  return "octetArray";
}

}  // namespace flowkit::ipfix
