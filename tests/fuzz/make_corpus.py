#!/usr/bin/python3
"""Writes a seed corpus for the fuzz targets.

  make_corpus.py OUT_DIR PCAP_DIR...
      the frames of the classic little-endian Ethernet pcaps in the folders, one file per frame
      (decoder_fuzz: link-type byte 0 = Ethernet prefixed).
  make_corpus.py --flows OUT_DIR PCAP_DIR...
      the TCP and UDP flows of the pcaps over IPv4 for dissect_fuzz: each payload packet as a
      2-byte length, a byte of direction, transport and server port, and the TCP sequence
      number, before its payload (tests/fuzz/dissect_fuzz.cpp).
  make_corpus.py --exports OUT_DIR [--nfreplay NFCAPD_FILE] FILE...
      real flow exports for ipfix_decoder_fuzz (each message as a 2-byte length and its bytes):
      every exporter's stream in a pcap of exports (softflowd's, a Fritz!Box's) as one seed and
      each of its messages alone, the messages of IPFIX files (flowkit's own exports), and
      what nfreplay sends of an nfcapd file as v9 and v5 (received here on a loopback port).
"""
import os
import socket
import struct
import subprocess
import sys


def frames(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24 or data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return
    if struct.unpack_from("<I", data, 20)[0] != 1:
        return
    off = 24
    while off + 16 <= len(data):
        caplen = struct.unpack_from("<I", data, off + 8)[0]
        off += 16
        if caplen > len(data) - off:
            return
        yield data[off:off + caplen]
        off += caplen


def udp_payloads(path):
    """(source port, payload) of each IPv4 UDP frame of a pcap."""
    for frame in frames(path):
        if len(frame) < 42 or frame[12:14] != b"\x08\x00" or frame[23] != 17:
            continue
        ihl = (frame[14] & 15) * 4
        udp = 14 + ihl
        sport, length = struct.unpack_from(">H", frame, udp)[0], struct.unpack_from(
            ">H", frame, udp + 4)[0]
        yield sport, frame[udp + 8:udp + length]


def ipfix_messages(path):
    with open(path, "rb") as f:
        data = f.read()
    while len(data) >= 16:
        n = struct.unpack_from(">H", data, 2)[0]
        if n < 16:
            return
        yield data[:n]
        data = data[n:]


def nfreplay_messages(nfcapd_file):
    out = []
    for version in ("9", "5"):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        subprocess.run(["nfreplay", "-r", nfcapd_file, "-H", "127.0.0.1", "-p",
                        str(s.getsockname()[1]), "-v", version, "-c", "200"],
                       capture_output=True)
        s.settimeout(0.5)
        stream = []
        try:
            while True:
                stream.append(s.recv(65535))
        except socket.timeout:
            pass
        s.close()
        out.append(stream)
    return out


def exports(argv):
    out = argv[0]
    os.makedirs(out, exist_ok=True)
    streams = []
    rest = argv[1:]
    if rest[:1] == ["--nfreplay"]:
        streams += nfreplay_messages(rest[1])
        rest = rest[2:]
    for path in rest:
        if path.endswith(".ipfix"):
            streams.append(list(ipfix_messages(path)))
            continue
        by_port = {}
        for port, payload in udp_payloads(path):
            by_port.setdefault(port, []).append(payload)
        streams += by_port.values()
    n = 0

    def seed(messages):
        nonlocal n
        data = b"".join(struct.pack(">H", len(m)) + m for m in messages)
        with open(os.path.join(out, f"export{n:05d}"), "wb") as f:
            f.write(data)
        n += 1

    for stream in streams:
        if not stream:
            continue
        seed(stream[:50])  # templates, then the data that needs them
        for m in stream[:50]:
            seed([m])
    print(f"{n} seeds in {out}")


FUZZ_PORTS = [53, 443, 80, 22, 1194, 51820, 8443, 5353]  # dissect_fuzz.cpp's kPorts


def flows(out, folders):
    os.makedirs(out, exist_ok=True)
    n = 0
    for folder in folders:
        for name in sorted(os.listdir(folder)):
            by_flow = {}
            for frame in frames(os.path.join(folder, name)):
                if len(frame) < 34 or frame[12:14] != b"\x08\x00" or frame[14] >> 4 != 4:
                    continue
                ihl = (frame[14] & 15) * 4
                proto = frame[23]
                end = min(len(frame), 14 + struct.unpack_from(">H", frame, 16)[0])
                l4 = 14 + ihl
                if proto not in (6, 17) or l4 + (20 if proto == 6 else 8) > end:
                    continue
                sport, dport = struct.unpack_from(">HH", frame, l4)
                hl = (frame[l4 + 12] >> 4) * 4 if proto == 6 else 8
                seq = struct.unpack_from(">I", frame, l4 + 4)[0] if proto == 6 else 0
                payload = frame[l4 + hl:end]
                if not payload:
                    continue
                a, b = (frame[26:30], sport), (frame[30:34], dport)
                key = (proto,) + (a + b if a < b else b + a)
                flow = by_flow.setdefault(key, {"first": a, "packets": []})
                forward = a == flow["first"]
                server = dport if forward else sport
                port = FUZZ_PORTS.index(server) if server in FUZZ_PORTS else 1
                bits = (0 if forward else 1) | (2 if proto == 6 else 0) | port << 2
                flow["packets"].append(struct.pack(">HBI", len(payload), bits, seq) + payload)
            for flow in by_flow.values():
                with open(os.path.join(out, f"flow{n:05d}"), "wb") as f:
                    f.write(b"".join(flow["packets"][:12]))
                n += 1
                if n >= 3000:
                    print(f"{n} seeds in {out}")
                    return
    print(f"{n} seeds in {out}")


def main():
    if sys.argv[1] == "--exports":
        return exports(sys.argv[2:])
    if sys.argv[1] == "--flows":
        return flows(sys.argv[2], sys.argv[3:])
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    n = 0
    for folder in sys.argv[2:]:
        for name in sorted(os.listdir(folder)):
            for frame in frames(os.path.join(folder, name)):
                with open(os.path.join(out, f"seed{n:05d}"), "wb") as f:
                    f.write(b"\x00" + frame)
                n += 1
                if n >= 2000:
                    return
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main()
