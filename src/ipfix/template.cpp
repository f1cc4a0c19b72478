#include "ipfix/template.h"

#include "core/field_registry.h"

namespace flowkit::ipfix {

uint32_t TemplateCache::shape_of(const FlowRecord& r) {
  // Every input of a presence rule in fields.def, packed into one number.
  uint32_t s = r.ip_version == 6 ? 1 : 0;
  s |= uint32_t(r.tunnel_type != TunnelType::kNone) << 1;
  s |= uint32_t(r.tunnel_type != TunnelType::kNone && !r.outer_src_ip.is_v4()) << 2;
  s |= uint32_t(r.protocol == 6 ? 1 : (r.protocol == 1 || r.protocol == 58) ? 2 : 0) << 3;
  s |= uint32_t(r.has_stats) << 5;
  s |= uint32_t(r.biflow) << 6;
  s |= uint32_t(r.biflow && r.rev.packets > 0) << 7;
  int shift = 8;
  for (const DirectionRecord* d : {&r.fwd, &r.rev}) {
    s |= uint32_t(d->has_mac) << shift;
    s |= uint32_t(d->vlan_depth > 2 ? 2 : d->vlan_depth) << (shift + 1);
    s |= uint32_t(d->mpls_depth > 3 ? 3 : d->mpls_depth) << (shift + 3);
    shift += 5;
  }
  return s;
}

Template TemplateCache::build(const FlowRecord& r) const {
  Template t;
  for (const FieldInfo& f : all_fields()) {
    // ICMP type and code travel as one icmpTypeCode element, as collectors expect.
    if (f.id == FieldId::kIcmpType || f.id == FieldId::kIcmpCode) continue;
    for (Direction d : {Direction::kForward, Direction::kReverse}) {
      if (f.scope == FieldScope::kFlow && d == Direction::kReverse) break;
      if (!field_present(f, r, d)) continue;
      int version = r.ip_version;
      if (f.id == FieldId::kOuterSrcIp || f.id == FieldId::kOuterDstIp)
        version = r.outer_src_ip.is_v4() ? 4 : 6;
      std::optional<Element> e = ipfix_element(f, d, version, options_);
      if (!e) continue;
      if (flavor_ == Flavor::kNetflow9) {
        // v9 has no enterprise or reverse elements, and counts time from the exporter's boot.
        if (f.nf9_type == 0 || d == Direction::kReverse) continue;
        e->pen = 0;
        e->id = version == 6 ? f.ipfix_id_v6 : f.nf9_type;
        if (f.id == FieldId::kFirst || f.id == FieldId::kLast) {
          e->id = f.nf9_type;
          e->length = 4;
          e->type = DataType::kUnsigned32;
        }
        if (f.id == FieldId::kTcpFlags) {
          e->length = 1;
          e->type = DataType::kUnsigned8;
        }
      }
      t.elements.push_back(*e);
      t.record_length = uint16_t(t.record_length + e->length);
    }
  }
  return t;
}

const Template& TemplateCache::for_record(const FlowRecord& r, bool* created) {
  uint32_t shape = shape_of(r);
  if (shape == last_shape_ && last_index_ < templates_.size()) {  // runs of one shape are common
    *created = false;
    return templates_[last_index_];
  }
  last_shape_ = shape;
  auto it = by_shape_.find(shape);
  if (it != by_shape_.end()) {
    *created = false;
    last_index_ = it->second;
    return templates_[it->second];
  }
  Template t = build(r);
  t.id = next_id_++;
  templates_.push_back(std::move(t));
  last_index_ = uint32_t(templates_.size() - 1);
  by_shape_.emplace(shape, last_index_);
  *created = true;
  return templates_.back();
}

}  // namespace flowkit::ipfix
