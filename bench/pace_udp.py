#!/usr/bin/python3
"""Sends the UDP payloads of a pcap (Ethernet or Linux cooked, IPv4) to HOST:PORT at a steady
packet rate, from one socket, and prints the rate it achieved. For bench/collect.sh: nfreplay
either sends flat out (-d 0) or sleeps per packet (-d 1 is about 10,000 packets/s here), and a
collector's sustained rate lies in between.

usage: pace_udp.py PCAP HOST PORT PACKETS_PER_SECOND [REPEAT]
"""
import socket
import struct
import sys
import time


def payloads(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = struct.unpack("<I", data[:4])[0]
    endian = "<" if magic in (0xA1B2C3D4, 0xA1B23C4D) else ">"
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(endian + "I", data[off + 8:off + 12])[0]
        frame = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        l2 = 14 if linktype == 1 else 16 if linktype == 113 else 0
        ip = frame[l2:]
        if len(ip) < 28 or ip[0] >> 4 != 4 or ip[9] != 17:
            continue
        ihl = (ip[0] & 15) * 4
        udp_len = struct.unpack(">H", ip[ihl + 4:ihl + 6])[0]
        out.append(bytes(ip[ihl + 8:ihl + udp_len]))
    return out


def main():
    pcap, host, port, pps = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    msgs = payloads(pcap) * (int(sys.argv[5]) if len(sys.argv) > 5 else 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 8 << 20)
    dest = (host, port)
    batch = 50  # packets between two looks at the clock
    t0 = time.perf_counter()
    for i in range(0, len(msgs), batch):
        # Sleep while ahead, so that the sender leaves the collector its share of the cores.
        ahead = t0 + i / pps - time.perf_counter()
        if ahead > 0:
            time.sleep(ahead)
        for m in msgs[i:i + batch]:
            s.sendto(m, dest)
    secs = time.perf_counter() - t0
    print(f"{len(msgs)} packets in {secs:.2f} s: {len(msgs) / secs:.0f} packets/s")


if __name__ == "__main__":
    main()
