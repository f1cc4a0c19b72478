// The format's varints: every length from 1 to 10 bytes, with bytes after them that must not be
// read, and cut short. String chunks that lie about their lengths or indexes.
#include "store/column.h"

#include <gtest/gtest.h>

#include <random>
#include <vector>

namespace flowkit::store {
namespace {

using namespace std::literals;

TEST(Varint, EveryLengthRoundTripsWithOrWithoutBytesAfterIt) {
  std::mt19937_64 rng(1);
  std::vector<uint64_t> values = {0, 1, 127, 128, 16383, 16384, UINT64_MAX, UINT64_MAX >> 1};
  for (int bits = 1; bits <= 64; ++bits)
    for (int i = 0; i < 50; ++i) values.push_back(rng() >> (64 - bits));
  for (uint64_t v : values) {
    std::vector<uint8_t> buf;
    put_varint(buf, v);
    const size_t len = buf.size();
    for (size_t tail : {0, 3, 8}) {
      std::vector<uint8_t> b = buf;
      b.resize(len + tail, 0x80);  // continuation bits after the value must not be read
      const uint8_t* p = b.data();
      uint64_t got = 0;
      ASSERT_TRUE(get_varint(p, b.data() + b.size(), &got)) << v;
      EXPECT_EQ(got, v) << "tail " << tail;
      EXPECT_EQ(size_t(p - b.data()), len) << v;
    }
    // Cut short: no value.
    const uint8_t* p = buf.data();
    uint64_t got = 0;
    EXPECT_FALSE(get_varint(p, buf.data() + len - 1, &got)) << v;
  }
  // Ten continuation bytes and more are not a value.
  std::vector<uint8_t> bad(16, 0xff);
  const uint8_t* p = bad.data();
  uint64_t got = 0;
  EXPECT_FALSE(get_varint(p, bad.data() + bad.size(), &got));
}

// A delta-coded column whose deltas take every length from 1 to 10 bytes, in every order, up and
// down: each value as it was. Eleven continuation bytes are damage, not a value.
TEST(Varint, DeltasOfEveryLengthDecode) {
  const FieldInfo& f = field_info(FieldId::kFirst);
  std::mt19937_64 rng(2);
  std::vector<uint64_t> values;
  std::vector<uint8_t> raw;
  uint64_t prev = 0;
  for (int i = 0; i < 2000; ++i) {
    const uint64_t z = rng() >> (rng() % 64);  // a zigzagged delta of 1 to 64 bits
    put_varint(raw, z);
    prev += uint64_t(unzigzag(z));
    values.push_back(prev);
  }
  ColumnDescriptor d;
  d.field = uint16_t(f.id);
  d.type = uint8_t(f.type);
  d.encoding = Encoding::kDelta;
  d.raw_size = uint32_t(raw.size());
  ColumnData out;
  Arena arena;
  ASSERT_TRUE(decode_column(d, f, raw, uint32_t(values.size()), out, arena).ok());
  ASSERT_EQ(out.ints.size(), values.size());
  for (size_t i = 0; i < values.size(); ++i) ASSERT_EQ(out.ints[i], values[i]) << i;

  std::vector<uint8_t> bad(11, 0xff);
  bad.resize(32, 0);
  d.raw_size = uint32_t(bad.size());
  EXPECT_EQ(decode_column(d, f, bad, 2, out, arena).code(), StatusCode::kCorruption);
}

// Decodes a string chunk of two rows, both with a value.
Status decode_strings(Encoding e, const std::vector<uint8_t>& raw, ColumnData& out, Arena& arena,
                      FieldId id = FieldId::kTlsSni) {
  const FieldInfo& f = field_info(id);
  ColumnDescriptor d;
  d.field = uint16_t(f.id);
  d.type = uint8_t(f.type);
  d.encoding = e;
  d.raw_size = uint32_t(raw.size());
  return decode_column(d, f, raw, 2, out, arena);
}

std::vector<uint8_t> chunk(std::initializer_list<uint64_t> varints, std::string_view tail) {
  std::vector<uint8_t> raw;
  for (uint64_t v : varints) put_varint(raw, v);
  raw.insert(raw.end(), tail.begin(), tail.end());
  return raw;
}

TEST(Strings, ChunksThatLieAreCorruptNotRead) {
  Arena arena;
  ColumnData out;
  // Plain: lengths, then bytes; a dictionary: its size, lengths, bytes, then an index per row.
  ASSERT_TRUE(decode_strings(Encoding::kStrings, chunk({2, 1}, "abc"sv), out, arena).ok());
  EXPECT_EQ(out.strings[0], "ab");
  EXPECT_EQ(out.strings[1], "c");
  ASSERT_TRUE(
      decode_strings(Encoding::kStringDictionary, chunk({2, 1, 2}, "xyz\x01\x00"sv), out, arena)
          .ok());
  EXPECT_EQ(out.strings[0], "yz");
  EXPECT_EQ(out.strings[1], "x");
  // Lengths whose sum wraps round to what the chunk holds.
  EXPECT_FALSE(
      decode_strings(Encoding::kStrings, chunk({UINT64_MAX, 4}, "abc"sv), out, arena).ok());
  EXPECT_FALSE(decode_strings(Encoding::kStringDictionary, chunk({2, UINT64_MAX, 4}, "abc\0\0"sv),
                              out, arena)
                   .ok());
  // An index beyond the dictionary, an empty dictionary, one larger than the rows, one cut short.
  EXPECT_FALSE(
      decode_strings(Encoding::kStringDictionary, chunk({2, 1, 2}, "xyz\x02\x00"sv), out, arena)
          .ok());
  EXPECT_FALSE(decode_strings(Encoding::kStringDictionary, chunk({0}, "\0\0"sv), out, arena).ok());
  EXPECT_FALSE(
      decode_strings(Encoding::kStringDictionary, chunk({3, 1, 1, 1}, "xyz\0\0"sv), out, arena)
          .ok());
  EXPECT_FALSE(
      decode_strings(Encoding::kStringDictionary, chunk({2, 1, 2}, "xyz\x01"sv), out, arena).ok());
}

TEST(Strings, KeyedChunksThatLieAreCorruptNotRead) {
  Arena arena;
  ColumnData out;
  // Keyed strings (encoding 13) of a field that follows none, more keys than values, keys cut
  // short, and misses beyond the chunk.
  EXPECT_FALSE(decode_strings(Encoding::kKeyedStrings, chunk({0}, "\0"sv), out, arena).ok());
  EXPECT_FALSE(
      decode_strings(Encoding::kKeyedStrings, chunk({3}, ""sv), out, arena, FieldId::kAppCategory)
          .ok());
  EXPECT_FALSE(decode_strings(Encoding::kKeyedStrings, chunk({1, 5}, "ab"sv), out, arena,
                              FieldId::kAppCategory)
                   .ok());
  EXPECT_FALSE(decode_strings(Encoding::kKeyedStrings, chunk({0, 0, 9}, "x"sv), out, arena,
                              FieldId::kAppCategory)
                   .ok());
  // One key; the first value is the key's, the second "W".
  ASSERT_TRUE(decode_strings(Encoding::kKeyedStrings, chunk({1, 3}, "TLS\x03Web\x01\x01W"sv), out,
                             arena, FieldId::kAppCategory)
                  .ok());
  EXPECT_EQ(out.keyed.size(), 1u);
  EXPECT_EQ(out.from_prediction, (std::vector<uint8_t>{1, 0}));
  EXPECT_EQ(out.strings[1], "W");
}

TEST(Presence, ASharedBitmapMustBeGiven) {
  // Two rows, the second with a value; the chunk names column 0 for its presence.
  const FieldInfo& f = field_info(FieldId::kTcpSynSize);
  ColumnDescriptor d;
  d.field = uint16_t(f.id);
  d.type = uint8_t(f.type);
  d.encoding = Encoding::kPlain;
  d.bitmap = d.shared_presence = true;
  const std::vector<uint8_t> raw = {0, 60, 0};
  d.raw_size = uint32_t(raw.size());
  Arena arena;
  ColumnData out;
  EXPECT_FALSE(decode_column(d, f, raw, 2, out, arena).ok());
  const uint8_t second[] = {0b10};
  ASSERT_TRUE(decode_column(d, f, raw, 2, out, arena, {}, {}, second).ok());
  EXPECT_FALSE(out.has(0));
  ASSERT_TRUE(out.has(1));
  EXPECT_EQ(out.ints[1], 60u);
}

}  // namespace
}  // namespace flowkit::store
