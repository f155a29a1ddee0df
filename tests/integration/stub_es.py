"""A recording stand-in for Elasticsearch, used as esgate's upstream in integration tests.

Standard library only. The HTTP/1.1 parser is hand-written (not http.server) so the tests can see exactly
what the gateway put on the wire: header names as sent and in order, whether the body was chunked, which
connection carried each request, and anything odd about the framing (``anomalies``).

Usage::

    stub = StubES()                       # listens on 127.0.0.1:<free port>
    stub.set_response("/slow", delay=2)   # per-path canned responses
    ...
    stub.requests[-1].header("authorization")
    stub.close()
"""

from __future__ import annotations

import fnmatch
import hashlib
import itertools
import json
import socket
import socketserver
import ssl
import struct
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

MAX_HEAD_BYTES = 1 << 20
RECV_SIZE = 65536

REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content",
    301: "Moved Permanently", 302: "Found", 304: "Not Modified", 400: "Bad Request",
    401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    408: "Request Timeout", 409: "Conflict", 413: "Payload Too Large", 429: "Too Many Requests",
    431: "Request Header Fields Too Large", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}


def pattern_bytes(size: int, seed: int = 0) -> bytes:
    """Deterministic, non-repeating-looking bytes (a sha256 counter stream) for big-body tests."""
    out = bytearray()
    block = hashlib.sha256(seed.to_bytes(8, "big")).digest()
    counter = 0
    while len(out) < size:
        block = hashlib.sha256(block + counter.to_bytes(8, "big")).digest()
        out += block * 32  # 1 KiB per hash: fast enough for tens of MB
        counter += 1
    return bytes(out[:size])


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------------------------
# Records


@dataclass
class Recorded:
    """One request as the stub received it."""

    method: str
    target: str                      # raw request-target, exactly as sent
    version: str
    headers: list                    # [(name as sent, value)] in order
    body: bytes
    chunked: bool                    # body arrived with Transfer-Encoding: chunked
    trailers: list                   # [(name, value)] after a chunked body
    conn_id: int
    peer: tuple
    raw_head: bytes                  # request line + headers, bytes as received
    anomalies: list = field(default_factory=list)  # framing oddities (CL+TE, bad chunk, ...)
    received_at: float = 0.0

    @property
    def path(self) -> str:
        return urllib.parse.urlsplit(self.target).path

    @property
    def query(self) -> dict:
        return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.target).query,
                                           keep_blank_values=True))

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        """First value of a header, name matched case-insensitively."""
        lname = name.lower()
        for n, v in self.headers:
            if n.lower() == lname:
                return v
        return default

    def header_all(self, name: str) -> list:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def has_header(self, name: str) -> bool:
        return bool(self.header_all(name))

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class CannedResponse:
    status: int = 200
    body: Any = None                 # bytes, str, or JSON-serialisable; None = {"ok": true}
    headers: list = field(default_factory=list)  # extra/overriding (name, value)
    default_headers: bool = True     # X-Elastic-Product + content-type
    chunked: bool = False
    chunk_size: int = 16384
    chunk_delay: float = 0.0         # pause between chunks (streaming tests)
    delay: float = 0.0               # pause before the status line (timeout tests)
    size: Optional[int] = None       # body = pattern_bytes(size) (huge bodies)
    close: bool = False              # close the connection after this response
    method: Optional[str] = None     # only for this method (None = any)
    times: Optional[int] = None      # only the next N matching requests (None = forever)
    handler: Optional[Callable] = None  # fn(stub, Recorded) -> (status, body, headers) overrides the rest
    trailing: bytes = b""            # raw bytes sent right after the body, in the same write (a lying node)
    # A node that dies: reset the connection (RST) without answering, or after the head and the
    # first `abort_after` bytes of the body.
    abort: bool = False
    abort_after: Optional[int] = None


class _Stop(Exception):
    pass


# --------------------------------------------------------------------------------------------
# Wire handling


class _Conn:
    """Buffered reader over one accepted socket."""

    def __init__(self, sock: socket.socket, stub: "StubES"):
        self.sock = sock
        self.stub = stub
        self.buf = bytearray()

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(RECV_SIZE)
        except OSError:
            return False
        if not data:
            return False
        self.buf += data
        return True

    def read_head(self) -> Optional[bytes]:
        while True:
            idx = self.buf.find(b"\r\n\r\n")
            if idx >= 0:
                head = bytes(self.buf[: idx + 4])
                del self.buf[: idx + 4]
                return head
            if len(self.buf) > MAX_HEAD_BYTES:
                raise _Stop()
            if not self._fill():
                if self.buf.strip():
                    self.stub._note_partial(bytes(self.buf))
                return None

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise _Stop()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_line(self, limit: int = 65536) -> bytes:
        while True:
            idx = self.buf.find(b"\r\n")
            if idx >= 0:
                line = bytes(self.buf[:idx])
                del self.buf[: idx + 2]
                return line
            if len(self.buf) > limit:
                raise _Stop()
            if not self._fill():
                raise _Stop()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:  # noqa: C901 - one linear protocol loop reads best
        stub: StubES = self.server.stub  # type: ignore[attr-defined]
        conn_id = stub._register(self.request)
        conn = _Conn(self.request, stub)
        try:
            while not stub._stopping.is_set():
                head = conn.read_head()
                if head is None:
                    return
                rec, framing = _parse_head(head, conn_id, self.client_address)
                if rec is None:
                    stub._note_partial(head)
                    _send_simple(conn, 400, {"error": "bad request line"}, close=True)
                    return
                if framing == "bad":
                    stub._record(rec)
                    _send_simple(conn, 400, {"error": "bad framing", "anomalies": rec.anomalies},
                                 close=True)
                    return
                if (rec.header("expect") or "").lower() == "100-continue":
                    conn.send(b"HTTP/1.1 100 Continue\r\n\r\n")
                stub._begin(rec)
                try:
                    if framing == "chunked":
                        rec.body, rec.trailers = _read_chunked(conn, rec)
                        rec.chunked = True
                    elif isinstance(framing, int) and framing > 0:
                        rec.body = conn.read_exact(framing)
                except _BadChunk as e:
                    rec.anomalies.append(str(e))
                    stub._end(rec)
                    stub._record(rec)
                    _send_simple(conn, 400, {"error": "bad chunk", "detail": str(e)}, close=True)
                    return
                except _Stop:
                    rec.anomalies.append("connection closed before the body was complete")
                    rec.body = bytes(conn.buf)
                    stub._end(rec, partial=True)
                    raise
                stub._end(rec)
                rec.received_at = time.monotonic()
                stub._record(rec)

                if stub.mode == "blackhole":
                    stub._stopping.wait()  # accept, read, never answer
                    return

                keep_alive = _wants_keep_alive(rec)
                close = stub._respond(conn, rec, keep_alive)
                if close or not keep_alive:
                    return
        except (_Stop, OSError):
            return
        finally:
            stub._unregister(self.request)
            try:
                self.request.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _BadChunk(Exception):
    pass


def _parse_head(head: bytes, conn_id: int, peer):
    lines = head[:-4].split(b"\r\n")
    parts = lines[0].split(b" ")
    if len(parts) != 3 or not parts[2].startswith(b"HTTP/"):
        return None, None
    method, target, version = (p.decode("latin-1") for p in parts)
    headers = []
    anomalies = []
    for line in lines[1:]:
        if line[:1] in (b" ", b"\t"):
            anomalies.append("obs-fold header line")
            continue
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip():
            anomalies.append(f"malformed header line {line[:80]!r}")
            continue
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    rec = Recorded(method=method, target=target, version=version, headers=headers, body=b"",
                   chunked=False, trailers=[], conn_id=conn_id, peer=peer, raw_head=head,
                   anomalies=anomalies)
    te = [v.strip().lower() for v in ",".join(rec.header_all("transfer-encoding")).split(",") if v.strip()]
    cls = rec.header_all("content-length")
    if te and cls:
        rec.anomalies.append("both Transfer-Encoding and Content-Length")
    if len(cls) > 1:
        rec.anomalies.append("repeated Content-Length")
    if te:
        if te[-1] != "chunked":
            rec.anomalies.append(f"unsupported transfer-encoding {te}")
            return rec, "bad"
        if len(te) > 1:
            rec.anomalies.append(f"stacked transfer-encoding {te}")
        return rec, "chunked"
    if cls:
        values = {v.strip() for c in cls for v in c.split(",")}
        if len(values) != 1 or not next(iter(values)).isdigit():
            rec.anomalies.append(f"invalid Content-Length {cls}")
            return rec, "bad"
        return rec, int(next(iter(values)))
    return rec, 0


def _read_chunked(conn: _Conn, rec: Recorded):
    body = bytearray()
    while True:
        line = conn.read_line()
        size_txt = line.split(b";", 1)[0].strip()
        if not size_txt or any(c not in b"0123456789abcdefABCDEF" for c in size_txt):
            raise _BadChunk(f"bad chunk size line {line[:40]!r}")
        size = int(size_txt, 16)
        if size == 0:
            break
        body += conn.read_exact(size)
        if conn.read_exact(2) != b"\r\n":
            raise _BadChunk("chunk data not followed by CRLF")
    trailers = []
    while True:
        line = conn.read_line()
        if not line:
            break
        name, _, value = line.partition(b":")
        trailers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
    return bytes(body), trailers


def _wants_keep_alive(rec: Recorded) -> bool:
    tokens = {t.strip().lower() for v in rec.header_all("connection") for t in v.split(",")}
    if rec.version == "HTTP/1.0":
        return "keep-alive" in tokens
    return "close" not in tokens


def _encode_body(body: Any) -> bytes:
    if body is None:
        return b'{"ok":true}'
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode()
    return json.dumps(body).encode()


def _reset(sock: socket.socket) -> None:
    """Close with RST, as the kernel does for a process killed with data in flight."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
    except OSError:
        pass


def _response_head(status: int, headers: list) -> bytes:
    lines = [f"HTTP/1.1 {status} {REASONS.get(status, 'Status')}"]
    lines += [f"{n}: {v}" for n, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _merge_headers(base: list, extra: list) -> list:
    names = {n.lower() for n, _ in extra}
    return [(n, v) for n, v in base if n.lower() not in names] + list(extra)


def _send_simple(conn: _Conn, status: int, body: Any, close: bool = False) -> None:
    data = _encode_body(body)
    headers = [("X-Elastic-Product", "Elasticsearch"), ("content-type", "application/json"),
               ("content-length", str(len(data)))]
    if close:
        headers.append(("connection", "close"))
    conn.send(_response_head(status, headers) + data)


# --------------------------------------------------------------------------------------------
# The stub


class StubES:
    def __init__(self, port: int = 0, host: str = "127.0.0.1", start: bool = True,
                 tls: Optional["ssl.SSLContext"] = None):
        self.host = host
        self.tls = tls                       # serve HTTPS with this server context
        self.port = port
        self.requests: list = []
        self.partial_heads: list = []        # bytes that never formed a full request head
        self.partial_requests: list = []     # heads whose body never completed (Recorded)
        self._in_progress: dict = {}         # id(rec) -> Recorded whose body is being read
        self.mode = "normal"                 # "normal" | "blackhole"
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        self._responses: list = []           # [(path pattern, CannedResponse)]
        self._socks: set = set()
        self._conn_ids = itertools.count(1)
        self._stopping = threading.Event()
        self._server: Optional[socketserver.ThreadingTCPServer] = None
        self._thread: Optional[threading.Thread] = None
        self.es = FakeES()
        self.connections_accepted = 0
        if start:
            self.start()

    # ---- lifecycle

    def start(self) -> None:
        """Start listening (again, on the same port after stop())."""
        if self._server is not None:
            return
        self._stopping = threading.Event()

        tls = self.tls

        class _Server(socketserver.ThreadingTCPServer):
            allow_reuse_address = True
            daemon_threads = True
            block_on_close = False
            request_queue_size = 128

            def get_request(self):
                sock, addr = super().get_request()
                # A response goes out as head and body in separate sends: without this, Nagle holds
                # the body until the gateway's delayed ACK (40 ms per request).
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if tls is not None:  # the handshake runs on first use, in the connection's thread
                    sock = tls.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                return sock, addr

        deadline = time.monotonic() + 5
        while True:
            try:
                server = _Server((self.host, self.port), _Handler)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        server.stub = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"stub-es-{self.port}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop listening and drop every open connection (upstream "down" → 502)."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        if self._thread:
            self._thread.join(5)

    def restart(self) -> None:
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    # ---- configuration

    def set_response(self, path: str, status: int = 200, body: Any = None, **kw) -> CannedResponse:
        """Canned response for a path (exact, or prefix when it ends with '*'); newest rule wins."""
        resp = CannedResponse(status=status, body=body, **kw)
        with self._lock:
            self._responses.insert(0, (path, resp))
        return resp

    def clear_responses(self) -> None:
        with self._lock:
            self._responses.clear()

    def clear(self) -> None:
        """Forget recorded requests (canned responses and ES data stay)."""
        with self._lock:
            self.requests.clear()
            self.partial_heads.clear()
            self.partial_requests.clear()

    def reset(self) -> None:
        """clear() + drop canned responses, ES data and blackhole mode."""
        self.clear()
        self.clear_responses()
        self.mode = "normal"
        self.es = FakeES()

    # ---- inspection

    def wait_for_requests(self, n: int, timeout: float = 5.0, pred: Optional[Callable] = None) -> list:
        """Block until at least n recorded requests (matching pred) exist; return them."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                got = [r for r in self.requests if pred is None or pred(r)]
                if len(got) >= n:
                    return got
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"stub saw {len(got)} matching requests, wanted {n}: "
                                         f"{[(r.method, r.target) for r in self.requests]}")
                self._cond.wait(left)

    def matching(self, pred: Callable, include_partial: bool = False) -> list:
        """Recorded requests matching pred; include_partial adds heads whose body never completed
        (or is still arriving) and bytes that never formed a complete head."""
        with self._lock:
            pool = list(self.requests)
            if include_partial:
                pool += self.partial_requests + list(self._in_progress.values())
                pool += [Recorded("?", h.decode("latin-1"), "?", [], b"", False, [], 0, ("", 0), h,
                                  ["incomplete head"]) for h in self.partial_heads]
        return [r for r in pool if pred(r)]

    def conn_ids(self, pred: Optional[Callable] = None) -> set:
        return {r.conn_id for r in self.matching(pred or (lambda r: True))}

    # ---- internals

    def _register(self, sock) -> int:
        with self._lock:
            self._socks.add(sock)
            self.connections_accepted += 1
            return next(self._conn_ids)

    def _unregister(self, sock) -> None:
        with self._lock:
            self._socks.discard(sock)

    def _record(self, rec: Recorded) -> None:
        with self._cond:
            self.requests.append(rec)
            self._cond.notify_all()

    def _begin(self, rec: Recorded) -> None:
        with self._lock:
            self._in_progress[id(rec)] = rec

    def _end(self, rec: Recorded, partial: bool = False) -> None:
        with self._lock:
            self._in_progress.pop(id(rec), None)
            if partial:
                self.partial_requests.append(rec)

    def _note_partial(self, data: bytes) -> None:
        with self._lock:
            self.partial_heads.append(data)

    def _find_canned(self, rec: Recorded) -> Optional[CannedResponse]:
        with self._lock:
            for pattern, resp in self._responses:
                if resp.method and resp.method.upper() != rec.method:
                    continue
                if resp.times is not None and resp.times <= 0:
                    continue
                hit = (rec.path.startswith(pattern[:-1]) if pattern.endswith("*")
                       else rec.path == pattern)
                if hit:
                    if resp.times is not None:
                        resp.times -= 1
                    return resp
        return None

    def _respond(self, conn: _Conn, rec: Recorded, keep_alive: bool) -> bool:
        """Write the response; return True when the connection must close."""
        canned = self._find_canned(rec)
        if canned is None:
            status, body, extra = self.es.handle(rec)
            canned = CannedResponse(status=status, body=body, headers=extra)
        elif canned.handler is not None:
            status, body, extra = canned.handler(self, rec)
            canned = CannedResponse(status=status, body=body, headers=extra or [],
                                    chunked=canned.chunked, delay=canned.delay, close=canned.close)
        if canned.delay:
            if self._stopping.wait(canned.delay):
                raise _Stop()
        if canned.abort and canned.abort_after is None:
            _reset(conn.sock)
            raise _Stop()
        if canned.size is not None and canned.body is None:
            data = pattern_bytes(canned.size)
        else:
            data = _encode_body(canned.body)
        headers = []
        if canned.default_headers:
            headers = [("X-Elastic-Product", "Elasticsearch"),
                       ("content-type", "application/json; charset=UTF-8")]
        headers = _merge_headers(headers, canned.headers)
        close = canned.close or not keep_alive
        if close:
            headers.append(("connection", "close"))
        head_only = rec.method == "HEAD" or canned.status in (204, 304)
        if canned.chunked:
            headers.append(("transfer-encoding", "chunked"))
            conn.send(_response_head(canned.status, headers))
            if not head_only:
                for i in range(0, len(data), canned.chunk_size):
                    piece = data[i: i + canned.chunk_size]
                    conn.send(b"%x\r\n" % len(piece) + piece + b"\r\n")
                    if canned.chunk_delay and self._stopping.wait(canned.chunk_delay):
                        raise _Stop()
                conn.send(b"0\r\n\r\n")
        else:
            if canned.status != 204:
                headers.append(("content-length", str(len(data))))
            if canned.abort:
                conn.send(_response_head(canned.status, headers) + data[: canned.abort_after])
                time.sleep(0.05)  # let the head and the first bytes go out before the reset
                _reset(conn.sock)
                raise _Stop()
            conn.send(_response_head(canned.status, headers))
            if not head_only:
                for i in range(0, len(data), 1 << 20):
                    last = i + (1 << 20) >= len(data)
                    conn.send(data[i: i + (1 << 20)] + (canned.trailing if last else b""))
        return close


# --------------------------------------------------------------------------------------------
# Minimal Elasticsearch behaviour


def count_path(parts: list) -> bool:
    return parts[-1] == "_count"


def es_error(status: int, etype: str, reason: str, **extra) -> tuple:
    cause = {"type": etype, "reason": reason, **extra}
    return status, {"error": {"root_cause": [cause], **cause}, "status": status}, []


class FakeES:
    """Just enough of Elasticsearch for authorization tests: indices, aliases, data streams, docs."""

    def __init__(self):
        self.lock = threading.Lock()
        self.indices: dict = {}          # name -> {id: source}
        self.aliases: dict = {}          # alias -> [index]
        self.data_streams: dict = {}     # name -> [backing index]
        self.seq_no = 0
        self.scrolls: dict = {}          # scroll id -> remaining hits
        self.pits: dict = {}             # pit id -> index expression

    # ---- test set-up helpers

    def create_index(self, name: str, docs: Optional[dict] = None) -> None:
        with self.lock:
            self.indices.setdefault(name, {}).update(docs or {})

    def add_alias(self, alias: str, indices: list) -> None:
        with self.lock:
            for i in indices:
                self.indices.setdefault(i, {})
            self.aliases[alias] = list(indices)

    def add_data_stream(self, name: str, generations: int = 1) -> list:
        with self.lock:
            backing = [f".ds-{name}-2024.01.01-{g:06d}" for g in range(1, generations + 1)]
            for b in backing:
                self.indices.setdefault(b, {})
            self.data_streams[name] = backing
            return backing

    def doc(self, index: str, doc_id: str) -> Optional[dict]:
        with self.lock:
            return self.indices.get(index, {}).get(doc_id)

    # ---- expression resolution

    def resolve(self, expr: Optional[str], ignore_unavailable: bool = False):
        """Concrete indices for an index expression; raises KeyError(name) for a missing explicit name."""
        if expr is None or expr in ("", "_all", "*"):
            return sorted(n for n in self.indices if not n.startswith("."))
        result: list = []
        for item in expr.split(","):
            item = urllib.parse.unquote(item)
            if not item:
                continue
            if item.startswith("-") and result:
                pat = item[1:]
                result = [n for n in result if not fnmatch.fnmatchcase(n, pat)]
                continue
            if any(c in item for c in "*?"):
                for n in self._wildcard(item, self.indices):
                    result.append(n)
                for a in self._wildcard(item, self.aliases):
                    result += self.aliases[a]
                for d in self._wildcard(item, self.data_streams):
                    result += self.data_streams[d]
            elif item in self.indices:
                result.append(item)
            elif item in self.aliases:
                result += self.aliases[item]
            elif item in self.data_streams:
                result += self.data_streams[item]
            elif item in ("_all", "*"):
                result += [n for n in self.indices if not n.startswith(".")]
            elif not ignore_unavailable:
                raise KeyError(item)
        seen = set()
        return [n for n in result if not (n in seen or seen.add(n))]

    @staticmethod
    def _wildcard(pattern: str, names) -> list:
        hidden_ok = pattern.startswith(".")
        return sorted(n for n in names if fnmatch.fnmatchcase(n, pattern) and (hidden_ok or not n.startswith(".")))

    # ---- dispatch

    def handle(self, rec: Recorded) -> tuple:
        parts = [urllib.parse.unquote(p) for p in rec.path.split("/") if p]
        m = rec.method
        q = rec.query
        try:
            with self.lock:
                return self._dispatch(m, parts, q, rec)
        except KeyError as e:
            name = e.args[0]
            return es_error(404, "index_not_found_exception", f"no such index [{name}]",
                            index=name, **{"resource.type": "index_or_alias", "resource.id": name,
                                           "index_uuid": "_na_"})
        except (ValueError, json.JSONDecodeError) as e:
            return es_error(400, "parse_exception", f"request body is invalid: {e}")

    def _dispatch(self, m: str, parts: list, q: dict, rec: Recorded) -> tuple:  # noqa: C901
        if not parts:
            if m in ("GET", "HEAD"):
                return 200, self.info(), []
            return es_error(405, "illegal_argument_exception", "method not allowed")
        if parts[0] == "_resolve" and len(parts) == 3 and parts[1] == "index":
            return 200, self.resolve_index(parts[2]), []
        if parts[0] == "_bulk":
            return 200, self.bulk(rec.body, None, q), []
        if parts[0] == "_search" and parts[1:2] == ["scroll"]:
            return self.scroll(m, parts[2:], rec)
        if parts[0] == "_pit" and m == "DELETE":
            pit = json.loads(rec.body or b"{}").get("id")
            return 200, {"succeeded": self.pits.pop(pit, None) is not None, "num_freed": 1}, []
        if parts[0] in ("_search", "_count") and len(parts) == 1:
            body = json.loads(rec.body) if rec.body.strip() else {}
            if "pit" in body and not count_path(parts):
                if body["pit"].get("id") not in self.pits:
                    return es_error(404, "search_context_missing_exception", "No search context found")
                hits = self._search_hits(self.pits[body["pit"]["id"]], body, {})
                out = self._search_body(hits, body.get("size", 10))
                out = {"pit_id": body["pit"]["id"], **out}
                return 200, out, []
            return self.search(None, rec, count=parts[0] == "_count")
        if parts[0] == "_mget":
            return 200, self.mget(None, rec), []
        if parts[0] == "_msearch":
            return 200, self.msearch(None, rec), []
        if parts[0] == "_cluster" and parts[1:2] == ["health"]:
            return 200, {"cluster_name": "stub", "status": "green", "number_of_nodes": 1}, []
        if parts[0].startswith("_") and parts[0] != "_all":
            return 200, {"acknowledged": True, "stub": "unhandled", "path": rec.path}, []

        index = parts[0]
        rest = parts[1:]
        if not rest:
            if m == "PUT":
                if index in self.indices:
                    return es_error(400, "resource_already_exists_exception",
                                    f"index [{index}/stub] already exists", index=index)
                self.indices[index] = {}
                return 200, {"acknowledged": True, "shards_acknowledged": True, "index": index}, []
            if m == "DELETE":
                names = self.resolve(index)
                for n in names:
                    self.indices.pop(n, None)
                return 200, {"acknowledged": True}, []
            if m in ("GET", "HEAD"):
                names = self.resolve(index, q.get("ignore_unavailable") == "true")
                return 200, {n: {"aliases": {}, "mappings": {}, "settings": {}} for n in names}, []
            return 200, {"acknowledged": True, "stub": "unhandled", "path": rec.path}, []
        if rest[0] == "_pit" and m == "POST":
            self.resolve(index)
            pit = "pit-" + uuid.uuid4().hex
            self.pits[pit] = index
            return 200, {"id": pit, "_shards": self._shards()}, []
        if rest[0] in ("_search", "_count"):
            return self.search(index, rec, count=rest[0] == "_count")
        if rest[0] == "_bulk":
            return 200, self.bulk(rec.body, index, q), []
        if rest[0] == "_mget":
            return 200, self.mget(index, rec), []
        if rest[0] == "_msearch":
            return 200, self.msearch(index, rec), []
        if rest[0] in ("_doc", "_create"):
            doc_id = rest[1] if len(rest) > 1 else None
            if m in ("PUT", "POST"):
                op = "create" if rest[0] == "_create" or q.get("op_type") == "create" else "index"
                item = self._write(op, index, doc_id, json.loads(rec.body or b"{}"))
                status = item.pop("status")
                return status, item, []
            if m in ("GET", "HEAD") and doc_id is not None:
                return self.get_doc(index, doc_id)
            if m == "DELETE" and doc_id is not None:
                item = self._delete(index, doc_id)
                return item.pop("status"), item, []
        return 200, {"acknowledged": True, "stub": "unhandled", "path": rec.path}, []

    # ---- APIs

    @staticmethod
    def info() -> dict:
        return {
            "name": "stub-node", "cluster_name": "stub", "cluster_uuid": "stubstubstubstubstub00",
            "version": {"number": "8.15.0", "build_flavor": "default", "build_type": "deb",
                        "build_hash": "0" * 40, "build_date": "2024-08-05T10:05:34.233336849Z",
                        "build_snapshot": False, "lucene_version": "9.11.1",
                        "minimum_wire_compatibility_version": "7.17.0",
                        "minimum_index_compatibility_version": "7.0.0"},
            "tagline": "You Know, for Search",
        }

    def resolve_index(self, expr: str) -> dict:
        out = {"indices": [], "aliases": [], "data_streams": []}
        items = [urllib.parse.unquote(i) for i in expr.split(",") if i]
        excluded = [i[1:] for i in items if i.startswith("-")]
        patterns = [i for i in items if not i.startswith("-")] or ["*"]

        def one(name: str, pat: str) -> bool:
            if pat in ("_all", "*"):
                pat = "*"
            if any(c in pat for c in "*?"):
                return fnmatch.fnmatchcase(name, pat) and (pat.startswith(".") or not name.startswith("."))
            return name == pat

        def wanted(name: str) -> bool:
            return (any(one(name, p) for p in patterns)
                    and not any(fnmatch.fnmatchcase(name, e) for e in excluded))

        for p in patterns:
            if not any(c in p for c in "*?") and p not in ("_all", "*"):
                if p not in self.indices and p not in self.aliases and p not in self.data_streams:
                    raise KeyError(p)
        ds_of = {b: d for d, bs in self.data_streams.items() for b in bs}
        for name in sorted(self.indices):
            if wanted(name):
                entry = {"name": name, "attributes": ["open"]}
                als = sorted(a for a, idx in self.aliases.items() if name in idx)
                if als:
                    entry["aliases"] = als
                if name in ds_of:
                    entry["data_stream"] = ds_of[name]
                    entry["attributes"] = ["hidden", "open"]
                out["indices"].append(entry)
        for a in sorted(self.aliases):
            if wanted(a):
                out["aliases"].append({"name": a, "indices": list(self.aliases[a])})
        for d in sorted(self.data_streams):
            if wanted(d):
                out["data_streams"].append({"name": d, "backing_indices": list(self.data_streams[d]),
                                            "timestamp_field": "@timestamp"})
        return out

    def _shards(self) -> dict:
        return {"total": 2, "successful": 1, "failed": 0}

    def _write(self, op: str, index: str, doc_id: Optional[str], source: dict) -> dict:
        if index in self.aliases:
            if len(self.aliases[index]) != 1:
                return {"_index": index, "status": 400,
                        "error": {"type": "illegal_argument_exception",
                                  "reason": f"no write index is defined for alias [{index}]"}}
            index = self.aliases[index][0]
        if index in self.data_streams:
            index = self.data_streams[index][-1]
        docs = self.indices.setdefault(index, {})
        doc_id = doc_id or uuid.uuid4().hex[:20]
        self.seq_no += 1
        if op == "create" and doc_id in docs:
            return {"_index": index, "_id": doc_id, "status": 409,
                    "error": {"type": "version_conflict_engine_exception",
                              "reason": f"[{doc_id}]: version conflict, document already exists "
                                        f"(current version [1])", "index": index, "shard": "0"}}
        created = doc_id not in docs
        docs[doc_id] = source
        return {"_index": index, "_id": doc_id, "_version": 1,
                "result": "created" if created else "updated", "_shards": self._shards(),
                "_seq_no": self.seq_no, "_primary_term": 1, "status": 201 if created else 200}

    def _delete(self, index: str, doc_id: str) -> dict:
        found = self.indices.get(index, {}).pop(doc_id, None) is not None
        self.seq_no += 1
        return {"_index": index, "_id": doc_id, "_version": 2, "result": "deleted" if found else "not_found",
                "_shards": self._shards(), "_seq_no": self.seq_no, "_primary_term": 1,
                "status": 200 if found else 404}

    def get_doc(self, index: str, doc_id: str) -> tuple:
        names = self.resolve(index)
        for n in names:
            if doc_id in self.indices[n]:
                return 200, {"_index": n, "_id": doc_id, "_version": 1, "_seq_no": 0, "_primary_term": 1,
                             "found": True, "_source": self.indices[n][doc_id]}, []
        return 404, {"_index": names[0] if names else index, "_id": doc_id, "found": False}, []

    @staticmethod
    def _matches(query: Optional[dict], doc_id: str, source: dict) -> bool:
        if not query or "match_all" in query:
            return True
        if "ids" in query:
            return doc_id in query["ids"].get("values", [])
        for kind in ("term", "match"):
            if kind in query:
                (fld, val), = query[kind].items()
                if isinstance(val, dict):
                    val = val.get("value", val.get("query"))
                return source.get(fld) == val
        return True

    def _search_hits(self, expr: Optional[str], body: dict, q: dict) -> list:
        names = self.resolve(expr, q.get("ignore_unavailable") == "true")
        hits = []
        for n in names:
            for doc_id, src in self.indices.get(n, {}).items():
                if self._matches(body.get("query"), doc_id, src):
                    hits.append({"_index": n, "_id": doc_id, "_score": 1.0, "_source": src})
        return hits

    def search(self, expr: Optional[str], rec: Recorded, count: bool = False) -> tuple:
        body = json.loads(rec.body) if rec.body.strip() else {}
        hits = self._search_hits(expr, body, rec.query)
        if count:
            return 200, {"count": len(hits), "_shards": self._shards()}, []
        size = int(rec.query.get("size", body.get("size", 10)))
        if "scroll" in rec.query:
            # A scroll context: the first page now, the rest through /_search/scroll.
            sid = "scroll-" + uuid.uuid4().hex
            self.scrolls[sid] = (hits[size:], size)
            return 200, {"_scroll_id": sid, **self._search_body(hits, size)}, []
        return 200, self._search_body(hits, size), []

    def scroll(self, method: str, path_ids: list, rec: Recorded) -> tuple:
        body = {}
        if rec.body.strip():
            body = json.loads(rec.body)
        ids = body.get("scroll_id") or (path_ids[0].split(",") if path_ids else None) or rec.query.get("scroll_id")
        if isinstance(ids, str):
            ids = ids.split(",")
        if method == "DELETE":
            freed = sum(1 for i in ids or [] if self.scrolls.pop(i, None) is not None)
            return 200, {"succeeded": True, "num_freed": freed}, []
        sid = ids[0] if ids else None
        if sid not in self.scrolls:
            return es_error(404, "search_context_missing_exception", f"No search context found for id [{sid}]")
        rest, size = self.scrolls[sid]
        self.scrolls[sid] = (rest[size:], size)
        page = self._search_body(rest, size)
        page["hits"]["total"] = {"value": len(rest), "relation": "eq"}
        return 200, {"_scroll_id": sid, **page}, []

    def _search_body(self, hits: list, size: int) -> dict:
        return {"took": 1, "timed_out": False,
                "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                "hits": {"total": {"value": len(hits), "relation": "eq"},
                         "max_score": 1.0 if hits else None, "hits": hits[:size]}}

    def mget(self, index: Optional[str], rec: Recorded) -> dict:
        body = json.loads(rec.body or b"{}")
        specs = body.get("docs") or [{"_id": i} for i in body.get("ids", [])]
        out = []
        for spec in specs:
            idx = spec.get("_index", index)
            try:
                status, doc, _ = self.get_doc(idx, spec["_id"])
                out.append(doc)
            except KeyError as e:
                out.append({"_index": idx, "_id": spec["_id"],
                            "error": {"root_cause": [], "type": "index_not_found_exception",
                                      "reason": f"no such index [{e.args[0]}]", "index": idx}})
        return {"docs": out}

    def msearch(self, index: Optional[str], rec: Recorded) -> dict:
        lines = [ln for ln in rec.body.split(b"\n") if ln.strip()]
        responses = []
        for i in range(0, len(lines) - 1, 2):
            header = json.loads(lines[i])
            body = json.loads(lines[i + 1])
            idx = header.get("index", index)
            if isinstance(idx, list):
                idx = ",".join(idx)
            try:
                hits = self._search_hits(idx, body, {})
                r = self._search_body(hits, body.get("size", 10))
                r["status"] = 200
            except KeyError as e:
                _, r, _ = es_error(404, "index_not_found_exception", f"no such index [{e.args[0]}]")
            responses.append(r)
        return {"took": 1, "responses": responses}

    def bulk(self, raw: bytes, default_index: Optional[str], q: dict) -> dict:
        lines = raw.split(b"\n")
        items = []
        i = 0
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            action = json.loads(lines[i])
            (op, meta), = action.items()
            i += 1
            index = meta.get("_index", default_index)
            doc_id = meta.get("_id")
            if op in ("index", "create", "update"):
                source = json.loads(lines[i]) if i < len(lines) else {}
                i += 1
            if index is None:
                item = {"status": 400, "error": {"type": "action_request_validation_exception",
                                                 "reason": "Validation Failed: 1: index is missing;"}}
            elif op in ("index", "create"):
                item = self._write(op, index, doc_id, source)
            elif op == "update":
                docs = self.indices.get(index, {})
                if doc_id not in docs:
                    item = {"_index": index, "_id": doc_id, "status": 404,
                            "error": {"type": "document_missing_exception",
                                      "reason": f"[{doc_id}]: document missing", "index": index}}
                else:
                    docs[doc_id] = {**docs[doc_id], **source.get("doc", {})}
                    self.seq_no += 1
                    item = {"_index": index, "_id": doc_id, "_version": 2, "result": "updated",
                            "_shards": self._shards(), "_seq_no": self.seq_no, "_primary_term": 1,
                            "status": 200}
            elif op == "delete":
                item = self._delete(index, doc_id)
            else:
                raise ValueError(f"unknown bulk action [{op}]")
            items.append({op: item})
        errors = any(next(iter(it.values()))["status"] >= 300 for it in items)
        return {"took": 1, "errors": errors, "items": items}
