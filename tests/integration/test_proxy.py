"""The gateway as a proxy: forwarding, header hygiene, bodies, authentication failures, upstream failures,
health, limits, CLI and signals. Asserts on what reached the recording upstream, not only on status codes."""

import base64
import json
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import UPSTREAM_PASSWORD, UPSTREAM_USER, hash_password, run_esgate
from helpers import (RawConnection, assert_es_error, assert_not_forwarded, basic, build_request,
                     esgate_missing_reason, free_port, marker, raw_request, requests_carrying, wait_until)
from stub_es import StubES, pattern_bytes, sha256

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

MB = 1024 * 1024
BODY_LIMIT = 21 * MB            # "21mb" in the shared gateway's config (Elasticsearch sizes are binary)
UPSTREAM_AUTH = basic(UPSTREAM_USER, UPSTREAM_PASSWORD)
WWW_BASIC = 'Basic realm="security", charset="UTF-8"'
HOP_BY_HOP = ["X-Foo", "Keep-Alive", "Proxy-Authorization", "TE", "Upgrade",
              "Trailer", "Proxy-Connection"]


@pytest.fixture(scope="module")
def shared(make_module_gateway):
    stub = StubES()
    make_module_gateway.own_stubs.append(stub)  # closed after the gateway stops
    return make_module_gateway(upstreams=[stub], config={"limits": {"max_body_bytes": "21mb"}})


@pytest.fixture
def gw(shared):
    """The shared gateway, with its upstream's recordings, canned responses and data reset."""
    shared.stub.reset()
    return shared


def one_upstream(stub, token: str):
    """The single upstream request carrying token."""
    got = requests_carrying(stub, token)
    assert len(got) == 1, f"expected exactly one upstream request with {token}, got " \
                          f"{[(r.method, r.target) for r in got]}"
    return got[0]


def health(port: int):
    return raw_request(port, "GET", "/_esgate/health", timeout=5)


# --------------------------------------------------------------------------------------------
# Forwarding


def test_get_is_forwarded_with_upstream_credentials_instead_of_the_clients(gw):
    m = marker()
    gw.stub.es.create_index("books", {m: {"title": "Dune"}})
    r = gw.raw("GET", f"/books/_doc/{m}", {"X-Opaque-Id": m})
    assert r.status == 200, r
    assert r.json()["_source"] == {"title": "Dune"}
    assert r.header("X-Elastic-Product") == "Elasticsearch"
    up = one_upstream(gw.stub, m)
    assert (up.method, up.target) == ("GET", f"/books/_doc/{m}")
    assert up.header_all("Authorization") == [UPSTREAM_AUTH]
    assert up.anomalies == []


def test_post_body_and_end_to_end_headers_are_kept(gw):
    m = marker()
    body = json.dumps({"query": {"match_all": {}}, "marker": m}).encode()
    compat = "application/vnd.elasticsearch+json; compatible-with=8"
    tp = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    r = gw.raw("POST", "/books/_search?size=1", [
        ("Content-Type", compat), ("Accept", compat), ("X-Opaque-Id", m), ("traceparent", tp)], body)
    assert r.status in (200, 404), r  # 404: the stub has no such index; what matters is the forward
    up = one_upstream(gw.stub, m)
    assert (up.method, up.target, up.body) == ("POST", "/books/_search?size=1", body)
    assert up.header_all("Content-Type") == [compat]
    assert up.header_all("Accept") == [compat]
    assert up.header_all("X-Opaque-Id") == [m]
    assert up.header_all("traceparent") == [tp]
    assert up.header_all("Authorization") == [UPSTREAM_AUTH]


def test_upstream_status_headers_and_body_pass_through_unchanged(gw):
    m = marker()
    canned = {"error": {"type": "version_conflict_engine_exception", "reason": m}, "status": 409}
    gw.stub.set_response(f"/books/_doc/{m}", status=409, body=canned, headers=[("X-Upstream", m)])
    r = gw.raw("PUT", f"/books/_doc/{m}", {"Content-Type": "application/json"}, b"{}")
    assert r.status == 409 and r.json() == canned and r.header("X-Upstream") == m


def test_hop_by_hop_headers_are_removed(gw):
    m = marker()
    r = gw.raw("GET", f"/_cluster/health?m={m}", [
        ("Connection", "keep-alive, X-Foo"), ("X-Foo", "hop-only"), ("Keep-Alive", "timeout=5"),
        ("Proxy-Authorization", "Basic " + base64.b64encode(b"proxy:secret").decode()),
        ("Proxy-Connection", "keep-alive"), ("TE", "trailers"),
        ("Trailer", "X-Bar"), ("X-End-To-End", m)])  # Upgrade is refused outright (test_smuggling)
    assert r.status == 200, r
    up = one_upstream(gw.stub, m)
    leaked = [n for n in HOP_BY_HOP if up.has_header(n)]
    assert not leaked, f"hop-by-hop headers reached the upstream: {leaked} in {up.headers}"
    tokens = {t.strip().lower() for v in up.header_all("Connection") for t in v.split(",")}
    assert tokens <= {"keep-alive", "close"}, up.header_all("Connection")
    assert up.header_all("X-End-To-End") == [m]


def test_forwarded_headers_are_added(gw):
    m = marker()
    assert gw.raw("GET", f"/?m={m}").status == 200
    up = one_upstream(gw.stub, m)
    assert up.header_all("X-Forwarded-For") == ["127.0.0.1"]
    assert up.header_all("X-Forwarded-Proto") == ["http"]


def test_client_cannot_spoof_forwarded_proto_and_its_address_is_last_in_forwarded_for(gw):
    m = marker()
    r = gw.raw("GET", f"/?m={m}", [("X-Forwarded-For", "6.6.6.6"), ("X-Forwarded-Proto", "https")])
    assert r.status == 200
    up = one_upstream(gw.stub, m)
    xff = [a.strip() for v in up.header_all("X-Forwarded-For") for a in v.split(",")]
    assert xff and xff[-1] == "127.0.0.1", xff
    assert up.header_all("X-Forwarded-Proto") == ["http"]


def test_20mb_random_body_arrives_byte_identical(gw):
    m = marker()
    body = os.urandom(20 * MB)
    gw.stub.set_response(f"/blobs/_doc/{m}", status=201, body={"result": "created"})
    r = gw.put(f"/blobs/_doc/{m}", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:300]
    up = one_upstream(gw.stub, m)
    assert len(up.body) == len(body) and sha256(up.body) == sha256(body)


def test_body_exactly_at_the_limit_is_accepted(gw):
    m = marker()
    gw.stub.set_response(f"/blobs/_doc/{m}", status=201, body={"result": "created"})
    body = pattern_bytes(BODY_LIMIT, seed=7)
    r = gw.put(f"/blobs/_doc/{m}", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 201, r.text[:300]
    assert sha256(one_upstream(gw.stub, m).body) == sha256(body)


def test_chunked_request_body_arrives_with_identical_content(gw):
    m = marker()
    gw.stub.set_response(f"/books/_doc/{m}", status=201, body={"result": "created"})
    chunks = [b'{"title":', b" ", b'"' + b"x" * 10000 + b'",', b'"m":"' + m.encode() + b'"}']
    req = build_request("PUT", f"/books/_doc/{m}", [("Content-Type", "application/json"),
                                                     ("Authorization", gw.auth_header("admin"))],
                        port=gw.port, chunks=chunks)
    with gw.connect() as c:
        c.send(req)
        r = c.read_response()
        assert r.status == 201, r
        # the connection stays in sync after a chunked body
        assert c.request("GET", "/", [("Authorization", gw.auth_header("admin"))]).status == 200
    up = one_upstream(gw.stub, f"/books/_doc/{m}")
    assert up.body == b"".join(chunks)
    assert up.anomalies == []
    if not up.chunked:
        assert up.header_all("Content-Length") == [str(len(up.body))]


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_large_response_streams_back_intact(gw, chunked):
    m = marker()
    size = 6 * MB + 3
    gw.stub.set_response(f"/books/_doc/{m}", size=size, chunked=chunked, chunk_size=65536)
    with gw.connect() as c:
        r = c.request("GET", f"/books/_doc/{m}", [("Authorization", gw.auth_header("admin"))])
        assert r.status == 200
        assert len(r.body) == size and sha256(r.body) == sha256(pattern_bytes(size))
        assert c.request("GET", "/", [("Authorization", gw.auth_header("admin"))]).status == 200


def test_upstream_connections_are_kept_alive_and_reused(gw):
    m = marker()
    auth = [("Authorization", gw.auth_header("admin")), ("X-Opaque-Id", m)]
    with gw.connect() as c:
        for i in range(6):
            assert c.request("GET", f"/?i={i}", auth).status == 200
    for i in range(4):
        assert raw_request(gw.port, "GET", f"/?j={i}", auth).status == 200
    ups = requests_carrying(gw.stub, m)
    assert len(ups) == 10
    assert len({u.conn_id for u in ups}) <= 2, [u.conn_id for u in ups]


def test_official_python_client_accepts_proxied_and_gateway_responses(gw):
    from elasticsearch import Elasticsearch
    from elasticsearch.exceptions import AuthenticationException

    es = Elasticsearch(gw.url, http_auth=("admin", gw.users["admin"][0]))
    assert es.info()["tagline"] == "You Know, for Search"
    bad = Elasticsearch(gw.url, http_auth=("admin", "wrong"))
    with pytest.raises(AuthenticationException):
        bad.info()


# --------------------------------------------------------------------------------------------
# Authentication failures never reach the upstream


def _b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


BAD_CREDENTIALS = [
    pytest.param(None, id="none"),
    pytest.param(basic("admin", "wrong-password"), id="wrong-password"),
    pytest.param(basic("mallory", "whatever-pass"), id="unknown-user"),
    pytest.param(basic("admin", ""), id="empty-password"),
    pytest.param("Basic !!!not-base64!!!", id="basic-not-base64"),
    pytest.param("Basic " + _b64("no-colon"), id="basic-no-colon"),
    pytest.param("Basic", id="basic-no-token"),
    pytest.param("ApiKey " + _b64("AAAAAAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBB"), id="apikey-unknown"),
    pytest.param("ApiKey %%%", id="apikey-garbage"),
    pytest.param("Bearer abc.def", id="bearer"),
]


@pytest.mark.parametrize("auth", BAD_CREDENTIALS)
def test_bad_credentials_get_401_and_nothing_goes_upstream(gw, auth):
    m = marker()
    headers = [("X-Opaque-Id", m), ("Content-Type", "application/json")]
    if auth is not None:
        headers.append(("Authorization", auth))
    r = gw.raw("POST", f"/books/_doc/{m}", headers, b'{"m":"%s"}' % m.encode(), user=None)
    doc = assert_es_error(r, 401, "security_exception")
    challenges = r.header_all("WWW-Authenticate")
    assert WWW_BASIC in challenges and "ApiKey" in challenges, challenges
    assert doc["error"]["root_cause"][0]["type"] == "security_exception"
    assert "wrong-password" not in r.body.decode() and "BBBBBBBBBBBBBBBBBBBBBB" not in r.body.decode()
    assert_not_forwarded(gw.stub, m)


def test_wrong_password_is_not_forwarded_even_on_a_kept_alive_connection(gw):
    m = marker()
    with gw.connect() as c:
        assert c.request("GET", "/", [("Authorization", gw.auth_header("admin"))]).status == 200
        r = c.request("GET", f"/books/_doc/{m}", [("Authorization", basic("admin", "nope-nope"))])
        assert_es_error(r, 401, "security_exception")
    assert_not_forwarded(gw.stub, m)


def test_bytes_after_an_upstream_response_never_answer_another_request(gw):
    """A node that sends more than its Content-Length (a forged second response here): the extra bytes
    are not kept for the next request on that pooled connection."""
    forged = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-Elastic-Product: Elasticsearch\r\n\r\nforged"
    gw.stub.set_response("/lying", body=b"ok", trailing=forged)
    auth = [("Authorization", gw.auth_header("admin"))]
    with gw.connect() as c:
        r = c.request("GET", "/lying", auth)
        assert r.status == 200 and r.body == b"ok"
        for _ in range(3):  # whichever pooled connection serves them
            m = marker()
            r = c.request("GET", f"/books/_doc/{m}", auth)
            assert r.body != b"forged"
            assert len(requests_carrying(gw.stub, m)) == 1


def test_bcrypt_runs_off_the_io_thread(make_gateway):
    """With one I/O thread, a password being checked (bcrypt, cost 12: hundreds of ms) must not stall
    other connections: health keeps answering while the check is in flight."""
    gw = make_gateway(config={"threads": 1})
    done = threading.Event()
    result = {}

    def wrong_password():
        result["status"] = gw.raw("GET", "/", [("Authorization", basic("admin", "wrong-pw-" + marker()))],
                                  user=None).status
        done.set()

    t = threading.Thread(target=wrong_password)
    t.start()
    answered_meanwhile = 0
    while not done.is_set():
        if gw.raw("GET", "/_esgate/health", user=None, timeout=10).status == 200 and not done.is_set():
            answered_meanwhile += 1
    t.join()
    assert result["status"] == 401
    # A blocked I/O thread answers at most around the edges of the check (measured: 2).
    assert answered_meanwhile >= 10, f"health answered {answered_meanwhile} times during a bcrypt check"


def _password_checks(gw) -> int:
    r = gw.get("/_esgate/metrics")
    assert r.status_code == 200
    m = re.search(r"^esgate_password_checks_total (\d+)$", r.text, re.M)
    assert m, r.text
    return int(m.group(1))


def test_concurrent_requests_with_one_password_share_one_bcrypt_check(make_gateway):
    """A pipeline's connections all arrive at once after a restart: one bcrypt check per
    user:password (per I/O thread), not one per connection. Wrong passwords likewise."""
    gw = make_gateway(config={"threads": 1})
    before = _password_checks(gw)  # admin's own check happens here (and is then cached)
    assert _password_checks(gw) == before

    def burst(auth: str) -> list:
        statuses = []
        def one():
            statuses.append(gw.raw("GET", "/books/_search", [("Authorization", auth)], user=None).status)
        threads = [threading.Thread(target=one) for _ in range(12)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return statuses

    # authenticated and authorized (the stub has no books index, so it answers 404 itself)
    assert burst(gw.auth_header("alice")) == [404] * 12
    assert _password_checks(gw) == before + 1
    assert burst(basic("alice", "not-alices-password")) == [401] * 12
    assert _password_checks(gw) == before + 2


@pytest.mark.parametrize("method,path", [("GET", "/secret/_search"), ("PUT", "/books/_doc/{m}"),
                                         ("DELETE", "/books")])
def test_non_superuser_is_denied_where_it_holds_no_privilege(gw, method, path):
    """alice holds only read on books: these stay 403 before and after index authorization lands."""
    m = marker()
    body = b'{"m":"%s"}' % m.encode() if method == "PUT" else None
    r = gw.raw(method, path.format(m=m), [("X-Opaque-Id", m), ("Content-Type", "application/json")], body,
               user="alice")
    assert_es_error(r, 403, "security_exception")
    assert r.header_all("WWW-Authenticate") == []
    assert "alice" in r.json()["error"]["reason"]
    assert_not_forwarded(gw.stub, m)


# --------------------------------------------------------------------------------------------
# Upstream failures


def test_upstream_down_gives_502_and_recovers(make_gateway, make_stub):
    stub = make_stub()
    gw = make_gateway(upstreams=[stub])
    assert gw.raw("GET", "/").status == 200
    stub.stop()
    r = gw.raw("GET", "/")
    assert_es_error(r, 502)
    stub.start()
    wait_until(lambda: gw.raw("GET", "/").status == 200, 15, "esgate to use the restarted upstream")


def test_upstream_that_never_answers_gives_504(make_gateway, make_stub):
    stub = make_stub()
    gw = make_gateway(upstreams=[stub], config={"upstream": {"request_timeout": "500ms"}})
    m = marker()
    stub.set_response(f"/books/_doc/{m}", delay=60)
    t0 = time.monotonic()
    r = gw.raw("GET", f"/books/_doc/{m}")
    elapsed = time.monotonic() - t0
    assert_es_error(r, 504)
    assert 0.4 <= elapsed < 5, elapsed
    assert requests_carrying(stub, m), "the request should have reached the upstream before timing out"
    assert gw.raw("GET", "/").status == 200  # the gateway is still fine afterwards


def test_first_node_down_requests_succeed_via_the_second(make_gateway, make_stub):
    stub = make_stub()
    dead = f"http://127.0.0.1:{free_port()}"
    gw = make_gateway(upstreams=[dead, stub])
    m = marker()
    for i in range(5):
        r = gw.raw("GET", f"/?m={m}&i={i}")
        assert r.status == 200, r
    assert len(requests_carrying(stub, m)) == 5
    wait_until(lambda: health(gw.port).json().get("status") == "yellow", 15,
               "health to turn yellow with one node down")
    assert health(gw.port).status == 200


# --------------------------------------------------------------------------------------------
# Health


def test_health_without_credentials_is_green_and_not_forwarded(gw):
    r = wait_until(lambda: (lambda h: h if h.json().get("status") == "green" else None)(health(gw.port)),
                   15, "health to be green")
    assert r.status == 200
    assert (r.header("Content-Type") or "").startswith("application/json")
    assert r.header("X-Elastic-Product") == "Elasticsearch"
    assert not gw.stub.matching(lambda u: "_esgate" in u.target)


def test_health_is_red_503_when_no_node_is_reachable(make_gateway):
    gw = make_gateway(upstreams=[f"http://127.0.0.1:{free_port()}"])

    def red():
        h = health(gw.port)
        return h if h.status == 503 and h.json().get("status") == "red" else None

    r = wait_until(red, 15, "health to be red")
    assert r.header("X-Elastic-Product") == "Elasticsearch"
    assert_es_error(gw.raw("GET", "/"), 502)


# --------------------------------------------------------------------------------------------
# Limits


@pytest.mark.parametrize("shape", ["one-big-header", "many-headers", "long-target"])
def test_oversize_headers_get_431(gw, shape):
    m = marker()
    headers = [("X-Opaque-Id", m)]
    target = f"/books/_doc/{m}"
    if shape == "one-big-header":
        headers.append(("X-Big", "a" * 20000))
    elif shape == "many-headers":
        headers += [(f"X-H{i}", "b" * 40) for i in range(500)]
    else:
        target += "?q=" + "c" * 20000
    with gw.connect() as c:
        c.send(build_request("GET", target, headers + [("Authorization", gw.auth_header("admin"))],
                             port=gw.port))
        r = c.read_response()
    assert_es_error(r, 431)
    assert_not_forwarded(gw.stub, m)


def _send_while_reading(conn: RawConnection, data_parts):
    """Write the parts from a thread while the caller reads: the gateway may answer (and close)
    before the whole body is sent, and a broken pipe must not hide its response."""
    def sender():
        try:
            for part in data_parts:
                conn.send(part)
        except OSError:
            pass

    t = threading.Thread(target=sender, daemon=True)
    t.start()
    return t


def test_content_length_over_the_limit_gets_413_and_nothing_upstream(gw):
    m = marker()
    size = BODY_LIMIT + 1
    head = (f"PUT /blobs/_doc/{m} HTTP/1.1\r\nHost: x\r\nAuthorization: {gw.auth_header('admin')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {size}\r\n\r\n").encode()
    with gw.connect() as c:
        c.send(head)
        c.settimeout(3)
        try:
            r = c.read_response()  # a good gateway answers from Content-Length alone
        except socket.timeout:
            c.settimeout(30)
            t = _send_while_reading(c, [b"x" * MB] * (size // MB) + [b"x" * (size % MB)])
            r = c.read_response()
            t.join(30)
    assert_es_error(r, 413)
    assert_not_forwarded(gw.stub, m)


def test_chunked_body_over_the_limit_gets_413(gw):
    m = marker()
    head = (f"PUT /blobs/_doc/{m} HTTP/1.1\r\nHost: x\r\nAuthorization: {gw.auth_header('admin')}\r\n"
            f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    piece = b"%x\r\n" % MB + b"y" * MB + b"\r\n"
    with gw.connect(timeout=30) as c:
        t = _send_while_reading(c, [head] + [piece] * (BODY_LIMIT // MB + 2) + [b"0\r\n\r\n"])
        r = c.read_response()
        t.join(30)
    assert_es_error(r, 413)
    assert not requests_carrying(gw.stub, m), "a complete over-limit request reached the upstream"


# --------------------------------------------------------------------------------------------
# Request framing and smuggling


def _assert_rejected(r, statuses=(400,)):
    assert r.status in statuses, r
    assert_es_error(r, r.status)


def _upstream_framing_clean(stub):
    # A request the gateway aborted mid-body (an over-limit chunked upload, connection closed) is
    # not a framing ambiguity; CL+TE, repeated CL and malformed chunks are.
    def framing(u):
        return [a for a in u.anomalies if a != "connection closed before the body was complete"]
    bad = stub.matching(framing, include_partial=True)
    assert not bad, [(u.target, framing(u)) for u in bad]


def test_cl_and_te_together_cannot_smuggle_a_request(gw):
    m = marker()
    smuggled = f"GET /smuggled-{m} HTTP/1.1\r\nHost: x\r\nX-Opaque-Id: {m}\r\n\r\n".encode()
    body = b"0\r\n\r\n" + smuggled
    head = (f"POST /books/_search HTTP/1.1\r\nHost: x\r\nAuthorization: {gw.auth_header('admin')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Transfer-Encoding: chunked\r\n\r\n").encode()
    with gw.connect(timeout=10) as c:
        c.send(head + body)
        first = c.read_response()
        assert first.status in (200, 400, 404), first  # rejected, or parsed as chunked (TE wins)
        if first.status != 400:
            # the bytes after the chunked body are a second request, without credentials
            second = c.read_response()
            assert_es_error(second, 401)
    assert not gw.stub.matching(lambda u: "smuggled" in u.target, include_partial=True)
    _upstream_framing_clean(gw.stub)


@pytest.mark.parametrize("headers", [
    [("Content-Length", "5"), ("Content-Length", "6")],
    [("Content-Length", "5, 6")],
    [("Content-Length", "-5")],
    [("Content-Length", "0x5")],
    [("Transfer-Encoding", "xchunked")],
    [("Transfer-Encoding", "chunked, identity")],
    [("Content-Length ", "5")],
], ids=["two-cl", "cl-list", "cl-negative", "cl-hex", "te-unknown", "te-not-last-chunked", "space-before-colon"])
def test_ambiguous_framing_is_rejected_and_not_forwarded(gw, headers):
    m = marker()
    head = (f"POST /books/_doc/{m} HTTP/1.1\r\nHost: x\r\nAuthorization: {gw.auth_header('admin')}\r\n"
            f"Content-Type: application/json\r\n" + "".join(f"{n}: {v}\r\n" for n, v in headers)
            + "\r\n").encode()
    with gw.connect(timeout=10) as c:
        c.send(head + b"hello!0\r\n\r\n")
        _assert_rejected(c.read_response(), (400, 501))
    assert_not_forwarded(gw.stub, m)


def test_bad_chunk_size_is_rejected_and_not_forwarded(gw):
    m = marker()
    head = (f"POST /books/_doc/{m} HTTP/1.1\r\nHost: x\r\nAuthorization: {gw.auth_header('admin')}\r\n"
            f"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    with gw.connect(timeout=10) as c:
        c.send(head + b"zz\r\nhello\r\n0\r\n\r\n")
        r = c.read_response()
    # a streaming gateway may already have sent the head upstream; it must not complete the request
    assert r.status in (400, 502), r
    assert not requests_carrying(gw.stub, m), "a request with a broken body reached the upstream whole"


def test_expect_100_continue_upload(gw):
    m = marker()
    body = json.dumps({"m": m, "pad": "p" * 200000}).encode()
    gw.stub.set_response(f"/books/_doc/{m}", status=201, body={"result": "created"})
    head = (f"PUT /books/_doc/{m} HTTP/1.1\r\nHost: x\r\nAuthorization: {gw.auth_header('admin')}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            f"Expect: 100-continue\r\n\r\n").encode()
    with gw.connect(timeout=10) as c:
        c.send(head)
        c.settimeout(2)
        try:  # like curl: wait a little for "100 Continue", then send anyway
            while b"\r\n\r\n" not in c.buf:
                if not c._fill():
                    break
            assert c.buf.startswith(b"HTTP/1.1 100"), bytes(c.buf[:100])
            del c.buf[: c.buf.find(b"\r\n\r\n") + 4]
        except socket.timeout:
            pass
        c.settimeout(10)
        c.send(body)
        r = c.read_response()
    assert r.status == 201, r
    assert one_upstream(gw.stub, m).body == body


# --------------------------------------------------------------------------------------------
# CLI


VALID_MAIN = """\
listen:
  address: 127.0.0.1
  port: {port}
upstream:
  nodes: ["http://127.0.0.1:9"]
redis:
  url: redis://127.0.0.1:1/0
security:
  roles_file: roles.yml
  users_file: users.yml
"""


@pytest.fixture
def config_dir(make_gateway):
    """A folder with valid users.yml/roles.yml (real bcrypt hashes) and a valid esgate.yaml."""
    gw = make_gateway(start=False)
    with open(gw.config_path, "w") as f:
        f.write(VALID_MAIN.format(port=free_port()))
    return gw


def test_check_config_accepts_a_valid_config_with_a_one_line_summary(config_dir):
    res = run_esgate("check-config", "--config", config_dir.config_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert len(res.stdout.strip().splitlines()) == 1, res.stdout


@pytest.mark.parametrize("file,old,new,line,col,word", [
    ("esgate.yaml", "  address: 127.0.0.1\n", "  address: 127.0.0.1\n  bogus_key: 1\n", 3, 3, "bogus_key"),
    ("esgate.yaml", "redis:\n", "limitz:\n  a: 1\nredis:\n", 6, 1, "limitz"),
    ("esgate.yaml", "  nodes: [\"http://127.0.0.1:9\"]\n",
     "  nodes: [\"http://127.0.0.1:9\"]\n  connect_timeout: 2 parsecs\n", 6, 20, None),
    ("roles.yml", None, "books-read-only:\n  cluster: []\n  indicez: []\n", 3, 3, "indicez"),
])
def test_check_config_reports_file_line_col(config_dir, file, old, new, line, col, word):
    path = os.path.join(config_dir.dir, file)
    text = open(path).read()
    text = new if old is None else text.replace(old, new, 1)
    with open(path, "w") as f:
        f.write(text)
    res = run_esgate("check-config", "--config", config_dir.config_path)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    found = re.findall(r"^(\S*?):(\d+):(\d+): (.*)$", out, re.M)
    hits = [f for f in found if f[0].endswith(file) and (int(f[1]), int(f[2])) == (line, col)]
    assert hits, f"expected {file}:{line}:{col}: in:\n{out}"
    if word:
        assert any(word in h[3] for h in hits), f"the message should name {word}: {hits}"


BROKEN_MAIN = """\
listen:
  address: 127.0.0.1
  port: {port}
  bogus_key: 1
upstream:
  nodes: ["http://127.0.0.1:9"]
  connect_timeout: 2 parsecs
redis:
  url: redis://127.0.0.1:1/0
security:
  roles_file: roles.yml
  users_file: users.yml
"""

BROKEN_ROLES = """\
books-read-only:
  cluster: [not_a_privilege]
  indicez: []
logs:
  indices:
    - names: ["logs-*"]
      privileges: [read]
      colour: blue
"""

BROKEN_USERS = """\
users:
  admin:
    password_hash: "{hash}"
    roles: ["superuser"]
    shoe_size: 44
  bob:
    password_hash: "not-a-bcrypt-hash"
    roles: ["books-read-only"]
"""


def _problems(out: str) -> set:
    return {(os.path.basename(f), int(line), int(col))
            for f, line, col, _ in re.findall(r"^(\S*?):(\d+):(\d+): (.*)$", out, re.M)}


def test_check_config_reports_every_problem_in_every_file_in_one_run(config_dir):
    """Problems in esgate.yaml do not hide those in roles.yml and users.yml (issue 10)."""
    admin_hash = hash_password(config_dir.users["admin"][0])
    for name, text in (("esgate.yaml", BROKEN_MAIN.format(port=free_port())),
                       ("roles.yml", BROKEN_ROLES), ("users.yml", BROKEN_USERS.format(hash=admin_hash))):
        with open(os.path.join(config_dir.dir, name), "w") as f:
            f.write(text)
    res = run_esgate("check-config", "--config", config_dir.config_path)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    expected = {
        ("esgate.yaml", 4, 3),    # listen.bogus_key
        ("esgate.yaml", 7, 20),   # connect_timeout: 2 parsecs
        ("roles.yml", 2, 13),     # not_a_privilege
        ("roles.yml", 3, 3),      # indicez
        ("roles.yml", 8, 7),      # colour
        ("users.yml", 5, 5),      # shoe_size
        ("users.yml", 7, 20),     # not a bcrypt hash
    }
    assert expected <= _problems(out), f"missing {sorted(expected - _problems(out))} in:\n{out}"
    assert "not checked" not in out, out
    # the same files with esgate.yaml fixed: the other two files' problems are unchanged
    with open(config_dir.config_path, "w") as f:
        f.write(VALID_MAIN.format(port=free_port()))
    res = run_esgate("check-config", "--config", config_dir.config_path)
    out2 = res.stdout + res.stderr
    assert res.returncode == 1, out2
    assert {p for p in expected if p[0] != "esgate.yaml"} == _problems(out2), out2


@pytest.mark.parametrize("main,unchecked", [
    ("security: [\n", ["users", "roles"]),                              # unparsable: files unknown
    ("security:\n  roles_file: []\n  users_file: users.yml\n", ["roles"]),  # only roles_file broken
], ids=["unparsable-main", "broken-roles-file-key"])
def test_check_config_says_which_files_it_could_not_check(config_dir, main, unchecked):
    with open(os.path.join(config_dir.dir, "users.yml"), "w") as f:
        f.write("users:\n  carol: {}\n")   # line 2: password_hash is required
    with open(config_dir.config_path, "w") as f:
        f.write(main)
    res = run_esgate("check-config", "--config", config_dir.config_path)
    out = res.stdout + res.stderr
    assert res.returncode == 1, out
    assert any(f == "esgate.yaml" for f, _, _ in _problems(out)), out
    for kind in ("users", "roles"):
        assert (f"the {kind} file was not checked" in res.stderr) == (kind in unchecked), out
    assert (("users.yml", 2, 3) in _problems(out)) == ("users" not in unchecked), out


def test_version():
    res = run_esgate("--version")
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() or res.stderr.strip()


# --------------------------------------------------------------------------------------------
# Signals


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_with_exit_0(make_gateway, sig):
    gw = make_gateway()
    assert gw.raw("GET", "/").status == 200
    assert gw.stop(sig) == 0
    with pytest.raises(OSError):
        RawConnection(gw.port, timeout=2)


def test_sigterm_finishes_in_flight_requests(make_gateway, make_stub):
    stub = make_stub()
    gw = make_gateway(upstreams=[stub])
    m = marker()
    stub.set_response(f"/books/_doc/{m}", delay=1.0, body={"done": m})
    result = {}

    def client():
        try:
            result["r"] = gw.raw("GET", f"/books/_doc/{m}")
        except Exception as e:  # noqa: BLE001
            result["e"] = e

    t = threading.Thread(target=client)
    t.start()
    stub.wait_for_requests(1, pred=lambda r: m in r.target)
    gw.send_signal(signal.SIGTERM)
    t.join(15)
    assert "e" not in result, result
    assert result["r"].status == 200 and result["r"].json() == {"done": m}
    assert gw.stop() == 0
