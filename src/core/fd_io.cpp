#include "core/fd_io.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

namespace flowkit {

int write_fully(int fd, std::span<const uint8_t> bytes, bool socket) {
  const uint8_t* p = bytes.data();
  size_t left = bytes.size();
  while (left > 0) {
    ssize_t n = socket ? ::send(fd, p, left, MSG_NOSIGNAL) : ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (n == 0) return ENOSPC;
    p += n;
    left -= size_t(n);
  }
  return 0;
}

}  // namespace flowkit
