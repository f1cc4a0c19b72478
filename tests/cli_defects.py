#!/usr/bin/python3
"""The defects a new user's trial found, one check each (issue: groundwork):

  * --export ipfix+tcp:// delivers every record that --export file: writes, on every capture
    under ndpi-4.2 (a TCP collector written here counts IPFIX data records per template).
  * An export that delivers nothing (TCP refused, UDP port closed) says so on stderr even with
    -q and exits 3.
  * -w naming a -r input is refused and the input is untouched.
  * --top prints on stdout, even with -q.
  * A BPF expression after the options is the filter.
  * --top -1, --snaplen -5, --sample 0: exit 2 with a plain range; flowkit -V prints the
    version; flowkit --bogus names the option.
  * A 3-flow run prints no memory-per-flow figure.
  * A pcapng's interface names (if_name) reach the flows' interface_name; file names do not.

usage: cli_defects.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on failure, 77 when the shared data is missing.
"""
import glob
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading

from testlib import free_port


def run(*args):
    return subprocess.run(args, capture_output=True, text=True)


def ipfix_data_records(stream):
    """Data records in a sequence of IPFIX messages: counted per set with the template lengths
    (fixed-length templates only; variable-length ones count one record per set)."""
    templates, n, off = {}, 0, 0
    while off + 16 <= len(stream):
        length = struct.unpack("!H", stream[off + 2:off + 4])[0]
        msg, off = stream[off:off + length], off + length
        p = 16
        while p + 4 <= len(msg):
            sid, slen = struct.unpack("!HH", msg[p:p + 4])
            body = msg[p + 4:p + slen]
            if sid in (2, 3):
                q = 0
                while q + 4 <= len(body):
                    tid, count = struct.unpack("!HH", body[q:q + 4])
                    q += 4
                    scope = 0
                    if sid == 3:
                        scope = struct.unpack("!H", body[q:q + 2])[0]
                        q += 2
                    size = 0
                    for _ in range(count):
                        eid, elen = struct.unpack("!HH", body[q:q + 4])
                        q += 8 if eid & 0x8000 else 4
                        size = None if elen == 65535 or size is None else size + elen
                    templates[tid] = (size, sid == 3)
                    if count == 0:
                        break
            elif sid >= 256 and sid in templates:
                size, options = templates[sid]
                if not options:
                    n += len(body) // size if size else 1
            p += max(slen, 4)
    return n


def tcp_collector(port, into):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(1)
    srv.settimeout(30)

    def serve():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            while True:
                b = conn.recv(1 << 16)
                if not b:
                    break
                into.extend(b)
        srv.close()

    t = threading.Thread(target=serve)
    t.start()
    return t


def main():
    fk, shared = sys.argv[1], sys.argv[2]
    captures = sorted(glob.glob(os.path.join(shared, "pcaps/ndpi-4.2/*.pcap*")))
    if not captures:
        print(f"SKIP: {shared}/pcaps/ndpi-4.2 not found")
        return 77
    problems = []
    with tempfile.TemporaryDirectory() as tmp:
        # TCP export against file export, capture by capture.
        checked = records = 0
        for cap in captures:
            path = os.path.join(tmp, "f.ipfix")
            port = free_port(socket.SOCK_STREAM)
            got = bytearray()
            t = tcp_collector(port, got)
            r = run(fk, "meter", "-r", cap, "-o", "none", "-q", "--export", f"file:{path}",
                    "--export", f"ipfix+tcp://127.0.0.1:{port}")
            t.join(timeout=30)
            if r.returncode not in (0, 1):
                problems.append(f"{cap}: exit {r.returncode}: {r.stderr[-300:]}")
                continue
            if r.returncode == 1:
                continue  # a capture flowkit cannot read at all (said on stderr)
            want = ipfix_data_records(open(path, "rb").read())
            have = ipfix_data_records(bytes(got))
            checked += 1
            records += want
            if want != have:
                problems.append(f"{os.path.basename(cap)}: file export {want} records, TCP {have}")
        print(f"ok  TCP export = file export on {checked} captures ({records} records)"
              if not problems else f"TCP vs file: {len(problems)} captures differ")
        cap = os.path.join(shared, "pcaps/ndpi-4.2/netflix.pcap")
        # Exports that deliver nothing.
        for url in (f"ipfix+tcp://127.0.0.1:{free_port(socket.SOCK_STREAM)}",
                    f"ipfix://127.0.0.1:{free_port()}"):
            r = run(fk, "meter", "-r", cap, "-o", "none", "-q", "--export", url)
            if r.returncode != 3 or "not delivered" not in r.stderr:
                problems.append(f"undelivered {url}: exit {r.returncode}, stderr {r.stderr!r}")
        # -w naming an input.
        copy = os.path.join(tmp, "input.pcap")
        shutil.copy(cap, copy)
        size = os.path.getsize(copy)
        r = run(fk, "meter", "-r", copy, "-w", copy)
        if r.returncode != 2 or os.path.getsize(copy) != size or "input" not in r.stderr:
            problems.append(f"-w = -r: exit {r.returncode}, size {os.path.getsize(copy)}")
        # --top on stdout with -q.
        r = run(fk, "meter", "-r", cap, "-o", "none", "-q", "--top", "3")
        if "Top 3 talkers" not in r.stdout or r.stderr:
            problems.append(f"--top: stdout {r.stdout!r} stderr {r.stderr!r}")
        # A BPF expression after the options.
        r = run(fk, "meter", "-r", cap, "-o", "json", "-q", "udp", "port", "53")
        ports = {l.split('"dst_port":')[1].split(",")[0] for l in r.stdout.splitlines()}
        if r.returncode != 0 or ports != {"53"}:
            problems.append(f"positional filter: exit {r.returncode}, ports {ports} {r.stderr}")
        # Ranges and messages.
        for opt in (["--top", "-1"], ["--snaplen", "-5"], ["--sample", "0"]):
            r = run(fk, "meter", "-r", cap, *opt)
            if r.returncode != 2 or "not in range" not in r.stderr or len(r.stderr) > 200:
                problems.append(f"{opt}: exit {r.returncode}: {r.stderr!r}")
        r = run(fk, "-V")
        if r.returncode != 0 or "flowkit" not in r.stdout:
            problems.append(f"-V: {r.returncode} {r.stdout!r} {r.stderr!r}")
        r = run(fk, "--bogus")
        if r.returncode != 2 or "unknown option '--bogus'" not in r.stderr:
            problems.append(f"--bogus: {r.returncode} {r.stderr!r}")
        # No per-flow memory figure for a tiny run.
        r = run(fk, "meter", "-r", os.path.join(shared, "pcaps/ndpi-4.2/dns_fragmented.pcap"),
                "-o", "none")
        if "bytes each" in r.stderr:
            problems.append(f"tiny run prints memory per flow: {r.stderr}")
        # A pcapng's interface names (if_name) are the flows' interface_name, with one thread
        # or two; a classic pcap's file name is not.
        named = os.path.join(shared, "pcaps/ndpi-4.2/os_detected.pcapng")
        for threads in ("1", "2"):
            r = run(fk, "meter", "-r", named, "-o", "json", "-q", "--threads", threads)
            names = {l.split('"interface_name":')[1].split(",")[0] for l in r.stdout.splitlines()
                     if '"interface_name"' in l}
            if r.returncode != 0 or names != {'"wlp3s0"'}:
                problems.append(f"interface_name, {threads} thread(s): {names} {r.stderr}")
        r = run(fk, "meter", "-r", cap, "-o", "json", "-q")
        if "interface_name" in r.stdout:
            problems.append("a classic pcap's flows name an interface")
    for p in problems:
        print("FAIL", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
