#!/usr/bin/python3
"""Checks `flowkit meter -o flowrecorder` against flowRecorder's ground truth for one capture
and mode, with the reference checker (shared/tools/flowrecorder_check.py).

usage: flowrecorder_case.py FLOWKIT SHARED_DIR PCAP_NAME unidirectional|bidirectional
Exit 0 when every value matches, 1 otherwise, 77 when the shared data is absent.
"""
import os
import subprocess
import sys
import tempfile


def main():
    flowkit, shared, pcap_name, mode = sys.argv[1:5]
    expected = os.path.join(shared, "flowrecorder", "expected.yaml")
    pcap = os.path.join(shared, "flowrecorder", "pcaps", pcap_name)
    if not os.path.exists(expected) or not os.path.exists(pcap):
        print(f"SKIP: {pcap} not found (the shared test data lives in ../shared)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "out.csv")
        cmd = [flowkit, "meter", "-r", pcap, "-o", "flowrecorder", "--idle-timeout", "3600",
               "-w", out, "-q"]
        if mode == "unidirectional":
            cmd.append("--uniflow")
        run = subprocess.run(cmd, capture_output=True, text=True)
        if run.returncode != 0:
            print(f"FAIL: flowkit exited {run.returncode}: {run.stderr}")
            return 1
        checker = os.path.join(shared, "tools", "flowrecorder_check.py")
        check = subprocess.run([sys.executable, checker, expected, pcap_name, mode, out],
                               capture_output=True, text=True)
        print(check.stdout, end="")
        if check.returncode != 0:
            with open(out) as f:
                print("--- flowkit's CSV ---\n" + f.read(), end="")
        return check.returncode


if __name__ == "__main__":
    sys.exit(main())
