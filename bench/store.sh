#!/usr/bin/env bash
# Whole-run benchmark of the flow store against nfdump's files, on the same captures:
#   flow-heavy:  ../shared/tools/gen_big_pcap.c `2000000 3 600 1` (2 million flows of 1-3
#                packets, as in a scan or a flood) and `8000000 3 600 2` (8 million more);
#   real shapes: every nDPI capture of ../shared/pcaps/ndpi-4.2 replicated 90 times
#                (bench/meter_vs_nfpcapd.sh writes it), 516k biflows.
# At least 10 million flows in all. For each capture:
#   bytes:  flowkit `meter -o store` with default options (zstd) and with --compress lz4,
#           against `nfpcapd -y` (LZ4) and `nfpcapd -j` (bzip2): bytes on disk per flow, each
#           tool's flows as it counts them (flowkit biflows, nfdump records), and flowkit's bytes
#           per flow over nfdump-LZ4's.
#   write:  what writing the store adds to `meter -o none` (the median over rounds of the
#           difference within a round), as a share of the -o none time.
#   scan:   `flowkit store info` (reads the packet and byte columns of every block) against
#           `nfdump -R DIR -s proto` (reads every record), page-cached, records per second.
#
# usage: bench/store.sh [FLOWKIT]     (default: build/apps/flowkit/flowkit)
#   BENCH_DIR=build/bench-data OUT_DIR=build/bench-out ROUNDS=3
#   CAPTURES="big_2m big_8m ndpi_x90" (a subset skips the others and, without ndpi_x90, its 8 GB)
set -euo pipefail
cd "$(dirname "$0")/.."
fk=${1:-build/apps/flowkit/flowkit}
dir=${BENCH_DIR:-build/bench-data}
out=${OUT_DIR:-build/bench-out}
rounds=${ROUNDS:-3}
gen_src=../shared/tools/gen_big_pcap.c
for tool in nfpcapd nfdump gcc; do
  command -v $tool >/dev/null || { echo "$tool missing: run scripts/bootstrap.sh" >&2; exit 1; }
done
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
[[ -f $gen_src ]] || { echo "$gen_src not found: the captures come from the shared generator" >&2; exit 1; }
mkdir -p "$dir" "$out"
[[ -x $dir/gen_big_pcap ]] || gcc -O2 -o "$dir/gen_big_pcap" "$gen_src"
[[ -s $dir/big_2m.pcap ]] || "$dir/gen_big_pcap" "$dir/big_2m.pcap" 2000000 3 600 1
[[ -s $dir/big_8m.pcap ]] || "$dir/gen_big_pcap" "$dir/big_8m.pcap" 8000000 3 600 2
captures=${CAPTURES:-big_2m big_8m ndpi_x90}
source bench/common.sh
[[ " $captures " == *" ndpi_x90 "* ]] && ndpi_capture "$fk" "$dir" 90 >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out"/store-bench' EXIT
work=$out/store-bench
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
# Seconds to the millisecond (/usr/bin/time's hundredths made a 10 ms scan look like 0 or 20 ms).
secs() {
  local t0 t1
  t0=$(date +%s%N)
  "$@" >/dev/null 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f\n", (b - a) / 1e9}'
}
du_bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}'; }

printf '%-14s %10s %10s %9s %9s %9s %9s %8s %8s %9s %9s\n' capture flows nf_records \
  fk_zstd fk_lz4 nf_lz4 nf_bz2 ratio write scan_fk scan_nf
printf '%-14s %10s %10s %9s %9s %9s %9s %8s %8s %9s %9s\n' "" "" "" "B/flow" "B/flow" \
  "B/rec" "B/rec" "zstd/lz4" "+%none" "Mrec/s" "Mrec/s"
for name in $captures; do
  pcap=$dir/$name.pcap
  cat "$pcap" >/dev/null
  rm -rf "$work" && mkdir -p "$work"
  # Write: rounds of -o none and -o store, interleaved.
  : >"$tmp/adds"
  : >"$tmp/none"
  for ((r = 0; r < rounds; ++r)); do
    rm -rf "$work/fk"
    n=$(secs "$fk" meter -r "$pcap" -o none)
    s=$(secs "$fk" meter -r "$pcap" -o store -w "$work/fk")
    echo "$n" >>"$tmp/none"
    awk -v s="$s" -v n="$n" 'BEGIN {print s - n}' >>"$tmp/adds"
  done
  flows=$("$fk" store info "$work/fk" | awk '/^flows:/ {print $2}')
  fk_zstd=$(du_bytes "$work/fk")
  "$fk" meter -r "$pcap" -o store -w "$work/lz4" --compress lz4 -q
  fk_lz4=$(du_bytes "$work/lz4")
  mkdir -p "$work/nf_lz4" "$work/nf_bz2"
  nfpcapd -r "$pcap" -w "$work/nf_lz4" -y >/dev/null 2>&1
  nfpcapd -r "$pcap" -w "$work/nf_bz2" -j 9 >/dev/null 2>&1  # this build's -j takes a level
  nf_records=$(nfdump -R "$work/nf_lz4" -I | awk '/^Flows:/ {print $2}')
  nf_lz4=$(du_bytes "$work/nf_lz4")
  nf_bz2=$(du_bytes "$work/nf_bz2")
  # Scan, page-cached: the best of the rounds.
  "$fk" store info "$work/fk" >/dev/null
  nfdump -R "$work/nf_lz4" -s proto >/dev/null
  scan_fk=$(for ((r = 0; r < rounds; ++r)); do secs "$fk" store info "$work/fk"; done | sort -n | head -1)
  scan_nf=$(for ((r = 0; r < rounds; ++r)); do secs nfdump -R "$work/nf_lz4" -s proto; done | sort -n | head -1)
  awk -v name="$name" -v flows="$flows" -v nfr="$nf_records" -v z="$fk_zstd" -v l="$fk_lz4" \
    -v nl="$nf_lz4" -v nb="$nf_bz2" -v add="$(median <"$tmp/adds")" -v none="$(median <"$tmp/none")" \
    -v sf="$scan_fk" -v sn="$scan_nf" 'BEGIN {
      printf "%-14s %10d %10d %9.1f %9.1f %9.1f %9.1f %8.2f %7.0f%% %9.1f %9.1f\n", name, flows, nfr,
        z / flows, l / flows, nl / nfr, nb / nfr, (z / flows) / (nl / nfr), 100 * add / none,
        flows / (sf > 0 ? sf : 0.001) / 1e6, nfr / (sn > 0 ? sn : 0.001) / 1e6
    }'
  echo "  $name: -o none $(median <"$tmp/none") s; writing the store adds $(median <"$tmp/adds") s (median of $rounds)" >&2
done
echo "ratio: flowkit's bytes per flow (zstd, default) over nfdump's per record with LZ4 (-y)."
echo "scan: flowkit store info (packet and byte columns of every block) vs nfdump -s proto."
