#!/usr/bin/env bash
# Whole-run benchmark: what the payload dissectors (DNS, TLS, HTTP, SSH, VPN, TCP health, nDPI's
# labels) cost the meter. The same capture metered with `--dissect all` (the default) and
# `--dissect none`, writing a store as a user would (`-o store -w DIR`), with one thread and
# with the default two, best of ROUNDS runs, interleaved. Prints seconds, packets/s, peak memory
# and the ratio all/none; the issue's target is all/none <= 1.30 (dissectors under 30%). With the
# databases of scripts/fetch_geoip.sh in GEOIP_DIR, also `--dissect all --geoip` (both
# databases) against `--dissect all`: what placing both ends of every record costs.
#
# Captures (written once to BENCH_DIR and reused):
#   - ndpi_xCOPIES.pcap: every nDPI capture replicated COPIES times with shifted addresses
#     (`flowkit gen --replicate`): real traffic shapes, TLS- and DNS-rich;
#   - gen_PACKETS.pcap: `flowkit gen` synthetic sessions (TLS, HTTP, DNS, TCP, ICMP).
#
# usage: bench/dissect.sh [FLOWKIT]     (default: build/apps/flowkit/flowkit)
#   BENCH_DIR=build/bench-data COPIES=20 PACKETS=4000000 ROUNDS=3
#   GEOIP_DIR=~/.cache/flowkit/geoip
set -euo pipefail
cd "$(dirname "$0")/.."
fk=${1:-build/apps/flowkit/flowkit}
dir=${BENCH_DIR:-build/bench-data}
copies=${COPIES:-20}
gen_packets=${PACKETS:-4000000}
rounds=${ROUNDS:-3}
geo=${GEOIP_DIR:-$HOME/.cache/flowkit/geoip}
variants=(all none)
if [[ -s $geo/country.mmdb && -s $geo/asn.mmdb ]]; then variants+=(geoip); fi
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
mkdir -p "$dir"

source bench/common.sh
ndpi=$(ndpi_capture "$fk" "$dir" "$copies")
synthetic=$dir/gen_${gen_packets}.pcap
if [[ ! -s $synthetic ]]; then
  echo "writing $synthetic..." >&2
  "$fk" gen -w "$synthetic" --packets "$gen_packets" --seed 11 -q
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
best() { sort -n "$1" | head -1; }
# run NAME CMD...: appends "seconds max_rss_kb" to $tmp/NAME
run() {
  local name=$1
  shift
  rm -rf "$tmp/store"
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/err" || {
    echo "$name failed:" >&2
    cat "$tmp/err" >&2
    exit 1
  }
  cat "$tmp/time" >>"$tmp/$name"
}

for pcap in "$ndpi" "$synthetic"; do
  packets=$(capinfos -c -M "$pcap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
  cat "$pcap" >/dev/null  # page-cached
  echo "== $pcap: $packets packets, $(($(stat -L -c %s "$pcap") / 1000000)) MB"
  rm -f "$tmp"/t*
  for ((i = 0; i < rounds; i++)); do
    for threads in 1 2; do
      for v in "${variants[@]}"; do
        args=(--dissect "$v")
        [[ $v == geoip ]] && args=(--dissect all --geoip "$geo/country.mmdb" --geoip "$geo/asn.mmdb")
        run "t${threads}_$v" "$fk" meter -r "$pcap" -o store -w "$tmp/store" -q \
          --threads "$threads" "${args[@]}"
      done
    done
  done
  for threads in 1 2; do
    read -r all rss_all < <(best "$tmp/t${threads}_all")
    read -r none rss_none < <(best "$tmp/t${threads}_none")
    printf '  --threads %s: all %.2f s (%.2f Mpps, %d MB)  none %.2f s (%.2f Mpps, %d MB)  all/none %.2f\n' \
      "$threads" "$all" "$(bc -l <<<"$packets / $all / 1000000")" $((rss_all / 1024)) \
      "$none" "$(bc -l <<<"$packets / $none / 1000000")" $((rss_none / 1024)) \
      "$(bc -l <<<"$all / $none")"
    if [[ -s $tmp/t${threads}_geoip ]]; then
      read -r geoip _ < <(best "$tmp/t${threads}_geoip")
      printf '  --threads %s: all + --geoip %.2f s  (all+geoip)/all %.2f\n' "$threads" "$geoip" \
        "$(bc -l <<<"$geoip / $all")"
    fi
  done
done
echo "command: bench/dissect.sh $fk (COPIES=$copies PACKETS=$gen_packets ROUNDS=$rounds)"
