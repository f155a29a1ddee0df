"""Self-tests of the recording stub upstream (run without esgate)."""

import json
import socket
import threading
import time

import pytest
import requests

from helpers import RawConnection, build_request, raw_request
from stub_es import pattern_bytes, sha256


def test_info_and_product_header(stub):
    r = requests.get(stub.url + "/", timeout=5)
    assert r.status_code == 200
    assert r.headers["X-Elastic-Product"] == "Elasticsearch"
    assert r.json()["version"]["number"].startswith("8.")
    rec = stub.requests[-1]
    assert (rec.method, rec.target, rec.path) == ("GET", "/", "/")
    assert rec.peer[0] == "127.0.0.1"


def test_records_raw_target_and_headers_in_order_with_names_as_sent(stub):
    hdrs = [("x-MiXeD-Case", "1"), ("Accept", "application/json"), ("X-Dup", "a"), ("X-Dup", "b"),
            ("Traceparent", "00-abc-def-01")]
    resp = raw_request(stub.port, "GET", "/a%2Fb/_search?q=x:1&pretty", hdrs)
    assert resp.status == 404  # no such index: realistic, and still recorded
    rec = stub.requests[-1]
    assert rec.target == "/a%2Fb/_search?q=x:1&pretty"
    assert rec.path == "/a%2Fb/_search"
    assert rec.query == {"q": "x:1", "pretty": ""}
    assert [n for n, _ in rec.headers] == ["Host", "x-MiXeD-Case", "Accept", "X-Dup", "X-Dup", "Traceparent"]
    assert rec.header("X-MIXED-CASE") == "1"
    assert rec.header_all("x-dup") == ["a", "b"]
    assert rec.header("missing") is None and not rec.has_header("missing")
    assert rec.raw_head.startswith(b"GET /a%2Fb/_search?q=x:1&pretty HTTP/1.1\r\nHost: ")
    assert rec.anomalies == []


def test_keep_alive_reuses_connection_ids(stub):
    with RawConnection(stub.port) as c:
        for _ in range(3):
            assert c.request("GET", "/").status == 200
    with RawConnection(stub.port) as c:
        assert c.request("GET", "/").status == 200
    ids = [r.conn_id for r in stub.requests]
    assert ids[0] == ids[1] == ids[2] != ids[3]
    assert stub.conn_ids() == {ids[0], ids[3]}


def test_connection_close_and_http10_close(stub):
    with RawConnection(stub.port) as c:
        r = c.request("GET", "/", [("Connection", "close")])
        assert r.header("connection") == "close"
        assert c.is_closed_by_peer()
    with RawConnection(stub.port) as c:
        c.send(b"GET / HTTP/1.0\r\n\r\n")
        r = c.read_response()
        assert r.status == 200
        assert c.is_closed_by_peer()


def test_content_length_body(stub):
    body = b'{"query":{"match_all":{}}}'
    raw_request(stub.port, "POST", "/x/_count", [("Content-Type", "application/json")], body)
    rec = stub.requests[-1]
    assert rec.body == body and not rec.chunked
    assert rec.json() == {"query": {"match_all": {}}}


def test_chunked_body_is_dechunked_and_flagged(stub):
    stub.set_response("/up", body={"ok": 1})
    with RawConnection(stub.port) as c:
        c.send(b"POST /up HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"5;ext=1\r\nhello\r\n"
               b"1\r\n \r\n"
               b"A\r\n0123456789\r\n"
               b"0\r\nX-Trailer: t\r\n\r\n")
        r = c.read_response()
        assert r.status == 200 and r.json() == {"ok": 1}
        # the connection stays usable after a chunked body
        assert c.request("GET", "/").status == 200
    rec = stub.requests[0]
    assert rec.chunked and rec.body == b"hello 0123456789"
    assert rec.trailers == [("X-Trailer", "t")]
    assert stub.requests[1].conn_id == rec.conn_id


def test_framing_anomalies_are_recorded(stub):
    with RawConnection(stub.port) as c:
        c.send(b"POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n"
               b"3\r\nabc\r\n0\r\n\r\n")
        assert c.read_response().status == 200
    assert "both Transfer-Encoding and Content-Length" in stub.requests[-1].anomalies
    assert stub.requests[-1].body == b"abc"

    with RawConnection(stub.port) as c:
        c.send(b"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd")
        assert c.read_response().status == 400
    assert any("Content-Length" in a for a in stub.requests[-1].anomalies)

    with RawConnection(stub.port) as c:
        c.send(b"POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n")
        assert c.read_response().status == 400
    assert any("bad chunk" in a for a in stub.requests[-1].anomalies)


def test_expect_100_continue(stub):
    with RawConnection(stub.port) as c:
        c.send(b"POST /x/_doc/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n")
        c.settimeout(5)
        while b"\r\n\r\n" not in c.buf:
            assert c._fill()
        assert c.buf.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        c.send(b"{}")
        assert c.read_response().status == 201
    assert stub.es.doc("x", "1") == {}


def test_set_response_status_body_headers_method_times_prefix(stub):
    stub.set_response("/p", status=418, body="teapot", headers=[("X-Custom", "v")])
    stub.set_response("/m", status=202, method="POST")
    stub.set_response("/once", status=503, times=1)
    stub.set_response("/pre/*", status=207, body={"p": True})
    r = raw_request(stub.port, "GET", "/p")
    assert (r.status, r.body, r.header("x-custom"), r.header("x-elastic-product")) == \
        (418, b"teapot", "v", "Elasticsearch")
    assert raw_request(stub.port, "POST", "/m", body=b"").status == 202
    assert raw_request(stub.port, "GET", "/m").status == 404      # method filter: ES behaviour
    assert raw_request(stub.port, "GET", "/once").status == 503
    assert raw_request(stub.port, "GET", "/once").status == 404   # used up: back to ES behaviour
    assert raw_request(stub.port, "GET", "/pre/x/y").json() == {"p": True}
    stub.set_response("/nohdr", default_headers=False, body=b"x")
    assert raw_request(stub.port, "GET", "/nohdr").header("x-elastic-product") is None
    stub.set_response("/fn", handler=lambda s, rec: (201, {"echo": rec.target}, [("X-H", "1")]))
    r = raw_request(stub.port, "GET", "/fn?a=1")
    assert (r.status, r.json(), r.header("X-H")) == (201, {"echo": "/fn?a=1"}, "1")


def test_chunked_and_huge_responses(stub):
    size = 5 * 1024 * 1024 + 7
    stub.set_response("/chunked", chunked=True, size=size, chunk_size=100000)
    stub.set_response("/big", size=size)
    r = raw_request(stub.port, "GET", "/chunked")
    assert r.chunked and len(r.body) == size and sha256(r.body) == sha256(pattern_bytes(size))
    r = raw_request(stub.port, "GET", "/big")
    assert not r.chunked and r.header("content-length") == str(size)
    assert sha256(r.body) == sha256(pattern_bytes(size))
    # requests (urllib3) agrees on the framing
    assert len(requests.get(stub.url + "/chunked", timeout=10).content) == size


def test_pattern_bytes_is_deterministic_and_not_trivially_repetitive():
    a = pattern_bytes(4096)
    assert a == pattern_bytes(4096) and len(a) == 4096
    assert a[:1024] != a[1024:2048]
    assert pattern_bytes(10, seed=1) != pattern_bytes(10, seed=2)


def test_head_has_no_body(stub):
    with RawConnection(stub.port) as c:
        r = c.request("HEAD", "/")
        assert r.status == 200 and int(r.header("content-length")) > 0 and r.body == b""
        assert c.request("GET", "/").status == 200  # framing still in sync


def test_delay(stub):
    stub.set_response("/slow", delay=0.4)
    t0 = time.monotonic()
    assert raw_request(stub.port, "GET", "/slow").status == 200
    assert time.monotonic() - t0 >= 0.35


def test_blackhole_records_but_never_answers(stub):
    stub.mode = "blackhole"
    with RawConnection(stub.port, timeout=0.5) as c:
        c.send(build_request("GET", "/never", port=stub.port))
        with pytest.raises(socket.timeout):
            c.read_response()
    assert stub.wait_for_requests(1)[0].target == "/never"
    stub.mode = "normal"
    assert raw_request(stub.port, "GET", "/").status == 200


def test_stop_refuses_and_restart_reuses_port(stub):
    port = stub.port
    with RawConnection(port) as idle:
        assert idle.request("GET", "/").status == 200
        stub.stop()
        assert not stub.running
        assert idle.is_closed_by_peer()  # open connections are dropped too
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2)
    stub.start()
    assert stub.port == port
    assert raw_request(port, "GET", "/").status == 200


def test_stop_releases_blackholed_connections(stub):
    stub.mode = "blackhole"
    c = RawConnection(stub.port, timeout=5)
    c.send(build_request("GET", "/", port=stub.port))
    stub.wait_for_requests(1)
    t0 = time.monotonic()
    stub.stop()
    assert c.is_closed_by_peer(3)
    assert time.monotonic() - t0 < 3
    c.close()


def test_wait_for_requests_and_clear(stub):
    def later():
        time.sleep(0.1)
        raw_request(stub.port, "GET", "/later")

    t = threading.Thread(target=later)
    t.start()
    got = stub.wait_for_requests(1, pred=lambda r: r.path == "/later")
    t.join()
    assert got[0].path == "/later"
    stub.clear()
    assert stub.requests == []
    with pytest.raises(AssertionError):
        stub.wait_for_requests(1, timeout=0.1)


def test_concurrent_clients(stub):
    results = []

    def worker(i):
        with RawConnection(stub.port) as c:
            for j in range(5):
                results.append(c.request("GET", f"/?c={i}-{j}").status)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [200] * 50
    assert len(stub.requests) == 50 and len(stub.conn_ids()) == 10


# ---- minimal Elasticsearch


def _req(stub, method, path, body=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    return raw_request(stub.port, method, path, [("Content-Type", "application/json")], data)


def test_documents_and_search_over_lists_and_wildcards(stub):
    assert _req(stub, "PUT", "/books/_doc/1", {"title": "Dune"}).status == 201
    assert _req(stub, "PUT", "/books/_doc/1", {"title": "Dune!"}).json()["result"] == "updated"
    _req(stub, "PUT", "/logs-a/_doc/1", {"msg": "x"})
    _req(stub, "PUT", "/logs-b/_doc/2", {"msg": "y"})
    _req(stub, "PUT", "/secret/_doc/s", {"pin": 1234})
    r = _req(stub, "GET", "/books/_doc/1")
    assert r.json()["_source"] == {"title": "Dune!"} and r.json()["found"]
    assert _req(stub, "GET", "/books/_doc/404").status == 404

    def indices(resp):
        return sorted(h["_index"] for h in resp.json()["hits"]["hits"])

    assert indices(_req(stub, "POST", "/books,logs-*/_search", {})) == ["books", "logs-a", "logs-b"]
    assert indices(_req(stub, "GET", "/logs-*,-logs-b/_search")) == ["logs-a"]
    assert indices(_req(stub, "GET", "/_search")) == ["books", "logs-a", "logs-b", "secret"]
    assert indices(_req(stub, "GET", "/_all/_search")) == ["books", "logs-a", "logs-b", "secret"]
    assert _req(stub, "GET", "/logs-*/_count").json()["count"] == 2
    q = {"query": {"term": {"msg": "y"}}}
    assert indices(_req(stub, "POST", "/logs-*/_search", q)) == ["logs-b"]
    missing = _req(stub, "GET", "/nope/_search")
    assert missing.status == 404 and missing.json()["error"]["type"] == "index_not_found_exception"
    assert _req(stub, "GET", "/nope,books/_search?ignore_unavailable=true").status == 200
    assert _req(stub, "GET", "/nomatch-*/_search").json()["hits"]["total"]["value"] == 0


def test_aliases_data_streams_and_resolve_index(stub):
    stub.es.create_index("books", {"1": {"t": 1}})
    stub.es.create_index("books-old")
    stub.es.create_index(".hidden")
    stub.es.add_alias("library", ["books", "books-old"])
    backing = stub.es.add_data_stream("logs-app", generations=2)
    r = _req(stub, "GET", "/_resolve/index/*").json()
    names = [i["name"] for i in r["indices"]]
    assert names == ["books", "books-old"]        # hidden and .ds- backing indices need a dot pattern
    assert r["indices"][0]["attributes"] == ["open"] and r["indices"][0]["aliases"] == ["library"]
    assert r["aliases"] == [{"name": "library", "indices": ["books", "books-old"]}]
    assert r["data_streams"][0]["name"] == "logs-app"
    assert r["data_streams"][0]["backing_indices"] == backing
    r = _req(stub, "GET", "/_resolve/index/books*,-books-old").json()
    assert [i["name"] for i in r["indices"]] == ["books"]
    r = _req(stub, "GET", "/_resolve/index/.ds-*").json()
    assert [i["name"] for i in r["indices"]] == backing
    assert all(i["data_stream"] == "logs-app" for i in r["indices"])
    assert _req(stub, "GET", "/_resolve/index/missing").status == 404
    hits = _req(stub, "GET", "/library/_search").json()["hits"]["hits"]
    assert [h["_index"] for h in hits] == ["books"]
    _req(stub, "POST", "/logs-app/_doc", {"@timestamp": "2024-01-01"})
    assert len(stub.es.indices[backing[-1]]) == 1


def test_bulk_items_mget_msearch(stub):
    stub.es.create_index("a", {"1": {"v": 1}})
    nd = b"\n".join(json.dumps(x).encode() for x in [
        {"index": {"_index": "a", "_id": "2"}}, {"v": 2},
        {"create": {"_index": "a", "_id": "1"}}, {"v": 9},
        {"update": {"_index": "a", "_id": "1"}}, {"doc": {"w": 1}},
        {"delete": {"_index": "a", "_id": "zz"}},
        {"create": {"_id": "d"}}, {"v": 3},
    ]) + b"\n"
    r = _req(stub, "POST", "/_bulk", nd).json()
    assert r["errors"] is True
    assert [list(i)[0] for i in r["items"]] == ["index", "create", "update", "delete", "create"]
    assert [next(iter(i.values()))["status"] for i in r["items"]] == [201, 409, 200, 404, 400]
    assert r["items"][1]["create"]["error"]["type"] == "version_conflict_engine_exception"
    assert stub.es.doc("a", "1") == {"v": 1, "w": 1} and stub.es.doc("a", "2") == {"v": 2}
    r = _req(stub, "POST", "/b/_bulk", b'{"index":{"_id":"x"}}\n{"k":1}\n').json()
    assert r["errors"] is False and r["items"][0]["index"]["_index"] == "b"

    r = _req(stub, "POST", "/_mget", {"docs": [{"_index": "a", "_id": "2"}, {"_index": "nope", "_id": "1"}]})
    docs = r.json()["docs"]
    assert docs[0]["found"] and docs[1]["error"]["type"] == "index_not_found_exception"
    ms = b'{"index":"a"}\n{"query":{"ids":{"values":["2"]}}}\n{"index":"nope"}\n{}\n'
    resp = _req(stub, "POST", "/_msearch", ms).json()["responses"]
    assert resp[0]["hits"]["hits"][0]["_id"] == "2" and resp[1]["status"] == 404


def test_incomplete_bodies_and_heads_are_visible_as_partial(stub):
    with RawConnection(stub.port) as c:
        c.send(b"POST /cut HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-part")
        stub_wait = time.monotonic() + 5
        while not stub.matching(lambda r: r.path == "/cut", include_partial=True):
            assert time.monotonic() < stub_wait
            time.sleep(0.01)
    with RawConnection(stub.port) as c:
        c.send(b"GET /half-a-head HTTP/1.1\r\nHost: x\r\n")
    deadline = time.monotonic() + 5
    while not (stub.partial_requests and stub.partial_heads):
        assert time.monotonic() < deadline, (stub.partial_requests, stub.partial_heads)
        time.sleep(0.01)
    assert stub.requests == []
    cut = stub.partial_requests[0]
    assert cut.path == "/cut" and cut.body == b"only-part" and cut.anomalies
    got = stub.matching(lambda r: "half-a-head" in r.target, include_partial=True)
    assert len(got) == 1 and got[0].anomalies == ["incomplete head"]
