#!/usr/bin/python3
"""`flowkit meter -r FILE -f FILTER`: the BPF filter applies to file input. On a shared capture
without tunnels or fragments, the packets in the flows must be exactly those tshark's display
filter of the same meaning selects, every flow must match the filter, and the summary must say
how many packets the filter left out. (The filter itself is compared with libpcap's on every
shared capture in src/capture/filtered_source_test.cpp.)

usage: cli_filter.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on a difference, 77 when the shared data or tshark is absent.
"""
import json
import os
import shutil
import subprocess
import sys

flowkit, shared = sys.argv[1], sys.argv[2]
pcap = os.path.join(shared, "pcaps", "ndpi-4.2", "android.pcap")
if not os.path.exists(pcap) or not shutil.which("tshark"):
    print(f"skip: {pcap} or tshark not found")
    sys.exit(77)

run = subprocess.run([flowkit, "meter", "-r", pcap, "-f", "udp port 53", "-o", "json"],
                     capture_output=True, text=True, check=True)
flows = [json.loads(line) for line in run.stdout.splitlines()]
packets = sum(f["packets"] + f.get("packets_rev", 0) for f in flows)
tshark = subprocess.run(["tshark", "-n", "-r", pcap, "-Y", "udp.port == 53 && !icmp"],
                        capture_output=True, text=True, check=True).stdout.splitlines()
total = int(subprocess.run(["capinfos", "-c", "-M", pcap], capture_output=True, text=True,
                           check=True).stdout.split()[-1])
errors = []
if not flows or packets != len(tshark):
    errors.append(f"{packets} packets in {len(flows)} flows, tshark selects {len(tshark)}")
for f in flows:
    if f["protocol"] != 17 or 53 not in (f["src_port"], f["dst_port"]):
        errors.append(f"flow outside the filter: {f}")
expected = f"{total - len(tshark)} more packets read and left out by the filter"
if expected not in run.stderr:
    errors.append(f"summary lacks '{expected}':\n{run.stderr}")
for e in errors:
    print(e)
print(f"{len(flows)} flows, {packets} packets; {total - packets} left out")
sys.exit(1 if errors else 0)
