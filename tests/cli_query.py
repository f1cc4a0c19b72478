#!/usr/bin/python3
"""flowkit query on a store of real captures (every ndpi-4.2 capture metered into one store):
for each filter, the records `query -o json` prints are exactly the records of
`meter -o json` that the filter's meaning selects, computed here in Python from the JSON; the
top 5 of `-s` statistics and the groups of -A equal Python's sums. Also -c, -t windows
(absolute, with block skipping), -q, -s record, -o long/extended/fmt:, file ranges, the memory
bound of grouping, and a syntax error (exit 2, caret).

usage: cli_query.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on failure, 77 when the shared data is missing.
"""
import collections
import glob
import ipaddress
import json
import os
import shutil
import subprocess
import sys
import tempfile
from datetime import datetime, timezone

from testlib import check, finish



def us(iso):
    """Microseconds of an ISO time of flowkit's JSON (its fraction has up to 9 digits)."""
    base, _, frac = iso.rstrip("Z").partition(".")
    t = datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    return int(t.timestamp()) * 1_000_000 + int((frac + "000000")[:6])


def total(r, k):
    return r.get(k, 0) + r.get(k + "_rev", 0)


def in_net(addr, net):
    return ipaddress.ip_address(addr) in ipaddress.ip_network(net)


def dport(r):
    if r["protocol"] in (1, 58):
        return r.get("icmp_type", 0) * 256 + r.get("icmp_code", 0)
    return r.get("dst_port", 0)


FILTERS = {
    "proto tcp": lambda r: r["protocol"] == 6,
    "proto udp and dst port 53": lambda r: r["protocol"] == 17 and dport(r) == 53,
    "dst port in [ 80 443 8080 ]": lambda r: dport(r) in (80, 443, 8080),
    "src net 192.168.0.0/16": lambda r: in_net(r["src_ip"], "192.168.0.0/16"),
    "net 10.0.0.0/8 or ipv6": lambda r: in_net(r["src_ip"], "10.0.0.0/8")
    or in_net(r["dst_ip"], "10.0.0.0/8") or r["ip_version"] == 6,
    "bytes > 10k and packets < 1000": lambda r: total(r, "bytes") > 10000
    and total(r, "packets") < 1000,
    "not proto tcp and not proto udp": lambda r: r["protocol"] not in (6, 17),
    "proto icmp": lambda r: r["protocol"] == 1,
    "ttl_rev < 64": lambda r: "ttl_rev" in r and r["ttl_rev"] < 64,
    "bpp > 500": lambda r: total(r, "packets") and total(r, "bytes") / total(r, "packets") > 500,
}


def main():
    fk, shared = sys.argv[1], sys.argv[2]
    caps = sorted(glob.glob(os.path.join(shared, "pcaps", "ndpi-4.2", "*.pcap")))
    if not caps:
        print(f"skip: {shared}/pcaps/ndpi-4.2 not found")
        return 77
    tmp = tempfile.mkdtemp(prefix="flowkit-query-")
    try:
        store = os.path.join(tmp, "store")
        records = []
        for cap in caps:
            out = subprocess.run([fk, "meter", "-r", cap, "-o", "json", "-q"],
                                 capture_output=True, text=True)
            if out.returncode != 0:
                continue
            records += [json.loads(l) for l in out.stdout.splitlines()]
            subprocess.run([fk, "meter", "-r", cap, "-o", "store", "-w", store, "-q"],
                           check=True)
        check(len(records) > 1000, f"{len(records)} records metered into the store")
        for text, keep in FILTERS.items():
            q = subprocess.run([fk, "query", "-R", store, text, "-o", "json"], capture_output=True,
                               text=True)
            canon = lambda r: json.dumps(r, sort_keys=True)
            got = collections.Counter(canon(json.loads(l)) for l in q.stdout.splitlines())
            want = collections.Counter(canon(r) for r in records if keep(r))
            check(q.returncode == 0 and sum(want.values()) > 0 and got == want,
                  f"'{text}': {sum(got.values())} records, Python on meter's JSON: "
                  f"{sum(want.values())}")
        # -s: top-N as JSON against Python's sums, per stat and order.
        for spec, key in (("srcip/bytes", lambda r: [r["src_ip"]]),
                          ("dstport", lambda r: [str(dport(r))]),
                          ("ip/packets", lambda r: sorted({r["src_ip"], r["dst_ip"]}))):
            sums = collections.defaultdict(lambda: [0, 0, 0])
            for r in records:
                if r["protocol"] != 6:
                    continue
                for k in key(r):
                    sums[k][0] += 1
                    sums[k][1] += total(r, "packets")
                    sums[k][2] += total(r, "bytes")
            order = {"flows": 0, "packets": 1, "bytes": 2}[(spec.split("/") + ["flows"])[1]]
            want = sorted(sums.items(), key=lambda kv: (-kv[1][order], kv[0]))[:5]
            q = subprocess.run([fk, "query", "-R", store, "-s", spec, "-n", "5", "-o", "json",
                                "proto tcp"], capture_output=True, text=True)
            got = [json.loads(l) for l in q.stdout.splitlines()]
            got = [(g["value"], [g["flows"], g["packets"], g["bytes"]]) for g in got]
            check(got == [(k, v) for k, v in want],
                  f"-s {spec} -n 5 'proto tcp': the top 5 and their flows, packets and bytes "
                  f"equal Python's sums ({got[:1]} vs {want[:1]})")
        # -c and -q.
        q = subprocess.run([fk, "query", "-R", store, "proto tcp", "-c", "7", "-q"],
                           capture_output=True, text=True)
        check(len(q.stdout.splitlines()) == 7, "-c 7 -q prints 7 lines and nothing else")
        # A window: the flows of one hour.
        starts = sorted(us(r["first"]) for r in records)
        mid = datetime.fromtimestamp(starts[len(starts) // 2] / 1e6, tz=timezone.utc)
        hour = mid.strftime("%Y/%m/%d.%H")
        lo = mid.replace(minute=0, second=0, microsecond=0).timestamp() * 1e6
        want = sum(1 for s in starts if lo <= s < lo + 3600e6)
        q = subprocess.run([fk, "query", "-R", store, "-t", f"{hour}-{hour}", "any"],
                           capture_output=True, text=True)
        line = next((l for l in q.stdout.splitlines() if l.startswith("Total flows processed")),
                    "")
        got = int(line.split("passed: ")[1].split(",")[0]) if line else -1
        skipped = int(line.split("Blocks skipped: ")[1].split(",")[0]) if line else 0
        check(got == want and skipped > 0,
              f"-t {hour}: {got} flows (want {want}), {skipped} blocks skipped unread")
        # Biflows aggregated: -A and -s record sum what Python sums per key.
        by_pair = collections.Counter()
        for r in records:
            by_pair[(r["src_ip"], r["dst_ip"])] += total(r, "bytes")
        q = subprocess.run([fk, "query", "-R", store, "-A", "srcip,dstip", "-o", "json"],
                           capture_output=True, text=True)
        got = {(r["src_ip"], r["dst_ip"]): r["bytes"] + r.get("bytes_rev", 0)
               for r in map(json.loads, q.stdout.splitlines())}
        check(got == dict(by_pair), f"-A srcip,dstip: {len(got)} groups with Python's bytes")
        q = subprocess.run([fk, "query", "-R", store, "-s", "record/bytes", "-n", "3", "-q"],
                           capture_output=True, text=True)
        check(q.returncode == 0 and len(q.stdout.splitlines()) == 3,
              "-s record/bytes -n 3 -q prints the 3 top flows")
        # Layouts: nfdump's long and extended, fmt: with a registry field.
        for fmt, title in (("long", "Flags"), ("extended", "Bpp"),
                           ("fmt:%ts %sa %da %pkt %byt %{ttl}", "ttl")):
            q = subprocess.run([fk, "query", "-R", store, "-o", fmt, "-c", "5", "proto tcp"],
                               capture_output=True, text=True)
            lines = q.stdout.splitlines()
            check(q.returncode == 0 and title in lines[0] and len(lines) >= 6,
                  f"-o {fmt}: a header with {title}, then the rows")
        # Each layout reads only the columns it prints (and -O sorts records read so): the same
        # rows as from whole records, which a filter on a derived field makes the scan read.
        every = ("fmt:%ts %te %td %pr %sa %da %sap %dap %sp %dp %pkt %byt %fl %ipkt %opkt %ibyt "
                 "%obyt %flg %tos %stos %dtos %bps %pps %bpp %in %out %sas %das %smk %dmk %ra %nh "
                 "%{tls_sni} %{ttl_rev}")
        part, whole = "proto tcp or proto udp", "proto tcp or proto udp or icmp_type_code = 9999"
        def rows(args):
            q = subprocess.run([fk, "query", "-R", store, "-q"] + args, capture_output=True)
            return q.returncode, collections.Counter(q.stdout.splitlines())
        for layout in ("line", "long", "extended", every, "csv", "json"):
            for extra in ([], ["-O", "bytes"]):
                a, b = rows(["-o", layout] + extra + [part]), rows(["-o", layout] + extra + [whole])
                check(a[0] == 0 and b[0] == 0 and len(a[1]) > 1000 and a[1] == b[1],
                      f"-o {layout.split(' ')[0]} {' '.join(extra)}: {sum(a[1].values())} rows, "
                      f"the same as from whole records")
        q = subprocess.run([fk, "query", "-R", store, "-o", "fmt:%xyz"], capture_output=True,
                           text=True)
        check(q.returncode == 2 and "unknown token %xyz" in q.stderr,
              "-o fmt: with an unknown token exits 2 naming it")
        # A file range (nfdump's FIRST:LAST) reads the files between.
        files = sorted(glob.glob(os.path.join(store, "**", "*.fk"), recursive=True))
        rng = f"{files[1]}:{os.path.basename(files[3])}"
        q = subprocess.run([fk, "query", "-R", rng, "-q", "-o", "json"], capture_output=True,
                           text=True)
        want = sum(1 for f in files[1:4] for _ in subprocess.run(
            [fk, "query", "-r", f, "-q", "-o", "json"], capture_output=True,
            text=True).stdout.splitlines())
        check(len(q.stdout.splitlines()) == want, f"-R FIRST:LAST reads 3 files: {want} flows")
        q = subprocess.run([fk, "query", "-R", f"{files[3]}:{os.path.basename(files[1])}", "-q"],
                           capture_output=True, text=True)
        check(q.returncode == 2 and "sorts before its first" in q.stderr,
              "-R FIRST:LAST backwards is refused with a message: " + q.stderr.strip())
        # Groups that outgrow --max-memory stop the query with a message.
        q = subprocess.run([fk, "query", "-R", store, "-A", "srcip,srcport,dstip,dstport",
                            "--max-memory", "128K"], capture_output=True, text=True)
        check(q.returncode == 1 and "--max-memory" in q.stderr,
              "-A beyond --max-memory 128K stops with a message: " + q.stderr.strip())
        q = subprocess.run([fk, "query", "-R", store, "-O", "bytes", "--max-memory", "1"],
                           capture_output=True, text=True)
        check(q.returncode == 1 and "--max-memory" in q.stderr,
              "-O beyond --max-memory 1 stops with a message: " + q.stderr.strip())
        bad = subprocess.run([fk, "query", "-R", store, "proto tcp and dst prot 443"],
                             capture_output=True, text=True)
        check(bad.returncode == 2 and "column 19" in bad.stderr and "^" in bad.stderr,
              "a syntax error exits 2 and points at the column: "
              + bad.stderr.strip().replace("\n", " | "))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
