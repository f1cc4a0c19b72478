#include "dissect/geoip.h"

#include <fmt/format.h>
#include <netinet/in.h>

#include <cstring>

#include "core/field_registry.h"

#ifdef FLOWKIT_HAVE_MAXMINDDB
#include <maxminddb.h>
#endif

namespace flowkit::dissect {

namespace {
constexpr size_t kCacheSize = 8192;  // a power of two

size_t slot_of(const IpAddress& a) {
  return size_t(hash_of(a) >> 40) & (kCacheSize - 1);
}
}  // namespace

#ifdef FLOWKIT_HAVE_MAXMINDDB

bool geoip_available() {
  return true;
}

struct GeoIp::Databases {
  std::vector<MMDB_s> files;
  ~Databases() {
    for (MMDB_s& f : files) MMDB_close(&f);
  }
};

namespace {

std::string_view string_at(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data ||
      data.type != MMDB_DATA_TYPE_UTF8_STRING)
    return {};
  return {data.utf8_string, data.data_size};
}

uint32_t number_at(MMDB_entry_s& entry, const char* const* path) {
  MMDB_entry_data_s data;
  if (MMDB_aget_value(&entry, &data, path) != MMDB_SUCCESS || !data.has_data) return 0;
  switch (data.type) {
    case MMDB_DATA_TYPE_UINT16:
      return data.uint16;
    case MMDB_DATA_TYPE_UINT32:
      return data.uint32;
    case MMDB_DATA_TYPE_INT32:
      return data.int32 > 0 ? uint32_t(data.int32) : 0;
    case MMDB_DATA_TYPE_UINT64:
      return data.uint64 <= UINT32_MAX ? uint32_t(data.uint64) : 0;
    default:
      return 0;
  }
}

}  // namespace

Result<GeoIp> GeoIp::open(std::span<const std::string> paths) {
  GeoIp g;
  if (paths.empty()) return g;
  auto dbs = std::make_shared<Databases>();
  dbs->files.reserve(paths.size());
  for (const std::string& path : paths) {
    MMDB_s mmdb;
    int rc = MMDB_open(path.c_str(), MMDB_MODE_MMAP, &mmdb);
    if (rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR)
      return Status::not_found(
          fmt::format("{}: cannot open: {} (scripts/fetch_geoip.sh fetches free databases)", path,
                      std::strerror(errno)));
    if (rc != MMDB_SUCCESS)
      return Status::corruption(
          fmt::format("{}: not a MaxMind DB file ({}); give a .mmdb country, city or ASN database",
                      path, MMDB_strerror(rc)));
    dbs->files.push_back(mmdb);
  }
  g.dbs_ = std::move(dbs);
  return g;
}

Place GeoIp::lookup(const IpAddress& a) const {
  // MaxMind's schema (country.iso_code, autonomous_system_*) and ip-location-db's (country_code).
  static const char* const kIsoCode[] = {"country", "iso_code", nullptr};
  static const char* const kCountryCode[] = {"country_code", nullptr};
  static const char* const kAsn[] = {"autonomous_system_number", nullptr};
  static const char* const kAsOrg[] = {"autonomous_system_organization", nullptr};
  sockaddr_in v4{};
  sockaddr_in6 v6{};
  const sockaddr* sa;
  if (a.is_v4()) {
    v4.sin_family = AF_INET;
    std::memcpy(&v4.sin_addr, a.v4_bytes(), 4);
    sa = reinterpret_cast<const sockaddr*>(&v4);
  } else {
    v6.sin6_family = AF_INET6;
    std::memcpy(&v6.sin6_addr, a.bytes(), 16);
    sa = reinterpret_cast<const sockaddr*>(&v6);
  }
  Place p;
  for (const MMDB_s& f : dbs_->files) {
    int error = 0;
    // libmaxminddb's lookups only read the database; the handle is not const in its API.
    MMDB_lookup_result_s found = MMDB_lookup_sockaddr(const_cast<MMDB_s*>(&f), sa, &error);
    if (error != MMDB_SUCCESS || !found.found_entry) continue;
    if (p.country.empty()) p.country = string_at(found.entry, kIsoCode);
    if (p.country.empty()) p.country = string_at(found.entry, kCountryCode);
    if (!p.asn) p.asn = number_at(found.entry, kAsn);
    if (p.as_org.empty()) p.as_org = string_at(found.entry, kAsOrg);
  }
  return p;
}

#else

bool geoip_available() {
  return false;
}

struct GeoIp::Databases {};

Result<GeoIp> GeoIp::open(std::span<const std::string> paths) {
  if (paths.empty()) return GeoIp();
  return Status::invalid_argument(
      "this flowkit was built without libmaxminddb: install libmaxminddb-dev "
      "(scripts/bootstrap.sh) and rebuild to use --geoip");
}

Place GeoIp::lookup(const IpAddress&) const {
  return {};
}

#endif

Place GeoIp::find(const IpAddress& a) {
  if (!dbs_) return {};
  if (cache_.empty()) cache_.resize(kCacheSize);
  Cached& c = cache_[slot_of(a)];
  if (!c.valid || !(c.address == a)) c = {a, lookup(a), true};
  return c.place;
}

void GeoIp::label(FlowRecord& r) {
  if (!dbs_) return;
  auto set_string = [&r](FieldId id, std::string_view s) {
    if (!s.empty()) field_info(id).set(r, Direction::kForward, FieldValue(s));
  };
  auto set_as = [&r](FieldId id, uint32_t asn) {
    const FieldInfo& f = field_info(id);
    if (asn && !field_present(f, r, Direction::kForward))
      f.set(r, Direction::kForward, FieldValue(uint64_t(asn)));
  };
  Place src = find(r.src_ip), dst = find(r.dst_ip);
  set_string(FieldId::kSrcCountry, src.country);
  set_string(FieldId::kDstCountry, dst.country);
  set_string(FieldId::kSrcAsOrg, src.as_org);
  set_string(FieldId::kDstAsOrg, dst.as_org);
  set_as(FieldId::kSrcAs, src.asn);
  set_as(FieldId::kDstAs, dst.asn);
}

}  // namespace flowkit::dissect
