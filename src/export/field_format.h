// Text form of a registry field's value, shared by the CSV and JSON writers.
#pragma once

#include "core/field_registry.h"
#include "export/text_output.h"

namespace flowkit::exporter {

// Writes the value of field `f` (direction `d`) of `r`. Numbers bare; addresses, MACs, times
// (ISO 8601 UTC) and enum names as text, quoted when `json`.
void put_field_value(TextOutput& out, const FieldInfo& f, const FlowRecord& r, Direction d,
                     bool json);

}  // namespace flowkit::exporter
