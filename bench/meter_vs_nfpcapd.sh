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
# flowkit/cat. flowkit runs with one thread (--threads 1: read, decode and count on one core,
# like nfpcapd) and with its default of two (reading and decoding on a second core). Also
# flowkit's flow-state bytes per active flow without metadata (--no-stats).
#
# usage: bench/meter_vs_nfpcapd.sh [FLOWKIT]     (default: build/apps/flowkit/flowkit)
#   BENCH_DIR=build/bench-data COPIES=90 ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
fk=${1:-build/apps/flowkit/flowkit}
dir=${BENCH_DIR:-build/bench-data}
copies=${COPIES:-90}
rounds=${ROUNDS:-3}
shared=../shared/pcaps/ndpi-4.2
command -v nfpcapd >/dev/null || { echo "nfpcapd missing: run scripts/bootstrap.sh" >&2; exit 1; }
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
[[ -d $shared ]] || { echo "$shared not found: the benchmark replicates the shared captures" >&2; exit 1; }
mkdir -p "$dir"
pcap=$dir/ndpi_x${copies}.pcap

if [[ ! -s $pcap ]]; then
  inputs=()
  for f in "$shared"/*.pcap "$shared"/*.pcapng "$shared"/*.cap; do
    [[ -e $f ]] && inputs+=(--replicate "$f")
  done
  echo "writing $pcap ($copies copies of ${#inputs[@]} nDPI captures)..." >&2
  "$fk" gen -w "$pcap" "${inputs[@]}" --copies "$copies" --seed 7 -q
fi
packets=$(capinfos -c -M "$pcap" 2>/dev/null | awk '/Number of packets/ {print $NF}')
size=$(stat -L -c %s "$pcap")
echo "capture: $pcap, $packets packets, $((size / 1000000)) MB"

# Page-cache the file.
cat "$pcap" >/dev/null
cat "$pcap" >/dev/null

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
best() { sort -n "$1" | head -1; }
# run NAME CMD...: appends "seconds max_rss_kb" to $tmp/NAME
run() {
  local name=$1
  shift
  /usr/bin/time -f "%e %M" -o "$tmp/time" "$@" >/dev/null 2>"$tmp/$name.err" || {
    echo "$name failed:" >&2
    cat "$tmp/$name.err" >&2
    exit 1
  }
  cat "$tmp/time" >>"$tmp/$name"
}

for ((r = 1; r <= rounds; ++r)); do
  run cat cat "$pcap"
  run flowkit "$fk" meter -r "$pcap" -o none
  run flowkit_nostats "$fk" meter -r "$pcap" -o none --no-stats
  run flowkit_1t "$fk" meter -r "$pcap" -o none --threads 1
  run flowkit_nostats_1t "$fk" meter -r "$pcap" -o none --no-stats --threads 1
  rm -rf "$tmp/nf" && mkdir "$tmp/nf"
  run nfpcapd nfpcapd -r "$pcap" -w "$tmp/nf"
done

read -r t_cat _ < <(best "$tmp/cat")
read -r t_fk m_fk < <(best "$tmp/flowkit")
read -r t_fkn m_fkn < <(best "$tmp/flowkit_nostats")
read -r t_fk1 m_fk1 < <(best "$tmp/flowkit_1t")
read -r t_fkn1 m_fkn1 < <(best "$tmp/flowkit_nostats_1t")
read -r t_nf m_nf < <(best "$tmp/nfpcapd")
summary=$(cat "$tmp/flowkit.err")
flows=$(grep -o '^  flows: [0-9]*' <<<"$summary" | awk '{print $2}')
per_flow=$(grep -o '[0-9]* bytes each' "$tmp/flowkit_nostats.err" | awk '{print $1}')
per_flow_stats=$(grep -o '[0-9]* bytes each' "$tmp/flowkit.err" | awk '{print $1}')

awk -v p="$packets" -v tc="$t_cat" -v tf="$t_fk" -v tfn="$t_fkn" -v tn="$t_nf" \
  -v tf1="$t_fk1" -v tfn1="$t_fkn1" -v mf1="$m_fk1" -v mfn1="$m_fkn1" \
  -v mf="$m_fk" -v mfn="$m_fkn" -v mn="$m_nf" -v flows="$flows" -v pf="$per_flow" \
  -v pfs="$per_flow_stats" -v rounds="$rounds" 'BEGIN {
  printf "best of %d interleaved runs, page-cached:\n", rounds
  printf "  %-36s %7.2f s %9.2f Mpkt/s %9s\n", "cat FILE > /dev/null", tc, p / tc / 1e6, "-"
  printf "  %-36s %7.2f s %9.2f Mpkt/s %7.0f MB\n", "nfpcapd -r FILE -w DIR", tn, p / tn / 1e6, mn / 1024
  printf "  %-36s %7.2f s %9.2f Mpkt/s %7.0f MB\n", "flowkit meter -o none --threads 1", tf1, p / tf1 / 1e6, mf1 / 1024
  printf "  %-36s %7.2f s %9.2f Mpkt/s %7.0f MB\n", "  ... --no-stats --threads 1", tfn1, p / tfn1 / 1e6, mfn1 / 1024
  printf "  %-36s %7.2f s %9.2f Mpkt/s %7.0f MB\n", "flowkit meter -o none (2 threads)", tf, p / tf / 1e6, mf / 1024
  printf "  %-36s %7.2f s %9.2f Mpkt/s %7.0f MB\n", "  ... --no-stats (2 threads)", tfn, p / tfn / 1e6, mfn / 1024
  printf "flowkit / nfpcapd speed, one thread:  %.1fx (statistics on), %.1fx (off)\n", tn / tf1, tn / tfn1
  printf "flowkit / nfpcapd speed, two threads: %.1fx (statistics on), %.1fx (off)\n", tn / tf, tn / tfn
  printf "flowkit time / cat time, one thread:  %.2fx (statistics on), %.2fx (off)\n", tf1 / tc, tfn1 / tc
  printf "flowkit time / cat time, two threads: %.2fx (statistics on), %.2fx (off)\n", tf / tc, tfn / tc
  printf "flows: %s; flow state per active flow: %s bytes without metadata, %s with statistics\n", flows, pf, pfs
}'
