// Helpers for the store's tests: a file written from records and read back, and a comparison
// that names the field that differs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "core/testing/temp_dir.h"
#include "store/file_reader.h"
#include "store/file_writer.h"

namespace flowkit::store {

inline void write_file(const std::string& path, const std::vector<FlowRecord>& flows,
                       WriterOptions options, FileHeader header = {}) {
  auto layer = create_file(path);
  ASSERT_TRUE(layer.ok()) << layer.status().message();
  FileWriter w(std::move(layer.value()), header, options);
  for (const FlowRecord& r : flows) w.add(r);
  Status st = w.close();
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(w.stats().records, flows.size());
}

// Every record of the file. The blocks, whose arenas hold the strings, stay in *keep (by default
// until the next call).
inline std::vector<FlowRecord> read_file(const std::string& path,
                                         std::vector<std::unique_ptr<Block>>* keep = nullptr) {
  static thread_local std::vector<std::unique_ptr<Block>> blocks;
  if (!keep) keep = &blocks;
  keep->clear();
  std::vector<FlowRecord> out;
  auto reader = FileReader::open(path);
  EXPECT_TRUE(reader.ok()) << reader.status().message();
  if (!reader.ok()) return out;
  EXPECT_TRUE(reader->warnings().empty()) << reader->warnings().front();
  for (size_t i = 0; i < reader->blocks().size(); ++i) {
    auto& b = keep->emplace_back(std::make_unique<Block>());
    Status st = reader->read_block(i, {}, *b);
    EXPECT_TRUE(st.ok()) << st.message();
    uint64_t dropped = 0;
    b->to_records(out, &dropped);
    EXPECT_EQ(dropped, 0u);
  }
  return out;
}

// The records in an order that does not depend on the blocks a writer put them in (it keeps
// flows that began long before the others in blocks of their own): by time, then addresses,
// ports and counters.
inline std::vector<FlowRecord> in_time_order(std::vector<FlowRecord> v) {
  auto key = [](const FlowRecord& r) {
    return std::tuple(r.first().ns, r.last().ns, r.src_ip, r.dst_ip, r.src_port, r.dst_port,
                      r.protocol, r.packets(), r.bytes());
  };
  std::stable_sort(v.begin(), v.end(),
                   [&](const FlowRecord& a, const FlowRecord& b) { return key(a) < key(b); });
  return v;
}

// Field by field, so that a failure names the column: the fields a record has, and their values
// (a value in a field that the record's presence rules hide is not part of it).
inline void expect_same_record(const FlowRecord& want, const FlowRecord& got, size_t i) {
  for (const Column& c : all_columns()) {
    bool has = field_present(*c.field, want, c.dir);
    EXPECT_EQ(has, field_present(*c.field, got, c.dir))
        << "record " << i << ": presence of " << c.field->name << (int(c.dir) ? "_rev" : "");
    if (has) {
      EXPECT_TRUE(c.field->get(want, c.dir) == c.field->get(got, c.dir))
          << "record " << i << ": " << c.field->name << (int(c.dir) ? "_rev" : "");
    }
  }
}

// The same records, whichever blocks the writer put them in.
inline void expect_same_records(const std::vector<FlowRecord>& want,
                                const std::vector<FlowRecord>& got) {
  std::vector<FlowRecord> w = in_time_order(want), g = in_time_order(got);
  ASSERT_EQ(w.size(), g.size());
  for (size_t i = 0; i < w.size(); ++i) expect_same_record(w[i], g[i], i);
}

}  // namespace flowkit::store
