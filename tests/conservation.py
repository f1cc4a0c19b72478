#!/usr/bin/python3
"""Conservation: for every capture of one folder of shared/pcaps that has no tunnels, the packets
and IP bytes summed over all of flowkit's flows must equal an independent count by tshark.

tshark's count: every frame in which it finds an IP header; its bytes are the first IP header's
total length (IPv4) or 40 + payload length (IPv6). Captures with tunnels (GRE, VXLAN, Geneve,
GTP, Teredo, IP-in-IP...) are left out: flowkit counts the inner packet there, by design.

tshark takes a second to start, so the folder's captures are first copied, packet for packet,
into one pcapng with an interface per capture (tests/pcapng_concat.cpp) and tshark reads that
once; frame.interface_id tells the captures apart. (That flowkit's reader returns every packet
tshark sees in each file is checked by src/capture/shared_captures_test.cpp.) A capture the
reader cannot open is counted by tshark on its own: it must hold no IP packet.

usage: conservation.py FLOWKIT PCAPNG_CONCAT SHARED_DIR FOLDER [-v]
Exit 0 when every capture agrees, 1 otherwise, 77 when the shared data or tshark is absent.
"""
import collections
import concurrent.futures
import csv
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile

TUNNEL_LAYERS = {"gre", "vxlan", "geneve", "gtp", "teredo", "erspan", "nsh", "gtpv2"}
# Link types tshark has no dissector for (it finds no IP where flowkit does), or where the IP
# header exists only after a decompression flowkit does not do (6LoWPAN on 802.15.4).
NOT_COMPARABLE_LINKTYPES = {"slip": "tshark does not dissect LINKTYPE_SLIP",
                            "wpan": "IPv6 only after 6LoWPAN decompression"}


def ip_in_ip(layers):
    """True when an IP header directly follows another (only IPv6 extension headers between)."""
    prev_ip = False
    for layer in layers:
        if layer in ("ip", "ipv6"):
            if prev_ip:
                return True
            prev_ip = True
        elif not (layer.startswith("ipv6.") or layer == "ah"):
            prev_ip = False
    return False


def tshark_counts(path):
    """{interface id: [packets, bytes, tunneled_frames, zero_length_frame_bytes]} by tshark.

    A header whose length field says 0 (segmentation offload, IPv6 jumbograms) does not tell
    tshark the packet's size; flowkit then counts the bytes on the wire, at most the frame."""
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t",
           "-E", "aggregator=,", "-e", "frame.interface_id", "-e", "frame.protocols",
           "-e", "ip.len", "-e", "ipv6.plen", "-e", "frame.len",
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    counts = collections.defaultdict(lambda: [0, 0, 0, 0])
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        while len(cols) < 5:
            cols.append("")
        c = counts[int(cols[0]) if cols[0].isdigit() else -1]
        cols = cols[1:]
        layers = cols[0].split(":")
        first_ip = next((l for l in layers if l in ("ip", "ipv6")), None)
        if first_ip is None:
            continue
        if TUNNEL_LAYERS.intersection(layers) or ip_in_ip(layers):
            c[2] += 1
        length = cols[1] if first_ip == "ip" else cols[2]
        if not length:
            continue
        length = int(length.split(",")[0])
        c[0] += 1
        c[1] += length + (40 if first_ip == "ipv6" else 0)
        if length == 0 and cols[3]:
            c[3] += int(cols[3])
    return counts


def flowkit_count(flowkit, path, tmp):
    out = os.path.join(tmp, os.path.basename(path) + ".jsonl")
    run = subprocess.run([flowkit, "meter", "-r", path, "-o", "json", "-w", out, "-q"],
                         capture_output=True, text=True)
    packets = bytes_ = 0
    if os.path.exists(out):
        with open(out) as f:
            for line in f:
                r = json.loads(line)
                packets += r.get("packets", 0) + r.get("packets_rev", 0)
                bytes_ += r.get("bytes", 0) + r.get("bytes_rev", 0)
        os.unlink(out)
    return run.returncode, run.stderr, packets, bytes_


def compare(flowkit, rel, path, tshark, tmp):
    t_packets, t_bytes, tunneled, zero_len = tshark
    if tunneled:
        return rel, "skipped", f"{tunneled} tunneled frames: not compared"
    rc, err, f_packets, f_bytes = flowkit_count(flowkit, path, tmp)
    if rc != 0 and t_packets:
        return rel, "FAIL", f"flowkit exited {rc}: {err.strip()[:200]}"
    bytes_ok = t_bytes <= f_bytes <= t_bytes + zero_len if zero_len else f_bytes == t_bytes
    if f_packets != t_packets or not bytes_ok:
        return rel, "FAIL", (f"flowkit {f_packets} packets / {f_bytes} bytes, "
                             f"tshark {t_packets} / {t_bytes}")
    return rel, "ok", f"{t_packets} packets, {t_bytes} bytes"


def main():
    flowkit, concat, shared, folder = sys.argv[1:5]
    verbose = "-v" in sys.argv
    inventory = os.path.join(shared, "pcaps", "INVENTORY.tsv")
    if not os.path.exists(inventory):
        print(f"SKIP: {inventory} not found (the shared test data lives in ../shared)")
        return 77
    if not shutil.which("tshark"):
        print("SKIP: tshark is not installed (scripts/bootstrap.sh installs it)")
        return 77
    with open(inventory) as f:
        rows = [r for r in csv.DictReader(f, delimiter="\t") if r["path"].startswith(folder + "/")]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for r in rows:
            if r["linktype"] in NOT_COMPARABLE_LINKTYPES:
                results.append((r["path"], "skipped", NOT_COMPARABLE_LINKTYPES[r["linktype"]]))
                continue
            path = os.path.join(shared, "pcaps", r["path"])
            if path.endswith(".gz"):  # flowkit reads plain captures; unpack a copy first
                plain = os.path.join(tmp, os.path.basename(path)[:-3])
                with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
                    shutil.copyfileobj(src, dst)
                path = plain
            paths[r["path"]] = path
        merged = os.path.join(tmp, "all.pcapng")
        listing = subprocess.run([concat, merged] + list(paths.values()), capture_output=True,
                                 text=True, check=True).stdout
        interfaces = collections.defaultdict(list)  # path -> our interface ids (-1: unreadable)
        for line in listing.splitlines():
            iface, path = line.split("\t", 1)
            interfaces[path].append(int(iface))
        counts = tshark_counts(merged)
        work = []
        for rel, path in paths.items():
            ids = interfaces.get(path, [])
            if -1 in ids:  # flowkit cannot open it: tshark must find no IP in it either
                t = tshark_counts(path)
                total = [sum(v[i] for v in t.values()) for i in range(4)]
            else:
                total = [sum(counts[i][k] for i in ids) for k in range(4)]
            work.append((rel, path, total))
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(compare, flowkit, rel, path, total, tmp)
                       for rel, path, total in work]
            for fut in futures:
                results.append(fut.result())
    failed = [r for r in results if r[1] == "FAIL"]
    compared = [r for r in results if r[1] != "skipped"]
    for rel, verdict, detail in results:
        if verdict == "FAIL" or verbose:
            print(f"{verdict:8} {rel}: {detail}")
    print(f"{folder}: {len(compared)} captures compared, {len(results) - len(compared)} left out "
          f"(tunnels, or a link type tshark cannot count), {len(failed)} disagree")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
