"""Small helpers shared by the integration tests: a raw HTTP/1.1 client, process and port utilities,
and assertions on Elasticsearch-shaped responses.

The raw client exists because `requests` merges repeated headers (two `WWW-Authenticate` values become one
comma-joined string, ambiguous with `realm="security", charset=...`) and cannot send chunked or malformed
requests byte for byte.
"""

from __future__ import annotations

import base64
import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Optional

ESGATE_BIN = os.environ.get("ESGATE_BIN", "")


def esgate_missing_reason() -> Optional[str]:
    """Why the esgate tests cannot run, or None when the binary is there."""
    if not ESGATE_BIN:
        return "ESGATE_BIN is not set (point it at build/bin/esgate to run the gateway tests)"
    if not os.path.isfile(ESGATE_BIN) or not os.access(ESGATE_BIN, os.X_OK):
        return f"ESGATE_BIN={ESGATE_BIN} does not exist or is not executable"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StopWaiting(AssertionError):
    """Raised by a wait_until predicate when waiting longer cannot help (the process died)."""


def wait_until(pred: Callable[[], Any], timeout: float, what: str, interval: float = 0.02) -> Any:
    """Poll pred until truthy (returned) or the deadline passes (AssertionError naming `what`)."""
    deadline = time.monotonic() + timeout
    last_exc: Optional[BaseException] = None
    while True:
        try:
            value = pred()
            if value:
                return value
        except StopWaiting:
            raise
        except Exception as e:  # noqa: BLE001 - readiness probes fail in many ways
            last_exc = e
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}"
                                 + (f" (last error: {last_exc!r})" if last_exc else ""))
        time.sleep(interval)


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def marker() -> str:
    """A unique token to tag one test's requests, so gateway-internal probes never confuse assertions."""
    return "m" + uuid.uuid4().hex[:16]


# --------------------------------------------------------------------------------------------
# Raw HTTP client


@dataclass
class RawResponse:
    status: int
    reason: str
    version: str
    headers: list            # [(name, value)] as received, in order
    body: bytes
    chunked: bool
    raw_head: bytes

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        lname = name.lower()
        for n, v in self.headers:
            if n.lower() == lname:
                return v
        return default

    def header_all(self, name: str) -> list:
        lname = name.lower()
        return [v for n, v in self.headers if n.lower() == lname]

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<RawResponse {self.status} {self.headers!r} body={self.body[:300]!r}>"


class ConnectionClosed(Exception):
    pass


class RawConnection:
    """One client TCP connection; send bytes exactly as given and parse responses."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()
        self.port = port

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def settimeout(self, t: float) -> None:
        self.sock.settimeout(t)

    def _fill(self) -> bool:
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            return False
        if not data:
            return False
        self.buf += data
        return True

    def is_closed_by_peer(self, timeout: float = 2.0) -> bool:
        """True when the server closes (EOF/RST) within timeout and sends nothing more."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            return False
        except OSError:
            return True
        if data:
            self.buf += data
            return False
        return True

    def _read_line(self) -> bytes:
        while True:
            idx = self.buf.find(b"\r\n")
            if idx >= 0:
                line = bytes(self.buf[:idx])
                del self.buf[: idx + 2]
                return line
            if not self._fill():
                raise ConnectionClosed(f"connection closed mid-line; have {bytes(self.buf[:200])!r}")

    def _read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionClosed(f"connection closed with {len(self.buf)}/{n} body bytes")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_response(self, head_only: bool = False) -> RawResponse:
        while True:
            while True:
                idx = self.buf.find(b"\r\n\r\n")
                if idx >= 0:
                    break
                if not self._fill():
                    raise ConnectionClosed(f"no response head; got {bytes(self.buf[:200])!r}")
            head = bytes(self.buf[: idx + 4])
            del self.buf[: idx + 4]
            lines = head[:-4].split(b"\r\n")
            version, _, rest = lines[0].decode("latin-1").partition(" ")
            code, _, reason = rest.partition(" ")
            status = int(code)
            headers = []
            for line in lines[1:]:
                name, _, value = line.decode("latin-1").partition(":")
                headers.append((name, value.strip()))
            if 100 <= status < 200 and status != 101:
                continue  # interim response (100 Continue)
            break
        resp = RawResponse(status, reason, version, headers, b"", False, head)
        if head_only or status in (204, 304):
            return resp
        te = (resp.header("transfer-encoding") or "").lower()
        if "chunked" in te:
            resp.chunked = True
            body = bytearray()
            while True:
                size = int(self._read_line().split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_line():
                        pass
                    break
                body += self._read_exact(size)
                assert self._read_exact(2) == b"\r\n", "chunk not followed by CRLF"
            resp.body = bytes(body)
        elif resp.header("content-length") is not None:
            resp.body = self._read_exact(int(resp.header("content-length")))
        else:
            while self._fill():
                pass
            resp.body = bytes(self.buf)
            self.buf.clear()
        return resp

    def request(self, method: str, target: str, headers: Optional[list] = None,
                body: Optional[bytes] = None, host: bool = True) -> RawResponse:
        self.send(build_request(method, target, headers, body, host=host, port=self.port))
        return self.read_response(head_only=method == "HEAD")


def build_request(method: str, target: str, headers: Optional[list] = None, body: Optional[bytes] = None,
                  host: bool = True, port: int = 0, chunks: Optional[list] = None) -> bytes:
    """Serialise a request. headers: list of (name, value) or dict. chunks → chunked body."""
    hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    names = {n.lower() for n, _ in hdrs}
    if host and "host" not in names:
        hdrs.insert(0, ("Host", f"127.0.0.1:{port}"))
    payload = b""
    if chunks is not None:
        if "transfer-encoding" not in names:
            hdrs.append(("Transfer-Encoding", "chunked"))
        payload = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks if c) + b"0\r\n\r\n"
    elif body is not None:
        if "content-length" not in names:
            hdrs.append(("Content-Length", str(len(body))))
        payload = body
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{n}: {v}\r\n" for n, v in hdrs) + "\r\n"
    return head.encode("latin-1") + payload


def raw_request(port: int, method: str, target: str, headers=None, body: Optional[bytes] = None,
                timeout: float = 10.0) -> RawResponse:
    """One request on a fresh connection."""
    with RawConnection(port, timeout=timeout) as c:
        return c.request(method, target, headers, body)


# --------------------------------------------------------------------------------------------
# Assertions


def assert_es_error(resp, status: int, etype: Optional[str] = None) -> dict:
    """An Elasticsearch error response: status, envelope, product and content-type headers."""
    body = resp.body if isinstance(resp, RawResponse) else resp.content
    assert resp_status(resp) == status, f"expected {status}, got {resp_status(resp)}: {body[:500]!r}"
    assert header_of(resp, "X-Elastic-Product") == "Elasticsearch", f"missing product header: {resp!r}"
    ctype = header_of(resp, "Content-Type") or ""
    assert ctype.split(";")[0].strip() == "application/json", f"content-type {ctype!r}"
    doc = json.loads(body)
    assert doc.get("status") == status, f"error body status: {doc!r}"
    err = doc.get("error")
    assert isinstance(err, dict), f"error is not an object: {doc!r}"
    assert isinstance(err.get("type"), str) and err["type"], doc
    assert isinstance(err.get("reason"), str) and err["reason"], doc
    rc = err.get("root_cause")
    assert isinstance(rc, list) and rc and isinstance(rc[0], dict) and rc[0].get("type"), doc
    if etype is not None:
        assert err["type"] == etype, f"error type {err['type']!r} != {etype!r}: {doc!r}"
    return doc


def resp_status(resp) -> int:
    return resp.status if isinstance(resp, RawResponse) else resp.status_code


def header_of(resp, name: str) -> Optional[str]:
    if isinstance(resp, RawResponse):
        return resp.header(name)
    return resp.headers.get(name)


def requests_carrying(stub, token: str, include_partial: bool = False) -> list:
    """Upstream requests whose target, headers or body contain token."""
    tb = token.encode()

    def has(r) -> bool:
        return (token in r.target or any(token in v for _, v in r.headers) or tb in r.body
                or tb in r.raw_head)

    return stub.matching(has, include_partial=include_partial)


def assert_not_forwarded(stub, token: str) -> None:
    """Not even part of a request carrying token reached the upstream."""
    got = requests_carrying(stub, token, include_partial=True)
    assert not got, f"the upstream received what should have been refused: {[(r.method, r.target) for r in got]}"
