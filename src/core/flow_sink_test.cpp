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

}  // namespace
}  // namespace flowkit
