#!/usr/bin/env bash
# Instructions per packet, flowkit meter against nfpcapd, counted by valgrind (callgrind): a
# figure that does not move with the machine's load, unlike the wall-clock times of
# bench/meter_vs_nfpcapd.sh, so it shows changes of a few percent that timing cannot. It counts
# work, not time: cache misses and the kernel's copy of the file cost nothing here.
#
# The capture is every nDPI capture in ../shared/pcaps/ndpi-4.2 replicated once by
# `flowkit gen --replicate` (the same traffic as one copy of the large benchmark capture).
# Every thread's instructions count, nfpcapd's too. flowkit's hash secret is fixed
# (FLOWKIT_HASH_SEED), so that its flow table's probe lengths, and with them the count, repeat.
#
# usage: bench/meter_instructions.sh [FLOWKIT]     (default: build/apps/flowkit/flowkit)
#   BENCH_DIR=build/bench-data
set -euo pipefail
cd "$(dirname "$0")/.."
fk=${1:-build/apps/flowkit/flowkit}
dir=${BENCH_DIR:-build/bench-data}
for tool in valgrind nfpcapd; do
  command -v $tool >/dev/null || { echo "$tool missing: run scripts/bootstrap.sh" >&2; exit 1; }
done
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
mkdir -p "$dir"
source bench/common.sh
pcap=$(ndpi_capture "$fk" "$dir" 1)
packets=$(capinfos -c -M "$pcap" 2>/dev/null | awk '/Number of packets/ {print $NF}')

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# count NAME CMD...: instructions of the whole run, startup included.
count() {
  local name=$1
  shift
  FLOWKIT_HASH_SEED=7 valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" >/dev/null \
    2>"$tmp/$name.err" || {
    echo "$name failed:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
  }
  awk '/I +refs:/ {gsub(",", "", $NF); print $NF}' "$tmp/$name.err"
}
mkdir "$tmp/nf"
nf=$(count nfpcapd nfpcapd -r "$pcap" -w "$tmp/nf")
stats=$(count flowkit_stats "$fk" meter -r "$pcap" -o none --threads 1 -q)
nostats=$(count flowkit_nostats "$fk" meter -r "$pcap" -o none --no-stats --threads 1 -q)
awk -v p="$packets" -v nf="$nf" -v s="$stats" -v ns="$nostats" -v cap="$pcap" 'BEGIN {
  printf "capture: %s, %d packets; instructions of the whole run (valgrind --tool=callgrind)\n", cap, p
  printf "  %-40s %14s %10s\n", "", "instructions", "per packet"
  printf "  %-40s %14d %10.0f\n", "nfpcapd -r FILE -w DIR", nf, nf / p
  printf "  %-40s %14d %10.0f\n", "flowkit meter -o none --threads 1", s, s / p
  printf "  %-40s %14d %10.0f\n", "  ... --no-stats --threads 1", ns, ns / p
  printf "nfpcapd / flowkit: %.1fx (statistics on), %.1fx (off)\n", nf / s, nf / ns
}'
