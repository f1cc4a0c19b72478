#!/usr/bin/python3
"""flowkit meter --geoip against libmaxminddb's own lookup tool (mmdblookup, Debian mmdb-bin) on
the addresses of the nDPI captures: every end of every record gets the country, AS number and AS
organisation that mmdblookup gives for its address, from the two databases that
scripts/fetch_geoip.sh fetches (ip-location-db's country schema, MaxMind's ASN schema); and
`flowkit collect --geoip` places the ends of exported records as the meter did.

usage: geoip.py FLOWKIT SHARED_DIR
Exit 0 when every check passes, 1 otherwise, 77 (ctest's skip) without the shared data, the
databases or mmdblookup.
"""
import collections
import glob
import json
import os
import re
import subprocess
import sys
import tempfile

from testlib import SKIP, check, finish, missing

CAPTURES = 120  # the first nDPI captures by name
LOOKUPS = 400  # addresses compared with mmdblookup (a process each)
COLLECTED = 20  # captures exported and collected again


def mmdblookup(db, address, *path):
    out = subprocess.run(["mmdblookup", "--file", db, "--ip", address, *path],
                         capture_output=True, text=True).stdout
    m = re.search(r'^\s*(?:"(.*)" <utf8_string>|(\d+) <uint\d+>)\s*$', out, re.M)
    if not m:
        return None
    return m.group(1) if m.group(1) is not None else int(m.group(2))


def main():
    flowkit, shared = sys.argv[1], sys.argv[2]
    folder = os.path.join(shared, "pcaps", "ndpi-4.2")
    if skip := missing(folder, "mmdblookup", "mmdb-bin"):
        return skip
    geo = os.environ.get("FLOWKIT_GEOIP_DIR", os.path.expanduser("~/.cache/flowkit/geoip"))
    country_db, asn_db = os.path.join(geo, "country.mmdb"), os.path.join(geo, "asn.mmdb")
    if not (os.path.exists(country_db) and os.path.exists(asn_db)):
        print(f"SKIP: no databases in {geo}: run scripts/fetch_geoip.sh")
        return SKIP
    mine = {}  # address -> (country, asn, org) as the records give it
    n = collections.Counter()
    for pcap in sorted(glob.glob(os.path.join(folder, "*.pcap")))[:CAPTURES]:
        out = subprocess.run([flowkit, "meter", "-r", pcap, "-o", "json", "-q", "--dissect", "none",
                              "--geoip", country_db, "--geoip", asn_db],
                             capture_output=True, text=True)
        n["runs failed"] += out.returncode != 0
        for line in out.stdout.splitlines():
            r = json.loads(line)
            n["records"] += 1
            for end in ("src", "dst"):
                got = (r.get(f"{end}_country"), r.get(f"{end}_as"), r.get(f"{end}_as_org"))
                n["ends placed"] += got[0] is not None
                n["ends inconsistent"] += mine.setdefault(r[f"{end}_ip"], got) != got
    print(dict(n), f"{len(mine)} addresses")
    check(n["runs failed"] == 0, "every run succeeds")
    check(n["ends inconsistent"] == 0, "an address has the same place in every record")
    check(n["ends placed"] > 1000, f"enough ends placed ({n['ends placed']})")
    # Placed and unplaced addresses alike, v4 and v6, spread over the sorted list.
    addresses = sorted(mine)
    step = max(1, len(addresses) // LOOKUPS)
    same = compared = 0
    for address in addresses[::step]:
        want = (mmdblookup(country_db, address, "country_code"),
                mmdblookup(asn_db, address, "autonomous_system_number"),
                mmdblookup(asn_db, address, "autonomous_system_organization"))
        compared += 1
        if want == mine[address]:
            same += 1
        else:
            print(f"  {address}: flowkit {mine[address]}, mmdblookup {want}")
    check(compared >= min(LOOKUPS, len(addresses)) * 0.9 and compared > 100,
          f"enough addresses compared ({compared})")
    check(same == compared, f"country, AS and organisation as mmdblookup: {same} of {compared}")

    # The collector labels what exporters send the same way: records exported without places
    # come out of `collect --geoip` with the places the meter gave their addresses.
    with tempfile.TemporaryDirectory() as tmp:
        export = os.path.join(tmp, "export.ipfix")
        pcaps = sorted(glob.glob(os.path.join(folder, "*.pcap")))[:COLLECTED]
        for i, pcap in enumerate(pcaps):
            subprocess.run([flowkit, "meter", "-r", pcap, "-o", "none", "-q", "--dissect", "none",
                            "--export", f"file:{export}.{i}"], check=True)
        collected = placed = differ = 0
        for i in range(len(pcaps)):
            out = subprocess.run([flowkit, "collect", "-r", f"{export}.{i}", "-o", "json", "-q",
                                  "--geoip", country_db, "--geoip", asn_db],
                                 capture_output=True, text=True, check=True)
            for line in out.stdout.splitlines():
                r = json.loads(line)
                collected += 1
                for end in ("src", "dst"):
                    got = (r.get(f"{end}_country"), r.get(f"{end}_as"), r.get(f"{end}_as_org"))
                    placed += got[0] is not None
                    differ += mine.get(r[f"{end}_ip"], got) != got
        print(f"collect: {collected} records, {placed} ends placed, {differ} differ")
        check(collected > 100 and placed > 100, "the collector's records are placed")
        check(differ == 0, "collect --geoip places each end as meter --geoip does")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
