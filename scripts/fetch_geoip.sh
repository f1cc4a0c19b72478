#!/usr/bin/env bash
# Fetches free MaxMind-format databases for `flowkit meter --geoip` from the npm registry (never
# committed: their licences ask for attribution, and they age):
#   country.mmdb  ip-location-db's GeoLite2 country database (current; key country_code)
#   asn.mmdb      MaxMind's GeoLite2 ASN of February 2018, as the npm package geolite2 1.3.0
#                 shipped it (MaxMind's own schema; npm has no newer ASN database in .mmdb form)
# Usage: scripts/fetch_geoip.sh [DIR]   (default $FLOWKIT_GEOIP_DIR or ~/.cache/flowkit/geoip)
# Then: flowkit meter -r FILE --geoip DIR/country.mmdb --geoip DIR/asn.mmdb
# Needs npm (Debian: apt-get install npm). Re-running keeps the files already there.
set -euo pipefail
dir=${1:-${FLOWKIT_GEOIP_DIR:-$HOME/.cache/flowkit/geoip}}
mkdir -p "$dir"
if ! command -v npm >/dev/null; then
  echo "fetch_geoip: npm is not installed (apt-get install npm)" >&2
  exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch NAME PACKAGE MEMBER: unpacks MEMBER of PACKAGE's tarball to DIR/NAME.
fetch() {
  local name=$1 package=$2 member=$3
  if [[ -s $dir/$name ]]; then
    echo "fetch_geoip: $dir/$name is there"
    return
  fi
  (cd "$work" && npm pack --silent "$package" >/dev/null)
  local tarball
  tarball=$(ls "$work"/*.tgz)
  tar --no-same-owner -xzf "$tarball" -C "$work" "package/$member"
  mv "$work/package/$member" "$dir/$name.tmp" && mv "$dir/$name.tmp" "$dir/$name"
  rm -rf "$work"/*
  echo "fetch_geoip: $dir/$name from $package"
}

fetch country.mmdb @ip-location-db/geolite2-country-mmdb geolite2-country.mmdb
fetch asn.mmdb geolite2@1.3.0 dbs/GeoLite2-ASN.mmdb
