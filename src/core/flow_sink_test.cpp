#include "core/flow_sink.h"

#include <gtest/gtest.h>

namespace flowkit {
namespace {

class Recorder : public FlowSink {
 public:
  explicit Recorder(Status flush_status = {}) : flush_status_(std::move(flush_status)) {}
  void write(std::span<const FlowRecord> r) override { records += r.size(); }
  void tick(Timestamp now) override { last_tick = now; }
  Status flush() override {
    ++flushes;
    return flush_status_;
  }
  size_t records = 0;
  Timestamp last_tick{-1};
  int flushes = 0;

 private:
  Status flush_status_;
};

// A Tee is transparent: every sink behind it sees what it would see alone, ticks included (an
// exporter behind a Tee sends its partly filled message once a second of export time).
TEST(Tee, ForwardsWritesTicksAndFlushes) {
  Recorder a, b(Status::io_error("disk full")), c(Status::unavailable("refused"));
  Tee tee({&a, &b, &c});
  FlowRecord r[3];
  tee.write(std::span(r, 3));
  tee.tick(Timestamp::from_seconds(7));
  Status st = tee.flush();
  for (Recorder* x : {&a, &b, &c}) {
    EXPECT_EQ(x->records, 3u);
    EXPECT_EQ(x->last_tick, Timestamp::from_seconds(7));
    EXPECT_EQ(x->flushes, 1);
  }
  EXPECT_EQ(st.code(), StatusCode::kIoError);  // the first error
  EXPECT_EQ(st.message(), "disk full");
}

// A sink that does not keep batches sees take() as write(); the caller's batch and arena come back
// empty. A Tee of one sink hands the batch on whole.
TEST(Tee, TakesBatchesForOneSinkAndWritesThemToMany) {
  struct Keeper : Recorder {
    void take(std::vector<FlowRecord>& r, Arena& a) override {
      kept.swap(r);
      std::swap(arena, a);
    }
    std::vector<FlowRecord> kept;
    Arena arena;
  };
  Keeper keeper;
  Recorder a, b;
  std::vector<FlowRecord> batch(4);
  Arena arena;
  arena.copy("example.org");
  Tee({&a, &b}).take(batch, arena);
  EXPECT_EQ(a.records, 4u);
  EXPECT_EQ(b.records, 4u);
  EXPECT_TRUE(batch.empty());
  EXPECT_EQ(arena.used(), 0u);
  batch.resize(3);
  arena.copy("example.org");
  Tee({&keeper}).take(batch, arena);
  EXPECT_EQ(keeper.kept.size(), 3u);
  EXPECT_EQ(keeper.arena.used(), 11u);
  EXPECT_EQ(keeper.records, 0u);
  EXPECT_TRUE(batch.empty());
}

}  // namespace
}  // namespace flowkit
