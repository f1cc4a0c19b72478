#!/usr/bin/python3
"""Robustness: flowkit meters every capture of one folder of shared/pcaps (malformed and fuzz
cases included) without crashing. Built with -DFLOWKIT_SANITIZE=ON, any AddressSanitizer or
UndefinedBehaviorSanitizer report fails the test. Each file runs twice, with two different sets
of options, so that most code paths see every capture.

usage: robustness.py FLOWKIT SHARED_DIR FOLDER
Exit 0 when every run ends cleanly (exit 0, or 1 with an error message for files that are not
captures), 1 otherwise, 77 when the shared data is absent.
"""
import concurrent.futures
import os
import subprocess
import sys

VARIANTS = [
    ["-o", "json"],
    ["-o", "csv", "--uniflow", "-T", "proto", "--sample", "3", "--no-decap", "--max-flows", "50",
     "--active-timeout", "1", "--idle-timeout", "2"],
]


def run(flowkit, path):
    problems = []
    for variant in VARIANTS:
        cmd = [flowkit, "meter", "-r", path, "-w", os.devnull, "-q"] + variant
        p = subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=300)
        sanitizer = "Sanitizer" in p.stderr or "runtime error:" in p.stderr
        if sanitizer or p.returncode not in (0, 1) or (p.returncode == 1 and not p.stderr.strip()):
            problems.append(f"{' '.join(variant)}: exit {p.returncode}: {p.stderr.strip()[:600]}")
    return path, problems


def main():
    flowkit, shared, folder = sys.argv[1:4]
    root = os.path.join(shared, "pcaps", folder)
    if not os.path.isdir(root):
        print(f"SKIP: {root} not found (the shared test data lives in ../shared)")
        return 77
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs)
    bad = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        for path, problems in pool.map(lambda p: run(flowkit, p), files):
            for pr in problems:
                bad.append(f"{os.path.relpath(path, root)}: {pr}")
    for b in bad:
        print("FAIL", b)
    print(f"{folder}: {len(files)} files, {len(bad)} failed runs")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
