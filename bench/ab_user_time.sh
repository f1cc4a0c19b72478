#!/usr/bin/env bash
# A/B of flowkit builds by user CPU time: runs each binary on the same capture ROUNDS times,
# interleaved, and prints the minimum, lower quartile and median of the user time per binary.
#
# Why user time and quartiles: on the benchmark VM the same binary's run time moves by 10-40%
# from run to run (the host), in two modes, so a best-of or one pair of runs says little about a
# change of a few percent. Interleaving puts both binaries through the same modes; the lower
# quartile ignores the slow mode without trusting one lucky run. Changes below ~5% stay invisible
# here: count their instructions with bench/meter_instructions.sh instead.
#
# usage: bench/ab_user_time.sh CAPTURE BIN... [-- METER_ARGS...]
#   ROUNDS=15; METER_ARGS default: -o none --no-stats --threads 1
# e.g.   bench/ab_user_time.sh build/bench-data/ndpi_x90.pcap /tmp/flowkit.old build/apps/flowkit/flowkit
set -euo pipefail
[[ $# -ge 2 ]] || { sed -n 2,14p "$0" >&2; exit 2; }
capture=$1
shift
bins=()
while [[ $# -gt 0 && $1 != -- ]]; do
  bins+=("$1")
  shift
done
[[ ${1:-} == -- ]] && shift
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(-o none --no-stats --threads 1)
rounds=${ROUNDS:-15}
for b in "${bins[@]}"; do
  [[ -x $b ]] || { echo "$b: not an executable" >&2; exit 1; }
done
cat "$capture" >/dev/null  # page-cache it

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for ((r = 1; r <= rounds; r++)); do
  for i in "${!bins[@]}"; do
    /usr/bin/time -f "%U" -o "$tmp/t" "${bins[$i]}" meter -r "$capture" "${args[@]}" -q >/dev/null
    cat "$tmp/t" >>"$tmp/$i"
  done
done
echo "user seconds over $rounds interleaved runs: flowkit meter -r $capture ${args[*]}"
for i in "${!bins[@]}"; do
  sort -n "$tmp/$i" | awk -v b="${bins[$i]}" '{u[NR] = $1}
    END {printf "  %-40s min %.2f  q1 %.2f  median %.2f\n", b, u[1], u[int(NR / 4) + 1], u[int(NR / 2) + 1]}'
done
