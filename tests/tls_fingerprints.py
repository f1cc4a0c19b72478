#!/usr/bin/python3
"""flowkit's JA3 and JA3S against tshark's (Wireshark's own implementation) on every shared
capture that holds TLS: the same fingerprint for every connection both see, and flowkit finds
nearly every ClientHello tshark finds. The same for DTLS (every handshake tshark decodes, SNI
too). And the SNI of QUIC Initials, which both decrypt: the same name for every QUIC connection
tshark names.

usage: tls_fingerprints.py FLOWKIT SHARED_DIR
Exit 0 when every check passes, 1 otherwise, 77 (ctest's skip) without the shared data or tshark.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

from testlib import check, endpoint, finish, missing

# Of the connections whose ClientHello tshark decodes, the share flowkit must fingerprint. The
# rest are ClientHellos that begin after a gap in the capture or that tshark finds by port on
# a stream whose start was not captured.
MIN_COVERAGE = 0.95



def tshark_hellos(pcap, layer="tls"):
    """{(client, server): [ja3, ja3s, sni]} of the first ClientHello and ServerHello per
    connection; layer "tls" (over TCP) or "dtls" (over UDP)."""
    l4 = "tcp" if layer == "tls" else "udp"
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y",
         f"{layer}.handshake.type == 1 or {layer}.handshake.type == 2", "-T", "fields",
         "-E", "occurrence=a", "-E", "aggregator=|", "-e", "ip.src", "-e", "ipv6.src",
         "-e", f"{l4}.srcport", "-e", "ip.dst", "-e", "ipv6.dst", "-e", f"{l4}.dstport",
         "-e", f"{layer}.handshake.type", "-e", f"{layer}.handshake.ja3_full",
         "-e", f"{layer}.handshake.ja3s", "-e", f"{layer}.handshake.extensions_server_name"],
        capture_output=True, text=True).stdout
    hellos = {}
    for line in out.splitlines():
        cols = line.split("\t")
        if len(cols) < 10 or not cols[2]:
            continue
        # The innermost header keys the flow (tunnels: 6in4, GRE...), as flowkit keys it.
        last = [c.split("|")[-1] for c in cols[:6]]
        src = endpoint(last[0] or last[1], last[2])
        dst = endpoint(last[3] or last[4], last[5])
        kinds = cols[6].replace(",", "|").split("|")
        ja3_full = cols[7].split("|")[0]
        ja3s = cols[8].split("|")[0]
        if "1" in kinds and ja3_full:
            # A ClientHello without extensions: JA3's reference (salesforce/ja3) still writes
            # the three empty lists, Wireshark 4.0 leaves them out.
            full = ja3_full + ",," if ja3_full.count(",") == 2 else ja3_full
            hellos.setdefault((src, dst), [hashlib.md5(full.encode()).hexdigest(), None,
                                           cols[9].split("|")[0] or None])
        if "2" in kinds and ja3s and (dst, src) in hellos and hellos[(dst, src)][1] is None:
            hellos[(dst, src)][1] = ja3s
    return hellos


def tshark_quic_names(pcap):
    """{(client, server): SNI} of the QUIC ClientHellos tshark decrypts."""
    out = subprocess.run(
        ["tshark", "-r", pcap, "-Y", "quic and tls.handshake.type == 1", "-T", "fields", "-E",
         "occurrence=l", "-e", "ip.src", "-e", "ipv6.src", "-e", "udp.srcport", "-e", "ip.dst",
         "-e", "ipv6.dst", "-e", "udp.dstport", "-e", "tls.handshake.extensions_server_name"],
        capture_output=True, text=True).stdout
    names = {}
    for line in out.splitlines():
        c = line.split("\t")
        if len(c) < 7 or not c[2] or not c[6]:
            continue
        names.setdefault((endpoint(c[0] or c[1], c[2]), endpoint(c[3] or c[4], c[5])), c[6])
    return names


def flowkit_records(flowkit, pcap, tmp):
    out = os.path.join(tmp, "flows.jsonl")
    args = [flowkit, "meter", "-o", "json", "-w", out, "-q", "--idle-timeout", "3600", "-r"]
    if pcap.endswith(".gz"):  # flowkit reads compressed captures from a pipe
        gunzip = subprocess.Popen(["gunzip", "-c", pcap], stdout=subprocess.PIPE)
        subprocess.run(args + ["-"], stdin=gunzip.stdout, check=True)
        gunzip.wait()
    else:
        subprocess.run(args + [pcap], check=True)
    with open(out) as f:
        return [json.loads(line) for line in f]


def flowkit_hellos(flowkit, pcap, tmp):
    found = {}
    for r in flowkit_records(flowkit, pcap, tmp):
        if "tls_ja3" not in r and "tls_ja3s" not in r:
            continue
        a = endpoint(r["src_ip"], r["src_port"])
        b = endpoint(r["dst_ip"], r["dst_port"])
        # The flow's first sender is the client, as a ClientHello's sender is.
        found.setdefault((a, b), (r.get("tls_ja3"), r.get("tls_ja3s")))
    return found


def agree(flowkit, pcaps, tmp, shared, what, tshark_values, key, values, alike):
    """(agreeing, compared) connections of the captures: tshark_values(pcap) gives
    {(end, end): values}, flowkit's records give values(record) under key(src, dst); key is
    applied to tshark's ends too. Each disagreement is printed."""
    agreeing = compared = 0
    for pcap in pcaps:
        want = tshark_values(pcap)
        if not want:
            continue
        got = {key(endpoint(r["src_ip"], r["src_port"]), endpoint(r["dst_ip"], r["dst_port"])):
               values(r) for r in flowkit_records(flowkit, pcap, tmp)}
        name = os.path.relpath(pcap, os.path.join(shared, "pcaps"))
        for conn, theirs in sorted(want.items()):
            compared += 1
            mine = got.get(key(*conn))
            if mine is not None and alike(mine, theirs):
                agreeing += 1
            else:
                print(f"  {name} {conn}: {what} {mine}, tshark {theirs}")
    return agreeing, compared


def main():
    flowkit, shared = sys.argv[1], sys.argv[2]
    inventory = os.path.join(shared, "pcaps", "INVENTORY.tsv")
    if skip := missing(inventory, "tshark"):
        return skip
    pcaps, quic, dtls = [], [], []
    with open(inventory) as f:
        next(f)
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) >= 6 and " tls=" in " " + cols[5]:
                pcaps.append(os.path.join(shared, "pcaps", cols[0]))
            if len(cols) >= 6 and " quic=" in " " + cols[5]:
                quic.append(os.path.join(shared, "pcaps", cols[0]))
            if len(cols) >= 6 and " dtls=" in " " + cols[5]:
                dtls.append(os.path.join(shared, "pcaps", cols[0]))
    total = same = missed = 0
    ja3s_same = ja3s_total = 0
    with tempfile.TemporaryDirectory() as tmp:
        for pcap in pcaps:
            want = tshark_hellos(pcap)
            if not want:
                continue
            got = flowkit_hellos(flowkit, pcap, tmp)
            name = os.path.relpath(pcap, os.path.join(shared, "pcaps"))
            for conn, (ja3, ja3s, _) in sorted(want.items()):
                total += 1
                mine = got.get(conn)
                if not mine or not mine[0]:
                    missed += 1
                    continue
                if mine[0] == ja3:
                    same += 1
                else:
                    check(False, f"{name} {conn}: JA3 {mine[0]}, tshark {ja3}")
                if ja3s and mine[1]:
                    ja3s_total += 1
                    if mine[1] == ja3s:
                        ja3s_same += 1
                    else:
                        check(False, f"{name} {conn}: JA3S {mine[1]}, tshark {ja3s}")
        # DTLS: a capture may begin with the server's packet (a CAPWAP tunnel already up), so
        # a connection is its two ends in either order. tshark's JA3S belongs to the
        # ServerHello it saw; none seen, none compared.
        dtls_same, dtls_total = agree(
            flowkit, dtls, tmp, shared, "DTLS JA3, JA3S, SNI",
            lambda pcap: tshark_hellos(pcap, "dtls"), lambda a, b: frozenset([a, b]),
            lambda r: (r.get("tls_ja3"), r.get("tls_ja3s"), r.get("tls_sni")),
            lambda mine, theirs: all(w is None or m == w for m, w in zip(mine, theirs)))
        quic_same, quic_total = agree(
            flowkit, quic, tmp, shared, "QUIC SNI", tshark_quic_names, lambda a, b: (a, b),
            lambda r: r.get("tls_sni"), lambda mine, theirs: mine == theirs)
    print(f"{len(dtls)} captures with DTLS: flowkit's JA3, JA3S and SNI are tshark's on "
          f"{dtls_same} of {dtls_total} handshakes")
    check(dtls_total >= 8 and dtls_same == dtls_total,
          f"every DTLS handshake tshark decodes, flowkit reads alike ({dtls_same} of "
          f"{dtls_total})")
    print(f"{len(quic)} captures with QUIC: flowkit reads the SNI tshark decrypts on {quic_same} "
          f"of {quic_total} connections")
    check(quic_total >= 10 and quic_same == quic_total,
          f"every QUIC SNI tshark decrypts, flowkit reads ({quic_same} of {quic_total})")
    print(f"{len(pcaps)} captures with TLS; {total} ClientHellos tshark fingerprints, flowkit "
          f"agrees on {same}, misses {missed}; JA3S agrees on {ja3s_same} of {ja3s_total}")
    check(total > 100, f"enough ClientHellos to judge ({total})")
    check(same == total - missed, "every JA3 both compute is the same")
    check(ja3s_same == ja3s_total, "every JA3S both compute is the same")
    check(total and (total - missed) / total >= MIN_COVERAGE,
          f"flowkit fingerprints {total - missed} of {total} ClientHellos "
          f"(at least {MIN_COVERAGE:.0%})")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
