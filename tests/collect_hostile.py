#!/usr/bin/python3
"""The collector under hostile input, on loopback: a flood of templates (20,000 ids in 200
observation domains), a flood of new exporters (2,000 source ports, each filling its template and
held-data budgets), garbage datagrams (random
bytes, headers whose lengths lie, zero-length and huge fields), then a genuine exporter. The
collector must stay up, keep its peak memory (VmHWM) under 256 MB, count what it refused, and
store every record of the genuine exporter that comes after the floods.

usage: collect_hostile.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on failure, 77 when the shared data is missing.
"""
import json
import os
import random
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

from testlib import check, finish



def ipfix(domain, sets, seq=0):
    body = b"".join(struct.pack(">HH", set_id, 4 + len(b)) + b for set_id, b in sets)
    return struct.pack(">HHIII", 10, 16 + len(body), int(time.time()), seq, domain) + body


def template(tid, fields):
    return struct.pack(">HH", tid, len(fields)) + b"".join(struct.pack(">HH", f, l)
                                                            for f, l in fields)


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return -1


def main():
    fk, shared = sys.argv[1], sys.argv[2]
    cap = os.path.join(shared, "pcaps", "ndpi-4.2", "pinterest.pcap")
    if not os.path.exists(cap):
        print(f"skip: {cap} not found")
        return 77
    tmp = tempfile.mkdtemp(prefix="flowkit-hostile-")
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        out = os.path.join(tmp, "out.json")
        log = os.path.join(tmp, "log")
        proc = subprocess.Popen([fk, "collect", "-l", f"127.0.0.1:{port}", "-o", "json", "-w",
                                 out], stderr=open(log, "w"))
        time.sleep(0.7)
        dest = ("127.0.0.1", port)
        rnd = random.Random(7)
        flood = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        # 20,000 templates of 40 fields, 100 per message, over 200 domains.
        fields = [(rnd.randrange(1, 400), rnd.choice((1, 2, 4, 8, 16))) for _ in range(40)]
        for m in range(200):
            sets = [(2, b"".join(template(256 + i, fields) for i in range(100 * (m % 4),
                                                                            100 * (m % 4) + 25)))
                    for _ in range(4)]
            flood.sendto(ipfix(m, sets), dest)
            time.sleep(0.001)
        # Garbage: random bytes, lengths that lie, zero-length and 65535-byte fields.
        for i in range(2000):
            kind = i % 4
            if kind == 0:
                data = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 200)))
            elif kind == 1:
                data = struct.pack(">HHIII", 10, 60000, 0, 0, 1) + b"\0" * 20
            elif kind == 2:
                data = ipfix(1, [(2, template(300, [(1, 0), (2, 0)]))])
            else:
                data = ipfix(1, [(2, template(301, [(1, 65535)])), (301, b"\xff" * 100)])
            flood.sendto(data, dest)
        # 2,000 exporters, each spending its whole budget: 2,000 template fields and 60 kB of
        # data sets for templates it never sends (held).
        held = b"\x01" * 15000
        for i in range(2000):
            e = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            e.sendto(ipfix(0, [(2, b"".join(template(256 + t, fields) for t in range(25)))] * 2),
                     dest)
            e.sendto(ipfix(0, [(2, template(999, [(8, 4), (12, 4), (2, 4)])),
                               (999, struct.pack(">IIIII", 0x0a000001, 0x0a000002, 1, 0, 0))]),
                     dest)
            e.sendto(ipfix(0, [(2000 + k, held) for k in range(4)]), dest)
            e.close()
            if i % 50 == 0:
                time.sleep(0.02)
        flood.close()
        time.sleep(1)
        alive = proc.poll() is None
        check(alive, "the collector is up after the floods")
        # A genuine exporter now: every record of flowkit's own export of a real capture.
        want = subprocess.run([fk, "meter", "-r", cap, "-o", "json", "-q"], capture_output=True,
                              text=True).stdout.count("\n")
        with open(out) as f:
            before = sum(1 for _ in f)
        subprocess.run([fk, "meter", "-r", cap, "-o", "none", "-q", "--export",
                        f"ipfix://127.0.0.1:{port}"], check=False)
        time.sleep(1)
        rss = peak_rss_mb(proc.pid) if alive else -1
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
        summary = open(log).read()
        with open(out) as f:
            genuine = [json.loads(l) for l in f][before:]
        genuine = [r for r in genuine if r.get("packets", 0) > 1 or r.get("src_ip") != "10.0.0.1"]
        check(len(genuine) == want,
              f"the genuine exporter after the floods: {len(genuine)} of {want} records stored")
        check(0 < rss < 256, f"peak memory {rss:.0f} MB (limit 256 MB)")
        line = next((l for l in summary.splitlines() if "templates refused" in l), "")
        check("templates refused (limit)" in line and "malformed" in line,
              "the floods are counted: " + line.strip()[:300])
        check("exporters forgotten to make room" in summary,
              "the exporter flood is counted (idle exporters forgotten)")
        check(proc.returncode == 0, f"exit {proc.returncode}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
