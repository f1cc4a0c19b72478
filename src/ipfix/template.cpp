#include "ipfix/template.h"

#include "core/field_registry.h"

namespace flowkit::ipfix {

size_t TemplateCache::ShapeHash::operator()(const RecordShape& s) const {
  uint64_t h = s.conditions * 0x9e3779b97f4a7c15ull;
  for (uint64_t w : {s.flow_present, s.dir_present, s.ipv6_values})
    h = (h ^ w) * 0x9e3779b97f4a7c15ull;
  return size_t(h ^ h >> 29);
}

Template TemplateCache::build(const FlowRecord& r) const {
  Template t;
  PresenceView present(r);
  for (const Column& c : all_columns()) {
    const FieldInfo& f = *c.field;
    if (!present.has(f, c.dir)) continue;
    bool v6 = uses_ipv6_element(f, r, c.dir);
    std::optional<Element> e;
    if (flavor_ == Flavor::kIpfix) {
      e = ipfix_element(f, c.dir, v6, options_);
    } else if (c.dir == Direction::kForward) {
      e = netflow9_element(f, v6);
    }
    if (!e) continue;
    t.elements.push_back(*e);
    if (e->length == kVarLen)
      t.variable = true;
    else
      t.record_length = uint16_t(t.record_length + e->length);
  }
  return t;
}

const Template& TemplateCache::for_record(const FlowRecord& r, bool* created) {
  RecordShape shape = shape_of(r);
  if (last_index_ < templates_.size() && shape == last_shape_) {  // runs of one shape are common
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
