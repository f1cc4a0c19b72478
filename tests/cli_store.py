#!/usr/bin/python3
"""The store from the command line, on real captures (issue: the flow store):

  * `meter -o store -w DIR` then `store cat DIR -o json` gives the very lines that
    `meter -o json` writes, for every capture under ndpi-4.2 (every field, every record, in
    order), in each of zstd, lz4 and none.
  * Files land in DIR/YYYY/MM/DD/flows-YYYYMMDDHHMM.fk, aligned to --rotate, named by packet
    time; a second run in the same interval gets a -1 file instead of overwriting.
  * `store info` starts with `flows: N` and its totals match the records; --json parses.
  * `store verify` passes a clean store, and names the damaged block of a flipped byte (exit 1);
    `store cat` still prints every other block's records.
  * `store expire --max-size` removes the oldest files first and empty day directories;
    `--max-age` removes by interval end; bad values exit 2.
  * `-o store` without -w, and a -w that is a file, are usage errors.

usage: cli_store.py FLOWKIT SHARED_DIR
Exit 0 on success, 1 on failure, 77 when the shared data is missing.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile

from testlib import check, finish



def run(*args):
    return subprocess.run(args, capture_output=True, text=True)


def store_files(d):
    return sorted(glob.glob(os.path.join(d, "**", "*.fk"), recursive=True))


def main():
    fk, shared = sys.argv[1], sys.argv[2]
    captures = sorted(glob.glob(os.path.join(shared, "pcaps", "ndpi-4.2", "*.pcap")))
    if not captures:
        print(f"skip: {shared}/pcaps/ndpi-4.2 not found")
        return 77
    tmp = tempfile.mkdtemp(prefix="flowkit-store-")
    try:
        # Every record of every ndpi capture, as JSON, through the store and straight (as sets
        # of lines: the store keeps flows that began long before the others in blocks of their
        # own, so they come back in another order).
        mismatched, records = [], 0
        for i, cap in enumerate(captures):
            codec = ("zstd", "lz4", "none")[i % 3]
            direct = run(fk, "meter", "-r", cap, "-o", "json", "-q")
            if direct.returncode != 0:
                continue
            d = os.path.join(tmp, f"s{i}")
            w = run(fk, "meter", "-r", cap, "-o", "store", "-w", d, "--compress", codec, "-q")
            back = run(fk, "store", "cat", d, "-o", "json")
            if (w.returncode != 0 or back.returncode != 0
                    or sorted(back.stdout.splitlines()) != sorted(direct.stdout.splitlines())):
                mismatched.append(os.path.basename(cap) + " " + codec + " " + w.stderr + back.stderr)
            records += direct.stdout.count("\n")
            shutil.rmtree(d, ignore_errors=True)
        check(not mismatched and records > 5000,
              f"store cat = meter -o json on {len(captures)} captures ({records} records)"
              + (": " + "; ".join(mismatched[:3]) if mismatched else ""))

        big = os.path.join(shared, "pcaps", "ndpi-4.2", "tor.pcap")  # 616 s of traffic
        d = os.path.join(tmp, "rot")
        r = run(fk, "meter", "-r", big, "-o", "store", "-w", d, "--rotate", "60")
        files = store_files(d)
        rel = [os.path.relpath(f, d) for f in files]
        layout_ok = all(len(p.split("/")) == 4 and p.split("/")[3][6:10] == p.split("/")[0]
                        for p in rel)
        check(r.returncode == 0 and len(files) > 1 and layout_ok,
              f"--rotate 60 gives a file per minute in YYYY/MM/DD: {rel[:3]}... ({len(files)})")
        info = run(fk, "store", "info", d)
        lines = info.stdout.splitlines()
        direct = run(fk, "meter", "-r", big, "-o", "json", "-q")
        flows = direct.stdout.count("\n")
        packets = sum(j.get("packets", 0) + j.get("packets_rev", 0)
                      for j in map(json.loads, direct.stdout.splitlines()))
        check(info.returncode == 0 and lines and lines[0] == f"flows: {flows}" and
              f"packets: {packets}" in lines and any(l.startswith("bytes per flow: ") for l in lines),
              f"store info starts with flows: {flows}, packets: {packets} ({lines[:2]})")
        js = run(fk, "store", "info", d, "--json")
        try:
            parsed = json.loads(js.stdout)
        except ValueError:
            parsed = {}
        check(parsed.get("flows") == flows and parsed.get("files") == len(files),
              "store info --json")

        again = run(fk, "meter", "-r", big, "-o", "store", "-w", d, "--rotate", "60", "-q")
        files2 = store_files(d)
        check(again.returncode == 0 and len(files2) == 2 * len(files) and
              any(f.endswith("-1.fk") for f in files2),
              "a second run in the same intervals adds -1 files, overwrites nothing")

        v = run(fk, "store", "verify", d)
        check(v.returncode == 0 and "0 damaged" in v.stdout, "store verify passes a clean store")
        # Flip a byte in the middle of the largest file's first block's data.
        victim = max(files2, key=os.path.getsize)
        with open(victim, "r+b") as f:
            f.seek(32 + 4)
            size = int.from_bytes(f.read(4), "little")
            f.seek(32 + size + 20)
            b = f.read(1)
            f.seek(32 + size + 20)
            f.write(bytes([b[0] ^ 0x10]))
        v = run(fk, "store", "verify", d)
        check(v.returncode == 1 and "block at offset 32" in v.stderr and
              os.path.basename(victim) in v.stderr, "store verify names the damaged block: " +
              v.stderr.strip().splitlines()[0] if v.stderr else "store verify names nothing")
        c = run(fk, "store", "cat", d, "-o", "csv")
        check(c.returncode == 1 and c.stdout.count("\n") > flows and "skipped" in c.stderr,
              "store cat prints the undamaged blocks and says what it skipped")

        total = sum(os.path.getsize(f) for f in files2)
        newest = files2[-1]
        e = run(fk, "store", "expire", d, "--max-size", str(os.path.getsize(newest) + 1))
        left = store_files(d)
        days = glob.glob(os.path.join(d, "*", "*", "*"))
        check(e.returncode == 0 and left == [newest] and len(days) == 1,
              f"expire --max-size keeps the newest file only ({total} bytes before)")
        e = run(fk, "store", "expire", d, "--max-age", "1d")
        check(e.returncode == 0 and not store_files(d) and not os.listdir(d),
              "expire --max-age 1d removes old files and their directories")
        for bad in (["--max-age", "soon"], ["--max-size", "-5"], []):
            e = run(fk, "store", "expire", d, *bad)
            check(e.returncode == 2, f"store expire {' '.join(bad)} is a usage error: {e.stderr.strip()}")

        u = run(fk, "meter", "-r", big, "-o", "store")
        check(u.returncode == 2 and "-w DIR" in u.stderr, "-o store without -w: " + u.stderr.strip())
        u = run(fk, "meter", "-r", big, "-o", "store", "-w", big)
        check(u.returncode != 0 and os.path.getsize(big) > 0,
              "-o store -w FILE is refused: " + u.stderr.strip())
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
