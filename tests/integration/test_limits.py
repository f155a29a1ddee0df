"""Connection limits at the edge: connections per client address, accepting under descriptor
exhaustion (EMFILE) without spinning, and the open-files limit raised at start. Real processes and
sockets: the esgate binary, redis-server and the recording stand-in upstream."""

import os
import resource
import socket
import subprocess
import time

import pytest

from helpers import RawConnection, esgate_missing_reason, raw_request, wait_until

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_files_limits(pid: int) -> list:
    """[soft, hard] open-files limit of a process, as text."""
    with open(f"/proc/{pid}/limits") as f:
        line = next(l for l in f if l.startswith("Max open files"))
    return line.split()[3:5]


def connect_from(source: str, port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    s.bind((source, 0))
    s.connect(("127.0.0.1", port))
    return s


def served(s: socket.socket) -> bool:
    """One health request over the connection; True when it got an HTTP answer."""
    try:
        s.sendall(b"GET /_esgate/health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = s.recv(65536)
    except OSError:
        return False
    return data.startswith(b"HTTP/1.1 ")


def closed_by_peer(s: socket.socket, timeout: float = 3.0) -> bool:
    s.settimeout(timeout)
    try:
        return s.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def test_connections_per_address_are_capped_and_given_back(make_gateway):
    gw = make_gateway(config={"limits": {"max_connections_per_ip": 3}})
    # The readiness probes came from 127.0.0.1 and their sessions may still be ending: the
    # connections counted here come from an address nothing else uses.
    HELD = "127.0.0.3"
    held = [connect_from(HELD, gw.port) for _ in range(3)]
    try:
        for s in held:
            assert served(s), "a connection within the per-address limit must be served"
        extra = connect_from(HELD, gw.port)
        assert closed_by_peer(extra), "the 4th connection from one address must be closed at once"
        extra.close()
        # Another address is not affected by the first one's limit.
        other = connect_from("127.0.0.2", gw.port)
        assert served(other)
        other.close()
        # A closed connection gives its slot back.
        held.pop().close()

        def slot_free():
            s = connect_from(HELD, gw.port)
            ok = served(s)
            s.close()
            return ok

        wait_until(slot_free, 5, "a slot freed by a closed connection")
    finally:
        for s in held:
            s.close()


def test_descriptor_exhaustion_pauses_accepts_instead_of_spinning(make_gateway):
    gw = make_gateway(config={"threads": 1})
    pid = gw.proc.pid
    # Leave the gateway a handful of descriptors beyond those it holds now.
    in_use = len(os.listdir(f"/proc/{pid}/fd"))
    limit = in_use + 4
    soft, hard = open_files_limits(pid)
    subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={limit}:{hard}"], check=True)
    clients = []
    try:
        for _ in range(12):  # more than the gateway can accept: the rest wait in the backlog
            clients.append(socket.create_connection(("127.0.0.1", gw.port), timeout=5))
        wait_until(lambda: "pausing accepts" in gw.stderr_text(), 5, "an EMFILE back-off in the log")
        before = cpu_seconds(pid)
        time.sleep(1.0)  # measuring idle CPU over a fixed window: no readiness to wait for
        spent = cpu_seconds(pid) - before
        assert spent < 0.25, f"the gateway spun on a failing accept: {spent:.2f}s CPU in 1s"
    finally:
        for c in clients:
            c.close()
        subprocess.run(["prlimit", f"--pid={pid}", f"--nofile={soft}:{hard}"], check=True)
    # Once descriptors are free again it serves as before.
    wait_until(lambda: raw_request(gw.port, "GET", "/_esgate/health", timeout=2).status == 200,
               10, "health after descriptor exhaustion")


def test_open_files_soft_limit_is_raised_to_the_hard_limit(make_gateway):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    low = min(256, hard)
    if low == hard:
        pytest.skip(f"the hard open-files limit ({hard}) leaves nothing to raise")
    gw = make_gateway(start=False)
    resource.setrlimit(resource.RLIMIT_NOFILE, (low, hard))  # inherited by the gateway
    try:
        gw.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert open_files_limits(gw.proc.pid) == [str(hard), str(hard)]
