// Every field round-trips through the JSON and CSV writers: records with a value in every field
// (strings with quotes, commas, line breaks, control and non-ASCII characters; lists; IPv4 and
// IPv6; times to the nanosecond; doubles of every kind) are written, read back by a reader made
// here from the formats' definitions (RFC 8259, RFC 4180) and compared field by field.
#include "export/field_format.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <sstream>

#include "core/testing/every_field.h"
#include "export/csv_writer.h"
#include "export/json_writer.h"

namespace flowkit::exporter {
namespace {

// --- A reader for what the writers give: values as text, by column name ---------------------

struct Cell {
  std::string text;                                       // a string unescaped, a number as written
  std::vector<std::map<std::string, std::string>> items;  // a list: its items' values
  bool is_list = false;
};
using Row = std::vector<std::pair<std::string, Cell>>;

void append_utf8(std::string& s, uint32_t c) {
  if (c < 0x80) {
    s += char(c);
  } else if (c < 0x800) {
    s += char(0xc0 | c >> 6), s += char(0x80 | (c & 0x3f));
  } else {
    s += char(0xe0 | c >> 12), s += char(0x80 | (c >> 6 & 0x3f)), s += char(0x80 | (c & 0x3f));
  }
}

class JsonReader {
 public:
  explicit JsonReader(std::string_view s) : s_(s) {}
  Row object() {
    Row row;
    expect('{');
    if (peek() == '}') return ++i_, row;
    do {
      std::string key = string();
      expect(':');
      Cell c;
      if (peek() == '[') {
        c.is_list = true;
        ++i_;
        if (peek() != ']') {
          do {
            std::map<std::string, std::string> item;
            for (auto& [k, v] : object()) item[k] = v.text;
            c.items.push_back(item);
          } while (next_is(','));
        }
        expect(']');
      } else if (peek() == '"') {
        c.text = string();
      } else {
        while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != '}') c.text += s_[i_++];
      }
      row.emplace_back(key, c);
    } while (next_is(','));
    expect('}');
    return row;
  }
  bool at_end() const { return i_ == s_.size(); }

 private:
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  bool next_is(char c) { return peek() == c ? (++i_, true) : false; }
  void expect(char c) {
    EXPECT_EQ(peek(), c) << "at " << i_ << " of " << s_;
    ++i_;
  }
  std::string string() {
    expect('"');
    std::string out;
    while (i_ < s_.size() && s_[i_] != '"') {
      char c = s_[i_++];
      EXPECT_GE(uint8_t(c), 0x20) << "a raw control character in a JSON string";
      if (c != '\\') {
        out += c;
        continue;
      }
      char e = s_[i_++];
      switch (e) {
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'u':
          append_utf8(out, uint32_t(std::stoul(std::string(s_.substr(i_, 4)), nullptr, 16)));
          i_ += 4;
          break;
        default:
          out += e;
      }
    }
    expect('"');
    return out;
  }
  std::string_view s_;
  size_t i_ = 0;
};

// RFC 4180 records (quoted cells may hold commas, quotes doubled, and line breaks).
std::vector<std::vector<std::string>> read_csv(std::string_view s) {
  std::vector<std::vector<std::string>> rows(1);
  std::string cell;
  bool quoted = false, was_quoted = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quoted) {
      if (c == '"' && i + 1 < s.size() && s[i + 1] == '"') {
        cell += '"', ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cell += c;
      }
    } else if (c == '"') {
      EXPECT_TRUE(cell.empty()) << "a quote inside an unquoted cell";
      quoted = was_quoted = true;
    } else if (c == ',' || c == '\n') {
      rows.back().push_back(std::exchange(cell, {}));
      was_quoted = false;
      if (c == '\n') rows.emplace_back();
    } else {
      cell += c;
    }
  }
  rows.pop_back();  // after the last line break
  return rows;
}

// Sets the fields of a row on a record, as a reader of flowkit's output would.
FlowRecord record_of(const Row& row, Arena& arena) {
  FlowRecord r;
  for (const auto& [name, cell] : row) {
    Direction d;
    const FieldInfo* f = find_field(name, &d);
    EXPECT_NE(f, nullptr) << "unknown column " << name;
    if (!f || f->derived) continue;
    if (d == Direction::kReverse) r.biflow = true;
    if (f->type == FieldType::kList) {
      Cell list = cell;
      if (!cell.is_list) list = JsonReader("{\"l\":" + cell.text + "}").object().at(0).second;
      auto* items = static_cast<uint8_t*>(make_list(*f, r, d, uint32_t(list.items.size()), arena));
      for (size_t i = 0; i < list.items.size(); ++i) {
        for (const ItemInfo& info : f->items) {
          auto v = parse_value(info.type, list.items[i].at(std::string(info.name)), arena);
          EXPECT_TRUE(v) << name << "." << info.name;
          if (v) {
            EXPECT_TRUE(info.set(items + i * f->item_size, *v));
          }
        }
      }
      continue;
    }
    auto v = parse_value(f->type, cell.text, arena);
    EXPECT_TRUE(v) << name << ": " << cell.text;
    if (v) {
      EXPECT_TRUE(f->set(r, d, *v)) << name << ": " << cell.text;
    }
  }
  return r;
}

// Compares every column; adds those with a value to *covered.
void expect_same(const FlowRecord& want, const FlowRecord& got, std::set<std::string>* covered) {
  for (const Column& c : all_columns()) {
    const FieldInfo& f = *c.field;
    if (f.derived) continue;
    std::string name = std::string(f.name) + (c.dir == Direction::kReverse ? "_rev" : "");
    bool present = field_present(f, want, c.dir);
    ASSERT_EQ(field_present(f, got, c.dir), present) << name;
    if (!present) continue;
    covered->insert(name);
    EXPECT_EQ(f.get(want, c.dir), f.get(got, c.dir)) << name;
  }
}

// The records between them have a value in every column that is not derived.
void expect_every_column(const std::set<std::string>& covered) {
  for (const Column& c : all_columns()) {
    if (c.field->derived) continue;
    std::string name = std::string(c.field->name) + (c.dir == Direction::kReverse ? "_rev" : "");
    EXPECT_TRUE(covered.count(name)) << name << " was not tried";
  }
}

// What a writer W (constructed with `args` after its output) makes of the flows.
template <class W, class... Args>
std::string text_of(std::span<const FlowRecord> flows, Args... args) {
  std::string text;
  auto out = TextOutput::to_string(&text);
  W w(*out, args...);
  w.write(flows);
  EXPECT_TRUE(w.flush().ok());
  return text;
}

TEST(TextRoundTrip, EveryFieldThroughJson) {
  std::vector<FlowRecord> flows = flowkit::testing::every_field_records();
  std::istringstream lines(text_of<JsonWriter>(flows));
  std::string line;
  Arena arena;
  size_t i = 0;
  std::set<std::string> covered;
  while (std::getline(lines, line)) {
    ASSERT_LT(i, flows.size());
    JsonReader reader(line);
    Row row = reader.object();
    EXPECT_TRUE(reader.at_end()) << line;
    expect_same(flows[i++], record_of(row, arena), &covered);
  }
  EXPECT_EQ(i, flows.size());
  expect_every_column(covered);
}

TEST(TextRoundTrip, EveryFieldThroughCsv) {
  std::vector<FlowRecord> flows = flowkit::testing::every_field_records();
  auto rows = read_csv(text_of<CsvWriter>(flows, true));
  ASSERT_EQ(rows.size(), flows.size() + 1);
  Arena arena;
  std::set<std::string> covered;
  for (size_t i = 0; i < flows.size(); ++i) {
    ASSERT_EQ(rows[i + 1].size(), rows[0].size()) << "row " << i;
    Row row;
    for (size_t k = 0; k < rows[0].size(); ++k) {
      Cell c;
      c.text = rows[i + 1][k];
      if (!c.text.empty()) row.emplace_back(rows[0][k], c);
    }
    expect_same(flows[i], record_of(row, arena), &covered);
  }
  expect_every_column(covered);
}

// A record's fields differ from the previous one's: the writers' cached layouts must follow.
TEST(TextRoundTrip, LayoutFollowsEachRecordsFields) {
  std::vector<FlowRecord> flows = flowkit::testing::every_field_records();
  FlowRecord bare;  // a uniflow with its few fields
  bare.src_ip = *IpAddress::parse("10.0.0.1");
  bare.dst_ip = *IpAddress::parse("10.0.0.2");
  bare.protocol = 17;
  bare.ip_version = 4;
  bare.fwd.packets = 1;
  std::vector<FlowRecord> mixed = {flows[0], bare, flows[1], bare, flows[0]};
  std::istringstream lines(text_of<JsonWriter>(mixed));
  std::string line;
  Arena arena;
  std::set<std::string> covered;
  for (const FlowRecord& want : mixed) {
    ASSERT_TRUE(std::getline(lines, line));
    expect_same(want, record_of(JsonReader(line).object(), arena), &covered);
  }
}

}  // namespace
}  // namespace flowkit::exporter
