#include "collect/listen_address.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <cstring>

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
  std::string host;
  std::string_view port_text;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return usage("unclosed [");
    host = std::string(rest.substr(1, close - 1));
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return usage("expected :PORT after ]");
      port_text = rest.substr(close + 2);
    }
  } else if (size_t colon = rest.rfind(':'); colon == std::string_view::npos) {
    // A bare number is a port; anything else an address.
    bool digits = !rest.empty() && rest.find_first_not_of("0123456789") == std::string_view::npos;
    if (digits) {
      port_text = rest;
    } else {
      host = std::string(rest);
    }
  } else if (rest.find(':') == colon) {
    host = std::string(rest.substr(0, colon));
    port_text = rest.substr(colon + 1);
  } else {
    host = std::string(rest);  // a bare IPv6 address
  }
  if (!port_text.empty()) {
    unsigned long p = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9') return usage("bad port");
      p = p * 10 + unsigned(c - '0');
      if (p > 65535) return usage("port above 65535");
    }
    if (p == 0) return usage("port 0");
    port = uint16_t(p);
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
