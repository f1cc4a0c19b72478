#!/usr/bin/python3
"""WireGuard sessions on one pair of ports are flows of their own, as ipfixprobe splits them: on
every shared WireGuard capture, each handshake tshark decodes (an initiation and its response)
starts exactly one flowkit record, whose wg_src_peer and wg_dst_peer are the indexes the two
sides chose in it; the records of a pair of ports hold every packet tshark counts there; and one
thread and two give the same records.

usage: wireguard_sessions.py FLOWKIT SHARED_DIR
Exit 0 when every check passes, 1 otherwise, 77 (ctest's skip) without the shared data or tshark.
"""
import collections
import json
import os
import subprocess
import sys

from testlib import check, endpoint, finish, missing

CAPTURES = ["ndpi-4.2/wireguard.pcap", "wireshark-4.0.17/wireguard-ping-tcp.pcap",
            "wireshark-4.0.17/wireguard-psk.pcap"]


def tshark(pcap):
    """The handshakes as {frozenset(ends): [(initiator, initiator index, responder index)]} and
    the packets per pair of ends."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", "udp", "-T", "fields", "-e", "ip.src", "-e", "ipv6.src",
         "-e", "udp.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", "udp.dstport",
         "-e", "wg.type", "-e", "wg.sender", "-e", "wg.receiver"],
        capture_output=True, text=True, check=True).stdout
    handshakes, packets = collections.defaultdict(list), collections.Counter()
    for line in out.splitlines():
        c = line.split("\t")
        src, dst = endpoint(c[0] or c[1], c[2]), endpoint(c[3] or c[4], c[5])
        ends = frozenset([src, dst])
        packets[ends] += 1
        if c[6] == "2" and c[7] and c[8]:  # a response: the responder's index, the initiator's
            handshakes[ends].append((dst, int(c[8], 16), int(c[7], 16)))
    return handshakes, packets


def flowkit(fk, pcap, threads):
    out = subprocess.run([fk, "meter", "-r", pcap, "-o", "json", "-q", "--threads", str(threads)],
                         capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines()]


def main():
    fk, shared = sys.argv[1], sys.argv[2]
    if skip := missing(os.path.join(shared, "pcaps", CAPTURES[0]), "tshark"):
        return skip
    total = 0
    for name in CAPTURES:
        pcap = os.path.join(shared, "pcaps", name)
        want, packets = tshark(pcap)
        records = flowkit(fk, pcap, 1)
        check(records == flowkit(fk, pcap, 2), f"{name}: one thread and two give the same records")
        got, counted = collections.defaultdict(list), collections.Counter()
        for r in records:
            src, dst = endpoint(r["src_ip"], r["src_port"]), endpoint(r["dst_ip"], r["dst_port"])
            counted[frozenset([src, dst])] += r["packets"] + r.get("packets_rev", 0)
            if r.get("wg_conf_level"):
                got[frozenset([src, dst])].append((src, r.get("wg_src_peer"), r.get("wg_dst_peer")))
        for ends, sessions in want.items():
            total += len(sessions)
            for initiator, ii, ri in sessions:
                # A record begun by the initiator names its index first; one begun by the
                # other side (a capture that starts mid-session) the other way round.
                ok = any((src == initiator and (sp, dp) == (ii, ri)) or
                         (src != initiator and (sp, dp) == (ri, ii)) for src, sp, dp in got[ends])
                check(ok, f"{name}: the handshake of {initiator} (indexes {ii:#x}, {ri:#x}) has "
                          f"its record")
            check(len(got[ends]) in (len(sessions), len(sessions) + 1),
                  f"{name}: {len(got[ends])} records for {len(sessions)} handshakes (one more "
                  f"when the capture starts mid-session)")
        check(counted == packets, f"{name}: every packet is in a record ({sum(counted.values())} "
              f"of {sum(packets.values())})")
    check(total >= 7, f"every capture's handshakes found ({total})")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
