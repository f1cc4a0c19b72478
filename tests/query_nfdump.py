#!/usr/bin/python3
"""flowkit query agrees with nfdump: the same uniflow records (flowkit meter exporting NetFlow v9
of shared captures to nfcapd and to `flowkit collect -w` at once) queried by both tools must give
the same flow, packet and byte counts: for filters of every construct, for -s statistics (every
row), -A aggregations (every group), -t windows, -O orders and -c. The statistics and
aggregations must also be the same on one thread and on all cores.

usage: query_nfdump.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on failure, 77 when a peer or the shared data is missing.
"""
import glob
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from testlib import finish, free_port, problems

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
    "proto 17", "src port > 1023 and dst port < 1024", "dst port in [53 443 80]",
    "net 192.168.149.0 255.255.255.0", "packets < 3", "proto icmp and dst port 771",
    "src or dst port 53", "src and dst net 0.0.0.0/0", "dst port 443 or src port 443",
    "in if 0", "flags A and not flags S",
]

STATS = ["srcip/bytes", "dstip", "ip/packets", "srcport", "dstport/bytes", "port", "proto",
         "srcas", "tos", "dstip/pps"]
AGGREGATIONS = ["srcip,dstip", "proto,dstport", "srcip,srcport,dstip,dstport,proto",
                "srcip,dstport"]
ORDERS = ["bytes", "packets", "tstart"]


PROTO_NUMBERS = {"ICMP": "1", "TCP": "6", "UDP": "17", "ICMP6": "58", "GRE": "47", "ESP": "50"}


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
        nf_read = sum((["-r", x] for x in nf_files), [])

        def nfdump(args):
            out = subprocess.run(["nfdump", "-q", "-N"] + nf_read + args, capture_output=True,
                                 text=True)
            return out.returncode, out.stdout.splitlines()

        def query(args):
            q = subprocess.run([fk, "query", "-R", fkdir] + args, capture_output=True, text=True)
            return q.returncode, q.stdout.splitlines()

        def check(name, mine, theirs, ok=True):
            ok = ok and mine == theirs
            if not ok and isinstance(mine, dict):
                diff = {k: (mine.get(k), theirs.get(k)) for k in set(mine) ^ set(theirs)}
                print(f"     differ: {str(diff)[:300]}")
            shown = (lambda v: v if len(str(v)) < 120 else str(v)[:117] + "...")
            print(("ok   " if ok else "FAIL ") + f"{name}: flowkit {shown(mine)}, nfdump {shown(theirs)}")
            if not ok:
                problems.append(name)

        def totals_nf(args):
            rc, lines = nfdump(["-o", "fmt:%pkt %byt"] + args)
            rows = [l.split() for l in lines]
            rows = [r for r in rows if len(r) == 2 and r[0].isdigit() and r[1].isdigit()]
            return rc, [len(rows), sum(int(r[0]) for r in rows), sum(int(r[1]) for r in rows)]

        def records(args):
            rc, lines = query(["-o", "json"] + args)
            return rc, [json.loads(l) for l in lines]

        def totals_fk(args):
            rc, recs = records(args)
            return rc, [len(recs), sum(r["packets"] for r in recs), sum(r["bytes"] for r in recs)]

        def norm(v):
            # nfdump and flowkit write some values differently: addresses (IPv6 zeros), and
            # protocols by name or number.
            v = v.strip()
            if v.upper() in PROTO_NUMBERS:
                return PROTO_NUMBERS[v.upper()]
            if v.count(".") == 1 and v.replace(".", "").isdigit():  # ICMP's type.code
                t, c = v.split(".")
                return str(int(t) * 256 + int(c))
            try:
                return str(ipaddress.ip_network(v, strict=False)) if "/" in v else str(ipaddress.ip_address(v))
            except ValueError:
                return v.upper()

        for f in FILTERS:
            rc1, nf = totals_nf([f])
            rc2, mine = totals_fk([f])
            check(f"'{f}'", mine, nf, rc1 == 0 and rc2 == 0)

        # -s: every row (-n 0 in nfdump, a large -n here): value -> flows, packets, bytes.
        for stat in STATS:
            rc1, lines = nfdump(["-s", stat, "-n", "0", "-o", "csv"])
            theirs = {}
            header = None
            for l in lines:
                cols = l.split(",")
                if cols and cols[0] == "ts":
                    header = cols
                    continue
                if header and len(cols) == len(header):
                    row = dict(zip(header, cols))
                    pkt, byt = row.get("pkt", row.get("ipkt")), row.get("byt", row.get("ibyt"))
                    theirs[norm(row["val"])] = (int(row["fl"]), int(pkt), int(byt))
            rc2, lines = query(["-s", stat, "-n", "1000000", "-o", "json"])
            mine = {}
            for l in lines:
                r = json.loads(l)
                mine[norm(r["value"])] = (r["flows"], r["packets"], r["bytes"])
            check(f"-s {stat}", mine, theirs, rc1 == 0 and rc2 == 0 and len(mine) > 0)

        # -A: every group: key -> flows, packets, bytes.
        fmt_of = {"srcip": "%sa", "dstip": "%da", "srcport": "%sp", "dstport": "%dp",
                  "proto": "%pr", "srcip4/24": "%sa", "dstip4/24": "%da"}
        key_of = {"srcip": "src_ip", "dstip": "dst_ip", "srcport": "src_port",
                  "dstport": "dst_port", "proto": "protocol", "srcip4/24": "src_ip",
                  "dstip4/24": "dst_ip"}
        for agg in AGGREGATIONS:
            names = agg.split(",")
            fmt = " ".join(fmt_of[n] for n in names) + " %fl %pkt %byt"
            # nfdump 1.7.1's -A keys an ICMP flow by a zero destination port, where its -s and
            # filters take type * 256 + code (as flowkit does everywhere): ICMP is left out.
            only = ["not proto icmp"] if "dstport" in names else []
            rc1, lines = nfdump(["-6", "-A", agg, "-o", "fmt:" + fmt] + only)
            theirs = {}
            for l in lines:
                cols = l.split()
                if len(cols) != len(names) + 3 or not cols[-1].isdigit():
                    continue
                key = tuple(norm(c) for c in cols[:len(names)])
                theirs[key] = tuple(int(c) for c in cols[-3:])
            rc2, recs = records(["-A", agg] + only)
            mine = {}
            for r in recs:
                key = tuple(norm(str(r.get(key_of[n], 0))) for n in names)
                mine[key] = (r.get("flows", 1), r["packets"], r["bytes"])
            check(f"-A {agg}", mine, theirs, rc1 == 0 and rc2 == 0 and len(mine) > 0)

        # -t: from the day of a capture's first flow on, and that day alone (whole days: no
        # flow straddles an edge).
        rc, recs = records([])
        days = sorted({r["first"][:10].replace("-", "/") for r in recs})
        for window in days[1:4] + [f"{d}-{d}.23:59:59" for d in days[:3]]:
            rc1, nf = totals_nf(["-t", window])
            rc2, mine = totals_fk(["-t", window])
            check(f"-t {window}", mine, nf, rc1 == 0 and rc2 == 0 and mine[0] > 0)

        # -O: the same records, and flowkit's in the order asked for.
        for order in ORDERS:
            rc1, lines = nfdump(["-O", order, "-o", "fmt:%pkt %byt"])
            theirs = sorted(tuple(map(int, l.split())) for l in lines if l.split() and l.split()[0].isdigit())
            rc2, recs = records(["-O", order])
            mine = sorted((r["packets"], r["bytes"]) for r in recs)
            key = {"bytes": lambda r: -r["bytes"], "packets": lambda r: -r["packets"],
                   "tstart": lambda r: r["first"]}[order]
            ordered = [key(r) for r in recs] == sorted(key(r) for r in recs)
            check(f"-O {order}", mine, theirs, rc1 == 0 and rc2 == 0 and ordered and len(mine) > 0)

        # -c: as many records.
        for n in (1, 10):
            rc1, nf = totals_nf(["-c", str(n)])
            rc2, mine = totals_fk(["-c", str(n)])
            check(f"-c {n}", mine[0], nf[0], rc1 == 0 and rc2 == 0)

        # One thread and every core: the same answers.
        for args in (["-s", "srcip/bytes", "-n", "1000"], ["-s", "port", "-n", "1000"], ["-s", "proto"],
                     ["-A", "srcip,dstip", "-O", "bytes"], ["proto tcp"]):
            outs = [sorted(query(args + ["-o", "json", "--threads", str(t)])[1]) for t in (1, 2, 4)]
            check(f"threads 1/2/4 {' '.join(args)}", len(outs[0]), len(outs[1]),
                  outs[0] == outs[1] == outs[2] and len(outs[0]) > 0)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
