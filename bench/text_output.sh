#!/usr/bin/env bash
# Whole-run benchmark of text output: flowkit meter writing JSON and CSV files, against nfdump
# writing the same flows as JSON and CSV (its -o json / -o csv), in the same run.
#
# The capture is the flow-heavy one that ../shared/tools/gen_big_pcap.c writes with
# `2000000 3 600 1`: 4 million packets in 2 million flows of 1-3 packets. It is written once to
# BENCH_DIR (with the generator built there) and reused; bench/meter_bench's BM_TextWriter reads
# it too.
#
# flowkit: `meter -r FILE -o FORMAT -w OUT` with default options, and `-o none`; the time that
# writing adds is the difference (the median over rounds, each within its round), and records/s
# is flows divided by it.
# nfdump: nfpcapd makes the nfcapd file once; `nfdump -r FILE -o FORMAT > OUT` is then timed as
# a whole (reading its file and writing text), so its records/s counts its whole run.
# Best of ROUNDS interleaved runs, outputs written to OUT_DIR (a real file system, not tmpfs).
#
# usage: bench/text_output.sh [FLOWKIT]     (default: build/apps/flowkit/flowkit)
#   BENCH_DIR=build/bench-data OUT_DIR=build/bench-out ROUNDS=3
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
[[ -f $gen_src ]] || { echo "$gen_src not found: the capture comes from the shared generator" >&2; exit 1; }
mkdir -p "$dir" "$out"
pcap=$dir/big_2m.pcap
if [[ ! -s $pcap ]]; then
  gcc -O2 -o "$dir/gen_big_pcap" "$gen_src"
  "$dir/gen_big_pcap" "$pcap" 2000000 3 600 1
fi
cat "$pcap" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp" "$out"/text_output.*' EXIT
nfdir=$tmp/nfcapd
mkdir "$nfdir"
nfpcapd -r "$pcap" -w "$nfdir" >/dev/null 2>&1

# run NAME CMD...: appends "seconds" to $tmp/NAME; the command's stdout goes to the output file.
run() {
  local name=$1
  shift
  /usr/bin/time -f "%e" -o "$tmp/time" "$@" >"$out/text_output.$name" 2>"$tmp/$name.err" || {
    echo "$name failed:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
  }
  cat "$tmp/time" >>"$tmp/$name"
}
names=(none json csv nfdump_json nfdump_csv)
run_one() {
  case $1 in
    none) run none "$fk" meter -r "$pcap" -o none ;;
    json | csv) run "$1" "$fk" meter -r "$pcap" -o "$1" -w "$out/text_output.fk_$1" ;;
    nfdump_json) run nfdump_json nfdump -q -R "$nfdir" -o json ;;
    nfdump_csv) run nfdump_csv nfdump -q -R "$nfdir" -o csv ;;
  esac
}
for ((r = 0; r < rounds; ++r)); do
  for ((i = 0; i < ${#names[@]}; ++i)); do run_one "${names[(r + i) % ${#names[@]}]}"; done
done

flows=$(grep -o '^  flows: [0-9]*' "$tmp/none.err" | awk '{print $2}')
nf_flows=$(nfdump -R "$nfdir" -o csv | awk -F, '/^Summary/ {getline; getline; print $1}')
best() { sort -n "$tmp/$1" | head -1; }
# The time writing adds, as the median over rounds of (FORMAT - none) within a round: the
# difference of two best times would take each from a different round.
adds() { paste "$tmp/$1" "$tmp/none" | awk '{print $1 - $2}' | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
size() { stat -c %s "$out/text_output.$1"; }
printf 'capture: %s; flowkit flows: %s; nfdump records: %s; best of %s runs\n' \
  "$pcap" "$flows" "$nf_flows" "$rounds"
awk -v flows="$flows" -v nf="$nf_flows" -v none="$(best none)" \
  -v json="$(best json)" -v csv="$(best csv)" -v nj="$(best nfdump_json)" \
  -v aj="$(adds json)" -v ac="$(adds csv)" \
  -v nc="$(best nfdump_csv)" -v sj="$(size fk_json)" -v sc="$(size fk_csv)" \
  -v snj="$(size nfdump_json)" -v snc="$(size nfdump_csv)" 'BEGIN {
  printf "  %-44s %7.2f s\n", "flowkit meter -o none", none
  printf "  %-44s %7.2f s  %5.0f MB  writing adds %.2f s: %.2f M records/s\n",
    "flowkit meter -o json -w FILE", json, sj / 1e6, aj, flows / aj / 1e6
  printf "  %-44s %7.2f s  %5.0f MB  writing adds %.2f s: %.2f M records/s\n",
    "flowkit meter -o csv -w FILE", csv, sc / 1e6, ac, flows / ac / 1e6
  printf "  %-44s %7.2f s  %5.0f MB  %.2f M records/s\n", "nfdump -r FILE -o json > FILE", nj,
    snj / 1e6, nf / nj / 1e6
  printf "  %-44s %7.2f s  %5.0f MB  %.2f M records/s\n", "nfdump -r FILE -o csv > FILE", nc,
    snc / 1e6, nf / nc / 1e6
  printf "records/s, flowkit writing / nfdump: JSON %.1fx, CSV %.1fx\n",
    (flows / aj) / (nf / nj), (flows / ac) / (nf / nc)
  printf "whole run, capture to text file, flowkit / nfdump alone: JSON %.1fx, CSV %.1fx faster\n",
    nj / json, nc / csv
}'
