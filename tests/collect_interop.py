#!/usr/bin/python3
"""The collector against exports nobody here wrote, and against nfcapd, on loopback:

  * softflowd's v5, v9 and IPFIX (generated/softflowd_exports.pcap): the captured UDP payloads
    sent again from three sockets, one per original exporter. Every record comes out, with the
    times tshark's own decoding gives (v5: unix_secs.nsecs - sysUpTime + start; v9: unix_secs -
    sysUpTime + start; IPFIX: systemInitTimeMilliseconds from options data + start), to the
    millisecond, with the same packets and bytes.
  * ndpi-4.2/netflow-fritz.pcap (a Fritz!Box's IPFIX) gives as many records as tshark finds;
    ndpi-4.2/netflowv9.pcap (v9 data whose template never comes) is held, then counted as
    dropped, and the collector stays up.
  * flowkit's own IPFIX (UDP and TCP), v9 and v5 exports of shared captures come back record
    for record: IPFIX with every field `meter -o json` writes, v9 and v5 with addresses, ports,
    protocol, counters and times.
  * collect --export: a second collector gets every record the first one received.
  * A collector stopped and started again on the same store decodes data sets that follow
    without their templates (DIR/.templates).
  * nfreplay (nfdump) replays nfcapd files as NetFlow v9 and v5, once to nfcapd and once to
    flowkit: both end with the same flows, packets and bytes, and the same first and last
    times.
  * softflowd 1.1.0 meters live traffic (shared captures replayed by tcpreplay onto a veth in a
    network namespace this test creates) and exports v5, v9 and IPFIX to flowkit and nfcapd at
    once: both end with the same flows, packets and bytes, and the same first and last times.
    (Root only: skipped with a message otherwise.)

usage: collect_interop.py FLOWKIT SHARED_DIR
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
from datetime import datetime, timezone

from testlib import check, finish, free_port



def us(iso):
    """An ISO time of flowkit's JSON as microseconds since the epoch."""
    t = datetime.strptime(iso.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc)
    return round(t.timestamp() * 1e6)


class Collector:
    """flowkit collect on a loopback port, JSON lines into a file."""

    def __init__(self, fk, tmp, name, extra=(), listen=None):
        self.port = free_port()
        self.out = os.path.join(tmp, name + ".json")
        self.log = os.path.join(tmp, name + ".log")
        spec = listen(self.port) if listen else f"127.0.0.1:{self.port}"
        args = [fk, "collect", "-l", spec, *extra]
        if "-w" not in extra:
            args += ["-o", "json", "-w", self.out]
        self.proc = subprocess.Popen(args, stderr=open(self.log, "w"))
        deadline = time.time() + 5
        while time.time() < deadline and "listening" not in open(self.log).read():
            time.sleep(0.05)

    def stop(self):
        time.sleep(0.3)
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=20)
        return self.proc.returncode

    def records(self):
        with open(self.out) as f:
            return [json.loads(line) for line in f if line.strip()]

    def summary(self):
        return open(self.log).read()


def send_all(port, payloads, pace=0.0005):
    """Sends each (exporter, bytes) from a socket of its own per exporter."""
    socks = {}
    for exporter, data in payloads:
        s = socks.get(exporter)
        if s is None:
            s = socks[exporter] = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(data, ("127.0.0.1", port))
        time.sleep(pace)
    for s in socks.values():
        s.close()
    return list(socks)


def tshark_fields(pcap, fields, ports):
    decode = []
    for p in ports:
        decode += ["-d", f"udp.port=={p},cflow"]
    out = subprocess.run(["tshark", "-r", pcap, *decode, "-T", "fields", "-E", "separator=\t",
                          *sum((["-e", f] for f in fields), [])],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def tshark_records(pcap, ports):
    """The UDP payloads of a capture of NetFlow/IPFIX exports, and per record the times tshark's
    decoding gives (v5: unix_secs.nsecs - sysUpTime + start; v9: unix_secs - sysUpTime + start;
    IPFIX: systemInitTimeMilliseconds + start), in microseconds, with packets and bytes."""
    rows = tshark_fields(pcap, ["udp.srcport", "udp.payload", "cflow.version", "cflow.unix_secs",
                                "cflow.unix_nsecs", "cflow.sysuptime", "cflow.sys_init_time",
                                "cflow.timestart", "cflow.timeend", "cflow.packets",
                                "cflow.octets"], ports)
    expected = collections.Counter()
    payloads, init = [], None
    for (sport, payload, version, secs, nsecs, uptime, sys_init, starts, ends, pkts,
         octets) in rows:
        payloads.append((sport, bytes.fromhex(payload)))
        if sys_init:
            init = datetime.strptime(sys_init[:26], "%b %d, %Y %H:%M:%S.%f")
            init = round(init.replace(tzinfo=timezone.utc).timestamp() * 1000)
        if not starts:
            continue
        if version in ("5", "9"):
            boot = int(secs) * 1_000_000 - round(float(uptime) * 1e6)
            if version == "5":
                boot += int(nsecs) // 1000
        else:
            boot = init * 1000
        for s, e, p, o in zip(starts.split(","), ends.split(","), pkts.split(","),
                              octets.split(",")):
            expected[(boot + round(float(s) * 1e6), boot + round(float(e) * 1e6), int(p),
                      int(o))] += 1
    return payloads, expected


def same_as_tshark(records, expected, label):
    have = collections.Counter((us(r["first"]), us(r["last"]), r["packets"], r["bytes"])
                               for r in records)
    missing, extra = expected - have, have - expected
    check(sum(expected.values()) > 0 and not missing and not extra,
          f"{label}: {sum(have.values())} records with tshark's times, packets and bytes "
          f"(of {sum(expected.values())}; missing {list(missing.items())[:2]}, extra "
          f"{list(extra.items())[:2]})")


def softflowd_exports(fk, shared, tmp):
    pcap = os.path.join(shared, "pcaps", "generated", "softflowd_exports.pcap")
    payloads, expected = tshark_records(pcap, [2055, 2056, 2057])
    c = Collector(fk, tmp, "softflowd")
    send_all(c.port, payloads)
    rc = c.stop()
    check(rc == 0, f"softflowd exports: collector exit {rc}")
    same_as_tshark(c.records(), expected, "softflowd v5/v9/IPFIX")
    check(c.summary().count(" records\n") == 3,
          "softflowd exports: no false loss or restart: " + c.summary().strip().replace("\n", " | "))


def negative_cases(fk, shared, tmp):
    fritz = os.path.join(shared, "pcaps", "ndpi-4.2", "netflow-fritz.pcap")
    v9 = os.path.join(shared, "pcaps", "ndpi-4.2", "netflowv9.pcap")
    for pcap, ports in ((fritz, []), (v9, [])):
        rows = tshark_fields(pcap, ["udp.srcport", "udp.dstport", "udp.payload"], ports)
        dst = {r[1] for r in rows}
        rows = tshark_fields(pcap, ["udp.srcport", "udp.payload", "cflow.packets"],
                             sorted(dst))
        want = sum(len(r[2].split(",")) for r in rows if r[2])
        c = Collector(fk, tmp, os.path.basename(pcap))
        send_all(c.port, [(r[0], bytes.fromhex(r[1])) for r in rows if r[1]])
        rc = c.stop()
        got = len(c.records())
        name = os.path.basename(pcap)
        check(rc == 0 and got == want and "malformed" not in c.summary(),
              f"{name}: {got} records (tshark: {want}), exit {rc}, nothing malformed")
        if pcap == v9:
            check("data sets dropped: template never came" in c.summary(),
                  f"{name}: data without its template counted: "
                  + c.summary().strip().replace("\n", " | "))


def own_exports(fk, shared, tmp):
    caps = [os.path.join(shared, "pcaps", p) for p in
            ("ndpi-4.2/pinterest.pcap", "ndpi-4.2/dns_fragmented.pcap", "ndpi-4.2/anydesk.pcap",
             "generated/scapy_synthetic.pcap", "tcpdump-4.99.3/QinQpacket.pcap")]
    direct = []
    for cap in caps:
        out = subprocess.run([fk, "meter", "-r", cap, "-o", "json", "-q"], capture_output=True,
                             text=True)
        direct += [json.loads(l) for l in out.stdout.splitlines()]

    def strip(r, keys=None):
        r = {k: v for k, v in r.items() if k not in ("exporter_ip", "observation_domain")}
        return json.dumps({k: r.get(k) for k in keys} if keys else r, sort_keys=True)

    for scheme, tcp in (("ipfix", False), ("ipfix+tcp", True), ("netflow9", False),
                        ("netflow5", False)):
        listen = (lambda p: f"ipfix+tcp://127.0.0.1:{p}") if tcp else None
        c = Collector(fk, tmp, "own-" + scheme, listen=listen)
        for cap in caps:
            # IPFIX in nanoseconds, so that every time comes back exact.
            subprocess.run([fk, "meter", "-r", cap, "-o", "none", "-q", "--export",
                            f"{scheme}://127.0.0.1:{c.port}"] +
                           (["--export-time", "ns"] if scheme.startswith("ipfix") else []),
                           check=False)
        rc = c.stop()
        got = c.records()
        if scheme.startswith("ipfix"):
            want = collections.Counter(strip(r) for r in direct)
            have = collections.Counter(strip(r) for r in got)
        else:
            keys = ("src_ip", "dst_ip", "src_port", "dst_port", "protocol", "packets", "bytes",
                    "first", "last")
            halves = []
            for r in direct:
                if scheme == "netflow5" and r["ip_version"] != 4:
                    continue
                halves.append({k: r.get(k) for k in keys})
                if r.get("packets_rev"):
                    halves.append({"src_ip": r["dst_ip"], "dst_ip": r["src_ip"],
                                   "src_port": r["dst_port"], "dst_port": r["src_port"],
                                   "protocol": r["protocol"], "packets": r["packets_rev"],
                                   "bytes": r["bytes_rev"], "first": r["first_rev"],
                                   "last": r["last_rev"]})
            # NetFlow carries milliseconds.
            for r in halves + got:
                for k in ("first", "last"):
                    r[k] = us(r[k]) // 1000
            want = collections.Counter(strip(r, keys) for r in halves)
            have = collections.Counter(strip(r, keys) for r in got)
            if scheme == "netflow5":
                # v5 has no ICMP ports; it carries type and code in the destination port.
                want = collections.Counter({k: v for k, v in want.items()
                                            if '"protocol": 1,' not in k and
                                            '"protocol": 58,' not in k})
                have = collections.Counter({k: v for k, v in have.items()
                                            if '"protocol": 1,' not in k and
                                            '"protocol": 58,' not in k})
        missing, extra = want - have, have - want
        check(rc == 0 and not missing and not extra,
              f"flowkit's own {scheme} export back record for record: {sum(have.values())} "
              f"of {sum(want.values())} (missing {sum(missing.values())}, extra "
              f"{sum(extra.values())}{': ' + next(iter(missing)) if missing else ''})")


def reexport(fk, shared, tmp):
    """collect --export: what one collector receives, a second one gets from it."""
    cap = os.path.join(shared, "pcaps", "ndpi-4.2", "pinterest.pcap")
    second = Collector(fk, tmp, "reexport-2")
    first = Collector(fk, tmp, "reexport-1",
                      extra=("-o", "json", "-w", os.path.join(tmp, "reexport-1.json"),
                             "--export", f"ipfix://127.0.0.1:{second.port}"))
    first.out = os.path.join(tmp, "reexport-1.json")
    subprocess.run([fk, "meter", "-r", cap, "-o", "none", "-q", "--export",
                    f"netflow9://127.0.0.1:{first.port}"], check=False)
    rc1 = first.stop()
    rc2 = second.stop()

    def strip(r):
        return json.dumps({k: v for k, v in r.items()
                           if k not in ("exporter_ip", "observation_domain")}, sort_keys=True)

    a = collections.Counter(strip(r) for r in first.records())
    b = collections.Counter(strip(r) for r in second.records())
    check(rc1 == 0 and rc2 == 0 and sum(a.values()) > 0 and a == b,
          f"collect --export: the second collector gets the first one's {sum(a.values())} "
          f"records ({sum(b.values())})")


def restart(fk, shared, tmp):
    cap = os.path.join(shared, "pcaps", "ndpi-4.2", "pinterest.pcap")
    ipfix = os.path.join(tmp, "restart.ipfix")
    subprocess.run([fk, "meter", "-r", cap, "-o", "none", "-q", "--export", "file:" + ipfix],
                   check=True)
    data = open(ipfix, "rb").read()
    messages = []
    while len(data) >= 16:
        n = int.from_bytes(data[2:4], "big")
        messages.append(data[:n])
        data = data[n:]

    def template_records(set_id, body):
        """(template id, record bytes) of a template (2) or options template (3) set."""
        off = 0
        while off + 4 <= len(body):
            tid, count = int.from_bytes(body[off:off + 2], "big"), int.from_bytes(body[off + 2:off + 4], "big")
            start, off = off, off + 4
            if set_id == 3:
                off += 2  # scope field count
            for _ in range(count):
                ie = int.from_bytes(body[off:off + 2], "big")
                off += 8 if ie & 0x8000 else 4
            yield tid, body[start:off]

    first_ids = set()
    off = 16
    while off + 4 <= len(messages[0]):
        set_id, n = int.from_bytes(messages[0][off:off + 2], "big"), int.from_bytes(messages[0][off + 2:off + 4], "big")
        if set_id in (2, 3):
            first_ids |= {tid for tid, _ in template_records(set_id, messages[0][off + 4:off + n])}
        off += n

    # The templates the first collector learned are left out; templates that first come later
    # (records of a new shape) stay, as the exporter sends them.
    def without_templates(m):
        out, off = bytearray(m[:16]), 16
        while off + 4 <= len(m):
            set_id, n = int.from_bytes(m[off:off + 2], "big"), int.from_bytes(m[off + 2:off + 4],
                                                                               "big")
            if set_id >= 256:
                out += m[off:off + n]
            elif set_id in (2, 3):
                kept = b"".join(r for tid, r in template_records(set_id, m[off + 4:off + n])
                                if tid not in first_ids)
                if kept:
                    out += set_id.to_bytes(2, "big") + (4 + len(kept)).to_bytes(2, "big") + kept
            off += n
        out[2:4] = len(out).to_bytes(2, "big")
        return bytes(out)

    store = os.path.join(tmp, "restart-store")
    # The same source port both times: the exporter did not restart, the collector did.
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sender.bind(("127.0.0.1", 0))
    first = Collector(fk, tmp, "restart1", extra=("-w", store))
    for m in messages[:1]:
        sender.sendto(m, ("127.0.0.1", first.port))
    first.stop()
    second = Collector(fk, tmp, "restart2", extra=("-w", store))
    # The port may differ; the templates belong to the exporter's address and port.
    for m in messages[1:] or messages[:1]:
        sender.sendto(without_templates(m), ("127.0.0.1", second.port))
    second.stop()
    sender.close()
    info = subprocess.run([fk, "store", "info", store], capture_output=True, text=True).stdout
    flows = int(info.split("flows:")[1].split()[0]) if "flows:" in info else -1
    want = int(subprocess.run([fk, "meter", "-r", cap, "-o", "json", "-q"], capture_output=True,
                              text=True).stdout.count("\n"))
    check(flows >= want and "template never came" not in second.summary(),
          f"restarted collector decodes data without templates: {flows} flows stored "
          f"(want {want}); " + second.summary().strip().replace("\n", " | ")[:300])


def nfdump_totals(files):
    flows = packets = octets = 0
    first, last = None, None
    for f in files:
        run = subprocess.run(["nfdump", "-r", f, "-q", "-o", "fmt:%ts|%te|%pkt|%byt", "-N"],
                             capture_output=True, text=True)
        for line in run.stdout.splitlines():
            fields = [x.strip() for x in line.split("|")]
            if len(fields) != 4:
                # nfdump prints "No matching flows" for a file without records (nfcapd rotated
                # while the test ran); say what such lines were, so that a count that then
                # disagrees explains itself.
                if line.strip():
                    print(f"note nfdump -r {os.path.basename(f)} printed {line.strip()!r}")
                continue
            ts, te, p, b = fields
            flows += 1
            packets += int(p)
            octets += int(b)
            t0 = datetime.strptime(ts, "%Y-%m-%d %H:%M:%S.%f")
            t1 = datetime.strptime(te, "%Y-%m-%d %H:%M:%S.%f")
            first = t0 if first is None or t0 < first else first
            last = t1 if last is None or t1 > last else last
    return flows, packets, octets, first, last


def nfreplay_vs_nfcapd(fk, shared, tmp):
    src = os.path.join(tmp, "nfpcapd")
    os.makedirs(src)
    caps = [os.path.join(shared, "pcaps", "ndpi-4.2", p) for p in
            ("pinterest.pcap", "anydesk.pcap", "skype.pcap", "youtube_quic.pcap")]
    for i, c in enumerate(caps):
        if os.path.exists(c):
            d = os.path.join(src, str(i))
            os.makedirs(d)
            subprocess.run(["nfpcapd", "-r", c, "-w", d], capture_output=True)
    files = sorted(glob.glob(os.path.join(src, "**", "nfcapd.2*"), recursive=True))
    check(bool(files), f"nfpcapd wrote {len(files)} nfcapd files to replay")
    for version in ("9", "5"):
        nfdir = os.path.join(tmp, f"nfcapd-v{version}")
        os.makedirs(nfdir)
        port = free_port()
        nfcapd = subprocess.Popen(["nfcapd", "-w", nfdir, "-p", str(port), "-b", "127.0.0.1"],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        time.sleep(0.7)
        fkc = Collector(fk, tmp, f"nfreplay-v{version}")
        for f in files:
            for p in (port, fkc.port):
                subprocess.run(["nfreplay", "-r", f, "-H", "127.0.0.1", "-p", str(p), "-v",
                                version, "-d", "100"], capture_output=True)
        time.sleep(0.5)
        nfcapd.send_signal(signal.SIGTERM)
        nfcapd.communicate(timeout=20)
        fkc.stop()
        nf = nfdump_totals(sorted(glob.glob(os.path.join(nfdir, "**", "nfcapd.2*"),
                                            recursive=True)))
        recs = fkc.records()
        mine = (len(recs), sum(r["packets"] for r in recs), sum(r["bytes"] for r in recs))
        check(nf[0] > 0 and mine == nf[:3],
              f"nfreplay v{version}: flowkit [flows, packets, bytes] {list(mine)}, nfcapd "
              f"{list(nf[:3])}")
        if recs and nf[3]:
            f_first = min(us(r["first"]) // 1000 for r in recs)
            f_last = max(us(r["last"]) // 1000 for r in recs)
            n_first = round(nf[3].replace(tzinfo=timezone.utc).timestamp() * 1000)
            n_last = round(nf[4].replace(tzinfo=timezone.utc).timestamp() * 1000)
            check(abs(f_first - n_first) <= 1 and abs(f_last - n_last) <= 1,
                  f"nfreplay v{version}: first/last times agree with nfdump's "
                  f"({f_first}/{f_last} vs {n_first}/{n_last} ms)")


def softflowd_live(fk, shared, tmp):
    if os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("softflowd") \
            or not shutil.which("tcpreplay"):
        print("skip softflowd live: needs root, ip, softflowd and tcpreplay")
        return
    ns = f"fksfd{os.getpid()}"

    def in_ns(*args, **kw):
        return subprocess.run(["ip", "netns", "exec", ns, *args], capture_output=True, text=True,
                              **kw)

    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        subprocess.run(["ip", "link", "add", "fksa", "netns", ns, "type", "veth", "peer", "name",
                        "fksb", "netns", ns], check=True)
        for dev in ("fksa", "fksb", "lo"):
            in_ns("ip", "link", "set", dev, "up", check=True)
        caps = [os.path.join(shared, "pcaps", "ndpi-4.2", p) for p in
                ("pinterest.pcap", "anydesk.pcap", "dns_fragmented.pcap", "skype.pcap")]
        caps = [c for c in caps if os.path.exists(c)]
        for version in ("5", "9", "10"):
            nfdir = os.path.join(tmp, f"sfd-nfcapd-{version}")
            os.makedirs(nfdir)
            out = os.path.join(tmp, f"sfd-flowkit-{version}.json")
            p_fk = free_port()
            log = os.path.join(tmp, f"sfd-flowkit-{version}.log")
            fkc = subprocess.Popen(["ip", "netns", "exec", ns, fk, "collect", "-l",
                                    f"127.0.0.1:{p_fk}", "-o", "json", "-w", out],
                                   stderr=open(log, "w"))
            # What softflowd sends is recorded, and nfcapd gets the very same datagrams after.
            stream = os.path.join(tmp, f"sfd-{version}.pcap")
            dumpcap = subprocess.Popen(["ip", "netns", "exec", ns, "dumpcap", "-i", "lo", "-f",
                                        f"udp dst port {p_fk}", "-P", "-w", stream, "-q"],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            ctl = os.path.join(tmp, f"sfd{version}.ctl")
            sfd = subprocess.Popen(["ip", "netns", "exec", ns, "softflowd", "-i", "fksb", "-d",
                                    "-v", version, "-n", f"127.0.0.1:{p_fk}", "-c", ctl, "-p",
                                    os.path.join(tmp, f"sfd{version}.pid")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1.5)
            in_ns("tcpreplay", "-i", "fksa", "--mbps=20", *caps)
            time.sleep(1)
            in_ns("softflowctl", "-c", ctl, "shutdown")
            try:
                sfd.wait(timeout=10)
            except subprocess.TimeoutExpired:
                sfd.kill()
            time.sleep(1)
            for p in (fkc, dumpcap):
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=20)
            payloads, expected = tshark_records(stream, [p_fk]) if os.path.exists(stream) \
                else ([], collections.Counter())
            p_nf = free_port()
            nfcapd = subprocess.Popen(["nfcapd", "-w", nfdir, "-p", str(p_nf), "-b",
                                       "127.0.0.1"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            time.sleep(0.7)
            send_all(p_nf, payloads)
            time.sleep(0.5)
            nfcapd.send_signal(signal.SIGTERM)
            nfcapd.wait(timeout=20)
            recs = [json.loads(l) for l in open(out) if l.strip()] if os.path.exists(out) else []
            mine = (len(recs), sum(r["packets"] for r in recs), sum(r["bytes"] for r in recs))
            nf = nfdump_totals(sorted(glob.glob(os.path.join(nfdir, "**", "nfcapd.2*"),
                                                recursive=True)))
            name = {"5": "v5", "9": "v9", "10": "IPFIX"}[version]
            check(mine[0] > 0 and mine == nf[:3],
                  f"softflowd {name} live: flowkit [flows, packets, bytes] {list(mine)}, nfcapd "
                  f"{list(nf[:3])}")
            # Times: nfcapd 1.7 dates some of softflowd's IPFIX ends before their starts, so
            # tshark's decoding of the same datagrams is the reference.
            same_as_tshark(recs, expected, f"softflowd {name} live")
            summary = open(log).read()
            check("lost on the way" not in summary and "malformed" not in summary,
                  f"softflowd {name} live: no loss, nothing malformed: "
                  + summary.strip().replace("\n", " | ")[-300:])
    finally:
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def main():
    fk, shared = sys.argv[1], sys.argv[2]
    if not os.path.isdir(os.path.join(shared, "pcaps")):
        print(f"skip: {shared}/pcaps not found")
        return 77
    for tool in ("tshark", "nfcapd", "nfdump", "nfreplay", "nfpcapd"):
        if not shutil.which(tool):
            print(f"skip: {tool} not installed (scripts/bootstrap.sh installs it)")
            return 77
    tmp = tempfile.mkdtemp(prefix="flowkit-collect-")
    try:
        softflowd_exports(fk, shared, tmp)
        negative_cases(fk, shared, tmp)
        own_exports(fk, shared, tmp)
        reexport(fk, shared, tmp)
        restart(fk, shared, tmp)
        nfreplay_vs_nfcapd(fk, shared, tmp)
        softflowd_live(fk, shared, tmp)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
