#!/usr/bin/python3
"""Conservation: for every capture of one folder of shared/pcaps that has no tunnels, the packets
and IP bytes summed over all of flowkit's flows must equal an independent count by tshark.

tshark's count: every frame in which it finds an IP header; its bytes are the first IP header's
total length (IPv4) or 40 + payload length (IPv6). Captures with tunnels (GRE, VXLAN, Geneve,
GTP, Teredo, IP-in-IP...) are left out: flowkit counts the inner packet there, by design.

usage: conservation.py FLOWKIT SHARED_DIR FOLDER [-v]
Exit 0 when every capture agrees, 1 otherwise, 77 when the shared data or tshark is absent.
"""
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


def tshark_count(path):
    """(packets, bytes, tunneled_frames, zero_length_frame_bytes) by tshark.

    A header whose length field says 0 (segmentation offload, IPv6 jumbograms) does not tell
    tshark the packet's size; flowkit then counts the bytes on the wire, at most the frame."""
    cmd = ["tshark", "-n", "-r", path, "-T", "fields", "-E", "occurrence=a", "-E", "separator=\t",
           "-E", "aggregator=,", "-e", "frame.protocols", "-e", "ip.len", "-e", "ipv6.plen",
           "-e", "frame.len",
           "-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"]
    out = subprocess.run(cmd, capture_output=True, text=True, errors="replace")
    packets = bytes_ = tunneled = zero_len = 0
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        while len(cols) < 4:
            cols.append("")
        layers = cols[0].split(":")
        first_ip = next((l for l in layers if l in ("ip", "ipv6")), None)
        if first_ip is None:
            continue
        if TUNNEL_LAYERS.intersection(layers) or ip_in_ip(layers):
            tunneled += 1
        length = cols[1] if first_ip == "ip" else cols[2]
        if not length:
            continue
        length = int(length.split(",")[0])
        packets += 1
        bytes_ += length + (40 if first_ip == "ipv6" else 0)
        if length == 0 and cols[3]:
            zero_len += int(cols[3])
    return packets, bytes_, tunneled, zero_len


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


def check(flowkit, shared, rel, linktype, tmp):
    if linktype in NOT_COMPARABLE_LINKTYPES:
        return rel, "skipped", NOT_COMPARABLE_LINKTYPES[linktype]
    path = os.path.join(shared, "pcaps", rel)
    if path.endswith(".gz"):  # flowkit reads plain captures; unpack a copy first
        plain = os.path.join(tmp, os.path.basename(path)[:-3])
        with gzip.open(path, "rb") as src, open(plain, "wb") as dst:
            shutil.copyfileobj(src, dst)
        path = plain
    t_packets, t_bytes, tunneled, zero_len = tshark_count(path)
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
    flowkit, shared, folder = sys.argv[1:4]
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
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            futures = [pool.submit(check, flowkit, shared, r["path"], r["linktype"], tmp)
                       for r in rows]
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
