// Where each end of a record is: country and autonomous system from MaxMind-format databases
// (--geoip FILE, libmaxminddb). Any mix of databases works: MaxMind's GeoLite2/GeoIP2 Country,
// City and ASN, and the free ip-location-db ones (scripts/fetch_geoip.sh); each address takes
// the first answer for each value in the order the files were given.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/flow_record.h"
#include "core/result.h"

namespace flowkit::dissect {

// Whether this build reads MaxMind databases (libmaxminddb was found).
bool geoip_available();

// The views point into the mapped database, so they stay valid as long as a GeoIp holds it.
struct Place {
  std::string_view country;  // ISO 3166-1 alpha-2; empty when unknown
  uint32_t asn = 0;          // 0 when unknown
  std::string_view as_org;
};

// Copies share the open databases; each copy keeps its own cache of recent answers, so give each
// thread its own copy.
class GeoIp {
 public:
  GeoIp() = default;
  // Opens each database; an error names the file and says what is wrong with it.
  static Result<GeoIp> open(std::span<const std::string> paths);
  bool empty() const { return !dbs_; }

  Place find(const IpAddress& a);
  // src_country, dst_country, src_as_org and dst_as_org, and src_as/dst_as where the record has
  // none (a router's BGP AS stays).
  void label(FlowRecord& r);

 private:
  struct Databases;
  struct Cached {
    IpAddress address;
    Place place;
    bool valid = false;
  };
  Place lookup(const IpAddress& a) const;

  std::shared_ptr<const Databases> dbs_;
  // Direct-mapped by address: flows repeat their servers' addresses, and a lookup walks a tree
  // of 20-30 nodes in the file.
  std::vector<Cached> cache_;
};

}  // namespace flowkit::dissect
