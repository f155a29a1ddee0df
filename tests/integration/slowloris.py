"""A slowloris flood for test_faults.py, run as its own process (so its CPU and the GIL are not the
test's): COUNT connections, each sending a partial request head and then one more byte every
INTERVAL seconds, never finishing it.

    python3 slowloris.py PORT COUNT INTERVAL SOURCE_ADDRESS...

Connections are spread over the source addresses (127.0.0.x) round-robin. Commands, one a line on
stdin, each answered by one line on stdout:

    open   open COUNT connections; a connection the gateway closes is reopened → "ready" once all
           COUNT are established
    hold   stop reopening connections the gateway closes → "holding"
    stop   wait (at most 5 s) for the gateway to close what is still open → the statistics, one
           JSON line, then exit

Only connections the gateway closes count in the statistics: "closed_408" those answered 408
first, with their lifetimes (connect to close), the bytes each sent after its head, and the time
of the first (time.monotonic(), the system's monotonic clock as in the test), "closed_other" the
rest.

The flooder runs at a lower priority (nice 10, as builds on a shared box): on a real network the attacker's CPU is not the
gateway's, and on a test machine with few cores it would otherwise come out of the normal
traffic's share.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import selectors
import socket
import sys
import time
from collections import deque

HEAD = b"GET /_slowloris HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
OPEN_BATCH = 200  # connections started per loop turn: no SYN burst of thousands at once


class Conn:
    __slots__ = ("sock", "connected", "opened", "got", "trickled")

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.connected = False
        self.opened = time.monotonic()
        self.got = bytearray()
        self.trickled = 0  # bytes sent after the head


class Flood:
    def __init__(self, port: int, count: int, interval: float, sources: list):
        self.port, self.count, self.interval, self.sources = port, count, interval, sources
        self.sel = selectors.DefaultSelector()
        self.conns: dict = {}      # fd -> Conn
        self.live = 0              # established connections open now
        self.due: deque = deque()  # (time of the next byte, Conn), in time order
        self.target = 0            # connections to keep open
        self.reopen = False
        self.ready_pending = False
        self.next_source = 0
        self.stats = {"opened": 0, "connected": 0, "connect_failed": 0, "closed_408": 0,
                      "closed_other": 0, "other_examples": [], "example_408": "", "lifetimes": [],
                      "trickled": [],
                      "first_close": None, "open_at_stop": 0}

    def say(self, line: str) -> None:
        print(line, flush=True)

    def start_one(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        s.bind((self.sources[self.next_source % len(self.sources)], 0))
        self.next_source += 1
        rc = s.connect_ex(("127.0.0.1", self.port))
        if rc not in (0, errno.EINPROGRESS):
            self.stats["connect_failed"] += 1
            s.close()
            return
        c = Conn(s)
        self.conns[s.fileno()] = c
        self.sel.register(s, selectors.EVENT_WRITE, c)
        self.stats["opened"] += 1

    def drop(self, c: Conn) -> None:
        if c.connected:
            self.live -= 1
        self.sel.unregister(c.sock)
        del self.conns[c.sock.fileno()]
        c.sock.close()

    def closed_by_gateway(self, c: Conn, now: float) -> None:
        self.drop(c)
        st = self.stats
        if bytes(c.got).startswith(b"HTTP/1.1 408 "):
            st["closed_408"] += 1
            st["lifetimes"].append(round(now - c.opened, 3))
            st["trickled"].append(c.trickled)
            if st["first_close"] is None:
                st["first_close"] = now
            if not st["example_408"]:
                st["example_408"] = c.got.decode("latin-1")
        else:
            st["closed_other"] += 1
            if len(st["other_examples"]) < 5:
                st["other_examples"].append(c.got[:120].decode("latin-1"))

    def command(self, cmd: str) -> bool:
        """Handle one command; False when the flood is over."""
        if cmd == "open":
            self.target, self.reopen, self.ready_pending = self.count, True, True
        elif cmd == "hold":
            self.reopen = False
            self.say("holding")
        elif cmd == "stop":
            deadline = time.monotonic() + 5
            while self.conns and time.monotonic() < deadline:
                self.poll(0.05)
            self.stats["open_at_stop"] = len(self.conns)
            self.say(json.dumps(self.stats))
            return False
        return True

    def poll(self, timeout: float) -> list:
        """One turn of I/O on the flood's sockets; returns the commands read from stdin."""
        commands = []
        for key, _ in self.sel.select(timeout):
            c = key.data
            if c is None:
                data = os.read(sys.stdin.fileno(), 4096)
                commands += data.decode().split() if data else ["stop"]
                continue
            if c.sock.fileno() < 0 or c.sock.fileno() not in self.conns:
                continue  # closed earlier in this turn
            now = time.monotonic()
            if not c.connected:
                if c.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR):
                    self.stats["connect_failed"] += 1
                    self.drop(c)
                    continue
                c.connected = True
                self.live += 1
                self.stats["connected"] += 1
                c.opened = now
                try:
                    c.sock.send(HEAD)  # the first byte of a request: limits.header_timeout runs
                except OSError:
                    pass
                self.due.append((now + self.interval, c))
                self.sel.modify(c.sock, selectors.EVENT_READ, c)
                continue
            try:
                data = c.sock.recv(65536)
            except OSError:
                data = b""
            if data:
                c.got += data
            else:
                self.closed_by_gateway(c, now)
        now = time.monotonic()
        while self.due and self.due[0][0] <= now:
            _, c = self.due.popleft()
            if c.sock.fileno() < 0:
                continue  # closed meanwhile
            try:
                c.sock.send(b"a")
                c.trickled += 1
            except OSError:
                pass  # closed by the gateway: the read side reports it
            self.due.append((now + self.interval, c))
        return commands

    def run(self) -> None:
        os.set_blocking(sys.stdin.fileno(), False)
        self.sel.register(sys.stdin.fileno(), selectors.EVENT_READ, None)
        while True:
            if self.target and (self.reopen or self.ready_pending):
                for _ in range(min(OPEN_BATCH, self.target - len(self.conns))):
                    self.start_one()
            for cmd in self.poll(0.05):
                if not self.command(cmd):
                    return
            if self.ready_pending and self.live >= self.target:
                self.ready_pending = False
                self.say("ready")


def main() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    os.nice(10)
    Flood(int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), sys.argv[4:] or ["127.0.0.1"]).run()


if __name__ == "__main__":
    main()
