// The text of registry fields' values, shared by the CSV and JSON writers. A writer function per
// field is generated from fields.def: it reads the record's member directly and formats it by
// its type, without going through FieldValue, so that writers keep up with the meter.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/arena.h"
#include "core/field_registry.h"
#include "export/text_output.h"

namespace flowkit::exporter {

enum class TextStyle : uint8_t {
  kJson,  // strings, addresses, times and enum names quoted; lists as arrays
  kCsv,   // bare, with RFC 4180 quoting where a cell needs it; lists as quoted JSON text
  kText,  // bare, for a terminal (-o fmt): strings escaped (TextOutput::put_escaped), lists as
          // JSON text
};

// Writes the value of one field for one direction of a record at p, in room that the caller
// took from `out`, and returns the end. Numbers bare; addresses, MACs, times (ISO 8601 UTC),
// enum names and strings as text; byte strings as hex. Strings and lists, which have no bound,
// are committed through `out`, and the result is then out.room(0).
using PutField = char* (*)(char* p, TextOutput& out, const FlowRecord&, Direction);
PutField field_writer(const FieldInfo& f, TextStyle style);

// The same for a value held as a FieldValue (a list's items, a value from a query).
void put_value(TextOutput& out, FieldType type, const FieldValue& v, TextStyle style);

// Reads a value back from its text as the writers give it (a JSON string already unescaped, a
// CSV cell already unquoted): numbers, enum names, addresses, MACs, ISO 8601 times, strings
// and hex bytes (copied into `arena`). Lists are read item by item by the caller. nullopt when
// the text is not a value of the type.
std::optional<FieldValue> parse_value(FieldType type, std::string_view text, Arena& arena);

// A record's text in a writer's layout: every registry column in order (reverse columns only
// when `reverse`), JSON keys or CSV cells. What to write for the fields a record has is worked
// out once per PresenceView and kept, so a record costs its values and a copy of the text
// between them.
class RecordLayout {
 public:
  RecordLayout(TextStyle style, bool reverse);
  // The columns' names (`_rev` for the reverse direction), for a CSV header.
  const std::vector<std::string>& names() const { return names_; }
  void write(TextOutput& out, const FlowRecord& r);

 private:
  struct Step {
    uint32_t text_at;  // the text before the value: `,"key":` or the commas of empty cells
    uint32_t text_len;
    uint32_t room_after;  // variable: the room to take after it, for what follows
    bool variable;        // a string or list, written through TextOutput's checked calls
    Direction dir;
    PutField put;
  };
  struct Plan {
    std::vector<Step> steps;
    std::string text;  // every step's text, then the record's end, then padding
    uint32_t end_at = 0, end_len = 0;
    uint32_t room = 0;  // taken at the start of a record: enough up to the first variable step
  };
  struct ViewHash {
    size_t operator()(const PresenceView& v) const { return v.hash(); }
  };
  Plan make_plan(const PresenceView& view) const;

  TextStyle style_;
  std::vector<Column> columns_;
  std::vector<std::string> names_;
  std::vector<PutField> writers_;
  std::unordered_map<PresenceView, Plan, ViewHash> plans_;
  const std::pair<const PresenceView, Plan>* last_ = nullptr;  // the last record's
};

}  // namespace flowkit::exporter
