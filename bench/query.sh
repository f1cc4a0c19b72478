#!/usr/bin/env bash
# Whole-run benchmark of `flowkit query` against nfdump and ClickHouse on the same uniflow
# records (flow-heavy: ../shared/tools/gen_big_pcap.c `2000000 3 600 1` and `8000000 3 600 2`,
# about 11.5 million records in all):
#   flowkit  `meter --uniflow -o store` of each capture, queried with -R on both stores;
#   nfdump   `nfpcapd -y` (LZ4) of each capture, queried with -R on their parent directory;
#   ClickHouse 18.16 (Debian), one local server, a MergeTree table loaded from flowkit's CSV of
#            the same records (addresses as text plus IPv4 as UInt32, computed at insert).
# The queries (each tool's own form of the same question):
#   top10    top-10 source addresses by bytes
#   port443  every `dst port 443` record printed as a line (to /dev/null)
#   compound proto tcp and dst port in [443 80 8080] and src net 10.0.0.0/16 and bytes > 1000
#   agg      two-field aggregation (-A srcip,dstip), every group printed
#   window   the records of a 2-minute window printed as lines (the captures span 10 minutes)
# Each is timed ROUNDS times per tool after an untimed run, page-cached; the median wall time is
# reported with nfdump/flowkit and ClickHouse/flowkit ratios (above 1: flowkit is faster).
#
# usage: bench/query.sh [FLOWKIT]   BENCH_DIR=build/bench-data ROUNDS=3
#   needs nfdump, nfpcapd, clickhouse-server, clickhouse-client (scripts/bootstrap.sh --bench)
set -euo pipefail
cd "$(dirname "$0")/.."
fk=$(realpath "${1:-build/apps/flowkit/flowkit}")
dir=${BENCH_DIR:-build/bench-data}
rounds=${ROUNDS:-3}
gen_src=../shared/tools/gen_big_pcap.c
for tool in nfpcapd nfdump clickhouse-server clickhouse-client gcc; do
  command -v $tool >/dev/null || { echo "$tool missing: run scripts/bootstrap.sh --bench" >&2; exit 1; }
done
[[ -x $fk ]] || { echo "$fk not built: cmake --build build --target flowkit" >&2; exit 1; }
[[ -f $gen_src ]] || { echo "$gen_src not found: the captures come from the shared generator" >&2; exit 1; }
mkdir -p "$dir"
[[ -x $dir/gen_big_pcap ]] || gcc -O2 -o "$dir/gen_big_pcap" "$gen_src"
[[ -s $dir/big_2m.pcap ]] || "$dir/gen_big_pcap" "$dir/big_2m.pcap" 2000000 3 600 1
[[ -s $dir/big_8m.pcap ]] || "$dir/gen_big_pcap" "$dir/big_8m.pcap" 8000000 3 600 2

q=$dir/query-bench
if [[ ! -e $q/ready ]]; then
  rm -rf "$q"
  mkdir -p "$q/nf/a" "$q/nf/b"
  for p in 2m:a 8m:b; do
    "$fk" meter -r "$dir/big_${p%%:*}.pcap" --uniflow -o store -w "$q/fk/${p#*:}" -q
    nfpcapd -r "$dir/big_${p%%:*}.pcap" -l "$q/nf/${p#*:}" -y >/dev/null 2>&1
  done
  touch "$q/ready"
fi

# ClickHouse: a private server on its own ports and directory, stopped on exit.
ch=$q/clickhouse
mkdir -p "$ch"
clickhouse-server --config-file=/etc/clickhouse-server/config.xml -- --path="$(realpath "$ch")/data/" \
  --tmp_path="$(realpath "$ch")/tmp/" --logger.log="$(realpath "$ch")/log" \
  --logger.errorlog="$(realpath "$ch")/err" --tcp_port=19000 --http_port=18123 \
  --interserver_http_port=19009 >"$ch/out" 2>&1 &
ch_pid=$!
trap 'kill $ch_pid 2>/dev/null; wait $ch_pid 2>/dev/null || true' EXIT
chq() { clickhouse-client --port 19000 "$@"; }
for _ in $(seq 50); do chq -q "SELECT 1" >/dev/null 2>&1 && break; sleep 0.2; done
if [[ $(chq -q "EXISTS TABLE flows" 2>/dev/null || echo 0) != 1 ]]; then
  chq -q "CREATE TABLE flows (first UInt64, last UInt64, src_ip String, dst_ip String,
          src_port UInt16, dst_port UInt16, protocol UInt8, packets UInt64, bytes UInt64,
          src_ip4 UInt32 MATERIALIZED IPv4StringToNum(src_ip))
          ENGINE = MergeTree ORDER BY first"
  cols=first,last,src_ip,dst_ip,src_port,dst_port,protocol,packets,bytes
  for s in a b; do
    "$fk" query -R "$q/fk/$s" -o csv |
      python3 -c '
import calendar, csv, sys
def ns(t):  # 2023-11-14T22:13:20.000300Z
    return calendar.timegm(tuple(map(int, (t[0:4], t[5:7], t[8:10], t[11:13], t[14:16], t[17:19])))) * 10**9 + int(t[20:26]) * 1000
r = csv.DictReader(sys.stdin)
w = csv.writer(sys.stdout, lineterminator="\n")
cols = sys.argv[1].split(",")
for row in r:
    row["first"], row["last"] = ns(row["first"]), ns(row["last"])
    w.writerow([row[c] for c in cols])' "$cols" |
      chq -q "INSERT INTO flows ($cols) FORMAT CSV"
  done
  chq -q "OPTIMIZE TABLE flows FINAL"
fi

first_s=$("$fk" store info "$q/fk/a" --json |
  python3 -c 'import calendar,json,sys,time; print(calendar.timegm(time.strptime(json.load(sys.stdin)["first"][:19], "%Y-%m-%dT%H:%M:%S")))')
win_from=$(date -u -d "@$((first_s + 60))" +%Y/%m/%d.%H:%M:%S)
win_to=$(date -u -d "@$((first_s + 179))" +%Y/%m/%d.%H:%M:%S)
win_from_ns=$(( (first_s + 60) * 1000000000 ))
win_to_ns=$(( (first_s + 180) * 1000000000 - 1 ))
compound='proto tcp and dst port in [443 80 8080] and src net 10.0.0.0/16 and bytes > 1000'

tmp=$(mktemp -d)
trap 'kill $ch_pid 2>/dev/null; wait $ch_pid 2>/dev/null || true; rm -rf "$tmp"' EXIT
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
timed() {  # seconds of one run, output discarded
  /usr/bin/time -f "%e" -o "$tmp/t" "$@" >"$tmp/out" 2>"$tmp/err" || { cat "$tmp/err" >&2; exit 1; }
  cat "$tmp/t"
}
run() {  # NAME CMD...: median over the rounds, after one untimed run (the page cache, and a
  # server's first query after the others ran, are warmed alike for every tool)
  local name=$1; shift
  timed "$@" >/dev/null
  for _ in $(seq "$rounds"); do timed "$@"; done | median
}
FK=(run fk "$fk" query -R "$q/fk/a" -R "$q/fk/b")
NF=(run nf nfdump -R "$q/nf")
CH() { run ch clickhouse-client --port 19000 -q "$1"; }

records=$("$fk" store info "$q/fk/a" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')
records=$((records + $("$fk" store info "$q/fk/b" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["flows"])')))
nf_records=$(nfdump -R "$q/nf" -I | awk '/^Flows:/ {print $2}')
# nfpcapd splits some flows of the captures that flowkit's meter keeps whole: nfdump's queries
# read that many more records.
echo "records: flowkit $records, clickhouse $(chq -q 'SELECT count() FROM flows'), nfdump $nf_records"
printf '%-9s %9s %9s %9s %11s %11s\n' query flowkit nfdump clickhouse nfdump/fk ch/fk
row() {
  printf '%-9s %9s %9s %9s %11s %11s\n' "$1" "$2" "$3" "$4" \
    "$(echo "scale=1; $3 / $2" | bc)" "$(echo "scale=1; $4 / $2" | bc)"
}
row top10 "$("${FK[@]}" -s srcip/bytes -n 10)" "$("${NF[@]}" -s srcip/bytes -n 10)" \
  "$(CH 'SELECT src_ip, count(), sum(packets), sum(bytes) FROM flows GROUP BY src_ip ORDER BY sum(bytes) DESC LIMIT 10')"
row port443 "$("${FK[@]}" 'dst port 443')" "$("${NF[@]}" 'dst port 443')" \
  "$(CH 'SELECT * FROM flows WHERE dst_port = 443 FORMAT TabSeparated')"
row compound "$("${FK[@]}" "$compound")" "$("${NF[@]}" "$compound")" \
  "$(CH "SELECT * FROM flows WHERE protocol = 6 AND dst_port IN (443, 80, 8080) AND src_ip4 BETWEEN IPv4StringToNum('10.0.0.0') AND IPv4StringToNum('10.0.255.255') AND bytes > 1000 FORMAT TabSeparated")"
row agg "$("${FK[@]}" -A srcip,dstip)" "$("${NF[@]}" -A srcip,dstip)" \
  "$(CH 'SELECT src_ip, dst_ip, count(), sum(packets), sum(bytes), min(first), max(last) FROM flows GROUP BY src_ip, dst_ip FORMAT TabSeparated')"
row window "$("${FK[@]}" -t "$win_from-$win_to")" "$("${NF[@]}" -t "$win_from-$win_to")" \
  "$(CH "SELECT * FROM flows WHERE first BETWEEN $win_from_ns AND $win_to_ns FORMAT TabSeparated")"
