// The HOST:PORT part of the addresses users type (--export URLs, collect -l): HOST:PORT,
// [IPV6]:PORT, a bare host or IPv6 address. Errors are the reason alone, for the caller to put
// in its own usage message.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace flowkit {

struct HostPort {
  std::string host;       // empty when none was given
  std::string_view port;  // empty when none was given (a view into the text)
};

// Trailing '/' are ignored.
Result<HostPort> split_host_port(std::string_view text);
// 1..65535.
Result<uint16_t> parse_port(std::string_view text);

}  // namespace flowkit
