// Where `flowkit collect -l` listens: [SCHEME://][ADDR:]PORT, in the URL forms of --export.
//   2055, 0.0.0.0:2055, [::1]:4739, ipfix://:4739   UDP (any version: v5, v9 and IPFIX)
//   ipfix+tcp://[ADDR:]PORT                          IPFIX over TCP (RFC 7011 10.4)
// Without an address a socket takes IPv6 and IPv4 both (:: with IPV6_V6ONLY off).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace flowkit::collect {

struct ListenAddress {
  bool tcp = false;
  std::string text;  // as given, for messages
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  bool any = false;  // no address given: every address, both families
  uint16_t port = 0;
};

Result<ListenAddress> parse_listen(std::string_view spec);

}  // namespace flowkit::collect
