#!/usr/bin/python3
"""flowkit's nDPI application labels against ndpiReader's (Debian libndpi-bin, the same nDPI)
on every nDPI capture: for each TCP/UDP connection both list, the same label ("TLS.Google").

usage: app_labels.py FLOWKIT SHARED_DIR
Exit 0 when every check passes, 1 otherwise, 77 (ctest's skip) without the shared data,
ndpiReader, or a flowkit built with libndpi.
"""
import collections
import csv
import glob
import json
import os
import subprocess
import sys
import tempfile

from testlib import SKIP, check, endpoint, finish, missing

# ndpiReader sees every packet of a flow from its SYN on; flowkit hands nDPI a flow's packets
# from its first payload on, so the odd detection that needs the handshake differs.
MIN_SAME = 0.99



def key(protocol, a, b):
    return (int(protocol),) + tuple(sorted([a, b]))


def ndpi_reader(pcap, out):
    if os.path.exists(out):
        os.remove(out)
    subprocess.run(["ndpiReader", "-i", pcap, "-C", out, "-q"], capture_output=True)
    labels = {}
    if not os.path.exists(out):
        return labels
    with open(out) as f:
        rows = csv.reader(f)
        header = {name.lstrip("#"): i for i, name in enumerate(next(rows))}
        for row in rows:
            try:
                labels[key(row[header["protocol"]],
                           endpoint(row[header["src_ip"]], row[header["src_port"]]),
                           endpoint(row[header["dst_ip"]], row[header["dst_port"]]))] = \
                    row[header["ndpi_proto"]]
            except (ValueError, IndexError):
                continue
    return labels


def main():
    flowkit, shared = sys.argv[1], sys.argv[2]
    folder = os.path.join(shared, "pcaps", "ndpi-4.2")
    if skip := missing(folder, "ndpiReader", "libndpi-bin"):
        return skip
    probe = subprocess.run([flowkit, "fields"], capture_output=True, text=True).stdout
    n = collections.Counter()
    differ = collections.Counter()
    with tempfile.TemporaryDirectory() as tmp:
        for pcap in sorted(glob.glob(os.path.join(folder, "*.pcap"))):
            want = ndpi_reader(pcap, os.path.join(tmp, "ndpi.csv"))
            out = subprocess.run([flowkit, "meter", "-r", pcap, "-o", "json", "-q",
                                  "--idle-timeout", "3600", "--active-timeout", "0"],
                                 capture_output=True, text=True).stdout
            for line in out.splitlines():
                r = json.loads(line)
                if r["protocol"] not in (6, 17):
                    continue
                k = key(r["protocol"], endpoint(r["src_ip"], r["src_port"]),
                        endpoint(r["dst_ip"], r["dst_port"]))
                if k not in want:
                    continue
                n["flows"] += 1
                n["labeled"] += "app_label" in r
                if r.get("app_label") == want[k]:
                    n["same"] += 1
                else:
                    differ[(want[k], r.get("app_label"))] += 1
    if n["flows"] and n["labeled"] == 0 and "app_label" in probe:
        print("SKIP: this flowkit was built without libndpi (apt-get install libndpi-dev)")
        return SKIP
    print(f"{n['flows']} connections both list; {n['same']} with the same label")
    for (theirs, mine), count in differ.most_common(10):
        print(f"  ndpiReader {theirs}, flowkit {mine}: {count}")
    check(n["flows"] > 2000, f"enough connections to judge ({n['flows']})")
    check(n["same"] >= MIN_SAME * n["flows"],
          f"the same label on {n['same']} of {n['flows']} connections (at least {MIN_SAME:.0%})")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
