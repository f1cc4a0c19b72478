#include "export/top_talkers.h"

#include <xxhash.h>

#include <algorithm>
#include <cstdio>

namespace flowkit::exporter {

size_t TopTalkers::Hash::operator()(const IpAddress& a) const {
  return XXH3_64bits(a.bytes(), 16);
}

void TopTalkers::write(std::span<const FlowRecord> records) {
  for (const FlowRecord& r : records) {
    for (const IpAddress* ip : {&r.src_ip, &r.dst_ip}) {
      HostTotals& h = hosts_[*ip];
      h.host = *ip;
      h.bytes += r.bytes();
      h.packets += r.packets();
      h.flows += 1;
    }
  }
}

std::vector<HostTotals> TopTalkers::top(size_t n) const {
  std::vector<HostTotals> all;
  all.reserve(hosts_.size());
  for (const auto& [ip, h] : hosts_) all.push_back(h);
  auto busier = [](const HostTotals& a, const HostTotals& b) {
    return a.bytes != b.bytes ? a.bytes > b.bytes : a.host < b.host;
  };
  if (n < all.size()) {
    std::partial_sort(all.begin(), all.begin() + long(n), all.end(), busier);
    all.resize(n);
  } else {
    std::sort(all.begin(), all.end(), busier);
  }
  return all;
}

std::string TopTalkers::format(size_t n) const {
  std::string out = "Top " + std::to_string(n) + " talkers by bytes (sent + received):\n";
  char line[160];
  std::snprintf(line, sizeof line, "  %-39s %14s %12s %9s\n", "host", "bytes", "packets", "flows");
  out += line;
  for (const HostTotals& h : top(n)) {
    std::snprintf(line, sizeof line, "  %-39s %14llu %12llu %9llu\n", h.host.to_string().c_str(),
                  (unsigned long long)h.bytes, (unsigned long long)h.packets,
                  (unsigned long long)h.flows);
    out += line;
  }
  return out;
}

}  // namespace flowkit::exporter
