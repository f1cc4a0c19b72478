#!/usr/bin/python3
"""Live capture end to end: flowkit meter -i on a veth inside network namespaces this test
creates, real traffic between them (ping, UDP, TCP), then SIGTERM or SIGINT: every flow in flight
must be written, with the right packet counts, and the BPF filter must apply. Exports go to a
collector in the other namespace; a flow's export message must leave within about a second of
the flow's end even when no more traffic follows.

usage: live_capture.py FLOWKIT
Exit 0 on success, 1 on failure, 77 (skip) when not root or without `ip netns`.
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

NS_A, NS_B = f"fkA{os.getpid()}", f"fkB{os.getpid()}"
IP_A, IP_B = "10.199.0.1", "10.199.0.2"


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


def in_ns(ns, *args, **kw):
    return sh("ip", "netns", "exec", ns, *args, **kw)


def setup():
    sh("ip", "netns", "add", NS_A)
    sh("ip", "netns", "add", NS_B)
    sh("ip", "link", "add", "fkva", "netns", NS_A, "type", "veth", "peer", "name", "fkvb",
       "netns", NS_B)
    for ns, dev, ip in ((NS_A, "fkva", IP_A), (NS_B, "fkvb", IP_B)):
        in_ns(ns, "ip", "addr", "add", ip + "/24", "dev", dev)
        in_ns(ns, "ip", "link", "set", dev, "up")
        in_ns(ns, "ip", "link", "set", "lo", "up")


def teardown():
    for ns in (NS_A, NS_B):
        sh("ip", "netns", "del", ns, check=False)


def traffic():
    in_ns(NS_A, "ping", "-c", "5", "-i", "0.2", IP_B)
    # 10 UDP datagrams A -> B port 9999, nobody listening (B answers with ICMP unreachable).
    in_ns(NS_A, sys.executable, "-c",
          "import socket,time\n"
          "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
          f"[ (s.sendto(b'x'*100,('{IP_B}',9999)), time.sleep(0.01)) for _ in range(10)]")
    # One TCP connection with a little data each way.
    server = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, "-c",
                               "import socket\n"
                               "l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1)\n"
                               f"l.bind(('{IP_B}',8080)); l.listen(1); c,_=l.accept()\n"
                               "c.sendall(c.recv(100)); c.close()"])
    time.sleep(0.5)
    in_ns(NS_A, sys.executable, "-c",
          "import socket\n"
          f"s=socket.create_connection(('{IP_B}',8080)); s.sendall(b'hello'); s.recv(100); s.close()")
    server.wait(timeout=10)
    time.sleep(0.5)


def run_meter(flowkit, out, extra, stop_signal):
    p = subprocess.Popen(["ip", "netns", "exec", NS_A, flowkit, "meter", "-i", "fkva", "-o", "json",
                          "-w", out] + extra, stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)  # let the capture start
    traffic()
    p.send_signal(stop_signal)
    _, err = p.communicate(timeout=20)
    flows = [json.loads(l) for l in open(out) if l.strip()]
    return p.returncode, err, flows


# A collector in namespace B: logs "arrival-time port bytes has-data-set" per datagram.
COLLECTOR = r"""
import select, socket, struct, sys, time
socks = []
for port in (4739, 2055):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((sys.argv[1], port))
    socks.append(s)
log = open(sys.argv[2], "w", buffering=1)
while True:
    for s in select.select(socks, [], [])[0]:
        m = s.recv(65535)
        off, data = (16, False) if m[:2] == b"\x00\x0a" else (20, False)
        while off + 4 <= len(m):
            sid, length = struct.unpack("!HH", m[off:off + 4])
            data = data or sid >= 256
            off += max(length, 4)
        log.write(f"{time.time()} {s.getsockname()[1]} {len(m)} {int(data)}\n")
"""


def start_collector(log):
    p = subprocess.Popen(["ip", "netns", "exec", NS_B, sys.executable, "-c", COLLECTOR, IP_B, log])
    time.sleep(0.5)
    return p


def received(log):
    return [(float(t), int(port), int(n), d == "1") for t, port, n, d in
            (l.split() for l in open(log) if l.strip())]


def find(flows, proto, port=None):
    return [f for f in flows if f["protocol"] == proto and (port is None or f["dst_port"] == port)]


def main():
    flowkit = sys.argv[1]
    if os.geteuid() != 0 or not shutil.which("ip"):
        print("SKIP: needs root and iproute2 to create network namespaces")
        return 77
    problems = []
    try:
        setup()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "flows.jsonl")
            rc, err, flows = run_meter(flowkit, out, [], signal.SIGTERM)
            if rc != 0:
                problems.append(f"SIGTERM run exited {rc}: {err}")
            # ICMP is keyed by addresses only (as FlowTest and flowRecorder expect), so B's port
            # unreachables for the UDP datagrams below join the ping's reverse direction.
            icmp = [f for f in find(flows, 1) if f["src_ip"] == IP_A and f.get("icmp_type") == 8]
            if len(icmp) != 1 or icmp[0]["packets"] != 5 or icmp[0].get("packets_rev", 0) < 5:
                problems.append(f"ping: want one biflow with 5 requests and the replies, got {icmp}")
            udp = find(flows, 17, 9999)
            if len(udp) != 1 or udp[0]["packets"] != 10:
                problems.append(f"udp: want 10 packets to port 9999, got {udp}")
            tcp = find(flows, 6, 8080)
            if len(tcp) != 1 or tcp[0]["packets"] < 4 or tcp[0].get("packets_rev", 0) < 3:
                problems.append(f"tcp: want one connection to 8080, got {tcp}")
            if "flushing every flow in flight" not in err:
                problems.append(f"no flush message on SIGTERM: {err}")
            # SIGINT (Ctrl-C) and a BPF filter: only ICMP may be counted.
            rc, err, flows = run_meter(flowkit, out, ["-f", "icmp"], signal.SIGINT)
            if rc != 0:
                problems.append(f"SIGINT run exited {rc}: {err}")
            if not flows or any(f["protocol"] != 1 for f in flows):
                problems.append(f"filter icmp: got {[(f['protocol'], f['dst_port']) for f in flows]}")
            # Exporting to a collector across the same link: the meter must not meter its own
            # export datagrams (flowkit filters its destination out of the capture).
            # Short timeouts, so that flows are exported while the capture still runs.
            log = os.path.join(tmp, "collector.log")
            collector = start_collector(log)
            try:
                rc, err, flows = run_meter(flowkit, out, ["--export", f"ipfix://{IP_B}:4739",
                                                          "--export", f"netflow9://{IP_B}:2055",
                                                          "--idle-timeout", "0.3",
                                                          "--active-timeout", "0.5"],
                                           signal.SIGTERM)
                own = [f for f in flows if f["protocol"] == 17 and f["dst_port"] in (4739, 2055)]
                if rc != 0 or own or not find(flows, 6, 8080):
                    problems.append(f"export while live: exit {rc}, own exports metered: {own}")
                if "export ipfix://" not in err:
                    problems.append(f"no export summary: {err}")
                got = received(log)
                for port in (4739, 2055):
                    if not any(p == port and d for _, p, _, d in got):
                        problems.append(f"collector on port {port} received no data set: {got}")
                # One short flow, then silence: its message must leave within about a second of
                # the flow's end (0.3 s idle timeout), not wait for more flows or for the exit.
                seen = len(received(log))
                p = subprocess.Popen(["ip", "netns", "exec", NS_A, flowkit, "meter", "-i", "fkva",
                                      "-o", "json", "-w", os.devnull, "-q", "--idle-timeout", "0.3",
                                      "--export",
                                      f"ipfix://{IP_B}:4739"], stderr=subprocess.PIPE, text=True)
                time.sleep(1.0)
                # Two flows 2.5 s apart, each with its own message: neither may wait for the next
                # flow (or the exit) to leave.
                late = []
                for port in (7777, 7778):
                    t0 = time.time()
                    in_ns(NS_A, sys.executable, "-c",
                          "import socket\n"
                          "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                          f"[s.sendto(b'x',('{IP_B}',{port})) for _ in range(3)]")
                    time.sleep(2.5)
                    got = received(log)[seen:]
                    seen += len(got)
                    during = [t - t0 for t, _, _, d in got if d]
                    if not during or during[0] > 2.0:
                        late.append(f"flow to port {port}: data messages at {during} s")
                p.send_signal(signal.SIGTERM)
                _, err = p.communicate(timeout=20)
                if late:
                    problems.append(f"live export: a flow's message waited: {late}; {err}")
                else:
                    print("ok  live export: each flow's message left within 2 s, before exit")
            finally:
                collector.kill()
            bad = subprocess.run(["ip", "netns", "exec", NS_A, flowkit, "meter", "-i", "fkva", "-f",
                                  "tcp port", "-q"], capture_output=True, text=True, timeout=20)
            if bad.returncode == 0 or "filter" not in bad.stderr:
                problems.append(f"a bad filter must fail with a message: {bad.stderr}")
    finally:
        teardown()
    for p in problems:
        print("FAIL", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
