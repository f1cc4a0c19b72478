#!/usr/bin/env bash
# Installs what flowkit needs, builds it, writes a realistic demo capture with flowkit's own
# traffic generator, and meters it: flows as JSON lines in build/demo-flows.jsonl, the first
# flows in nfdump's line layout, then the run summary and the top talkers.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/bootstrap.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${JOBS:-2}" --target flowkit
fk=build/apps/flowkit/flowkit

echo "== generating build/demo.pcap"
"$fk" gen -w build/demo.pcap --seed 1 --packets 200000
echo
echo "== the first flows (nfdump's line layout)"
"$fk" meter -r build/demo.pcap -q | head -12
echo
echo "== metering build/demo.pcap into build/demo-flows.jsonl"
"$fk" meter -r build/demo.pcap -o json -w build/demo-flows.jsonl --top 10
