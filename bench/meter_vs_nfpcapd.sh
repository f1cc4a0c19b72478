#!/usr/bin/env bash
# Whole-run benchmark: flowkit meter against nfpcapd (Debian nfdump) on the same large capture,
# page-cached, in the same run, plus the I/O floor (cat FILE > /dev/null).
#
# The capture is made from real traffic shapes: every nDPI capture in ../shared/pcaps/ndpi-4.2
# replicated COPIES times with shifted addresses by `flowkit gen --replicate` (90 copies: about
# 12.8 million packets, 8 GB, 516k flows). It is written once to BENCH_DIR and reused.
#
# Prints, per tool, the best of ROUNDS runs (runs interleaved, so that a noisy neighbour hurts
# both): seconds, packets/s, peak memory (max RSS), and the ratios flowkit/nfpcapd and
# flowkit/cat; then the same ratios as medians over rounds, each taken within one round.
# flowkit runs with one thread (--threads 1: read, decode and count on one core, like nfpcapd)
# and with its default of two (reading and decoding on a second core). Also flowkit's flow-state
# bytes per active flow without metadata (--no-stats). Last, flowkit's first stage alone
# (bench/stage_floor: reading, then reading and decoding, with nothing counted): the floor under
# the two-thread run, whose reader thread does that much and more.
#
# usage: bench/meter_vs_nfpcapd.sh [FLOWKIT]     (default: build/apps/flowkit/flowkit)
#   BENCH_DIR=build/bench-data COPIES=90 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
fk=${1:-build/apps/flowkit/flowkit}
floor=${STAGE_FLOOR:-build/bench/stage_floor}
dir=${BENCH_DIR:-build/bench-data}
copies=${COPIES:-90}
rounds=${ROUNDS:-3}
command -v nfpcapd >/dev/null || { echo "nfpcapd missing: run scripts/bootstrap.sh" >&2; exit 1; }
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
[[ -x $floor ]] || { echo "$floor not built: cmake --build build --target stage_floor" >&2; exit 1; }
source bench/common.sh
pcap=$(ndpi_capture "$fk" "$dir" "$copies")
packets=$(capinfos -c -M "$pcap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
size=$(stat -L -c %s "$pcap")
echo "capture: $pcap, $packets packets, $((size / 1000000)) MB"

# Page-cache the file.
cat "$pcap" >/dev/null
cat "$pcap" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
best() { sort -n "$1" | head -1; }
# run NAME CMD...: appends "seconds max_rss_kb cpu_seconds" to $tmp/NAME
run() {
  local name=$1
  shift
  /usr/bin/time -f "%e %M %U %S" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/$name.err" || {
    echo "$name failed:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
  }
  awk '{print $1, $2, $3 + $4}' "$tmp/time" >>"$tmp/$name"
}

names=(cat nfpcapd flowkit_1t flowkit_nostats_1t flowkit flowkit_nostats stage_read stage_decode)
run_one() {
  case $1 in
    cat) run cat cat "$pcap" ;;
    nfpcapd) rm -rf "$tmp/nf" && mkdir "$tmp/nf" && run nfpcapd nfpcapd -r "$pcap" -w "$tmp/nf" ;;
    flowkit) run flowkit "$fk" meter -r "$pcap" -o none ;;
    flowkit_nostats) run flowkit_nostats "$fk" meter -r "$pcap" -o none --no-stats ;;
    flowkit_1t) run flowkit_1t "$fk" meter -r "$pcap" -o none --threads 1 ;;
    flowkit_nostats_1t) run flowkit_nostats_1t "$fk" meter -r "$pcap" -o none --no-stats --threads 1 ;;
    stage_read) run stage_read "$floor" "$pcap" read ;;
    stage_decode) run stage_decode "$floor" "$pcap" decode ;;
  esac
}
# Each round starts one run later, so that no run always follows the same one (a run after
# nfpcapd, say, finds memory more fragmented).
for ((r = 0; r < rounds; ++r)); do
  for ((i = 0; i < ${#names[@]}; ++i)); do run_one "${names[(r + i) % ${#names[@]}]}"; done
done
for n in "${names[@]}"; do echo "$n $(best "$tmp/$n")"; done >"$tmp/best"

flows=$(grep -o '^  flows: [0-9]*' "$tmp/flowkit.err" | awk '{print $2}')
per_flow=$(grep -o '[0-9]* bytes each' "$tmp/flowkit_nostats.err" | awk '{print $1}')
per_flow_stats=$(grep -o '[0-9]* bytes each' "$tmp/flowkit.err" | awk '{print $1}')

awk -v p="$packets" -v flows="$flows" -v pf="$per_flow" -v pfs="$per_flow_stats" \
  -v rounds="$rounds" '
  { t[$1] = $2; m[$1] = $3 / 1024; c[$1] = $4 }
  END {
  label["cat"] = "cat FILE > /dev/null"
  label["nfpcapd"] = "nfpcapd -r FILE -w DIR"
  label["flowkit_1t"] = "flowkit meter -o none --threads 1"
  label["flowkit_nostats_1t"] = "  ... --no-stats --threads 1"
  label["flowkit"] = "flowkit meter -o none (2 threads)"
  label["flowkit_nostats"] = "  ... --no-stats (2 threads)"
  label["stage_read"] = "flowkit first stage: read only"
  label["stage_decode"] = "  ... read and decode"
  split("cat nfpcapd flowkit_1t flowkit_nostats_1t flowkit flowkit_nostats stage_read stage_decode", order, " ")
  printf "best of %d interleaved runs, page-cached:\n", rounds
  printf "  %-36s %8s %13s %9s %8s\n", "", "wall", "packets/s", "CPU", "max RSS"
  for (i = 1; i <= 8; ++i) {
    n = order[i]
    printf "  %-36s %6.2f s %7.2f Mpkt/s %7.2f s %5.0f MB\n", label[n], t[n], p / t[n] / 1e6, c[n], m[n]
  }
  printf "flowkit / nfpcapd, one thread:  %.1fx (statistics on), %.1fx (off); CPU time %.1fx, %.1fx\n",
    t["nfpcapd"] / t["flowkit_1t"], t["nfpcapd"] / t["flowkit_nostats_1t"],
    c["nfpcapd"] / c["flowkit_1t"], c["nfpcapd"] / c["flowkit_nostats_1t"]
  printf "flowkit / nfpcapd, two threads: %.1fx (statistics on), %.1fx (off)\n",
    t["nfpcapd"] / t["flowkit"], t["nfpcapd"] / t["flowkit_nostats"]
  printf "flowkit time / cat time, one thread:  %.2fx (statistics on), %.2fx (off)\n",
    t["flowkit_1t"] / t["cat"], t["flowkit_nostats_1t"] / t["cat"]
  printf "flowkit time / cat time, two threads: %.2fx (statistics on), %.2fx (off)\n",
    t["flowkit"] / t["cat"], t["flowkit_nostats"] / t["cat"]
  printf "first stage alone / cat time: %.2fx (read), %.2fx (read and decode)\n",
    t["stage_read"] / t["cat"], t["stage_decode"] / t["cat"]
  printf "flows: %s; flow state per active flow: %s bytes without metadata, %s with statistics\n", flows, pf, pfs
}' "$tmp/best"

# The same ratios within each round (its runs are back to back, so they share the machine's
# mood), then the median over the rounds: less at the mercy of one lucky run than best-of.
paste -d' ' "${names[@]/#/$tmp/}" | awk -v rounds="$rounds" '
  function median(a, n,    i, j, t) {
    for (i = 2; i <= n; ++i) for (j = i; j > 1 && a[j - 1] > a[j]; --j) { t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { # walls: cat $1, nfpcapd $4, flowkit_1t $7, flowkit_nostats_1t $10, flowkit $13,
    # flowkit_nostats $16, stage_read $19, stage_decode $22
    ++n; a1[n] = $4 / $7; a2[n] = $4 / $10; a3[n] = $4 / $13; a4[n] = $4 / $16
    c1[n] = $7 / $1; c2[n] = $10 / $1; c3[n] = $13 / $1; c4[n] = $16 / $1
    s1[n] = $19 / $1; s2[n] = $22 / $1 }
  END {
  printf "median of per-round ratios over %d rounds:\n", n
  printf "  flowkit / nfpcapd, one thread:  %.1fx (statistics on), %.1fx (off)\n", median(a1, n), median(a2, n)
  printf "  flowkit / nfpcapd, two threads: %.1fx (statistics on), %.1fx (off)\n", median(a3, n), median(a4, n)
  printf "  flowkit time / cat time, one thread:  %.2fx (statistics on), %.2fx (off)\n", median(c1, n), median(c2, n)
  printf "  flowkit time / cat time, two threads: %.2fx (statistics on), %.2fx (off)\n", median(c3, n), median(c4, n)
  printf "  first stage alone / cat time: %.2fx (read), %.2fx (read and decode)\n", median(s1, n), median(s2, n)
}'
