// An address from its text, for tests: a mistyped address throws rather than reading garbage.
#pragma once

#include <string_view>

#include "core/ip_address.h"

namespace flowkit::testing {

inline IpAddress ip(std::string_view text) {
  return IpAddress::parse(text).value();
}

}  // namespace flowkit::testing
