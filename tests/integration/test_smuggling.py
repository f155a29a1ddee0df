"""Raw-socket request smuggling corpus (issue 10, threats.md A15).

Each case is the exact bytes a client sends, in the classes HTTP Garden, smuggler and h2csmuggler use:
Content-Length and Transfer-Encoding in every spelling, chunk-size and chunk-extension tricks, Host
variants, bare LF/CR line endings, NUL and control bytes, obs-fold, oversized lines, absolute-form
targets, CONNECT/TRACE/Upgrade, and requests pipelined behind a rejected one. Every case asserts one of:

- Reject: a 400-class Elasticsearch error, the connection closed by the gateway (EOF within a timeout),
  and nothing of the request at the recording upstream, not even a partial head;
- Accept: exactly one canonical request at the upstream (method, path, body, the headers it must and
  must not carry, no framing anomaly), re-framed by the gateway.

And in every case nothing carrying the second marker ($S, used by smuggled or pipelined requests) ever
reaches the upstream.

Placeholders in the byte templates: $M the case's marker, $S the smuggled marker, $HOST the Host line,
$AUTH the Authorization line (admin, a superuser: authorization never hides a framing decision),
$BODY the 7-byte JSON body, $PORT the gateway's port.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field

import pytest

from conftest import UPSTREAM_PASSWORD, UPSTREAM_USER
from helpers import (ConnectionClosed, assert_es_error, assert_not_forwarded, basic, esgate_missing_reason,
                     marker, requests_carrying)

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

UPSTREAM_AUTH = basic(UPSTREAM_USER, UPSTREAM_PASSWORD)
BODY = b'{"a":1}'
CHUNKED = b"7\r\n$BODY\r\n0\r\n\r\n"
# A second request without credentials: if the gateway ever parses it as a request, it answers 401.
SMUGGLED = b"GET /smuggle/_doc/$S HTTP/1.1\r\nHost: x\r\nX-Opaque-Id: $S\r\n\r\n"
# A second, perfectly valid request: behind a rejected one it must never be read at all.
PIPELINED = b"GET /smuggle/_doc/$S HTTP/1.1\r\n$HOST\r\n$AUTH\r\nX-Opaque-Id: $S\r\n\r\n"


@dataclass
class Reject:
    statuses: tuple = (400,)


@dataclass
class Accept:
    method: str = "PUT"
    path: str = "/smuggle/_doc/$M"
    body: bytes = BODY
    headers: dict = field(default_factory=dict)  # lower-case name -> exact value at the upstream
    absent: tuple = ()                            # header names that must not reach the upstream
    then: tuple = ()  # statuses the gateway may give the bytes that follow (a second request)


def put(*lines: str, body: bytes = BODY, version: str = "HTTP/1.1", host: bool = True) -> bytes:
    """A PUT of $BODY with the given extra header lines (framing headers included, none added)."""
    head = f"PUT /smuggle/_doc/$M {version}\r\n" + ("$HOST\r\n" if host else "")
    head += "$AUTH\r\nX-Opaque-Id: $M\r\nContent-Type: application/json\r\n"
    return (head + "".join(line + "\r\n" for line in lines) + "\r\n").encode("latin-1") + body


def te(value: str, body: bytes = CHUNKED, **kw) -> bytes:
    return put(f"Transfer-Encoding: {value}", body=body, **kw)


def cl(value: str, body: bytes = BODY) -> bytes:
    return put(f"Content-Length: {value}", body=body)


def chunks(raw: bytes) -> bytes:
    """A chunked PUT whose body is exactly `raw`."""
    return put("Transfer-Encoding: chunked", body=raw)


def get(*lines: str, target: str = "/smuggle/_doc/$M", version: str = "HTTP/1.1",
        host: bool = True) -> bytes:
    head = f"GET {target} {version}\r\n" + ("$HOST\r\n" if host else "")
    return (head + "$AUTH\r\nX-Opaque-Id: $M\r\n" + "".join(line + "\r\n" for line in lines)
            + "\r\n").encode("latin-1")


def raw(text: bytes) -> bytes:
    return text


GET_OK = Accept(method="GET", body=b"")

CASES = [
    # ---- Content-Length in every spelling -----------------------------------------------------
    ("cl-plain", cl("7"), Accept(headers={"content-length": "7"}, absent=("transfer-encoding",))),
    ("cl-leading-zeros", cl("007"), Accept(headers={"content-length": "7"})),
    ("cl-leading-space", put("Content-Length:    7"), Accept(headers={"content-length": "7"})),
    ("cl-trailing-tab", put("Content-Length: 7\t"), Accept(headers={"content-length": "7"})),
    ("cl-duplicate-same", put("Content-Length: 7", "Content-Length: 7"), Reject()),
    ("cl-duplicate-different", put("Content-Length: 7", "Content-Length: 8"), Reject()),
    ("cl-duplicate-case", put("Content-Length: 7", "content-length: 7"), Reject()),
    ("cl-list-same", cl("7, 7"), Reject()),
    ("cl-list-different", cl("7,8"), Reject()),
    ("cl-plus", cl("+7"), Reject()),
    ("cl-minus", cl("-7"), Reject()),
    ("cl-hex", cl("0x7"), Reject()),
    ("cl-inner-space", cl("7 7"), Reject()),
    ("cl-underscore", cl("0_7"), Reject()),
    ("cl-decimal-point", cl("7.0"), Reject()),
    ("cl-empty", cl(""), Reject()),
    ("cl-overflow", cl("99999999999999999999999"), Reject((400, 413))),
    ("cl-2^64", cl("18446744073709551616"), Reject((400, 413))),
    ("cl-space-before-colon", put("Content-Length : 7"), Reject()),
    ("cl-tab-before-colon", put("Content-Length\t: 7"), Reject()),
    ("cl-vertical-tab", cl("7\x0b"), Reject()),
    ("cl-form-feed", cl("\x0c7"), Reject()),
    ("cl-nul", cl("7\x00"), Reject()),
    ("cl-underscore-name", put("Content_Length: 7"), Reject()),
    ("cl-shorter-than-body-smuggles", cl("7", body=BODY + SMUGGLED), Accept(then=((401,),))),
    ("cl-zero-then-request", put("Content-Length: 0", body=SMUGGLED),
     Accept(body=b"", then=((401,),))),
    # ---- Transfer-Encoding in every spelling --------------------------------------------------
    ("te-chunked", te("chunked"), Accept(absent=("transfer-encoding",),
                                         headers={"content-length": "7"})),
    ("te-chunked-upper", te("CHUNKED"), Accept()),
    ("te-chunked-mixed-case", te("cHuNkEd"), Accept()),
    ("te-chunked-trailing-space", te("chunked "), Accept()),
    ("te-chunked-tab-ows", put("Transfer-Encoding:\tchunked", body=CHUNKED), Accept()),
    ("te-chunked-identity", te("chunked, identity"), Reject()),
    ("te-identity-chunked", te("identity, chunked"), Reject()),
    ("te-identity", te("identity", body=BODY), Reject()),
    ("te-gzip-chunked", te("gzip, chunked"), Reject()),
    ("te-chunked-chunked", te("chunked, chunked"), Reject()),
    ("te-comma-chunked", te(", chunked"), Reject()),
    ("te-chunked-comma", te("chunked,"), Reject()),
    ("te-xchunked", te("xchunked"), Reject()),
    ("te-chunked-suffix", te("chunked-false"), Reject()),
    ("te-quoted", te('"chunked"'), Reject()),
    ("te-parameter", te("chunked;q=1"), Reject()),
    ("te-empty", te(""), Reject()),
    ("te-vertical-tab", te("\x0bchunked"), Reject()),
    ("te-control-x01", te("chunked\x01"), Reject()),
    ("te-obs-text-0xff", te("chunked\xff"), Reject()),
    ("te-nul", te("chunked\x00"), Reject()),
    ("te-space-before-colon", put("Transfer-Encoding : chunked", body=CHUNKED), Reject()),
    ("te-underscore-name", put("Transfer_Encoding: chunked", body=CHUNKED), Reject()),
    ("te-duplicate", put("Transfer-Encoding: chunked", "Transfer-Encoding: chunked", body=CHUNKED),
     Reject()),
    ("te-split-identity-chunked", put("Transfer-Encoding: identity", "Transfer-Encoding: chunked",
                                      body=CHUNKED), Reject()),
    ("te-http10", te("chunked", version="HTTP/1.0"), Reject()),
    ("te-obs-fold-value", put("Transfer-Encoding:", " chunked", body=CHUNKED), Reject()),
    ("te-obs-fold-continuation", put("Transfer-Encoding: chunked", " , identity", body=CHUNKED),
     Reject()),
    ("te-and-cl", put("Transfer-Encoding: chunked", "Content-Length: 7", body=CHUNKED), Reject()),
    ("cl-and-te", put("Content-Length: 7", "Transfer-Encoding: chunked", body=CHUNKED), Reject()),
    ("cl-and-te-smuggles", put("Content-Length: 37", "Transfer-Encoding: chunked",
                               body=b"0\r\n\r\n" + SMUGGLED), Reject()),
    ("te-chunked-then-request", te("chunked", body=CHUNKED + SMUGGLED), Accept(then=((401,),))),
    # ---- chunk sizes and extensions -----------------------------------------------------------
    ("chunk-0x-prefix", chunks(b"0x7\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-plus", chunks(b"+7\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-minus", chunks(b"-7\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-leading-space", chunks(b" 7\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-trailing-space", chunks(b"7 \r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-underscore", chunks(b"0_7\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-empty-size", chunks(b"\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-17-hex-digits", chunks(b"00000000000000007\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-overflow", chunks(b"1ffffffffffffffff\r\n$BODY\r\n0\r\n\r\n"), Reject((400, 413))),
    ("chunk-leading-zeros", chunks(b"0007\r\n$BODY\r\n0\r\n\r\n"), Accept()),
    ("chunk-upper-hex", chunks(b"A\r\n{\"a\":1234}\r\n0\r\n\r\n"), Accept(body=b'{"a":1234}')),
    ("chunk-split-in-two", chunks(b"3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n"), Accept()),
    ("chunk-extension", chunks(b"7;foo=bar\r\n$BODY\r\n0;last\r\n\r\n"), Accept()),
    ("chunk-extension-quoted", chunks(b'7;foo="b a r"\r\n$BODY\r\n0\r\n\r\n'), Accept()),
    ("chunk-extension-bare-cr", chunks(b"7;foo\rbar\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-extension-bare-lf", chunks(b"7;foo\nbar\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-extension-nul", chunks(b"7;foo\x00\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-extension-oversized", chunks(b"7;" + b"x" * 5000 + b"\r\n$BODY\r\n0\r\n\r\n"),
     Reject((400, 413))),
    ("chunk-size-bare-lf", chunks(b"7\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-data-bare-lf", chunks(b"7\r\n$BODY\n0\r\n\r\n"), Reject()),
    ("chunk-data-no-crlf", chunks(b"7\r\n$BODYXX0\r\n\r\n"), Reject()),
    ("chunk-data-longer", chunks(b"5\r\n$BODY\r\n0\r\n\r\n"), Reject()),
    ("chunk-last-bare-lf", chunks(b"7\r\n$BODY\r\n0\n\r\n"), Reject()),
    ("chunk-end-bare-lf", chunks(b"7\r\n$BODY\r\n0\r\n\n"), Reject()),
    ("chunk-trailer-dropped", chunks(b"7\r\n$BODY\r\n0\r\nX-Trailer: $M\r\n\r\n"),
     Accept(absent=("x-trailer",))),
    ("chunk-trailer-framing-dropped",
     chunks(b"7\r\n$BODY\r\n0\r\nContent-Length: 100\r\nTransfer-Encoding: chunked\r\n\r\n"),
     Accept(headers={"content-length": "7"}, absent=("transfer-encoding",))),
    ("chunk-trailer-bare-lf", chunks(b"7\r\n$BODY\r\n0\r\nX-T: 1\n\r\n"), Reject()),
    # ---- Host ---------------------------------------------------------------------------------
    ("host-plain", get(), Accept(method="GET", body=b"", headers={"host": "127.0.0.1:$PORT"})),
    ("host-missing-http11", get(host=False), Reject()),
    ("host-missing-http10", get(host=False, version="HTTP/1.0"), Accept(method="GET", body=b"")),
    ("host-duplicate-same", get("$HOST"), Reject()),
    ("host-duplicate-different", get("Host: evil.example"), Reject()),
    ("host-duplicate-http10", get("Host: a", "Host: b", host=False, version="HTTP/1.0"), Reject()),
    ("host-empty-origin-form", get("Host:", host=False), Accept(method="GET", body=b"")),
    ("host-ipv6", get("Host: [::1]:$PORT", host=False),
     Accept(method="GET", body=b"", headers={"host": "[::1]:$PORT"})),
    ("host-tab-ows", get("Host:\tlocalhost", host=False),
     Accept(method="GET", body=b"", headers={"host": "localhost"})),
    ("host-with-path", get("Host: es/x", host=False), Reject()),
    ("host-with-userinfo", get("Host: user@es", host=False), Reject()),
    ("host-with-space", get("Host: e s", host=False), Reject()),
    ("host-list", get("Host: a, b", host=False), Reject()),
    ("host-bad-port", get("Host: es:x", host=False), Reject()),
    ("host-port-too-big", get("Host: es:65536", host=False), Reject()),
    ("host-empty-port", get("Host: es:", host=False), Reject()),
    ("host-backslash", get("Host: es\\evil", host=False), Reject()),
    ("host-unclosed-ipv6", get("Host: [::1", host=False), Reject()),
    ("host-nul", get("Host: es\x00evil", host=False), Reject()),
    ("host-obs-fold", get("Host: es", " evil", host=False), Reject()),
    ("host-underscore-name", get("Ho_st: es"), Accept(method="GET", body=b"")),
    # ---- absolute-form, CONNECT, TRACE, upgrades ----------------------------------------------
    ("absolute-form-agrees", get(target="http://127.0.0.1:$PORT/smuggle/_doc/$M"),
     Accept(method="GET", body=b"")),
    ("absolute-form-agrees-http10", get(target="http://es/smuggle/_doc/$M", host=False,
                                        version="HTTP/1.0"), Accept(method="GET", body=b"")),
    ("absolute-form-other-host", get(target="http://evil.example/smuggle/_doc/$M"), Reject()),
    ("absolute-form-other-port", get(target="http://127.0.0.1:1/smuggle/_doc/$M"), Reject()),
    ("absolute-form-userinfo", get(target="http://admin@127.0.0.1:$PORT/smuggle/_doc/$M"), Reject()),
    ("absolute-form-ftp", get(target="ftp://127.0.0.1:$PORT/smuggle/_doc/$M"), Reject()),
    ("absolute-form-empty-authority", get(target="http:///smuggle/_doc/$M"), Reject()),
    ("authority-form-get", get(target="127.0.0.1:$PORT"), Reject()),
    ("asterisk-form", raw(b"OPTIONS * HTTP/1.1\r\n$HOST\r\n$AUTH\r\nX-Opaque-Id: $M\r\n\r\n"), Reject()),
    ("connect", raw(b"CONNECT 127.0.0.1:$PORT HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\n$AUTH\r\n"
                    b"X-Opaque-Id: $M\r\n\r\n"), Reject((405,))),
    ("connect-tunnel-bytes", raw(b"CONNECT 127.0.0.1:$PORT HTTP/1.1\r\nHost: 127.0.0.1:$PORT\r\n"
                                 b"$AUTH\r\n\r\n" + PIPELINED), Reject((405,))),
    ("trace", raw(b"TRACE /smuggle/_doc/$M HTTP/1.1\r\n$HOST\r\n$AUTH\r\n\r\n"), Reject((405,))),
    ("upgrade-h2c", get("Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c",
                        "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"), Reject()),
    ("upgrade-h2c-no-settings", get("Connection: Upgrade", "Upgrade: h2c"), Reject()),
    ("upgrade-websocket", get("Connection: Upgrade", "Upgrade: websocket",
                              "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
                              "Sec-WebSocket-Version: 13"), Reject()),
    ("upgrade-without-connection", get("Upgrade: h2c"), Reject()),
    ("http2-settings-alone", get("HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA"), Reject()),
    ("http2-prior-knowledge-preface", raw(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), Reject()),
    # ---- request line --------------------------------------------------------------------------
    ("http09-request-line", raw(b"GET /smuggle/_doc/$M\r\n$HOST\r\n$AUTH\r\n\r\n"), Reject()),
    ("version-1.2", get(version="HTTP/1.2"), Reject()),
    ("version-lowercase", get(version="http/1.1"), Reject()),
    ("version-two-digits", get(version="HTTP/01.1"), Reject()),
    ("request-line-double-space", get(target=" /smuggle/_doc/$M"), Reject()),
    ("request-line-tab", raw(b"GET\t/smuggle/_doc/$M HTTP/1.1\r\n$HOST\r\n$AUTH\r\n\r\n"), Reject()),
    ("request-line-leading-crlf", raw(b"\r\n" + get()), Reject()),
    ("target-nul", get(target="/smuggle/_doc/$M\x00x"), Reject()),
    ("target-space", get(target="/smuggle/_doc/$M x"), Reject()),
    ("target-fragment", get(target="/smuggle/_doc/$M#frag"), Reject()),
    ("target-del", get(target="/smuggle/_doc/$M\x7f"), Reject()),
    # ---- line endings, names, control bytes ----------------------------------------------------
    ("bare-lf-request-line", raw(b"GET /smuggle/_doc/$M HTTP/1.1\n$HOST\r\n$AUTH\r\n\r\n"), Reject()),
    ("bare-lf-header", raw(b"GET /smuggle/_doc/$M HTTP/1.1\r\n$HOST\n$AUTH\r\n\r\n"), Reject()),
    ("bare-lf-end-of-head", raw(b"GET /smuggle/_doc/$M HTTP/1.1\r\n$HOST\r\n$AUTH\r\n\n"), Reject()),
    ("bare-lf-everywhere", raw(b"GET /smuggle/_doc/$M HTTP/1.1\n$HOST\n$AUTH\n\n"), Reject()),
    ("bare-lf-hides-header", raw(b"GET /smuggle/_doc/$M HTTP/1.1\r\n$HOST\r\nX-A: 1\nContent-Length: 37"
                                 b"\r\n$AUTH\r\n\r\n" + SMUGGLED), Reject()),
    ("bare-cr-request-line", raw(b"GET /smuggle/_doc/$M HTTP/1.1\r$HOST\r\n$AUTH\r\n\r\n"), Reject()),
    ("bare-cr-header", raw(b"GET /smuggle/_doc/$M HTTP/1.1\r\n$HOST\r$AUTH\r\n\r\n"), Reject()),
    ("bare-cr-in-value", get("X-A: 1\rContent-Length: 5"), Reject()),
    ("lf-cr-line-ending", raw(b"GET /smuggle/_doc/$M HTTP/1.1\n\r$HOST\r\n$AUTH\r\n\r\n"), Reject()),
    ("header-no-colon", get("X-Foo bar"), Reject()),
    ("header-empty-name", get(": bar"), Reject()),
    ("header-space-in-name", get("X Foo: bar"), Reject()),
    ("header-space-before-colon", get("X-Foo : bar"), Reject()),
    ("header-name-nul", get("X-\x00Foo: bar"), Reject()),
    ("header-name-non-ascii", get("X-F\xf6o: bar"), Reject()),
    ("header-value-nul", get("X-Foo: a\x00b"), Reject()),
    ("header-value-del", get("X-Foo: a\x7fb"), Reject()),
    ("header-value-esc", get("X-Foo: a\x1bb"), Reject()),
    ("header-obs-fold-space", get("X-Foo: a", " b"), Reject()),
    ("header-obs-fold-tab", get("X-Foo: a", "\tb"), Reject()),
    ("first-header-indented", raw(b"GET /smuggle/_doc/$M HTTP/1.1\r\n $HOST\r\n$AUTH\r\n\r\n"), Reject()),
    ("header-name-continuation", get("X-Foo", ": bar"), Reject()),
    # ---- oversized ------------------------------------------------------------------------------
    ("oversized-request-line", get(target="/smuggle/_doc/$M?q=" + "a" * 20000), Reject((400, 414, 431))),
    ("oversized-header-line", get("X-Big: " + "b" * 20000), Reject((400, 431))),
    ("oversized-header-count", get(*[f"X-H{i}: {'c' * 40}" for i in range(500)]), Reject((400, 431))),
    ("oversized-header-name", get("X-" + "n" * 20000 + ": 1"), Reject((400, 431))),
    # ---- pipelined behind a rejected request: the second is never read --------------------------
    ("pipeline-after-duplicate-cl", put("Content-Length: 7", "Content-Length: 7", body=BODY + PIPELINED),
     Reject()),
    ("pipeline-after-cl-and-te", put("Content-Length: 5", "Transfer-Encoding: chunked",
                                     body=b"0\r\n\r\n" + PIPELINED), Reject()),
    ("pipeline-after-bad-te", te("chunked, identity", body=CHUNKED + PIPELINED), Reject()),
    ("pipeline-after-bare-lf", raw(b"GET /smuggle/_doc/$M HTTP/1.1\n$HOST\r\n$AUTH\r\n\r\n" + PIPELINED),
     Reject()),
    ("pipeline-after-obs-fold", get("X-Foo: a", " b") + PIPELINED, Reject()),
    ("pipeline-after-missing-host", get(host=False) + PIPELINED, Reject()),
    ("pipeline-after-double-host", get("Host: evil") + PIPELINED, Reject()),
    ("pipeline-after-absolute-mismatch", get(target="http://evil/smuggle/_doc/$M") + PIPELINED,
     Reject()),
    ("pipeline-after-trace", raw(b"TRACE / HTTP/1.1\r\n$HOST\r\n$AUTH\r\nX-Opaque-Id: $M\r\n\r\n"
                                 + PIPELINED), Reject((405,))),
    ("pipeline-after-h2c", get("Connection: Upgrade, HTTP2-Settings", "Upgrade: h2c",
                               "HTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA") + PIPELINED, Reject()),
    ("pipeline-after-bad-chunk", chunks(b"0x7\r\n$BODY\r\n0\r\n\r\n" + PIPELINED), Reject()),
    ("pipeline-after-bad-chunk-ext", chunks(b"7;a\nb\r\n$BODY\r\n0\r\n\r\n" + PIPELINED), Reject()),
    ("pipeline-after-nul", get("X-Foo: \x00") + PIPELINED, Reject()),
    ("pipeline-after-oversized", get("X-Big: " + "b" * 20000) + PIPELINED, Reject((400, 431))),
]


@pytest.fixture(scope="module")
def shared(make_module_gateway):
    return make_module_gateway()


@pytest.fixture
def gw(shared):
    shared.stub.reset()
    shared.stub.set_response("/smuggle/*", 200, {"ok": True})
    return shared


def fill(template: bytes, gw, m: str, s: str) -> bytes:
    subs = {b"$HOST": f"Host: 127.0.0.1:{gw.port}".encode(),
            b"$AUTH": f"Authorization: {gw.auth_header('admin')}".encode(),
            b"$BODY": BODY, b"$PORT": str(gw.port).encode(), b"$M": m.encode(), b"$S": s.encode()}
    for k, v in subs.items():
        template = template.replace(k, v)
    return template


def fill_str(text: str, gw, m: str) -> str:
    return text.replace("$M", m).replace("$PORT", str(gw.port))


def closed_by_gateway(c, timeout: float = 5.0) -> bool:
    """True when the gateway closes the connection (EOF or reset) and sends nothing more."""
    if c.buf:
        return False  # bytes of a further response
    return c.is_closed_by_peer(timeout)


def check_reject(gw, c, expect: Reject, m: str) -> None:
    r = c.read_response()
    assert r.status in expect.statuses, r
    assert_es_error(r, r.status)
    if r.status == 405:
        assert r.header("Allow"), r
    assert closed_by_gateway(c), "the gateway kept the connection open after refusing the request"
    assert_not_forwarded(gw.stub, m)


def check_accept(gw, c, expect: Accept, m: str) -> None:
    r = c.read_response()
    assert r.status == 200 and r.json() == {"ok": True}, r
    for statuses in expect.then:
        follow = c.read_response()
        assert follow.status in statuses, follow
    got = requests_carrying(gw.stub, m, include_partial=True)
    assert len(got) == 1, f"expected one upstream request, got {[(u.method, u.target, u.anomalies) for u in got]}"
    rec = got[0]
    assert rec.anomalies == [], rec.anomalies
    assert rec.method == expect.method and rec.path == fill_str(expect.path, gw, m), (rec.method, rec.target)
    assert rec.version == "HTTP/1.1", rec.version
    assert rec.body == expect.body, rec.body
    assert rec.header_all("Authorization") == [UPSTREAM_AUTH]
    assert rec.header_all("X-Opaque-Id") == [m]
    assert len(rec.header_all("Host")) <= 1, rec.headers
    if expect.body:
        te_values = rec.header_all("Transfer-Encoding")
        cl_values = rec.header_all("Content-Length")
        assert (cl_values == [str(len(expect.body))] and not te_values) or \
               (te_values == ["chunked"] and not cl_values), rec.headers
    for name, value in expect.headers.items():
        assert rec.header_all(name) == [fill_str(value, gw, m)], (name, rec.headers)
    for name in expect.absent:
        assert not rec.header_all(name), (name, rec.headers)


@pytest.mark.parametrize("template,expect", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_smuggling_corpus(gw, template, expect):
    m, s = marker(), marker()
    data = fill(template, gw, m, s)
    with gw.connect(timeout=10) as c:
        c.send(data)
        try:
            if isinstance(expect, Reject):
                check_reject(gw, c, expect, m)
            else:
                check_accept(gw, c, expect, m)
        except (ConnectionClosed, socket.timeout) as e:
            raise AssertionError(f"no complete answer from the gateway: {e!r}") from None
    # Nothing smuggled or pipelined behind the case ever reaches the upstream.
    assert_not_forwarded(gw.stub, s)


def test_corpus_is_large_and_ids_are_unique():
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)), [i for i in ids if ids.count(i) > 1]
    assert len(ids) >= 80, len(ids)
