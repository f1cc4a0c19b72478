#include "export/text_output.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>

namespace flowkit::exporter {
namespace {

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

}  // namespace
}  // namespace flowkit::exporter
