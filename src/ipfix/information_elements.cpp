#include "ipfix/information_elements.h"

#include <map>
#include <utility>

namespace flowkit::ipfix {

namespace {

IeType time_type(TimePrecision p) {
  return p == TimePrecision::kMilliseconds   ? IeType::kDateTimeMilliseconds
         : p == TimePrecision::kMicroseconds ? IeType::kDateTimeMicroseconds
                                             : IeType::kDateTimeNanoseconds;
}

uint16_t length_of(IeType type, uint16_t declared) {
  return declared ? declared : natural_length(type);
}

}  // namespace

std::optional<Element> ipfix_element(const FieldInfo& f, Direction d, bool v6,
                                     const ElementOptions& options) {
  if (f.ipfix.id == kNoElement) return std::nullopt;
  Element e;
  e.field = f.id;
  e.dir = d;
  e.type = f.ipfix.type;
  e.id = v6 && f.ipfix.id_v6 != kNoElement ? f.ipfix.id_v6 : f.ipfix.id;
  if (f.type == FieldType::kIp && v6) e.type = IeType::kIpv6Address;
  if (f.type == FieldType::kTime && e.type != time_type(options.time)) {
    // The precision asked for is another element of the same field.
    for (const AltElement& alt : alt_elements()) {
      if (alt.field == f.id && alt.type == time_type(options.time)) {
        e.id = alt.id;
        e.type = alt.type;
      }
    }
  }
  e.length = length_of(e.type, e.type == f.ipfix.type ? f.ipfix.length : 0);
  e.pen = f.ipfix.pen == kPen ? options.pen : f.ipfix.pen;
  if (d == Direction::kReverse) {
    if (e.pen == 0)
      e.pen = kReversePen;
    else
      e.id |= kReverseBit;
  }
  return e;
}

std::optional<Element> netflow9_element(const FieldInfo& f, bool v6) {
  if (f.nf9.id == 0) return std::nullopt;
  Element e;
  e.field = f.id;
  e.type = f.nf9.type.value_or(f.ipfix.type);
  e.id = f.nf9.id;
  if (v6 && f.ipfix.id_v6 != kNoElement) e.id = f.ipfix.id_v6;  // v9 shares IPFIX's v6 numbers
  if (f.type == FieldType::kIp && v6) e.type = IeType::kIpv6Address;
  e.length = f.nf9.length ? f.nf9.length : length_of(e.type, f.ipfix.length);
  return e;
}

Element item_element(const ItemInfo& item, const ElementOptions& options) {
  Element e;
  e.id = item.ipfix.id;
  e.pen = item.ipfix.pen == kPen ? options.pen : item.ipfix.pen;
  e.type = item.ipfix.type;
  e.length = length_of(e.type, item.ipfix.length);
  return e;
}

std::vector<EnterpriseElement> enterprise_elements(const ElementOptions& options) {
  std::vector<EnterpriseElement> out;
  for (const FieldInfo& f : all_fields()) {
    if (f.derived) continue;
    if (f.ipfix.pen == kPen) {
      for (Direction d : {Direction::kForward, Direction::kReverse}) {
        if (f.scope == FieldScope::kFlow && d == Direction::kReverse) break;
        bool rev = d == Direction::kReverse;
        out.push_back({"flowkit_" + std::string(f.name) + (rev ? "_rev" : ""),
                       *ipfix_element(f, d, false, options), f.ipfix.semantics,
                       std::string(f.description) + (rev ? " (reverse direction, RFC 5103)" : "")});
      }
    }
    for (const ItemInfo& item : f.items) {
      if (item.ipfix.pen != kPen) continue;
      out.push_back({"flowkit_" + std::string(f.name) + "_" + std::string(item.name),
                     item_element(item, options), item.ipfix.semantics,
                     std::string(item.description) + " (an item of " + std::string(f.name) + ")"});
    }
  }
  return out;
}

std::optional<FieldRef> find_element(uint16_t id, uint32_t pen, uint32_t own_pen) {
  // (id, enterprise) -> field and type; built once from the registry.
  using Key = std::pair<uint16_t, bool>;
  static const std::map<Key, FieldRef> table = [] {
    std::map<Key, FieldRef> t;
    for (const FieldInfo& f : all_fields()) {
      if (f.ipfix.id == kNoElement) continue;
      bool enterprise = f.ipfix.pen == kPen;
      IeType v6_type = f.type == FieldType::kIp ? IeType::kIpv6Address : f.ipfix.type;
      t.emplace(Key{f.ipfix.id, enterprise}, FieldRef{f.id, Direction::kForward, f.ipfix.type});
      if (f.ipfix.id_v6 != kNoElement)
        t.emplace(Key{f.ipfix.id_v6, enterprise}, FieldRef{f.id, Direction::kForward, v6_type});
    }
    for (const AltElement& alt : alt_elements())
      t.emplace(Key{alt.id, false}, FieldRef{alt.field, Direction::kForward, alt.type});
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
  if (dir == Direction::kReverse && field_info(r.field).scope != FieldScope::kDir)
    return std::nullopt;
  r.dir = dir;
  return r;
}

}  // namespace flowkit::ipfix
