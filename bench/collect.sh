#!/usr/bin/env bash
# Whole-run benchmark of `flowkit collect` against nfcapd on the same NetFlow v9 stream, over
# loopback, each with its default settings and the machine's default sysctls:
#   burst:      nfreplay -d 0 (unthrottled, about 2 million records/s here) sends one nfcapd
#               file of about 1.15 million flows (nfpcapd's records of the flow-heavy capture,
#               ../shared/tools/gen_big_pcap.c `2000000 3 600 1`) as v9: what each collector
#               stored, and its share.
#   sustained:  nfreplay's datagrams of that file (recorded once on lo with dumpcap) sent 8
#               times at 92,600 packets/s, 1 million records/s for 9 s, by bench/pace_udp.py
#               (nfreplay itself either sends flat out or sleeps per packet).
# Each collector writes its own store with its defaults (flowkit: zstd columns; nfcapd: its files).
# Decoding alone, per core: build/bench/meter_bench --benchmark_filter=BM_CollectorDecode.
# Needs root (dumpcap on lo) once, to record the stream.
#
# usage: bench/collect.sh [FLOWKIT]   (default: build/apps/flowkit/flowkit)
#   BENCH_DIR=build/bench-data ROUNDS=3
set -euo pipefail
cd "$(dirname "$0")/.."
fk=${1:-build/apps/flowkit/flowkit}
dir=${BENCH_DIR:-build/bench-data}
rounds=${ROUNDS:-3}
for tool in nfpcapd nfcapd nfdump nfreplay gcc dumpcap bc; do
  command -v $tool >/dev/null || { echo "$tool missing: run scripts/bootstrap.sh" >&2; exit 1; }
done
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
mkdir -p "$dir"
[[ -x $dir/gen_big_pcap ]] || gcc -O2 -o "$dir/gen_big_pcap" ../shared/tools/gen_big_pcap.c
[[ -s $dir/big_2m.pcap ]] || "$dir/gen_big_pcap" "$dir/big_2m.pcap" 2000000 3 600 1
src=$dir/nfcapd-big2m
if [[ ! -d $src ]]; then
  mkdir -p "$src"
  nfpcapd -r "$dir/big_2m.pcap" -w "$src" >/dev/null 2>&1
fi
# The largest of nfpcapd's files: one burst of about a million records.
file=$(ls -S "$src"/nfcapd.2* | head -1)
sent=$(nfdump -r "$file" -I | awk '/^Flows:/ {print $2}')

stream=$dir/nfreplay-v9.pcap
if [[ ! -s $stream ]]; then
  dumpcap -i lo -f "udp dst port 19990" -B 256 -P -w "$stream" -q >/dev/null 2>&1 &
  cap=$!
  sleep 1.5
  nfreplay -r "$file" -H 127.0.0.1 -p 19990 -v 9 -d 1 >/dev/null 2>&1  # paced: no capture loss
  sleep 1
  kill $cap
  wait $cap || true
fi

tmp=$(mktemp -d)
trap 'pkill -f "collect -l 127.0.0.1:19995" 2>/dev/null || true; pkill -f "nfcapd -w $tmp" 2>/dev/null || true; rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# Sends the stream to port $2: burst (nfreplay -d 0) or sustained (pace_udp.py).
send() {
  if [[ $1 == burst ]]; then
    nfreplay -r "$file" -H 127.0.0.1 -p "$2" -v 9 -d 0 >/dev/null 2>&1
  else
    /usr/bin/python3 bench/pace_udp.py "$stream" 127.0.0.1 "$2" 92600 8 >/dev/null
  fi
}
# One run into one collector; prints "records_stored seconds_of_sending".
#   $1: flowkit or nfcapd, $2: burst or sustained
run_collector() {
  local dir=$tmp/$1 port
  rm -rf "$dir" && mkdir -p "$dir"
  if [[ $1 == flowkit ]]; then
    port=19995
    "$fk" collect -l 127.0.0.1:$port -w "$dir" -q &
  else
    port=19996
    nfcapd -w "$dir" -p $port -b 127.0.0.1 >/dev/null 2>&1 &
  fi
  local pid=$!
  sleep 0.7
  local t0=$(date +%s.%N)
  send "$2" $port
  local t1=$(date +%s.%N)
  sleep 2
  kill -TERM $pid
  wait $pid || true
  local stored
  if [[ $1 == flowkit ]]; then
    stored=$("$fk" store info "$dir" | awk '/^flows:/ {print $2}')
  else
    stored=$(nfdump -R "$dir" -I | awk '/^Flows:/ {print $2}')
  fi
  echo "$stored $(echo "$t1 - $t0" | bc)"
}

printf 'stream: %s, %s NetFlow v9 records, %s rounds (median)\n' "$(basename "$file")" "$sent" "$rounds"
printf '%-10s %10s %12s %8s %8s %12s %8s\n' mode records "sent rec/s" flowkit kept nfcapd kept
for mode in burst sustained; do
  total=$([[ $mode == burst ]] && echo "$sent" || echo $((sent * 8)))
  : >"$tmp/fkr"; : >"$tmp/nfr"; : >"$tmp/secs"
  for ((r = 0; r < rounds; ++r)); do
    read -r n s < <(run_collector flowkit "$mode")
    echo "$n" >>"$tmp/fkr"; echo "$s" >>"$tmp/secs"
    read -r n s < <(run_collector nfcapd "$mode")
    echo "$n" >>"$tmp/nfr"; echo "$s" >>"$tmp/secs"
  done
  fkn=$(median <"$tmp/fkr"); nfn=$(median <"$tmp/nfr"); secs=$(median <"$tmp/secs")
  printf '%-10s %10s %12.0f %8s %7.1f%% %12s %7.1f%%\n' "$mode" "$total" \
    "$(echo "$total / $secs" | bc -l)" "$fkn" "$(echo "100 * $fkn / $total" | bc -l)" "$nfn" \
    "$(echo "100 * $nfn / $total" | bc -l)"
done
