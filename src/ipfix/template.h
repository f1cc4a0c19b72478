// Templates: which elements a data record carries. flowkit sends only the fields a record has
// (no zero-filled MPLS labels on an untagged flow), so records of different shapes get different
// templates. A record's shape is everything the registry's presence rules read (RecordShape);
// TemplateCache gives each shape its template, built on first use.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/flow_record.h"
#include "ipfix/information_elements.h"

namespace flowkit::ipfix {

// What one NetFlow/IPFIX flavour can carry.
enum class Flavor : uint8_t { kIpfix, kNetflow9 };

struct Template {
  uint16_t id = 0;
  std::vector<Element> elements;
  uint16_t record_length = 0;  // bytes of one data record, variable elements counted as 0
  bool variable = false;       // has strings or lists: each record's length differs
};

class TemplateCache {
 public:
  // Data template ids are handed out from first_id on.
  TemplateCache(Flavor flavor, ElementOptions options, uint16_t first_id)
      : flavor_(flavor), options_(options), next_id_(first_id) {}

  // The template for r's shape; *created is set when it was built now (so it must be sent).
  const Template& for_record(const FlowRecord& r, bool* created);
  // Every template built so far, in id order.
  const std::vector<Template>& all() const { return templates_; }

 private:
  struct ShapeHash {
    size_t operator()(const RecordShape& s) const;
  };
  Template build(const FlowRecord& r) const;

  Flavor flavor_;
  ElementOptions options_;
  uint16_t next_id_;
  std::vector<Template> templates_;
  std::unordered_map<RecordShape, uint32_t, ShapeHash> by_shape_;  // -> index into templates_
  RecordShape last_shape_;
  uint32_t last_index_ = UINT32_MAX;
};

}  // namespace flowkit::ipfix
