#!/usr/bin/python3
"""Writes a seed corpus for the fuzz targets: the frames of the classic little-endian Ethernet
pcaps in the given folders, one file per frame (decoder: link-type byte 0 = Ethernet prefixed).

usage: make_corpus.py OUT_DIR PCAP_DIR...
"""
import os
import struct
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


def main():
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
