#include "export/text_output.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <random>
#include <sstream>

namespace flowkit::exporter {
namespace {

TEST(TextOutput, TextForATerminalEscapesWhatCouldSteerIt) {
  // UTF-8 (two, three and four bytes) as it is; an escape sequence, a line break, DEL, a
  // backslash, a lone continuation byte, an overlong form and a sequence cut short escaped.
  using namespace std::literals;
  EXPECT_EQ(escape_text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ok"sv),
            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 ok");
  EXPECT_EQ(escape_text("\x1b]0;owned\x07\nx\x7f\\"sv), "\\x1b]0;owned\\x07\\x0ax\\x7f\\\\");
  EXPECT_EQ(escape_text("a\x80"
                        "b\xc0\xaf"
                        "c\xe2\x82"sv),
            "a\\x80b\\xc0\\xafc\\xe2\\x82");
  EXPECT_EQ(escape_text("\0"sv), "\\x00");
  EXPECT_EQ(escape_text(""), "");
}

TEST(TextOutput, AFullDiskIsAClearErrorAndOutputStops) {
  auto out = TextOutput::open("/dev/full");
  ASSERT_TRUE(out.ok());
  (*out)->put("hello\n");
  Status s = (*out)->flush();
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("the disk is full"), std::string::npos) << s.message();
  EXPECT_FALSE((*out)->reader_gone());
}

TEST(TextOutput, AReaderThatWentAwayIsNotAnError) {
  std::signal(SIGPIPE, SIG_IGN);
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);
  int saved = ::dup(1);
  ::dup2(fds[1], 1);  // "-" is stdout
  auto out = TextOutput::open("-");
  ASSERT_TRUE(out.ok());
  (*out)->put("line\n");
  Status s = (*out)->flush();
  ::dup2(saved, 1);
  ::close(saved);
  ::close(fds[1]);
  EXPECT_TRUE(s.ok());
  EXPECT_TRUE((*out)->reader_gone());
}

TEST(TextOutput, PythonFloatRepr) {
  // Written to a file so that the text can be read back.
  char path[] = "/tmp/flowkit_textoutXXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  {
    auto f = TextOutput::open(path);
    for (double v : {1538857982.30135, 84.0, 0.0001, 1e-05, 86.66666666666667, 1e16}) {
      (*f)->put_python_float(v);
      (*f)->put(' ');
    }
    ASSERT_TRUE((*f)->flush().ok());
  }
  FILE* in = std::fopen(path, "r");
  char buf[256] = {};
  size_t n = std::fread(buf, 1, sizeof buf - 1, in);
  std::fclose(in);
  ::unlink(path);
  EXPECT_EQ(std::string(buf, n), "1538857982.30135 84.0 0.0001 1e-05 86.66666666666667 1e+16 ");
}

// write_double takes its own path for values with few decimals; the text must be exactly what
// std::to_chars (shortest round trip) gives, with 0 for -0, NaN and infinities.
TEST(TextOutput, DoublesAreToCharsShortest) {
  auto expect_same = [](double v) {
    char ours[64], theirs[64];
    std::string got(ours, TextOutput::write_double(ours, v));
    std::string want(theirs, std::to_chars(theirs, theirs + 64, v).ptr);
    if (v == 0 || !std::isfinite(v)) want = "0";
    ASSERT_EQ(got, want) << "for " << want;
  };
  std::mt19937_64 rng(5);
  std::uniform_int_distribution<int> digits(0, 9), pow(-8, 12);
  for (int i = 0; i < 300000; ++i) {
    // k-decimal numbers of every size around the fast path's limits, their neighbours, and
    // arbitrary bit patterns.
    int64_t m = int64_t(rng() % 2'000'000'000'000'000ull) >> (rng() % 50);
    double v = double(m) / std::pow(10.0, pow(rng));
    if (rng() & 1) v = -v;
    expect_same(v);
    expect_same(std::nextafter(v, 1e300));
    expect_same(std::nextafter(v, -1e300));
    uint64_t bits = rng();
    double any;
    std::memcpy(&any, &bits, sizeof any);
    expect_same(any);
  }
  for (double v :
       {0.001, 0.000999, 0.0012, 1e5, 99999.0, 100000.5, 1e9, 999999999.999999, 123456789.123456,
        0.1 + 0.2, 1.0 / 3, 5e-324, -0.0, 1e300, double(NAN), double(INFINITY)})
    expect_same(v);
}

// Output larger than the buffer, written by the background thread, arrives whole and in order.
TEST(TextOutput, LargeOutputArrivesInOrder) {
  char path[] = "/tmp/flowkit_textoutXXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::ostringstream want;
  {
    auto f = TextOutput::open(path);
    for (uint64_t i = 0; i < 600000; ++i) {
      (*f)->put_u64(i * 2654435761u);
      (*f)->put('\n');
      (*f)->end_record();
      want << i * 2654435761u << '\n';
    }
    ASSERT_TRUE((*f)->flush().ok());
  }
  std::ifstream in(path);
  std::stringstream got;
  got << in.rdbuf();
  ::unlink(path);
  EXPECT_EQ(got.str().size(), want.str().size());
  EXPECT_TRUE(got.str() == want.str());
}

// Text formatted elsewhere (query's threads) goes out as whole buffers, in order with what was
// put directly, to a file and to memory, and the buffers come back to be filled again.
TEST(TextOutput, BuffersHandedOnArriveInOrder) {
  char path[] = "/tmp/flowkit-text-buffers-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  std::string want, in_memory;
  {
    auto f = TextOutput::open(path);
    ASSERT_TRUE(f.ok());
    auto mem = TextOutput::to_string(&in_memory);
    auto worker = TextOutput::to_buffer();
    TextBuffer b;
    for (int round = 0; round < 50; ++round) {
      (*f)->put("head " + std::to_string(round) + "\n");
      mem->put("head " + std::to_string(round) + "\n");
      want += "head " + std::to_string(round) + "\n";
      for (int i = 0; i < 30000; ++i) {
        worker->put_u64(uint64_t(round) * 100000 + uint64_t(i));
        worker->put('\n');
        worker->end_record();  // kept: nothing goes out before take()
        want += std::to_string(uint64_t(round) * 100000 + uint64_t(i)) + "\n";
      }
      worker->take(b);
      TextBuffer copy;
      copy.data.reset(new char[b.size]);
      copy.cap = copy.size = b.size;
      std::memcpy(copy.data.get(), b.data.get(), b.size);
      (*f)->put_buffer(b);
      mem->put_buffer(copy);
      EXPECT_EQ(b.size, 0u);
    }
    ASSERT_TRUE((*f)->flush().ok());
    ASSERT_TRUE(mem->flush().ok());
  }
  std::ifstream in(path);
  std::stringstream got;
  got << in.rdbuf();
  ::unlink(path);
  EXPECT_TRUE(got.str() == want);
  EXPECT_TRUE(in_memory == want);
}

}  // namespace
}  // namespace flowkit::exporter
