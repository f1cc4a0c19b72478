#!/usr/bin/python3
"""flowkit's TCP health fields against Wireshark's TCP analysis (tshark), connection by
connection, on the nDPI captures: the handshake round trip (tcp.analysis.initial_rtt against
tcp_rtt_server + tcp_rtt_client), and per direction the retransmitted, out-of-order and
zero-window segments (tcp.analysis.retransmission/fast_retransmission/spurious_retransmission,
out_of_order, zero_window).

usage: tcp_health.py FLOWKIT SHARED_DIR
Exit 0 when every check passes, 1 otherwise, 77 (ctest's skip) without the shared data or tshark.
"""
import collections
import glob
import json
import os
import subprocess
import sys

from testlib import check, endpoint, finish, missing

CAPTURES = 60  # the first nDPI captures by name: about 2,200 connection directions
FIELDS = ["tcp.analysis.initial_rtt", "tcp.analysis.retransmission",
          "tcp.analysis.fast_retransmission", "tcp.analysis.spurious_retransmission",
          "tcp.analysis.out_of_order", "tcp.analysis.zero_window"]



def tshark_connections(pcap):
    args = ["tshark", "-r", pcap, "-Y", "tcp", "-T", "fields", "-E", "occurrence=l"]
    for f in ["ip.src", "ipv6.src", "tcp.srcport", "ip.dst", "ipv6.dst", "tcp.dstport"] + FIELDS:
        args += ["-e", f]
    conns = collections.defaultdict(lambda: {"rtt": None, "retransmitted": collections.Counter(),
                                             "out_of_order": collections.Counter(),
                                             "zero_windows": collections.Counter()})
    for line in subprocess.run(args, capture_output=True, text=True).stdout.splitlines():
        c = line.split("\t")
        if len(c) < 12 or not c[2]:
            continue
        a, b = endpoint(c[0] or c[1], c[2]), endpoint(c[3] or c[4], c[5])
        t = conns[tuple(sorted([a, b]))]
        if c[6]:
            t["rtt"] = float(c[6])
        if c[7] or c[8] or c[9]:
            t["retransmitted"][a] += 1
        if c[10]:
            t["out_of_order"][a] += 1
        if c[11]:
            t["zero_windows"][a] += 1
    return conns


def main():
    flowkit, shared = sys.argv[1], sys.argv[2]
    folder = os.path.join(shared, "pcaps", "ndpi-4.2")
    if skip := missing(folder, "tshark"):
        return skip
    n = collections.Counter()
    for pcap in sorted(glob.glob(os.path.join(folder, "*.pcap")))[:CAPTURES]:
        conns = tshark_connections(pcap)
        # One record per connection: no active timeout, an idle timeout longer than the captures.
        out = subprocess.run([flowkit, "meter", "-r", pcap, "-o", "json", "-q", "--idle-timeout",
                              "3600", "--active-timeout", "0"], capture_output=True, text=True)
        for line in out.stdout.splitlines():
            r = json.loads(line)
            if r["protocol"] != 6:
                continue
            a, b = endpoint(r["src_ip"], r["src_port"]), endpoint(r["dst_ip"], r["dst_port"])
            t = conns.get(tuple(sorted([a, b])))
            if not t:
                continue
            if t["rtt"] is not None:
                n["rtt"] += 1
                if "tcp_rtt_server" in r and "tcp_rtt_client" in r:
                    mine = (r["tcp_rtt_server"] + r["tcp_rtt_client"]) / 1e6
                    n["rtt same"] += abs(mine - t["rtt"]) <= 2e-6  # microsecond units
            for field in ("retransmitted", "out_of_order", "zero_windows"):
                for side, suffix in ((a, ""), (b, "_rev")):
                    n[field] += 1
                    n[field + " same"] += t[field][side] == r.get(f"tcp_{field}{suffix}", 0)
                    n[field + " tshark"] += t[field][side]
    print(dict(n))
    check(n["rtt"] > 100, f"enough handshakes to judge ({n['rtt']})")
    check(n["rtt same"] >= 0.97 * n["rtt"],
          f"handshake round trip equal to the microsecond: {n['rtt same']} of {n['rtt']}")
    for field in ("retransmitted", "out_of_order", "zero_windows"):
        check(n[field + " same"] >= 0.98 * n[field],
              f"tcp_{field} equal in {n[field + ' same']} of {n[field]} connection directions "
              f"(tshark counts {n[field + ' tshark']} segments)")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
