#!/usr/bin/python3
"""flowkit query agrees with nfdump: the same uniflow records (flowkit meter exporting NetFlow v9
of shared captures to nfcapd and to `flowkit collect -w` at once) queried by both tools with
the same filters must give the same flow, packet and byte counts.

usage: query_nfdump.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on failure, 77 when a peer or the shared data is missing.
"""
import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

CAPTURES = ["ndpi-4.2/pinterest.pcap", "ndpi-4.2/anydesk.pcap", "ndpi-4.2/dns_fragmented.pcap",
            "ndpi-4.2/skype_udp.pcap", "ndpi-4.2/youtube_quic.pcap", "dpkt-1.9.8/dns_icmp.pcap",
            "ndpi-4.2/ssh.pcap"]

FILTERS = [
    "any", "proto tcp", "proto udp", "proto icmp", "not proto tcp", "inet6", "ipv4",
    "dst port 443", "src port 53", "port 80", "port in [ 80 443 ]", "dst port > 1024",
    "src net 192.168.0.0/16", "net 51.83.0.0/16", "dst net 2a00::/16",
    "src host 192.168.149.129", "host 51.83.238.219 and proto tcp",
    "packets > 10", "bytes > 1000", "bytes < 100", "bytes > 1k and packets < 20",
    "flags S", "flags SA and not flags R", "tos 0",
    "proto tcp and dst port 443 and bytes > 1000",
    "(proto udp or proto icmp) and ipv4", "not (port 53 or port 443)",
]


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    fk, shared = sys.argv[1], sys.argv[2]
    caps = [os.path.join(shared, "pcaps", c) for c in CAPTURES]
    caps = [c for c in caps if os.path.exists(c)]
    if not caps:
        print(f"skip: {shared}/pcaps not found")
        return 77
    for tool in ("nfcapd", "nfdump"):
        if not shutil.which(tool):
            print(f"skip: {tool} not installed (scripts/bootstrap.sh installs it)")
            return 77
    problems = []
    tmp = tempfile.mkdtemp(prefix="flowkit-query-nfdump-")
    try:
        nfdir, fkdir = os.path.join(tmp, "nf"), os.path.join(tmp, "fk")
        os.makedirs(nfdir)
        p_nf, p_fk = free_port(), free_port()
        nfcapd = subprocess.Popen(["nfcapd", "-w", nfdir, "-p", str(p_nf), "-b", "127.0.0.1"],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        collect = subprocess.Popen([fk, "collect", "-l", f"127.0.0.1:{p_fk}", "-w", fkdir, "-q"])
        time.sleep(1)
        for cap in caps:
            subprocess.run([fk, "meter", "-r", cap, "-o", "none", "-q", "--export",
                            f"netflow9://127.0.0.1:{p_nf}", "--export",
                            f"netflow9://127.0.0.1:{p_fk}"], check=False)
            time.sleep(0.05)
        time.sleep(1)
        for p in (nfcapd, collect):
            p.send_signal(signal.SIGTERM)
            p.wait(timeout=30)
        nf_files = sorted(glob.glob(os.path.join(nfdir, "**", "nfcapd.2*"), recursive=True))
        for f in FILTERS:
            out = subprocess.run(["nfdump", "-q", "-N", "-o", "fmt:%pkt %byt"] +
                                 sum((["-r", x] for x in nf_files), []) + [f],
                                 capture_output=True, text=True)
            # Rows of two numbers ("No matching flows" when none).
            rows = [l.split() for l in out.stdout.splitlines()]
            rows = [r for r in rows if len(r) == 2 and r[0].isdigit() and r[1].isdigit()]
            nf = [len(rows), sum(int(r[0]) for r in rows), sum(int(r[1]) for r in rows)]
            q = subprocess.run([fk, "query", "-R", fkdir, "-o", "json", f], capture_output=True,
                               text=True)
            recs = [json.loads(l) for l in q.stdout.splitlines()]
            mine = [len(recs), sum(r["packets"] for r in recs), sum(r["bytes"] for r in recs)]
            ok = out.returncode == 0 and q.returncode == 0 and mine == nf
            print(("ok   " if ok else "FAIL ") + f"'{f}': flowkit {mine}, nfdump {nf}")
            if not ok:
                problems.append(f)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if problems:
        print(f"{len(problems)} problems")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
