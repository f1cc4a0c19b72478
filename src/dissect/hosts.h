// What the meter learns about hosts besides their flows: names from the DNS answers it saw
// (HostNames), and which addresses are the user's own networks (LocalNets, --local-net). Both
// label records at export: src_host/dst_host and traffic_direction.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/arena.h"
#include "core/flow_record.h"
#include "core/result.h"

namespace flowkit::dissect {

// Address -> the name a DNS answer gave it, for the most recent `capacity` answers (the oldest
// forgotten first). A later answer for an address replaces its name.
class HostNames {
 public:
  static constexpr size_t kDefaultCapacity = 65536;
  explicit HostNames(size_t capacity = kDefaultCapacity) : capacity_(capacity) {}
  void learn(const IpAddress& address, std::string_view name);
  // The name of an address, or "" when no answer named it.
  std::string_view find(const IpAddress& address) const;
  // src_host and dst_host of r, when known (strings copied into `arena`).
  void label(FlowRecord& r, Arena& arena) const;
  size_t size() const { return names_.size(); }

 private:
  struct Hash {
    size_t operator()(const IpAddress& a) const;
  };
  size_t capacity_;
  std::unordered_map<IpAddress, std::string, Hash> names_;
  std::vector<IpAddress> order_;  // a ring of the learned addresses, oldest at next_
  size_t next_ = 0;
};

// The user's own networks: a record is inbound (to them from outside), outbound, internal (both
// ends inside) or external (neither).
class LocalNets {
 public:
  // "10.0.0.0/8,2001:db8::/32,192.168.1.7": networks and single addresses.
  static Result<LocalNets> parse(std::string_view list);
  bool empty() const { return nets_.empty(); }
  bool contains(const IpAddress& a) const;
  // Sets traffic_direction of r.
  void label(FlowRecord& r) const;

 private:
  struct Net {
    IpAddress address;
    int prefix;  // bits of the 128 (IPv4 is held mapped: /24 is 120)
  };
  std::vector<Net> nets_;
};

}  // namespace flowkit::dissect
