"""What the Python test scripts share: a check that prints ok/FAIL and remembers failures, the
exit status they give, a free loopback port, the reasons to skip, and flow endpoints."""
import ipaddress
import os
import shutil
import socket

SKIP = 77  # ctest's skip code

problems = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        problems.append(what)


def finish():
    """The exit status: 0 when every check passed, else 1 after saying how many failed."""
    if problems:
        print(f"{len(problems)} problems")
        return 1
    return 0


def free_port(kind=socket.SOCK_DGRAM):
    """A port nothing listens on at 127.0.0.1 just now (UDP by default)."""
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def missing(path=None, tool=None, package=None):
    """Why the test cannot run (and says so), or None: shared data at `path` absent, or `tool`
    not installed (from Debian's `package`)."""
    if path and not os.path.exists(path):
        print(f"SKIP: {path} not found (the shared test data lives in ../shared)")
        return SKIP
    if tool and not shutil.which(tool):
        print(f"SKIP: {tool} is not installed (scripts/bootstrap.sh installs {package or tool})")
        return SKIP
    return None


def endpoint(ip, port):
    """(address in canonical text, port): one end of a flow, as flowkit and tshark write it."""
    return (str(ipaddress.ip_address(ip)), int(port))
