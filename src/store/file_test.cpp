// The store's writer and reader together: every field round-trips, in every codec, and real
// captures' records come back equal.
#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <random>

#include "capture/merged_source.h"
#include "core/testing/collecting_sink.h"
#include "core/testing/every_field.h"
#include "meter/meter.h"
#include "store/file_reader.h"
#include "store/file_writer.h"
#include "store/test_util.h"

namespace flowkit::store {
namespace {

using flowkit::testing::TempDir;

TEST(Store, EveryFieldRoundTripsInEveryCodec) {
  std::vector<FlowRecord> flows = flowkit::testing::every_field_records();
  // A uniflow and a biflow without reverse packets beside them: absent fields, and columns
  // that only some rows have.
  FlowRecord uni = flows[0];
  uni.biflow = false;
  uni.rev = DirectionRecord();
  flows.push_back(uni);
  FlowRecord quiet = flows[1];
  quiet.rev = DirectionRecord();
  flows.push_back(quiet);
  TempDir dir;
  for (Codec codec : {Codec::kNone, Codec::kZstd, Codec::kLz4}) {
    std::string path = dir.path() + "/every-" + std::to_string(int(codec)) + ".fk";
    write_file(path, flows, {.compression = {codec, 3}});
    expect_same_records(flows, read_file(path));
  }
}

std::vector<FlowRecord> fixture_records() {
  std::vector<FlowRecord> flows = flowkit::testing::every_field_records();
  FlowRecord uni = flows[0];
  uni.biflow = false;
  uni.rev = DirectionRecord();
  flows.push_back(uni);
  return flows;
}

// A file written by the first version of the format, committed: every later version must read
// it. FLOWKIT_STORE_WRITE_FIXTURE=PATH writes it anew (only ever for a new format version's own
// fixture).
TEST(Store, ReadsTheFirstVersionsFixture) {
  if (const char* out = std::getenv("FLOWKIT_STORE_WRITE_FIXTURE")) {
    FileHeader h;
    h.interval_start = Timestamp::from_seconds(1'700'000'100);
    h.interval_seconds = 300;
    write_file(out, fixture_records(), {}, h);
  }
  std::string path = std::filesystem::path(__FILE__).parent_path() / "testdata/format_v1.fk";
  auto r = FileReader::open(path);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->header().version, 1);
  EXPECT_EQ(r->header().interval_seconds, 300u);
  std::vector<FlowRecord> want = fixture_records();
  // Fields added after the fixture was written (ids above 70) are absent from it.
  for (FlowRecord& w : want) {
    for (const FieldInfo& f : all_fields()) {
      if (uint16_t(f.id) <= 70 || f.presence != Presence::kSet) continue;
      if (f.scope == FieldScope::kFlow) {
        w.present &= ~f.bit;
      } else {
        w.fwd.present &= ~uint32_t(f.bit);
        w.rev.present &= ~uint32_t(f.bit);
      }
    }
  }
  std::vector<FlowRecord> back = read_file(path);
  ASSERT_EQ(back.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) expect_same_record(want[i], back[i], i);
}

TEST(Store, ReadsFixturesOfLaterEncodings) {
  // Written by flowkit meter from nDPI's chrome.pcap and facebook.pcap when keyed strings
  // (encoding 13) and shared presence came: later versions must read them as they were.
  struct Case {
    const char* file;
    size_t flows;
    bool (*uses)(const ColumnDescriptor&);
    std::string_view label, category;
    uint64_t syn_size;
  };
  const Case cases[] = {
      {"format_v1_keyed_strings.fk", 6,
       [](const ColumnDescriptor& d) { return d.encoding == Encoding::kKeyedStrings; }, "TLS",
       "Web", 64},
      {"format_v1_shared_presence.fk", 2,
       [](const ColumnDescriptor& d) { return d.shared_presence; }, "TLS.Facebook", "SocialNetwork",
       60},
  };
  for (const Case& c : cases) {
    std::string path = std::filesystem::path(__FILE__).parent_path() / "testdata" / c.file;
    auto reader = FileReader::open(path);
    ASSERT_TRUE(reader.ok()) << reader.status().message();
    bool uses = false;
    for (const BlockEntry& b : reader->blocks())
      for (const ColumnDescriptor& d : b.header.columns) uses = uses || c.uses(d);
    EXPECT_TRUE(uses) << c.file;
    std::vector<FlowRecord> back = read_file(path);
    ASSERT_EQ(back.size(), c.flows) << c.file;
    for (const FlowRecord& r : back) {
      EXPECT_EQ(r.protocol, 6);
      EXPECT_EQ(r.app.app_label, c.label);
      EXPECT_EQ(r.app.app_category, c.category);
      EXPECT_EQ(r.app.tcp_syn_size, c.syn_size);
    }
  }
}

// Block::resolve_predictions resolves these a column at a time: they must be what predict()
// says, for every record of every shape.
TEST(Store, SameDirectionPredictionsAreThePredictions) {
  for (const FlowRecord& r : flowkit::testing::every_field_records())
    for (auto [id, from] : same_direction_predictions())
      for (Direction dir : {Direction::kForward, Direction::kReverse}) {
        FieldValue v = field_info(from).get(r, dir);
        uint64_t want = 0;
        if (auto* t = std::get_if<Timestamp>(&v)) want = uint64_t(t->ns);
        if (auto* u = std::get_if<uint64_t>(&v)) want = *u;
        EXPECT_TRUE(predicted(id));
        EXPECT_EQ(predict(id, r, dir), want) << field_info(id).name;
      }
}

// Rows of varied addresses (IPv4 and a few IPv6), ports, packets and times.
FlowRecord mixed_flow(uint32_t i, std::mt19937_64& rng) {
  FlowRecord r;
  r.ip_version = i % 7 ? 4 : 6;
  r.src_ip = r.ip_version == 4
                 ? IpAddress::v4(uint32_t(rng()))
                 : IpAddress::v6(reinterpret_cast<const uint8_t*>("0123456789abcdef"));
  r.dst_ip = IpAddress::v4(0x0a000000 + uint32_t(i % 300));
  r.src_port = uint16_t(rng());
  r.fwd.packets = 1 + i % 3;
  r.fwd.first = Timestamp{1'700'000'000'000'000'000 + int64_t(i) * 1000};
  r.fwd.last = Timestamp{r.fwd.first.ns + int64_t(rng() % 1'000'000)};
  return r;
}

// A long idle timeout expires flows that began minutes ago among flows that just ended: the
// writer keeps them in blocks of their own, so that a block spans a short time (what lets a
// time window skip blocks).
TEST(Store, FlowsThatBeganLongBeforeTheOthersGetBlocksOfTheirOwn) {
  std::mt19937_64 rng(11);
  std::vector<FlowRecord> flows;
  const int64_t base = 1'700'000'000'000'000'000;
  for (uint32_t i = 0; i < 2 * kMaxBlockRows; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    r.fwd.first = Timestamp{base + int64_t(i) * 1'000'000 - (i % 2 ? 300 * kNanosPerSecond : 0)};
    r.fwd.last = Timestamp{r.fwd.first.ns + 1'000'000};
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/late.fk";
  write_file(path, flows, {});
  auto reader = FileReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  uint64_t rows = 0;
  for (const BlockEntry& b : reader->blocks()) {
    rows += b.header.rows;
    EXPECT_LT(b.header.time_max.ns - b.header.time_min.ns, 100 * kNanosPerSecond);
  }
  EXPECT_EQ(rows, flows.size());
  expect_same_records(flows, read_file(path));
}

// Batches taken whole (the meter's path: no copy) and records added one by one land in the file
// in the order given, strings included; the caller gets back an empty batch and arena each time.
TEST(Store, BatchesTakenWholeKeepTheirOrderAndStrings) {
  std::mt19937_64 rng(5);
  std::vector<FlowRecord> want;
  for (int round = 0; round < 40; ++round) {
    for (const FlowRecord& r : flowkit::testing::every_field_records()) want.push_back(r);
    for (uint32_t i = 0; i < 300; ++i) want.push_back(mixed_flow(uint32_t(want.size()), rng));
  }
  TempDir dir;
  std::string path = dir.path() + "/taken.fk";
  {
    auto layer = create_file(path);
    ASSERT_TRUE(layer.ok()) << layer.status().message();
    FileWriter w(std::move(layer.value()), {}, {});
    std::vector<FlowRecord> batch;
    Arena arena;
    for (size_t i = 0; i < want.size();) {
      if (i / 1000 % 3 == 2) {  // a stretch added one by one between taken batches
        for (size_t end = std::min(want.size(), i + 250); i < end; ++i) w.add(want[i]);
        continue;
      }
      for (size_t end = std::min(want.size(), i + 256); i < end; ++i)
        batch.push_back(copy_record(want[i], arena));
      w.take(batch, arena);
      EXPECT_TRUE(batch.empty());
      EXPECT_EQ(arena.used(), 0u);
    }
    ASSERT_TRUE(w.close().ok());
    EXPECT_EQ(w.stats().records, want.size());
  }
  expect_same_records(want, read_file(path));
}

TEST(Store, ManyBlocksAndEveryEncoding) {
  // Rows that make each integer encoding win somewhere: constant (FOR of width 0), narrow
  // ranges (FOR), sorted times (delta), wide random values (plain); IPv4 and mixed addresses.
  std::mt19937_64 rng(5);
  std::vector<FlowRecord> flows;
  for (uint32_t i = 0; i < 3 * kMaxBlockRows + 17; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    r.protocol = 17;
    r.dst_port = 53;
    r.fwd.bytes = rng();
    r.end_reason = EndReason::kIdleTimeout;
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/many.fk";
  write_file(path, flows, {});
  auto reader = FileReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_TRUE(reader->has_footer());
  EXPECT_EQ(reader->blocks().size(), 4u);
  std::vector<FlowRecord> back = read_file(path);
  ASSERT_EQ(back.size(), flows.size());
  for (size_t i = 0; i < flows.size(); ++i) expect_same_record(flows[i], back[i], i);
  // Only the columns asked for are decoded.
  Block b;
  Column want[] = {{&field_info(FieldId::kDstPort), Direction::kForward}};
  ASSERT_TRUE(reader->read_block(0, want, b).ok());
  ASSERT_EQ(b.columns.size(), 1u);
  EXPECT_EQ(b.columns[0].ints[5], 53u);
  const ColumnDescriptor* port = nullptr;
  for (const ColumnDescriptor& d : reader->blocks()[0].header.columns)
    if (d.field == uint16_t(FieldId::kDstPort)) port = &d;
  ASSERT_TRUE(port);
  EXPECT_EQ(port->encoding, Encoding::kFrameOfReference);
  EXPECT_TRUE(port->has_minmax);
  EXPECT_EQ(port->min, 53u);
  EXPECT_EQ(port->max, 53u);
}

// Each block's encoding of a field's forward column (blocks without it left out).
std::vector<Encoding> encodings_of(const FileReader& reader, FieldId id) {
  std::vector<Encoding> out;
  for (const BlockEntry& b : reader.blocks())
    for (const ColumnDescriptor& d : b.header.columns)
      if (d.field == uint16_t(id) && d.dir == Direction::kForward) out.push_back(d.encoding);
  return out;
}

TEST(Store, StringsOfFewValuesAsADictionary) {
  // Labels from a few values (some rows without one), names from 300 (two-byte indexes), and
  // URLs all different (kept as they are).
  std::mt19937_64 rng(9);
  const char* labels[] = {"TLS", "DNS", "HTTP", "QUIC", ""};
  std::vector<std::string> names, urls;
  for (int i = 0; i < 300; ++i) names.push_back("host" + std::to_string(i) + ".example.org");
  std::vector<FlowRecord> flows;
  for (uint32_t i = 0; i < kMaxBlockRows + 100; ++i) urls.push_back("/" + std::to_string(rng()));
  for (uint32_t i = 0; i < kMaxBlockRows + 100; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    if (i % 7) field_info(FieldId::kAppLabel).set(r, Direction::kForward, labels[rng() % 5]);
    field_info(FieldId::kTlsSni).set(r, Direction::kForward, names[rng() % names.size()]);
    field_info(FieldId::kHttpUrl).set(r, Direction::kForward, urls[i]);
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/strings.fk";
  write_file(path, flows, {});
  auto reader = FileReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ(encodings_of(*reader, FieldId::kAppLabel)[0], Encoding::kStringDictionary);
  EXPECT_EQ(encodings_of(*reader, FieldId::kTlsSni)[0], Encoding::kStringDictionary);
  EXPECT_EQ(encodings_of(*reader, FieldId::kHttpUrl)[0], Encoding::kStrings);
  std::vector<FlowRecord> back = read_file(path);
  ASSERT_EQ(back.size(), flows.size());
  for (size_t i = 0; i < flows.size(); ++i) expect_same_record(flows[i], back[i], i);
}

TEST(Store, LatePredictionsOnlyWhereTheyPay) {
  // A block of one-size packets (a SYN flood: the SYN size is the packets' size) takes the SYN
  // sizes as residuals (encoding 12); a block of ordinary connections (SYNs of a few sizes,
  // packets of many) takes them as they are.
  std::mt19937_64 rng(11);
  std::vector<FlowRecord> flows;
  for (uint32_t i = 0; i < 2 * kMaxBlockRows; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    r.protocol = 6;
    const bool flood = i < kMaxBlockRows;
    const uint64_t size = 40 + rng() % 1400;
    r.fwd.packets = flood ? 2 : 5 + rng() % 20;
    r.fwd.bytes = flood ? 2 * size : r.fwd.packets * 40 + rng() % 20000;
    const uint64_t syn = flood ? size : std::array{60, 64, 74}[rng() % 3];
    ASSERT_TRUE(field_info(FieldId::kTcpSynSize).set(r, Direction::kForward, syn));
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/syn.fk";
  write_file(path, flows, {});
  auto reader = FileReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  ASSERT_EQ(reader->blocks().size(), 2u);
  EXPECT_EQ(encodings_of(*reader, FieldId::kTcpSynSize),
            (std::vector{Encoding::kLateResidual, Encoding::kFrameOfReference}));
  std::vector<FlowRecord> back = read_file(path);
  ASSERT_EQ(back.size(), flows.size());
  for (size_t i = 0; i < flows.size(); ++i) expect_same_record(flows[i], back[i], i);
}

// A scan reads a filter's columns, then the others for the rows that passed: those rows'
// records equal a whole read's, whatever each column's encoding.
void expect_selected_rows_read_alike(const std::string& path) {
  auto reader = FileReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  Column first[] = {{&field_info(FieldId::kProtocol), Direction::kForward}};
  std::mt19937 rng(3);
  // One block read into again and again, as a scan does: rows not chosen may keep values from
  // before, chosen rows (with a value or not) must hold the whole decode's.
  Block part;
  for (size_t i = 0; i < reader->blocks().size(); ++i) {
    Block whole;
    ASSERT_TRUE(reader->read_block(i, {}, whole).ok());
    ASSERT_TRUE(reader->read_block(i, first, part).ok());
    for (ColumnData& c : part.spare) {  // what an earlier block may have left
      c.ints.assign(part.rows, 0x5a5a5a);
      c.ips.assign(part.rows, IpAddress::v4(0x01020304));
    }
    std::vector<uint8_t> mask(part.rows);
    for (uint8_t& m : mask) m = rng() % 5 == 0;
    std::vector<Column> rest(all_columns().begin(), all_columns().end());
    ASSERT_TRUE(reader->read_more(i, rest, part, mask).ok());
    std::vector<FlowRecord> want, got;
    uint64_t dropped = 0;
    whole.to_records(want, &dropped, mask);
    part.to_records(got, &dropped, mask);
    ASSERT_EQ(want.size(), got.size());
    for (size_t k = 0; k < want.size(); ++k) expect_same_record(want[k], got[k], k);
    for (const ColumnData& w : whole.columns) {
      const ColumnData* p = part.find(w.field->id, w.dir);
      ASSERT_NE(p, nullptr) << w.field->name;
      for (uint32_t row = 0; row < part.rows; ++row) {
        if (!mask[row]) continue;
        if (!w.ints.empty()) {
          ASSERT_EQ(w.ints[row], p->ints[row]) << w.field->name << row;
        }
        if (!w.ips.empty()) {
          ASSERT_EQ(w.ips[row], p->ips[row]) << w.field->name << row;
        }
      }
    }
  }
}

TEST(Store, ColumnsPresentInTheSameRowsShareOneBitmap) {
  // TCP's fields are present in the TCP rows alone: one of their columns holds the bitmap, the
  // others name it; a column read alone still knows its rows.
  std::mt19937_64 rng(13);
  const FieldId tcp[] = {FieldId::kTcpSynSize, FieldId::kTcpRetransmitted,
                         FieldId::kTcpZeroWindows};
  std::vector<FlowRecord> flows;
  for (uint32_t i = 0; i < kMaxBlockRows + 500; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    if (rng() % 3) {
      for (FieldId id : tcp) ASSERT_TRUE(field_info(id).set(r, Direction::kForward, rng() % 4));
    }
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/shared.fk";
  write_file(path, flows, {});
  auto reader = FileReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  for (const BlockEntry& b : reader->blocks()) {
    int own = 0, shared = 0;
    for (const ColumnDescriptor& d : b.header.columns)
      if (std::find(std::begin(tcp), std::end(tcp), FieldId(d.field)) != std::end(tcp)) {
        EXPECT_TRUE(d.bitmap);
        (d.shared_presence ? shared : own)++;
      }
    EXPECT_EQ(own, 1);
    EXPECT_EQ(shared, 2);
  }
  std::vector<FlowRecord> back = read_file(path);
  ASSERT_EQ(back.size(), flows.size());
  for (size_t i = 0; i < flows.size(); ++i) expect_same_record(flows[i], back[i], i);
  for (FieldId id : tcp) {
    Column want[] = {{&field_info(id), Direction::kForward}};
    Block b;
    ASSERT_TRUE(reader->read_block(1, want, b).ok());
    const ColumnData* c = b.find(id);
    ASSERT_TRUE(c);
    for (uint32_t row = 0; row < b.rows; ++row) {
      const FlowRecord& r = flows[kMaxBlockRows + row];
      ASSERT_EQ(c->has(row), PresenceView(r).has(field_info(id), Direction::kForward)) << row;
      if (c->has(row)) {
        EXPECT_EQ(c->value(row), field_info(id).get(r, Direction::kForward));
      }
    }
  }
  expect_selected_rows_read_alike(path);
}

TEST(Store, StringsThatFollowAnotherKeepEachKeysValueOnce) {
  // Categories follow labels, but for a few rows and rows without a label (first block): the
  // column holds each label's category and the exceptions. Categories drawn at random (second
  // block) stay a dictionary.
  std::mt19937_64 rng(17);
  const char* labels[] = {"TLS", "DNS", "HTTP", "QUIC", "NTP"};
  const char* categories[] = {"Web", "Network", "Web", "Web", "System"};
  std::vector<FlowRecord> flows;
  for (uint32_t i = 0; i < 2 * kMaxBlockRows; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    const size_t l = rng() % 5;
    const bool follows = i < kMaxBlockRows && rng() % 50;
    if (rng() % 10) field_info(FieldId::kAppLabel).set(r, Direction::kForward, labels[l]);
    if (rng() % 10) {
      field_info(FieldId::kAppCategory)
          .set(r, Direction::kForward, follows ? categories[l] : categories[rng() % 5]);
    }
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/keyed.fk";
  write_file(path, flows, {});
  auto reader = FileReader::open(path);
  ASSERT_TRUE(reader.ok()) << reader.status().message();
  EXPECT_EQ(encodings_of(*reader, FieldId::kAppCategory),
            (std::vector{Encoding::kKeyedStrings, Encoding::kStringDictionary}));
  std::vector<FlowRecord> back = read_file(path);
  ASSERT_EQ(back.size(), flows.size());
  for (size_t i = 0; i < flows.size(); ++i) expect_same_record(flows[i], back[i], i);
  // Read alone, the column brings the one it follows.
  Column want[] = {{&field_info(FieldId::kAppCategory), Direction::kForward}};
  Block b;
  ASSERT_TRUE(reader->read_block(0, want, b).ok());
  const ColumnData* c = b.find(FieldId::kAppCategory);
  ASSERT_TRUE(c);
  const FieldInfo& category = field_info(FieldId::kAppCategory);
  for (uint32_t row = 0; row < b.rows; ++row) {
    const bool has = PresenceView(flows[row]).has(category, Direction::kForward);
    ASSERT_EQ(c->has(row), has) << row;
    if (has) {
      ASSERT_EQ(c->value(row), category.get(flows[row], Direction::kForward)) << row;
    }
  }
  expect_selected_rows_read_alike(path);
}

TEST(Store, ColumnsReadForSomeRowsHoldTheirValues) {
  std::mt19937_64 rng(9);
  std::vector<FlowRecord> flows;
  for (uint32_t i = 0; i < kMaxBlockRows + 500; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    r.protocol = i % 3 ? 6 : 17;
    r.dst_port = i % 2 ? 53 : 443;                   // a dictionary
    r.fwd.bytes = i % 11 ? rng() % 100'000 : rng();  // frame of reference, plain
    // Columns some rows lack: integers in frame of reference, addresses.
    if (rng() % 4 == 0) field_info(FieldId::kSrcAs).set(r, Direction::kForward, rng() % 70'000);
    if (rng() % 3 == 0)
      field_info(FieldId::kNextHop).set(r, Direction::kForward, IpAddress::v4(uint32_t(rng())));
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/some.fk";
  write_file(path, flows, {});
  expect_selected_rows_read_alike(path);
}

// Readers take eight rows at once where a bitmap byte allows: eight IPv4 addresses among a mix,
// eight rows of an optional integer that all have it. Runs of every length between the rows
// that break them, whole reads and reads of some rows.
TEST(Store, RunsOfIpv4AmongIpv6AndOfPresentValuesRoundTrip) {
  std::mt19937_64 rng(11);
  std::vector<FlowRecord> flows;
  for (uint32_t i = 0, gap = 1, next = 0; i < kMaxBlockRows + 300; ++i) {
    FlowRecord r = mixed_flow(i, rng);
    const bool breaks = i == next;
    if (breaks) next += gap++ % 23 + 1;
    r.ip_version = breaks ? 6 : 4;
    r.src_ip = breaks ? IpAddress::v6(reinterpret_cast<const uint8_t*>("fedcba9876543210"))
                      : IpAddress::v4(uint32_t(rng()));
    if (!breaks) field_info(FieldId::kSrcAs).set(r, Direction::kForward, rng() % 70'000);
    flows.push_back(r);
  }
  TempDir dir;
  std::string path = dir.path() + "/runs.fk";
  write_file(path, flows, {});
  std::vector<FlowRecord> back = read_file(path);
  ASSERT_EQ(back.size(), flows.size());
  for (size_t i = 0; i < flows.size(); ++i) expect_same_record(flows[i], back[i], i);
  expect_selected_rows_read_alike(path);
}

// Every record of every shared capture, metered as `flowkit meter` does by default, comes back
// from the store equal.
// Under the sanitizers Robustness.EverySharedCapture meters and stores every shared capture;
// this test reads back a quarter of them there (every one in the release build), which keeps
// the sanitizer phase of CI inside its budget.
#if defined(__SANITIZE_ADDRESS__)
constexpr size_t kCaptureStride = 4;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
constexpr size_t kCaptureStride = 4;
#else
constexpr size_t kCaptureStride = 1;
#endif
#else
constexpr size_t kCaptureStride = 1;
#endif

TEST(Store, RecordsOfEverySharedCaptureRoundTrip) {
  std::string root = std::string(FLOWKIT_SHARED_DIR) + "/pcaps";
  if (!std::filesystem::is_directory(root)) GTEST_SKIP() << root << " not found";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string ext = e.path().extension();
    if (e.is_regular_file() && (ext == ".pcap" || ext == ".pcapng" || ext == ".cap"))
      files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  TempDir dir;
  size_t total = 0, captures = 0;
  for (size_t f = 0; f < files.size(); f += kCaptureStride) {
    const std::string& file = files[f];
    auto src = capture::open_capture_files({file});
    if (!src.ok()) continue;  // link types flowkit does not read
    flowkit::testing::CollectingSink keep;
    meter::Meter m(meter::MeterOptions{}, keep);
    std::vector<capture::RawPacket> batch(256);
    while (size_t n = (*src)->read_batch(batch)) m.process(std::span(batch.data(), n));
    m.flush();
    if (keep.flows.empty()) continue;
    std::string path = dir.path() + "/capture.fk";
    std::filesystem::remove(path);
    write_file(path, keep.flows, {});
    std::vector<FlowRecord> back = in_time_order(read_file(path));
    std::vector<FlowRecord> want = in_time_order(keep.flows);
    ASSERT_EQ(back.size(), want.size()) << file;
    for (size_t i = 0; i < back.size(); ++i) {
      ASSERT_TRUE(back[i] == want[i]) << file << " record " << i;
    }
    expect_selected_rows_read_alike(path);
    total += back.size();
    ++captures;
  }
  EXPECT_GT(captures, 500u / kCaptureStride);
  // A quarter of the captures holds some 950 of the 6000-odd flows: a few hold most of them.
  EXPECT_GT(total, kCaptureStride == 1 ? 6000u : 800u);
}

}  // namespace
}  // namespace flowkit::store
