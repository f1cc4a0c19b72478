#include "dissect/geoip.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/field_registry.h"
#include "core/testing/ip.h"

namespace flowkit::dissect {
namespace {

using flowkit::testing::ip;

// Where scripts/fetch_geoip.sh puts the databases.
std::string geoip_dir() {
  if (const char* d = std::getenv("FLOWKIT_GEOIP_DIR")) return d;
  const char* home = std::getenv("HOME");
  return std::string(home ? home : "") + "/.cache/flowkit/geoip";
}

TEST(GeoIp, NoDatabasesLabelNothing) {
  auto g = GeoIp::open({});
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->empty());
  FlowRecord r;
  r.src_ip = ip("8.8.8.8");
  g->label(r);
  EXPECT_EQ(r.present, 0u);
}

TEST(GeoIp, BadFilesAreClearErrors) {
  if (!geoip_available()) GTEST_SKIP() << "built without libmaxminddb";
  std::vector<std::string> missing = {"/nonexistent/country.mmdb"};
  auto g = GeoIp::open(missing);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kNotFound);
  EXPECT_NE(g.status().message().find("/nonexistent/country.mmdb"), std::string::npos);

  std::string junk = ::testing::TempDir() + "geoip_junk_" + std::to_string(getpid()) + ".mmdb";
  std::ofstream(junk) << std::string(4096, 'x');
  std::vector<std::string> paths = {junk};
  g = GeoIp::open(paths);
  std::filesystem::remove(junk);
  ASSERT_FALSE(g.ok());
  EXPECT_EQ(g.status().code(), StatusCode::kCorruption);
  EXPECT_NE(g.status().message().find("not a MaxMind DB"), std::string::npos);
}

// The databases scripts/fetch_geoip.sh fetches: ip-location-db's country schema and MaxMind's
// ASN schema, read together. tests/geoip.py compares whole captures with mmdblookup.
TEST(GeoIp, CountryAndAsFromBothSchemas) {
  if (!geoip_available()) GTEST_SKIP() << "built without libmaxminddb";
  std::string dir = geoip_dir();
  std::vector<std::string> paths = {dir + "/country.mmdb", dir + "/asn.mmdb"};
  for (const auto& p : paths)
    if (!std::filesystem::exists(p)) GTEST_SKIP() << p << " is absent: run scripts/fetch_geoip.sh";
  auto opened = GeoIp::open(paths);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  GeoIp g = std::move(opened.value());

  Place google = g.find(ip("8.8.8.8"));
  EXPECT_EQ(google.country, "US");
  EXPECT_EQ(google.asn, 15169u);
  EXPECT_EQ(google.as_org, "Google LLC");
  Place v6 = g.find(ip("2001:4860:4860::8888"));
  EXPECT_EQ(v6.asn, 15169u);
  EXPECT_EQ(v6.country, "US");
  Place local = g.find(ip("10.1.2.3"));  // private: in no database
  EXPECT_TRUE(local.country.empty());
  EXPECT_EQ(local.asn, 0u);
  // A second answer comes from the cache and is the same.
  EXPECT_EQ(g.find(ip("8.8.8.8")).as_org, "Google LLC");

  FlowRecord r;
  r.src_ip = ip("10.1.2.3");
  r.dst_ip = ip("8.8.8.8");
  field_info(FieldId::kSrcAs).set(r, Direction::kForward, FieldValue(uint64_t(64512)));
  GeoIp copy = g;  // a copy shares the databases
  copy.label(r);
  EXPECT_EQ(r.app.dst_country, "US");
  EXPECT_EQ(r.app.dst_as_org, "Google LLC");
  EXPECT_EQ(r.dst_as, 15169u);
  EXPECT_EQ(r.src_as, 64512u);  // the router's AS stays
  EXPECT_FALSE(field_present(field_info(FieldId::kSrcCountry), r, Direction::kForward));
}

}  // namespace
}  // namespace flowkit::dissect
