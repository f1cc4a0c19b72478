#!/usr/bin/env bash
# Installs every Debian 12 package flowkit's build, tests and benchmarks need.
# Idempotent and non-interactive; run as root or with sudo available.
# --bench adds ClickHouse (server and client), which only bench/query.sh uses.
set -euo pipefail

packages=(
  # build
  build-essential cmake ninja-build pkg-config clang clang-format libclang-rt-14-dev
  # libraries (see docs/DESIGN in ../shared/DESIGN.md, "Dependencies")
  libpcap-dev libzstd-dev liblz4-dev libxxhash-dev libcli11-dev libfmt-dev nlohmann-json3-dev
  libssl-dev libndpi-dev libmaxminddb-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev python3 python3-yaml valgrind
  # interop peers and reference tools
  tshark nfdump softflowd libfixbuf-tools tcpreplay python3-scapy iproute2 iputils-ping time bc
  libndpi-bin mmdb-bin
)
# scripts/fetch_geoip.sh fetches GeoIP databases from the npm registry; a node install from
# elsewhere serves as well as Debian's.
command -v npm >/dev/null || packages+=(npm)
if [[ ${1:-} == --bench ]]; then
  packages+=(clickhouse-server clickhouse-client)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "bootstrap: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, no prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "bootstrap: installed ${missing[*]}"
