"""Edges of the client-facing TLS stream (net/tls_stream.hpp) through the real gateway: garbage instead
of a ClientHello, a handshake that never comes (limits.header_timeout), requests pipelined in separate
TLS records of one TCP segment (read ahead by OpenSSL, not left in the socket), a large response to a
slow reader (writes that block mid-record), and close_notify answered with close_notify."""

from __future__ import annotations

import os
import socket
import ssl
import time

import pytest

from helpers import RawConnection, esgate_missing_reason, marker, requests_carrying
from stub_es import pattern_bytes
from test_reload_tls import admin_headers, client_context, self_signed, tls_gateway, TlsConnection

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

HEADER_TIMEOUT = 0.5


@pytest.fixture(scope="module")
def gw(make_module_gateway, tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tls-edges"))
    crt, key = self_signed(d, "gw")
    g = tls_gateway(make_module_gateway, {"certificate": "gw.crt", "key": "gw.key"},
                    {"gw.crt": crt, "gw.key": key}, config={"limits": {"header_timeout": "500ms"}})
    g.ca = os.path.join(g.dir, "gw.crt")
    return g


def auth(gw) -> list:
    return [("Authorization", admin_headers(gw)["Authorization"])]


def still_serves(gw) -> None:
    m = marker()
    with TlsConnection(gw.port, client_context(gw.ca)) as c:
        assert c.request("GET", f"/?m={m}", auth(gw)).status == 200
    assert len(requests_carrying(gw.stub, m)) == 1
    assert gw.running


def read_until_closed(sock: socket.socket, timeout: float) -> tuple:
    """(bytes received, seconds until EOF/RST); fails if the peer keeps the connection open."""
    sock.settimeout(timeout)
    start, data = time.monotonic(), b""
    while True:
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            pytest.fail(f"connection still open after {timeout}s; got {data[:100]!r}")
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    return data, time.monotonic() - start


class MemoryTls:
    """A TLS client over memory BIOs, quacking like the socket RawConnection uses: the test decides which
    records go out together in one send()."""

    def __init__(self, port: int, ctx: ssl.SSLContext):
        self.raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname="localhost")
        while True:
            try:
                self.obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self._pull()
        self.flush()

    def _pull(self) -> None:
        data = self.raw.recv(65536)
        if data:
            self.incoming.write(data)
        else:
            self.incoming.write_eof()

    def flush(self) -> None:
        data = self.outgoing.read()
        if data:
            self.raw.sendall(data)

    def seal(self, data: bytes) -> None:
        """One TLS record (or more, if large), kept back until the next flush."""
        self.obj.write(data)

    def sendall(self, data: bytes) -> None:
        self.seal(data)
        self.flush()

    def recv(self, n: int) -> bytes:
        while True:
            try:
                return self.obj.read(n)
            except ssl.SSLWantReadError:
                self.flush()
                self._pull()
            except ssl.SSLZeroReturnError:
                return b""

    def settimeout(self, t: float) -> None:
        self.raw.settimeout(t)

    def close(self) -> None:
        self.raw.close()


class MemoryTlsConnection(RawConnection):
    def __init__(self, port: int, ctx: ssl.SSLContext):
        self.sock = MemoryTls(port, ctx)
        self.buf = bytearray()
        self.port = port


GARBAGE = [
    pytest.param(b"GET /?m=MARK HTTP/1.1\r\nHost: x\r\n\r\n", id="plain-http"),
    pytest.param(b"\0" * 64, id="zeros"),
    pytest.param(b"\x16\x03\x01\xff\xff" + b"junk" * 8, id="record-of-absurd-length"),
    pytest.param(b"\x16\x03\x01\x00\xc8\x01\x00\x00\xc4\x03\x03", id="client-hello-cut-short"),
    pytest.param(b"\x80\x2e\x01\x00\x02\x00\x15\x00\x00\x00\x10" + b"\x07" * 37, id="sslv2-hello"),
    pytest.param(b"\x17\x03\x03\x00\x05hello", id="application-data-first"),
    pytest.param(os.urandom(4096), id="random"),
]


@pytest.mark.parametrize("payload", GARBAGE)
def test_garbage_instead_of_a_client_hello_is_closed_and_nothing_reaches_the_upstream(gw, payload):
    m = marker()
    with RawConnection(gw.port) as c:
        c.send(payload.replace(b"MARK", m.encode()))
        c.sock.shutdown(socket.SHUT_WR)  # a cut-short hello must not wait for more
        data, _ = read_until_closed(c.sock, 5)
    assert data == b"" or data[:1] == b"\x15", f"not a TLS alert: {data[:100]!r}"
    assert not requests_carrying(gw.stub, m, include_partial=True)
    still_serves(gw)


@pytest.mark.parametrize("sent", [b"", b"\x16\x03\x01\x00\xc8\x01\x00"], ids=["nothing", "half-a-hello"])
def test_a_handshake_that_never_completes_is_closed_after_the_header_timeout(gw, sent):
    with RawConnection(gw.port) as c:
        c.send(sent)
        data, waited = read_until_closed(c.sock, 10)
    assert data == b"" or data[:1] == b"\x15", data[:100]
    # The deadline sweep runs every 200 ms: closed after the timeout, and not much later.
    assert HEADER_TIMEOUT * 0.8 <= waited <= HEADER_TIMEOUT + 2, waited
    still_serves(gw)


def test_requests_in_separate_records_of_one_segment_are_both_answered(gw):
    """OpenSSL reads both records at once (read-ahead) and returns one per read: the second request is then
    buffered in OpenSSL, not in the socket, and the gateway must not wait for the socket to get it."""
    m1, m2 = marker(), marker()
    with MemoryTlsConnection(gw.port, client_context(gw.ca)) as c:
        h = f"Host: localhost\r\nAuthorization: {admin_headers(gw)['Authorization']}\r\n"
        c.sock.seal(f"GET /?m={m1} HTTP/1.1\r\n{h}\r\n".encode())
        c.sock.seal(f"GET /?m={m2} HTTP/1.1\r\n{h}\r\n".encode())
        c.sock.flush()
        c.settimeout(5)
        assert c.read_response().status == 200
        assert c.read_response().status == 200
    got = gw.stub.matching(lambda r: m1 in r.target or m2 in r.target)
    assert [r.target for r in got] == [f"/?m={m1}", f"/?m={m2}"]


def test_a_large_response_to_a_slow_reader_arrives_intact(gw):
    """8 MB through a small receive window: the gateway's writes block mid-record (WANT_WRITE) many times."""
    m = marker()
    size = 8 * 1024 * 1024
    gw.stub.set_response(f"/big-{m}/_doc/1", size=size)
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8192)  # before connect: a small window
    raw.settimeout(20)
    raw.connect(("127.0.0.1", gw.port))
    with client_context(gw.ca).wrap_socket(raw, server_hostname="localhost") as s:
        c = RawConnection.__new__(RawConnection)
        c.sock, c.buf, c.port = s, bytearray(), gw.port
        r = c.request("GET", f"/big-{m}/_doc/1", auth(gw))
        assert r.status == 200
        assert len(r.body) == size
        assert r.body == pattern_bytes(size)


def test_close_notify_from_the_client_is_answered_with_close_notify(gw):
    with TlsConnection(gw.port, client_context(gw.ca)) as c:
        assert c.request("GET", "/", auth(gw)).status == 200
        raw = c.sock.unwrap()  # sends close_notify and returns once the gateway's has arrived
        raw.settimeout(5)
        assert raw.recv(100) == b""  # and then the gateway closes the connection
    still_serves(gw)
