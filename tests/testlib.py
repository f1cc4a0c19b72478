"""What the Python test scripts share: a check that prints ok/FAIL and remembers failures, the
exit status they give, and a free loopback port."""
import socket

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
