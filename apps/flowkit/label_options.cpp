#include "label_options.h"

#include <cstdio>

namespace flowkit::app {

void add_label_options(CLI::App* cmd, LabelArgs& args) {
  cmd->add_option("--local-net", args.local_nets,
                  "Your own networks (CIDR, comma-separated; repeatable): each record's\n"
                  "traffic_direction says inbound, outbound, internal or external")
      ->type_name("CIDR,...");
  cmd->add_option("--geoip", args.geoip,
                  "A MaxMind-format database (.mmdb; repeatable): country, AS number and AS\n"
                  "organisation of both ends (src_country, src_as, src_as_org, dst_...).\n"
                  "GeoLite2 Country/City/ASN or ip-location-db's; scripts/fetch_geoip.sh\n"
                  "fetches free ones")
      ->type_name("FILE");
}

bool parse_label_options(const char* command, const LabelArgs& args, dissect::LocalNets& nets,
                         dissect::GeoIp& geoip) {
  std::string all;
  for (const std::string& list : args.local_nets) all += list + ",";
  auto local = dissect::LocalNets::parse(all);
  if (!local) {
    std::fprintf(stderr, "flowkit %s: --local-net: %s\n", command,
                 local.status().message().c_str());
    return false;
  }
  auto db = dissect::GeoIp::open(args.geoip);
  if (!db) {
    std::fprintf(stderr, "flowkit %s: --geoip %s\n", command, db.status().message().c_str());
    return false;
  }
  nets = std::move(local.value());
  geoip = std::move(db.value());
  return true;
}

}  // namespace flowkit::app
