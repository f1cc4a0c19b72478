#!/usr/bin/python3
"""Export interop with real peers from Debian, on loopback:

  * nfcapd 1.7 receives flowkit's NetFlow v5, v9 and IPFIX exports of shared captures; nfdump on
    what it wrote must report the same flow, packet and byte totals per protocol as flowkit's own
    records of the same run. nfcapd 1.7 does not read RFC 5103 reverse elements, so IPFIX goes
    to it split into uniflows (--export-uniflow); RFC 5103 biflows are checked too, and there
    nfdump must count exactly the forward directions.
  * tshark decodes every captured export packet as cflow with no malformed packet and no expert
    warning or error, and finds as many flow records as flowkit sent.
  * ipfixDump (libfixbuf) reads the IPFIX file export with no error and the same records.

usage: export_interop.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on failure, 77 when a peer or the shared data is missing.
"""
import collections
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

from testlib import free_port

# TCP, UDP, ICMP, IPv4 and IPv6, fragments, VLAN, QinQ, MPLS, GRE and VXLAN tunnels.
CAPTURES = ["ndpi-4.2/pinterest.pcap", "ndpi-4.2/anydesk.pcap", "ndpi-4.2/dns_fragmented.pcap",
            "dpkt-1.9.8/dns_icmp.pcap", "generated/scapy_synthetic.pcap",
            "tcpdump-4.99.3/QinQpacket.pcap"]


def meter(flowkit, captures, tmp, extra):
    out = os.path.join(tmp, "flows.jsonl")
    cmd = [flowkit, "meter", "-o", "json", "-w", out] + extra
    for c in captures:
        cmd += ["-r", c]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"flowkit failed: {run.stderr}")
    return [json.loads(l) for l in open(out)], run.stderr


def expected_totals(flows, split, v4_only, forward_only=False):
    """Per protocol: [flows, packets, bytes] as a collector should count them."""
    t = collections.defaultdict(lambda: [0, 0, 0])
    for f in flows:
        if v4_only and f["ip_version"] != 4:
            continue
        p = t[f["protocol"]]
        rev = 0 if forward_only else f.get("packets_rev", 0)
        p[0] += 2 if split and rev else 1
        p[1] += f["packets"] + rev
        p[2] += f["bytes"] + (0 if forward_only else f.get("bytes_rev", 0))
    return dict(t)


def nfdump_totals(directory):
    files = sorted(glob.glob(os.path.join(directory, "**", "nfcapd.2*"), recursive=True))
    t = collections.defaultdict(lambda: [0, 0, 0])
    for f in files:
        out = subprocess.run(["nfdump", "-r", f, "-A", "proto", "-N", "-q", "-o",
                              "fmt:%pr %fl %pkt %byt"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            cols = line.split()
            if len(cols) == 4 and cols[0].isdigit():
                p = t[int(cols[0])]
                for i in range(3):
                    p[i] += int(cols[i + 1])
    return dict(t)


def check_nfcapd(flowkit, captures, tmp, scheme, extra, split, v4_only, problems):
    port = free_port()
    d = os.path.join(tmp, "nfcapd-" + scheme + ("-uni" if "--export-uniflow" in extra else ""))
    os.makedirs(d)
    nfcapd = subprocess.Popen(["nfcapd", "-w", d, "-p", str(port), "-b", "127.0.0.1"],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    time.sleep(0.7)
    try:
        flows, err = meter(flowkit, captures, tmp,
                           ["--export", f"{scheme}://127.0.0.1:{port}"] + extra)
        time.sleep(0.5)
    finally:
        nfcapd.send_signal(signal.SIGTERM)
        log = nfcapd.communicate(timeout=20)[0]
    want = expected_totals(flows, split, v4_only, forward_only=scheme == "ipfix" and not split)
    got = nfdump_totals(d)
    label = f"nfcapd {scheme} {' '.join(extra)}".strip()
    if want != got:
        problems.append(f"{label}: per protocol [flows, packets, bytes] flowkit {want} nfdump {got}")
    else:
        print(f"ok  {label}: {sum(v[0] for v in got.values())} flows, "
              f"{sum(v[1] for v in got.values())} packets, equal per protocol")
    if "Bad Packets: 0" not in log:
        problems.append(f"{label}: nfcapd saw bad packets: {log[-300:]}")


def check_tshark(flowkit, captures, tmp, scheme, problems):
    port = free_port()
    pcap = os.path.join(tmp, f"{scheme}.pcap")
    cap = subprocess.Popen(["tshark", "-i", "lo", "-f", f"udp dst port {port}", "-w", pcap, "-q"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    time.sleep(2.0)  # tshark needs a moment before it captures
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # so the datagrams are not refused
    sink.bind(("127.0.0.1", port))
    flows, err = meter(flowkit, captures, tmp, ["--export", f"{scheme}://127.0.0.1:{port}"])
    time.sleep(1.0)
    cap.send_signal(signal.SIGINT)
    cap.communicate(timeout=20)
    sink.close()
    # Flow records flowkit sent: IPFIX carries biflows, v9 and v5 split them (v5: IPv4 only).
    want = sum(v[0] for v in expected_totals(flows, scheme != "ipfix", scheme == "netflow5").values())
    fields = ["-e", "_ws.malformed", "-e", "_ws.expert.severity", "-e", "cflow.srcaddr",
              "-e", "cflow.srcaddrv6", "-e", "cflow.od_id", "-e", "cflow.template_id"]
    # Templates with every dissector field run past tshark's default of 60 fields per template
    # (a preference, not a protocol limit): raised as README tells tshark users.
    out = subprocess.run(["tshark", "-r", pcap, "-d", f"udp.port=={port},cflow",
                          "-o", "cflow.max_template_fields:512", "-T", "fields",
                          "-E", "occurrence=a", "-E", "aggregator=;"] + fields,
                         capture_output=True, text=True).stdout
    malformed = expert = records = packets = 0
    for line in out.splitlines():
        cols = (line.split("\t") + [""] * 6)[:6]
        packets += 1
        malformed += bool(cols[0])
        # Expert severities: 2097152 = warning, 8388608 = error (notes and chats are fine).
        expert += any(int(s) >= 6291456 for s in cols[1].split(";") if s)
        records += len([x for x in cols[2].split(";") if x]) + len([x for x in cols[3].split(";") if x])
    label = f"tshark {scheme}"
    if packets == 0 or malformed or expert:
        problems.append(f"{label}: {packets} packets, {malformed} malformed, {expert} with warnings")
    elif records != want:
        problems.append(f"{label}: tshark decoded {records} flow records, flowkit sent {want}")
    else:
        print(f"ok  {label}: {packets} export packets decoded, no malformed packet or expert "
              f"warning, {records} flow records as sent")


def check_ipfixdump(flowkit, captures, tmp, problems):
    path = os.path.join(tmp, "flows.ipfix")
    flows, err = meter(flowkit, captures, tmp, ["--export", f"file:{path}"])
    sent = int(err.split(" with ")[-1].split(" records")[0])
    run = subprocess.run(["ipfixDump", "--in", path, "--rfc5610", "-s"], capture_output=True,
                         text=True)
    stats = run.stdout + run.stderr
    line = [l for l in stats.splitlines() if "File Stats" in l]
    if run.returncode != 0 or not line or "rror" in run.stderr:
        problems.append(f"ipfixDump: exit {run.returncode}: {stats[-400:]}")
        return
    records = int(line[0].split("Messages,")[1].split("Data Records")[0])
    if records != sent:
        problems.append(f"ipfixDump: {records} data records, flowkit sent {sent}")
    else:
        print(f"ok  ipfixDump: {line[0].strip()} (flowkit sent {sent} records)")


def main():
    flowkit, shared = sys.argv[1:3]
    for tool in ("nfcapd", "nfdump", "tshark", "ipfixDump"):
        if not shutil.which(tool):
            print(f"SKIP: {tool} is not installed (scripts/bootstrap.sh installs it)")
            return 77
    captures = [os.path.join(shared, "pcaps", c) for c in CAPTURES]
    captures = [c for c in captures if os.path.exists(c)]
    if not captures:
        print("SKIP: the shared captures are not at ../shared/pcaps")
        return 77
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        check_nfcapd(flowkit, captures, tmp, "ipfix", [], False, False, problems)
        check_nfcapd(flowkit, captures, tmp, "ipfix", ["--export-uniflow"], True, False, problems)
        check_nfcapd(flowkit, captures, tmp, "netflow9", [], True, False, problems)
        check_nfcapd(flowkit, captures, tmp, "netflow5", [], True, True, problems)
        if os.geteuid() == 0:
            for scheme in ("ipfix", "netflow9", "netflow5"):
                check_tshark(flowkit, captures, tmp, scheme, problems)
        else:
            print("note: tshark capture on lo needs root; skipped")
        check_ipfixdump(flowkit, captures, tmp, problems)
    for p in problems:
        print("FAIL", p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
