#include "core/host_port.h"

namespace flowkit {

Result<HostPort> split_host_port(std::string_view rest) {
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  HostPort hp;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return Status::invalid_argument("unclosed [");
    hp.host = std::string(rest.substr(1, close - 1));
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return Status::invalid_argument("expected :PORT after ]");
      hp.port = rest.substr(close + 2);
    }
    return hp;
  }
  size_t colon = rest.rfind(':');
  if (colon != std::string_view::npos && rest.find(':') == colon) {
    hp.host = std::string(rest.substr(0, colon));
    hp.port = rest.substr(colon + 1);
  } else {
    hp.host = std::string(rest);  // a bare IPv6 address or a host without port
  }
  return hp;
}

Result<uint16_t> parse_port(std::string_view text) {
  unsigned long p = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return Status::invalid_argument("bad port");
    p = p * 10 + unsigned(c - '0');
    if (p > 65535) return Status::invalid_argument("port above 65535");
  }
  if (text.empty() || p == 0) return Status::invalid_argument("port 0");
  return uint16_t(p);
}

}  // namespace flowkit
