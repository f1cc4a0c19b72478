// Where `--export URL` sends flows, and the transports that carry the messages there:
//   ipfix://host:port         IPFIX over UDP (default port 4739)
//   ipfix+tcp://host:port     IPFIX over TCP (4739)
//   netflow9://host:port      NetFlow v9 over UDP (2055)
//   netflow5://host:port      NetFlow v5 over UDP (2055)
//   file:PATH                 an IPFIX file (RFC 5655)
// Hosts are IPv4 or IPv6 addresses ([2001:db8::1]:4739) or names.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/result.h"
#include "ipfix/encoder.h"

namespace flowkit::exporter {

struct ExportTarget {
  enum class Transport : uint8_t { kUdp, kTcp, kFile };
  Transport transport = Transport::kUdp;
  ipfix::Format format = ipfix::Format::kIpfix;
  std::string url;   // as given
  std::string host;  // numeric, as resolved
  uint16_t port = 0;
  std::string path;  // file
  sockaddr_storage addr{};
  socklen_t addr_len = 0;
  bool ipv6 = false;
};

Result<ExportTarget> parse_export_url(std::string_view url);

struct TransportStats {
  uint64_t messages = 0;  // handed to the network or file
  uint64_t bytes = 0;
  uint64_t send_errors = 0;  // UDP: refused (no collector), too big...; counted, not fatal
  uint64_t reconnects = 0;   // TCP
  uint64_t dropped = 0;      // TCP: messages while no connection could be made
  std::string last_error;    // why the last message was lost ("Connection refused")
};

// Sends whole messages. `connected()` turns false when a stream breaks; the owner then starts a
// new session (new templates) once connected() is true again.
class Transport {
 public:
  virtual ~Transport() = default;
  // True when the message was handed over (a UDP send error still returns true: lost datagrams
  // are what UDP does; they are counted).
  virtual bool send(std::span<const uint8_t> message) = 0;
  // TCP: tries to (re)connect when the back-off allows; returns whether a session is up.
  virtual bool connected() { return true; }
  // A new session began since the last call (TCP reconnect): templates must go again.
  virtual bool new_session() { return false; }
  virtual Status close() { return {}; }
  virtual const TransportStats& stats() const = 0;
};

Result<std::unique_ptr<Transport>> open_transport(const ExportTarget& target);

}  // namespace flowkit::exporter
