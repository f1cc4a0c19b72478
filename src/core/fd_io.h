// Writing a whole buffer to a file descriptor: short writes continue, EINTR retries.
#pragma once

#include <cstdint>
#include <span>

namespace flowkit {

// Writes all of `bytes` to `fd` (with send(MSG_NOSIGNAL) when `socket`, so a closed peer is an
// error, not a SIGPIPE). Returns 0, or the errno of the failure (ENOSPC when write() wrote 0).
int write_fully(int fd, std::span<const uint8_t> bytes, bool socket = false);

}  // namespace flowkit
