"""Faults over real processes: SIGHUP reloads under steady keep-alive load (no request fails, each
reaches the upstream once), SIGTERM with a slow request in flight (it finishes, new connections are
refused, exit 0 at once) and with one outlasting limits.shutdown_grace (cut, prompt exit), and a
2,000-connection slowloris flood (normal traffic keeps its throughput, every slow head gets 408 at
limits.header_timeout and its connection is released). The esgate binary, redis-server and the
recording stand-in upstream; the flood runs in its own process (slowloris.py)."""

from __future__ import annotations

import collections
import json
import os
import re
import resource
import select
import signal
import statistics
import subprocess
import sys
import threading
import time
import warnings

import pytest

from helpers import (ConnectionClosed, RawConnection, esgate_missing_reason, marker,
                     requests_carrying, wait_until)
from test_reload_tls import TlsConnection, client_context, self_signed, tls_gateway

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

HERE = os.path.dirname(os.path.abspath(__file__))
SEARCH = "/books/_search"


def raise_open_files_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def metric(gw, connect, name: str) -> float:
    """One sample of a gauge/counter from /_esgate/metrics (admin), over a fresh connection."""
    with connect() as c:
        r = c.request("GET", "/_esgate/metrics", [("Authorization", gw.auth_header("admin"))])
    assert r.status == 200, r
    mt = re.search(r"^%s (\d+(?:\.\d+)?)$" % re.escape(name), r.body.decode(), re.M)
    assert mt, f"no {name} in metrics"
    return float(mt.group(1))


def cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_fds(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


class Load:
    """Client threads sending keep-alive GET /books/_search?m=<unique> continuously, each over one
    connection with its own credentials, recording every outcome."""

    def __init__(self, connect, auths: list):
        self.connect = connect
        self.auths = auths
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.done = 0                    # successful requests, all threads
        self.sent: list = []             # markers of every request sent
        self.failures: list = []         # (thread, marker, what)
        self.reconnects = 0
        self.running = threading.Event()  # cleared: the threads park between requests
        self.running.set()
        self.parked = 0
        self.threads = [threading.Thread(target=self._run, args=(i, a), daemon=True)
                        for i, a in enumerate(auths)]

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.running.set()
        for t in self.threads:
            t.join(30)

    def _run(self, idx: int, auth: str) -> None:
        conn = None
        n = 0
        try:
            while not self.stop.is_set():
                if not self.running.is_set():
                    with self.lock:
                        self.parked += 1
                    self.running.wait()
                    with self.lock:
                        self.parked -= 1
                    continue
                if conn is None:
                    conn = self.connect()
                m = f"{marker()}-{idx}-{n}"
                n += 1
                with self.lock:
                    self.sent.append(m)
                try:
                    r = conn.request("GET", f"{SEARCH}?m={m}", [("Authorization", auth)])
                except (OSError, ConnectionClosed) as e:
                    with self.lock:
                        self.failures.append((idx, m, repr(e)))
                    conn.close()
                    conn = None
                    continue
                if r.status != 200 or r.json().get("answer") != "books":
                    with self.lock:
                        self.failures.append((idx, m, f"{r.status} {r.body[:200]!r}"))
                else:
                    with self.lock:
                        self.done += 1
                if (r.header("connection") or "").lower() == "close":
                    with self.lock:
                        self.reconnects += 1
                    conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()

    def pause(self) -> None:
        """Returns once no request is in flight (the connections stay open, idle)."""
        self.running.clear()
        wait_until(lambda: self.parked == len(self.threads), 10, "the load to pause")

    def resume(self) -> None:
        self.running.set()

    def count(self) -> int:
        with self.lock:
            return self.done

    def wait_for_more(self, n: int, timeout: float = 20.0) -> None:
        start = self.count()
        wait_until(lambda: self.count() >= start + n or self.failures, timeout,
                   f"{n} more load requests")

    def assert_each_reached_the_upstream_once(self, stub) -> None:
        assert not self.failures, f"{len(self.failures)} requests failed: {self.failures[:5]}"
        seen = collections.Counter(r.query.get("m") for r in stub.matching(lambda r: r.path == SEARCH))
        with self.lock:
            sent = list(self.sent)
        wrong = {m: seen[m] for m in sent if seen[m] != 1}
        assert not wrong, f"requests not seen exactly once upstream: {list(wrong.items())[:10]}"
        assert sum(seen.values()) == len(sent), "the upstream saw requests nobody sent"


def canned_books(stub) -> None:
    stub.set_response(SEARCH, body={"answer": "books", "hits": {"hits": []}})
    stub.set_response("/probe-*", body={"answer": "probe"})


# --------------------------------------------------------------------------------------------
# SIGHUP under load


ROLES = {"books-read-only": {"cluster": [], "indices": [{"names": ["books"], "privileges": ["read"]}]}}


@pytest.mark.parametrize("listener", ["plain", "tls"])
def test_sighup_under_steady_load_fails_no_request(make_gateway, tmp_path, listener):
    roles = json.loads(json.dumps(ROLES))
    if listener == "tls":
        crt, key = self_signed(str(tmp_path), "gw")
        gw = tls_gateway(make_gateway, {"certificate": "gw.crt", "key": "gw.key"},
                         {"gw.crt": crt, "gw.key": key}, roles=roles)
        ctx = client_context(os.path.join(gw.dir, "gw.crt"))

        def connect():
            return TlsConnection(gw.port, ctx)
    else:
        gw = make_gateway(roles=roles)

        def connect():
            return RawConnection(gw.port)
    stub = gw.stub
    canned_books(stub)
    admin = gw.auth_header("admin")
    with connect() as c:
        r = c.request("POST", "/_security/api_key", [("Authorization", admin),
                                                     ("Content-Type", "application/json")],
                      b'{"name":"faults"}')
    assert r.status == 200, r
    api_key = "ApiKey " + r.json()["encoded"]
    alice = gw.auth_header("alice")

    def alice_may_read(index: str) -> bool:
        with connect() as c:
            return c.request("GET", f"/{index}/_search", [("Authorization", alice)]).status == 200

    def log_count(text: str) -> int:
        return gw.stderr_text().count(text)

    sighups = 0
    with Load(connect, [alice, admin, api_key, api_key]) as load:
        load.wait_for_more(20)
        for i in range(10):
            rejected = log_count("reload rejected; the previous")
            if i == 5:
                # A broken roles.yml: rejected, the policy in force stays (probe-4 still readable).
                gw.write_yaml("roles.yml", {"books-read-only": {"cluster": [], "indices": [
                    {"names": ["books"], "privileges": ["read"], "bogus_key": True}]}})
                gw.reload()
                sighups += 1
                wait_until(lambda: log_count("reload rejected; the previous") > rejected, 10,
                           "the broken roles.yml to be rejected")
                assert alice_may_read("probe-4") and not alice_may_read("probe-5")
            else:
                roles["books-read-only"]["indices"][0]["names"] = ["books", f"probe-{i}"]
                gw.write_yaml("roles.yml", roles)
                gw.reload()
                sighups += 1
                wait_until(lambda: alice_may_read(f"probe-{i}"), 10, f"reload #{i} to apply")
                assert log_count("reload rejected; the previous") == rejected
            # Steady load across every reload: each thread's requests keep completing in between.
            load.wait_for_more(2 * len(load.threads))
        load.wait_for_more(20)
    print(f"{listener}: {load.count()} requests over {sighups} SIGHUPs, none failed")
    assert gw.running
    # Every SIGHUP reloaded once (the file watcher's own reloads are logged as such).
    assert (log_count("reloading users, roles and TLS certificate")
            - log_count("roles or users file changed on disk")) == sighups
    assert load.reconnects == 0, "a reload closed keep-alive connections"
    assert load.count() >= 100, load.count()
    load.assert_each_reached_the_upstream_once(stub)


# --------------------------------------------------------------------------------------------
# SIGTERM


def test_sigterm_lets_a_slow_request_finish_and_refuses_new_connections(make_gateway):
    gw = make_gateway(config={"limits": {"shutdown_grace": "20s"}})
    stub = gw.stub
    m = marker()
    answer = {"done": m, "pad": "x" * 200_000}  # more than one write: the whole answer must arrive
    stub.set_response(f"/books/_doc/{m}", delay=1.5, body=answer)
    admin = [("Authorization", gw.auth_header("admin"))]
    idle = RawConnection(gw.port)
    assert idle.request("GET", "/", admin).status == 200  # a keep-alive connection, now idle
    fresh = RawConnection(gw.port)  # connected, nothing sent yet
    result: dict = {}

    def slow_client():
        try:
            with RawConnection(gw.port) as c:
                result["r"] = c.request("GET", f"/books/_doc/{m}", admin)
                result["at"] = time.monotonic()
                result["closed_after"] = c.is_closed_by_peer(5)
        except Exception as e:  # noqa: BLE001
            result["e"] = e

    t = threading.Thread(target=slow_client)
    t.start()
    stub.wait_for_requests(1, pred=lambda r: m in r.target)
    signalled = time.monotonic()
    gw.send_signal(signal.SIGTERM)
    wait_until(lambda: "shutting down" in gw.stderr_text(), 5, "the drain to start")
    # Connections with nothing in flight are closed at once.
    assert idle.is_closed_by_peer(1.0) and fresh.is_closed_by_peer(1.0)
    # New connections while the slow request runs: refused, or answered 503, never forwarded.
    probes = 0
    refused = 0
    probe_marker = marker()
    while t.is_alive() and "r" not in result:
        probes += 1
        try:
            with RawConnection(gw.port, timeout=2) as c:
                r = c.request("GET", f"/?m={probe_marker}", admin)
                assert r.status == 503, f"a new connection during the drain got {r!r}"
        except (ConnectionRefusedError, ConnectionResetError, ConnectionClosed):
            refused += 1
        time.sleep(0.05)  # paces the probes only; the loop ends on the request's completion
    t.join(10)
    assert "e" not in result, result
    r = result["r"]
    assert r.status == 200 and r.json() == answer
    assert (r.header("connection") or "").lower() == "close", \
        f"a response during the drain must close its connection: {r.headers}"
    assert result["closed_after"]
    assert probes >= 3 and refused == probes, (probes, refused)
    assert not requests_carrying(stub, probe_marker, include_partial=True)
    assert len(requests_carrying(stub, m)) == 1
    rc = gw.proc.wait(10)
    exited = time.monotonic()
    assert rc == 0
    assert exited - result["at"] < 1.0, f"exit {exited - result['at']:.2f}s after the last response"
    assert exited - signalled < 5.0
    idle.close()
    fresh.close()


def test_a_request_outlasting_shutdown_grace_is_cut_and_the_exit_is_prompt(make_gateway):
    gw = make_gateway(config={"limits": {"shutdown_grace": "1s"}})
    stub = gw.stub
    m = marker()
    stub.set_response(f"/books/_doc/{m}", delay=30, body={"never": m})
    result: dict = {}

    def slow_client():
        try:
            with RawConnection(gw.port, timeout=20) as c:
                result["r"] = c.request("GET", f"/books/_doc/{m}",
                                        [("Authorization", gw.auth_header("admin"))])
        except Exception as e:  # noqa: BLE001
            result["e"] = e
        result["at"] = time.monotonic()

    t = threading.Thread(target=slow_client)
    t.start()
    stub.wait_for_requests(1, pred=lambda r: m in r.target)
    signalled = time.monotonic()
    gw.send_signal(signal.SIGTERM)
    rc = gw.proc.wait(10)
    exited = time.monotonic()
    t.join(10)
    assert rc == 0
    # It waited the grace period for the request, and not much longer.
    assert 0.9 <= exited - signalled < 2.5, f"exit {exited - signalled:.2f}s after SIGTERM"
    assert isinstance(result.get("e"), (ConnectionClosed, ConnectionResetError)), result
    assert result["at"] - signalled < 3.0
    assert "shutdown grace period over; closing 1 connections" in gw.stderr_text()


# --------------------------------------------------------------------------------------------
# Slowloris


FLOOD = 2000
SOURCES = [f"127.0.0.{i}" for i in range(10, 14)]  # 500 each: under max_connections_per_ip (1000)
# Short enough for a quick test, long enough that the measurement windows fit inside the lifetime
# of the flood's connections: they see the flood held, not the reconnect churn a very short
# timeout adds (with the default 10 s, a slowloris reconnects less often still).
HEADER_TIMEOUT = 8.0
BYTE_INTERVAL = 2.0  # one more byte of the head every few seconds
WINDOW = 3.0
SLICES = 6
ALONE = 1.5  # the flood alone, for its CPU cost
# Two windows without the flood agree within this when the box's load held still between them.
STABLE = 0.15


def measure(load: Load) -> float:
    """Requests per second over a fixed window: the median of its slices, so that another
    process's burst of a fraction of a second does not decide it."""
    per_slice = []
    for _ in range(SLICES):
        start = load.count()
        time.sleep(WINDOW / SLICES)  # a fixed measurement window: nothing to wait for
        per_slice.append(load.count() - start)
    return statistics.median(per_slice) * SLICES / WINDOW


class Flooder:
    """slowloris.py in its own process, driven line by line."""

    def __init__(self, port: int):
        self.proc = subprocess.Popen(
            [sys.executable, os.path.join(HERE, "slowloris.py"), str(port), str(FLOOD),
             str(BYTE_INTERVAL), *SOURCES],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def ask(self, cmd: str, timeout: float = 20) -> str:
        self.proc.stdin.write(cmd + "\n")
        self.proc.stdin.flush()
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        assert ready, f"the flooder did not answer {cmd!r} within {timeout}s"
        line = self.proc.stdout.readline()
        assert line, f"the flooder exited ({self.proc.poll()}): {self.proc.stderr.read()}"
        return line.strip()

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()


def test_slowloris_flood_keeps_normal_throughput_and_is_timed_out(make_gateway, monkeypatch):
    """Normal keep-alive traffic is measured without, with and again without 2,000 slowloris
    connections held, and the flood's CPU cost to the gateway with the normal traffic paused;
    then the flood is left to limits.header_timeout."""
    raise_open_files_limit()
    # AddressSanitizer holds freed memory back (256 MB by default) and hands out fresh pages until
    # that fills: the first tens of thousands of requests pay page faults (slow on this VM) and the
    # throughput climbs for half a minute. A small quarantine makes it steady from the start.
    monkeypatch.setenv("ASAN_OPTIONS", ":".join(filter(None, [os.environ.get("ASAN_OPTIONS"),
                                                              "quarantine_size_mb=8"])))
    gw = make_gateway(config={"limits": {"header_timeout": f"{HEADER_TIMEOUT:g}s"}})
    stub = gw.stub
    canned_books(stub)
    pid = gw.proc.pid

    def connect():
        return RawConnection(gw.port)

    def connections_open() -> float:
        return metric(gw, connect, "esgate_connections_open")

    with Load(connect, [gw.auth_header("alice")] * 4) as load:
        load.wait_for_more(300)  # warm: connections open, the login cached, memory touched
        open_before = connections_open()
        fds_before = open_fds(pid)
        flood = Flooder(gw.port)
        try:
            cpu0 = cpu(pid)
            before = measure(load)
            cpu_normal = (cpu(pid) - cpu0) / WINDOW  # the gateway's CPU for normal traffic, per s
            assert flood.ask("open") == "ready"
            connected_at = time.monotonic()
            # Established at the flooder, a connection may still wait in the listen backlog.
            wait_until(lambda: connections_open() >= open_before + FLOOD, 10,
                       "the flood to be accepted", interval=0.1)
            accepted_at = time.monotonic()
            during = measure(load)
            load.pause()
            cpu0 = cpu(pid)
            time.sleep(ALONE)  # a fixed measurement window
            cpu_flood = (cpu(pid) - cpu0) / ALONE
            window_end = time.monotonic()
            held_after = connections_open()
            fds_during = open_fds(pid)
            load.resume()
            # No more reconnects: the gateway must close the flood on its own.
            assert flood.ask("hold") == "holding"
            wait_until(lambda: connections_open() <= open_before + 1, HEADER_TIMEOUT + 3,
                       "the slowloris connections to be released", interval=0.1)
            released = time.monotonic() - accepted_at
            wait_until(lambda: open_fds(pid) <= fds_before + 5, 3, "descriptors back to the baseline")
            stats = json.loads(flood.ask("stop"))
        finally:
            flood.close()
        after = measure(load)
    print(f"throughput (req/s): {before:.0f} before, {during:.0f} during the flood, {after:.0f} after; "
          f"gateway CPU {cpu_normal:.2f} core for normal traffic, {cpu_flood:.3f} for the flood alone; "
          f"accepted within {accepted_at - connected_at:.2f} s of connecting, released {released:.2f} s "
          f"after; held {held_after:.0f} connections, {fds_during} fds; 408s {stats['closed_408']}, "
          f"other closes {stats['closed_other']}; lifetimes {min(stats['lifetimes']):.2f}.."
          f"{max(stats['lifetimes']):.2f} s")

    # The flood was held through both windows.
    assert held_after >= open_before + FLOOD and fds_during >= fds_before + FLOOD - 5, \
        (held_after, fds_during)
    assert stats["first_close"] > window_end, "the windows outlasted the first slowloris connection"
    # Every slow head was answered 408 and closed by the gateway at limits.header_timeout, counted
    # from the first byte it read: not earlier (the flooder's clock starts when it sends the head),
    # and all of them within a second and a half of the deadline of the last one accepted.
    assert stats["connect_failed"] == 0 and stats["open_at_stop"] == 0, stats
    assert stats["closed_408"] == FLOOD and stats["closed_other"] == 0, \
        {k: stats[k] for k in ("closed_408", "closed_other", "other_examples")}
    assert "esgate_request_timeout_exception" in stats["example_408"]
    assert "connection: close" in stats["example_408"].lower()
    assert min(stats["lifetimes"]) >= HEADER_TIMEOUT - 0.1, \
        f"closed before the header timeout: {sorted(stats['lifetimes'])[:5]}"
    assert released <= HEADER_TIMEOUT + 1.5, f"the flood was released {released:.2f} s after it was in"
    # Bytes kept arriving (one every BYTE_INTERVAL) and did not move the deadline.
    assert min(stats["trickled"]) >= int(HEADER_TIMEOUT / BYTE_INTERVAL) - 1, \
        collections.Counter(stats["trickled"])
    assert not stub.matching(lambda r: "_slowloris" in r.target, include_partial=True)
    load.assert_each_reached_the_upstream_once(stub)

    # Throughput. What the flood takes from the gateway, measured as CPU time (which another
    # process's load on this shared box does not change): under a tenth of what normal traffic
    # uses, so a gateway short of CPU keeps 90% of its throughput.
    assert cpu_flood <= 0.1 * cpu_normal, \
        f"2,000 slowloris connections cost the gateway {cpu_flood:.3f} core, normal traffic " \
        f"{cpu_normal:.2f}"
    # And the throughput itself. The box's other processes change the CPU left to the test in
    # steps of seconds, by a third and more: the flood's window is judged against the windows
    # around it when they agree with each other (the load held still).
    lo, hi = sorted((before, after))
    if hi - lo <= STABLE * hi:
        assert during >= 0.9 * lo, \
            f"normal traffic kept {during / lo:.0%} of its throughput during the flood: " \
            f"{before:.0f}, {during:.0f}, {after:.0f} req/s before, during, after"
    else:
        warnings.warn(f"slowloris: throughput not compared, the box's load changed meanwhile "
                      f"({before:.0f} req/s before the flood, {after:.0f} after)")
