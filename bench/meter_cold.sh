#!/usr/bin/env bash
# Whole-run benchmark on a capture that is not in the page cache: each run starts after the
# file is dropped from the cache (posix_fadvise DONTNEED), so every tool reads it from the
# disk. Compares cat (the I/O floor), flowkit with two threads and with one, and nfpcapd, in
# interleaved rounds; prints each one's median wall time, CPU time and ratio to cat.
#
# usage: bench/meter_cold.sh [CAPTURE [FLOWKIT]]
#   CAPTURE: default build/bench-data/ndpi_x90.pcap (bench/meter_vs_nfpcapd.sh writes it)
#   ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
pcap=${1:-build/bench-data/ndpi_x90.pcap}
fk=${2:-build/apps/flowkit/flowkit}
rounds=${ROUNDS:-3}
[[ -s $pcap ]] || { echo "$pcap missing: bench/meter_vs_nfpcapd.sh writes it" >&2; exit 1; }
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
command -v nfpcapd >/dev/null || { echo "nfpcapd missing: run scripts/bootstrap.sh" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
evict() {
  python3 -c 'import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)' "$pcap"
}
# run NAME CMD...: drops the file from the cache, then appends "wall cpu" to $tmp/NAME
run() {
  local name=$1
  shift
  evict
  /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/$name.err" || {
    echo "$name failed:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
  }
  awk '{print $1, $2 + $3}' "$tmp/time" >>"$tmp/$name"
}
names=(cat flowkit flowkit_1t nfpcapd)
echo "capture: $pcap, $(($(stat -L -c %s "$pcap") / 1000000)) MB, dropped from the page cache before each run"
for ((r = 0; r < rounds; ++r)); do
  for ((i = 0; i < ${#names[@]}; ++i)); do
    case ${names[(r + i) % ${#names[@]}]} in
      cat) run cat cat "$pcap" ;;
      flowkit) run flowkit "$fk" meter -r "$pcap" -o none ;;
      flowkit_1t) run flowkit_1t "$fk" meter -r "$pcap" -o none --threads 1 ;;
      nfpcapd) rm -rf "$tmp/nf" && mkdir "$tmp/nf" && run nfpcapd nfpcapd -r "$pcap" -w "$tmp/nf" ;;
    esac
  done
done
median() { sort -n -k"$2" "$1" | awk -v k="$2" '{a[NR] = $k} END {print NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
floor=$(median "$tmp/cat" 1)
printf "median of %d rounds:   %8s %9s %9s\n" "$rounds" wall CPU "wall/cat"
for n in "${names[@]}"; do
  w=$(median "$tmp/$n" 1)
  c=$(median "$tmp/$n" 2)
  case $n in
    cat) label="cat FILE > /dev/null" ;;
    flowkit) label="flowkit meter (2 threads)" ;;
    flowkit_1t) label="flowkit meter --threads 1" ;;
    nfpcapd) label="nfpcapd -r FILE -w DIR" ;;
  esac
  awk -v l="$label" -v w="$w" -v c="$c" -v f="$floor" 'BEGIN {printf "  %-26s %6.2f s %7.2f s %8.2fx\n", l, w, c, w / f}'
done
