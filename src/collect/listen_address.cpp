#include "collect/listen_address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

#include "core/host_port.h"

namespace flowkit::collect {

Result<ListenAddress> parse_listen(std::string_view spec) {
  ListenAddress l;
  l.text = std::string(spec);
  auto usage = [&](std::string_view why) {
    return Status::invalid_argument("-l " + std::string(spec) + ": " + std::string(why) +
                                    "; use PORT, ADDR:PORT, [IPV6]:PORT or "
                                    "ipfix+tcp://[ADDR:]PORT");
  };
  std::string_view rest = spec;
  uint16_t port = 2055;
  if (size_t sep = rest.find("://"); sep != std::string_view::npos) {
    std::string_view scheme = rest.substr(0, sep);
    rest = rest.substr(sep + 3);
    if (scheme == "ipfix+tcp" || scheme == "tcp") {
      l.tcp = true;
      port = 4739;
    } else if (scheme == "ipfix" || scheme == "ipfix+udp") {
      port = 4739;
    } else if (scheme != "udp" && scheme != "netflow9" && scheme != "netflow5" && scheme != "nf9" &&
               scheme != "nf5") {
      return usage("unknown scheme '" + std::string(scheme) + "'");
    }
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  // A bare number is a port; anything else goes as in --export.
  bool digits = !rest.empty() && rest.find_first_not_of("0123456789") == std::string_view::npos;
  HostPort hp;
  if (digits) {
    hp.port = rest;
  } else {
    auto split = split_host_port(rest);
    if (!split) return usage(split.status().message());
    hp = *split;
  }
  std::string host = hp.host;
  if (!hp.port.empty()) {
    auto p = parse_port(hp.port);
    if (!p) return usage(p.status().message());
    port = *p;
  }
  l.port = port;
  if (host.empty()) {
    l.any = true;
    auto* a = reinterpret_cast<sockaddr_in6*>(&l.addr);
    a->sin6_family = AF_INET6;
    a->sin6_addr = in6addr_any;
    a->sin6_port = htons(port);
    l.addr_len = sizeof(sockaddr_in6);
    return l;
  }
  addrinfo hints{}, *res = nullptr;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  hints.ai_socktype = l.tcp ? SOCK_STREAM : SOCK_DGRAM;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(host.c_str(), service.c_str(), &hints, &res); rc != 0 || !res)
    return usage("cannot resolve '" + host + "': " + ::gai_strerror(rc));
  std::memcpy(&l.addr, res->ai_addr, res->ai_addrlen);
  l.addr_len = socklen_t(res->ai_addrlen);
  ::freeaddrinfo(res);
  return l;
}

}  // namespace flowkit::collect
