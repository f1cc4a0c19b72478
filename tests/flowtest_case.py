#!/usr/bin/python3
"""Runs one CESNET FlowTest case: meters the case's pcap with flowkit and checks the flows
against the annotation with the reference checker (shared/tools/flowtest_check.py).

usage: flowtest_case.py FLOWKIT SHARED_DIR CASE_NAME [--scope l4|app|all]
Exit 0 on PASS, 1 on FAIL, 77 (ctest's skip code) when the shared data is absent.
"""
import os
import subprocess
import sys
import tempfile

import yaml


def main():
    flowkit, shared, case = sys.argv[1:4]
    scope = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == "--scope" else "l4"
    case_path = os.path.join(shared, "flowtest", "cases", case + ".yml")
    if not os.path.exists(case_path):
        print(f"SKIP: {case_path} not found (the shared test data lives in ../shared)")
        return 77
    with open(case_path) as f:
        ann = yaml.safe_load(f)
    pcap = os.path.join(shared, "flowtest", "pcaps", ann["pcap"])
    checker = os.path.join(shared, "tools", "flowtest_check.py")
    has = subprocess.run([sys.executable, checker, case_path, "--has-fields", "--scope", scope])
    if has.returncode != 0:
        print(f"SKIP: {case} annotates no field in scope {scope}")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "flows.jsonl")
        run = subprocess.run([flowkit, "meter", "-r", pcap, "-o", "json", "-w", out, "-q"],
                             capture_output=True, text=True)
        if run.returncode != 0:
            print(f"FAIL: flowkit exited {run.returncode}: {run.stderr}")
            return 1
        check = subprocess.run([sys.executable, checker, case_path, out, "--scope", scope],
                               capture_output=True, text=True)
        print(check.stdout, end="")
        if check.returncode != 0:
            print("--- flowkit's flows ---")
            with open(out) as f:
                print(f.read(), end="")
        return 0 if check.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
