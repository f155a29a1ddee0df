"""The request body pipeline: bodies decoded by the gateway (strict chunked framing, gzip/deflate),
`_bulk` authorized item by item with Elasticsearch's partial-success answer, `_msearch` and `_mget`
sub-requests authorized one by one, `filter_path`/`pretty` on rewritten answers, and what happens to
bad framing below and above the look-ahead. Every test asserts what reached the recording upstream."""

from __future__ import annotations

import gzip
import json
import socket
import urllib.parse
import zlib

import pytest

from helpers import (assert_es_error, assert_not_forwarded, basic, esgate_missing_reason, marker,
                     requests_carrying, wait_until, RawConnection)
from stub_es import StubES

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

USERS = {
    "admin": ("admin-password-0123", ["superuser"]),
    "alice": ("alice-password-4567", ["books-read-only"]),
}
ROLES = {
    "books-read-only": {"cluster": [], "indices": [{"names": ["books"], "privileges": ["read"]}]},
}
# What an ingestion pipeline gets: may only add documents to logs-*.
LOGS_CREATE_DOC = {"logs-writer": {"cluster": [], "indices": [{"names": ["logs-*"],
                                                               "privileges": ["create_doc"]}]}}
BOOKS_READ = {"books-reader": {"cluster": [], "indices": [{"names": ["books", "logs-*"],
                                                           "privileges": ["read"]}]}}


def fill(stub: StubES) -> None:
    stub.es.create_index("books", {"b1": {"title": "Dune"}, "b2": {"title": "Solaris"}})
    stub.es.create_index("secret", {"s1": {"title": "classified"}})
    stub.es.create_index("logs-a", {"l1": {"msg": "a"}})
    stub.es.create_index("logs-b", {"l2": {"msg": "b"}})


def make_key(gw, name: str, descriptors: dict) -> dict:
    r = gw.post("/_security/api_key", json={"name": name, "role_descriptors": descriptors})
    assert r.status_code == 200, r.text[:300]
    return r.json()


@pytest.fixture(scope="module")
def shared(make_module_gateway):
    stub = StubES()
    make_module_gateway.own_stubs.append(stub)
    gw = make_module_gateway(upstreams=[stub], users=USERS, roles=ROLES,
                             config={"limits": {"body_lookahead": "2mb"}})
    gw.writer = make_key(gw, "logs-writer", LOGS_CREATE_DOC)
    gw.reader = make_key(gw, "books-reader", BOOKS_READ)
    return gw


@pytest.fixture
def gw(shared):
    shared.stub.reset()
    fill(shared.stub)
    return shared


def key_auth(key: dict) -> str:
    return "ApiKey " + key["encoded"]


def ndjson(*docs) -> bytes:
    return b"".join(json.dumps(d, separators=(",", ":")).encode() + b"\n" for d in docs)


def bulk_items(n: int, m: str, denied_at: set, index: str = "logs-a") -> tuple:
    """n create items on `index`, those at `denied_at` on `secret`; returns (body, allowed bytes)."""
    body, allowed = b"", b""
    for i in range(n):
        target = "secret" if i in denied_at else index
        item = ndjson({"create": {"_index": target, "_id": f"{m}-{i}"}}, {"m": m, "n": i, "pad": "x" * 40})
        body += item
        if i not in denied_at:
            allowed += item
    return body, allowed


def post(gw, target: str, body: bytes, auth: str, headers=None, ctype="application/x-ndjson"):
    hdrs = [("Authorization", auth), ("Content-Type", ctype)] + list(headers or [])
    return gw.raw("POST", target, hdrs, body, user=None)


def upstream_bodies(stub, m: str, include_partial: bool = False) -> list:
    return [r for r in requests_carrying(stub, m, include_partial=include_partial)]


# --------------------------------------------------------------------------------------------
# _bulk, item by item


def test_one_denied_item_among_a_thousand(gw):
    m = marker()
    body, allowed = bulk_items(1000, m, {417})
    r = post(gw, "/_bulk", body, key_auth(gw.writer))
    assert r.status == 200, r
    doc = r.json()
    assert doc["errors"] is True
    items = doc["items"]
    assert len(items) == 1000
    statuses = [it["create"]["status"] for it in items]
    assert statuses[417] == 403 and statuses.count(201) == 999, statuses[410:420]
    denied = items[417]["create"]
    assert denied["_index"] == "secret" and denied["_id"] == f"{m}-417"
    assert denied["error"]["type"] == "security_exception"
    assert denied["error"]["reason"] == (
        f"action [indices:data/write/index:op_type/create] is unauthorized for API key id "
        f"[{gw.writer['id']}] of user [admin] on indices [secret], this action is granted by the "
        f"index privileges [create_doc,create,index,write,all]")
    # Every other item reached the upstream byte for byte, in order, in one request.
    up = upstream_bodies(gw.stub, m)
    assert len(up) == 1 and up[0].path == "/_bulk"
    assert up[0].body == allowed
    assert gw.stub.es.doc("secret", f"{m}-417") is None
    assert gw.stub.es.doc("logs-a", f"{m}-416") is not None


def test_all_items_denied_is_answered_by_the_gateway(gw):
    m = marker()
    body = ndjson({"index": {"_index": "secret", "_id": m}}, {"m": m},
                  {"delete": {"_index": "books", "_id": "b1"}})
    r = post(gw, "/_bulk", body, key_auth(gw.writer))
    assert r.status == 200, r
    doc = r.json()
    assert doc["errors"] is True
    assert [list(i)[0] for i in doc["items"]] == ["index", "delete"]
    assert [i[list(i)[0]]["status"] for i in doc["items"]] == [403, 403]
    assert "indices:data/write/delete" in doc["items"][1]["delete"]["error"]["reason"]
    assert_not_forwarded(gw.stub, m)
    assert not gw.stub.matching(lambda q: q.path.endswith("_bulk"), include_partial=True)


def test_no_write_privilege_anywhere_is_refused_whole(gw):
    m = marker()
    body = ndjson({"create": {"_index": "books", "_id": m}}, {"m": m})
    r = post(gw, "/_bulk", body, key_auth(gw.reader))
    doc = assert_es_error(r, 403, "security_exception")
    assert doc["error"]["reason"] == (
        f"action [indices:data/write/bulk] is unauthorized for API key id [{gw.reader['id']}] of user "
        f"[admin], this action is granted by the index privileges [create_doc,create,delete,index,write,all]")
    assert_not_forwarded(gw.stub, m)


def test_path_index_is_the_items_default_and_escapes_are_decoded(gw):
    m = marker()
    body = (ndjson({"create": {"_id": f"{m}-1"}}, {"m": m})
            + b'{"create":{"_index":"lo\\u0067s-b","_id":"' + f"{m}-2".encode() + b'"}}\n'
            + ndjson({"m": m})
            + b'{"create":{"_index":"s\\u0065cret","_id":"' + f"{m}-3".encode() + b'"}}\n'
            + ndjson({"m": m}))
    r = post(gw, "/logs-a/_bulk", body, key_auth(gw.writer))
    assert r.status == 200, r
    statuses = [i["create"]["status"] for i in r.json()["items"]]
    assert statuses == [201, 201, 403]
    assert r.json()["items"][2]["create"]["_index"] == "secret"
    assert gw.stub.es.doc("logs-a", f"{m}-1") and gw.stub.es.doc("logs-b", f"{m}-2")
    assert gw.stub.es.doc("secret", f"{m}-3") is None


def test_index_op_needs_more_than_create_doc(gw):
    m = marker()
    body = ndjson({"index": {"_index": "logs-a", "_id": m}}, {"m": m},
                  {"create": {"_index": "logs-a", "_id": m + "c"}}, {"m": m})
    r = post(gw, "/_bulk", body, key_auth(gw.writer))
    items = r.json()["items"]
    assert items[0]["index"]["status"] == 403
    assert "op_type/index" in items[0]["index"]["error"]["reason"]
    assert items[1]["create"]["status"] == 201


@pytest.mark.parametrize("body,fragment", [
    (b'{"create":{"_index":"logs-a"}}\n', "no requests added"),         # missing source line
    (b'["create"]\n{}\n', "START_OBJECT"),                              # not an object
    (b'{"explode":{"_index":"logs-a"}}\n{}\n', "explode"),              # unknown op
    (b'{"create":{"_index":"logs-a","_index":"secret"}}\n{}\n', "uplicate"),
    (b'{"create":{"_index":"logs-a","colour":"red"}}\n{}\n', "colour"),  # unknown parameter
    (b'{"create":{"_index":"logs-a"}}\n{"m":1}', "newline"),            # last line without \n
])
def test_malformed_bulk_is_refused_whole(gw, body, fragment):
    m = marker()
    r = post(gw, "/_bulk", body, key_auth(gw.writer), headers=[("X-Opaque-Id", m)])
    doc = assert_es_error(r, 400)
    assert fragment in doc["error"]["reason"], doc
    assert_not_forwarded(gw.stub, m)


def test_logstash_filter_path_on_a_spliced_response(gw):
    m = marker()
    body, _ = bulk_items(5, m, {1, 3})
    r = post(gw, "/_bulk?filter_path=errors,items.*.error,items.*.status", body, key_auth(gw.writer))
    assert r.status == 200, r
    doc = r.json()
    assert set(doc) == {"errors", "items"}
    assert doc["errors"] is True
    assert [i["create"]["status"] for i in doc["items"]] == [201, 403, 201, 403, 201]
    assert set(doc["items"][0]["create"]) == {"status"}
    assert set(doc["items"][1]["create"]) == {"status", "error"}
    # The gateway applies filter_path itself: the upstream was asked for the whole answer.
    up = upstream_bodies(gw.stub, m)
    assert len(up) == 1 and "filter_path" not in up[0].query


def test_pretty_spliced_response(gw):
    m = marker()
    body, _ = bulk_items(2, m, {0})
    r = post(gw, "/_bulk?pretty&filter_path=errors", body, key_auth(gw.writer))
    assert r.status == 200, r
    assert r.body == b'{\n  "errors" : true\n}\n'


def test_gzip_bulk_body_and_gzip_response(gw):
    m = marker()
    body, allowed = bulk_items(50, m, {7})
    r = post(gw, "/_bulk", gzip.compress(body), key_auth(gw.writer),
             headers=[("Content-Encoding", "gzip"), ("Accept-Encoding", "gzip")])
    assert r.status == 200, r
    assert r.header("Content-Encoding") == "gzip"
    doc = json.loads(gzip.decompress(r.body))
    assert doc["items"][7]["create"]["status"] == 403
    up = upstream_bodies(gw.stub, m)
    assert len(up) == 1 and up[0].body == allowed
    assert not up[0].has_header("Content-Encoding")  # inflated by the gateway
    assert not up[0].has_header("Accept-Encoding")   # the gateway rewrites the answer


def test_deflate_bulk_body(gw):
    m = marker()
    body, allowed = bulk_items(3, m, set())
    r = post(gw, "/_bulk", zlib.compress(body), key_auth(gw.writer), headers=[("Content-Encoding", "deflate")])
    assert r.status == 200, r
    assert [i["create"]["status"] for i in r.json()["items"]] == [201, 201, 201]
    assert upstream_bodies(gw.stub, m)[0].body == allowed


def test_unknown_coding_on_an_inspected_body_is_415(gw):
    m = marker()
    body, _ = bulk_items(2, m, set())
    r = post(gw, "/_bulk", body, key_auth(gw.writer), headers=[("Content-Encoding", "br")])
    assert_es_error(r, 415)
    assert_not_forwarded(gw.stub, m)


def test_decompression_bomb_is_413(gw):
    m = marker()
    bomb = ndjson({"create": {"_index": "logs-a", "_id": m}}) + b'{"pad":"' + b"0" * (20 << 20) + b'"}\n'
    r = post(gw, "/_bulk", gzip.compress(bomb), key_auth(gw.writer), headers=[("Content-Encoding", "gzip")])
    assert_es_error(r, 413)
    assert_not_forwarded(gw.stub, m)


# --------------------------------------------------------------------------------------------
# Chunked framing and the look-ahead


def send_chunked(gw, target: str, auth: str, chunks: list, tail: bytes = b"0\r\n\r\n") -> object:
    head = (f"POST {target} HTTP/1.1\r\nHost: x\r\nAuthorization: {auth}\r\n"
            f"Content-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n").encode()
    c = RawConnection(gw.port)
    c.send(head + b"".join(chunks) + tail)
    try:
        return c.read_response()
    finally:
        c.close()


def chunk(data: bytes, ext: bytes = b"") -> bytes:
    return b"%x" % len(data) + ext + b"\r\n" + data + b"\r\n"


def test_chunked_bulk_is_reframed_without_the_clients_framing(gw):
    m = marker()
    body, allowed = bulk_items(10, m, set())
    r = send_chunked(gw, "/_bulk", key_auth(gw.writer), [chunk(body[:100], b";ext=1"), chunk(body[100:])],
                     tail=b"0\r\nX-Trailer: t\r\n\r\n")
    assert r.status == 200, r
    up = upstream_bodies(gw.stub, m)
    assert len(up) == 1 and up[0].body == allowed
    assert b"ext=1" not in up[0].raw_head and not up[0].trailers


def test_bad_chunk_in_the_first_buffer_of_a_streamed_body_forwards_nothing(gw):
    """An ordinary (non-inspected) body: the first 64 KiB are validated before anything goes upstream;
    a bad chunk size line in them means no upstream connection is touched."""
    m = marker()
    good = [chunk((m + "x" * 1000).encode()) for _ in range(30)]
    before = len(gw.stub.matching(lambda q: True, include_partial=True))
    r = send_chunked(gw, "/books/_doc/1", basic("admin", USERS["admin"][0]), good + [b"zz\r\n"])
    assert_es_error(r, 400)
    assert_not_forwarded(gw.stub, m)
    assert len(gw.stub.matching(lambda q: True, include_partial=True)) == before


def test_bad_chunk_inside_an_inspected_bulk_forwards_nothing(gw):
    m = marker()
    body, _ = bulk_items(10000, m, set())  # ~1 MB, within the 2 MB look-ahead
    chunks = [chunk(body[i:i + 4096]) for i in range(0, len(body), 4096)]
    r = send_chunked(gw, "/_bulk", key_auth(gw.writer), chunks + [b"5\nabcde\r\n"])
    assert_es_error(r, 400)
    assert_not_forwarded(gw.stub, m)


def test_bulk_above_the_lookahead_streams_and_fails_deterministically(gw):
    """Above limits.body_lookahead a bulk is filtered as it streams. A framing error found after items
    were forwarded aborts the upstream request (no last chunk) and tells the client that earlier items
    may have been applied."""
    m = marker()
    body, _ = bulk_items(25000, m, set())  # ~2.6 MB: over the 2 MB look-ahead
    chunks = [chunk(body[i:i + 16384]) for i in range(0, len(body), 16384)]
    r = send_chunked(gw, "/_bulk", key_auth(gw.writer), chunks + [b"-1\r\n"])
    doc = assert_es_error(r, 400)
    assert "may have applied" in doc["error"]["reason"] or "may have been applied" in doc["error"]["reason"]
    # The upstream saw the start of a _bulk whose body never completed, and no complete one.
    wait_until(lambda: gw.stub.matching(lambda q: q.path == "/_bulk", include_partial=True), 5,
               "the streamed part of the bulk at the upstream")
    assert not gw.stub.matching(lambda q: q.path == "/_bulk"), "the upstream request must be incomplete"


def test_bulk_above_the_lookahead_with_denials_is_spliced(gw):
    m = marker()
    body, allowed = bulk_items(25000, m, {5, 24999})
    r = post(gw, "/_bulk", body, key_auth(gw.writer))
    assert r.status == 200, r
    items = r.json()["items"]
    assert len(items) == 25000
    assert items[5]["create"]["status"] == 403 and items[24999]["create"]["status"] == 403
    assert sum(1 for i in items if i["create"]["status"] == 201) == 24998
    up = upstream_bodies(gw.stub, m)
    assert len(up) == 1 and up[0].body == allowed and up[0].chunked


def test_malformed_bulk_within_the_lookahead_is_not_applied_at_all(gw):
    m = marker()
    body, _ = bulk_items(100, m, set())
    r = post(gw, "/_bulk", body + b'{"explode":{"_index":"logs-a"}}\n{}\n', key_auth(gw.writer))
    assert_es_error(r, 400)
    assert_not_forwarded(gw.stub, m)


# --------------------------------------------------------------------------------------------
# _msearch and _mget


def test_msearch_mix(gw):
    m = marker()
    body = ndjson({"index": "books"}, {"query": {"match_all": {}}},
                  {"index": "secret"}, {"query": {"match_all": {}}},
                  {"index": "logs-*"}, {"query": {"match_all": {}}})
    r = post(gw, "/_msearch", body, key_auth(gw.reader),
             headers=[("X-Opaque-Id", m)])
    assert r.status == 200, r
    responses = r.json()["responses"]
    assert len(responses) == 3
    assert responses[0]["status"] == 200 and responses[2]["status"] == 200
    assert responses[1]["status"] == 403
    assert responses[1]["error"]["type"] == "security_exception"
    assert "on indices [secret]" in responses[1]["error"]["reason"]
    up = upstream_bodies(gw.stub, m)
    assert len(up) == 1
    lines = [json.loads(x) for x in up[0].body.split(b"\n") if x]
    assert len(lines) == 4 and b"secret" not in up[0].body
    # The wildcard was narrowed to what the key may read.
    assert lines[2]["index"] in ("logs-a,logs-b", ["logs-a", "logs-b"])


def test_mget_mix(gw):
    m = marker()
    body = json.dumps({"docs": [{"_index": "books", "_id": "b1"}, {"_index": "secret", "_id": "s1"},
                                {"_index": "books", "_id": "b2"}]}).encode()
    r = post(gw, "/_mget", body, key_auth(gw.reader), headers=[("X-Opaque-Id", m)], ctype="application/json")
    assert r.status == 200, r
    docs = r.json()["docs"]
    assert [d["_id"] for d in docs] == ["b1", "s1", "b2"]
    assert docs[0]["found"] and docs[2]["found"]
    assert docs[1]["_index"] == "secret" and docs[1]["error"]["type"] == "security_exception"
    up = upstream_bodies(gw.stub, m)
    assert len(up) == 1 and b"secret" not in up[0].body
    assert [d["_id"] for d in json.loads(up[0].body)["docs"]] == ["b1", "b2"]


def test_mget_all_denied_never_reaches_the_upstream(gw):
    m = marker()
    body = json.dumps({"ids": ["s1"]}).encode()
    r = post(gw, "/secret/_mget", body, key_auth(gw.reader), headers=[("X-Opaque-Id", m)],
             ctype="application/json")
    assert r.status == 200, r
    assert r.json()["docs"][0]["error"]["type"] == "security_exception"
    assert_not_forwarded(gw.stub, m)


# --------------------------------------------------------------------------------------------
# The official Python client


def test_python_client_helpers_bulk_with_a_create_doc_key(gw):
    es_mod = pytest.importorskip("elasticsearch")
    from elasticsearch import helpers
    m = marker()
    es = es_mod.Elasticsearch(gw.url, api_key=gw.writer["encoded"], request_timeout=30)
    actions = [{"_op_type": "create", "_index": "logs-a", "_id": f"{m}-{i}", "m": m} for i in range(100)]
    ok, errors = helpers.bulk(es, actions, chunk_size=40, raise_on_error=False)
    assert ok == 100 and errors == []
    assert gw.stub.es.doc("logs-a", f"{m}-99") == {"m": m}
    # A denied item is reported the way Elasticsearch reports it.
    ok, errors = helpers.bulk(es, [{"_op_type": "create", "_index": "secret", "_id": m, "m": m}],
                              raise_on_error=False)
    assert ok == 0 and errors[0]["create"]["status"] == 403
    assert gw.stub.es.doc("secret", m) is None


# --------------------------------------------------------------------------------------------
# Contexts bound to their creator


def test_python_client_helpers_scan_with_a_read_only_key(gw):
    es_mod = pytest.importorskip("elasticsearch")
    from elasticsearch import helpers
    for i in range(25):
        gw.stub.es.create_index("books", {f"x{i}": {"title": f"t{i}"}})
    es = es_mod.Elasticsearch(gw.url, api_key=gw.reader["encoded"], request_timeout=30)
    ids = {h["_id"] for h in helpers.scan(es, index="books", size=10, scroll="1m")}
    assert ids == {"b1", "b2"} | {f"x{i}" for i in range(25)}
    scrolls = gw.stub.matching(lambda q: q.path.startswith("/_search/scroll"))
    assert any(q.method == "POST" for q in scrolls)   # continued through the gateway
    assert any(q.method == "DELETE" for q in scrolls)  # and cleared by its owner


def open_scroll(gw, auth: str) -> str:
    r = gw.raw("POST", "/books/_search?scroll=1m&size=1", [("Authorization", auth),
                                                          ("Content-Type", "application/json")],
               b'{"query":{"match_all":{}}}', user=None)
    assert r.status == 200, r
    return r.json()["_scroll_id"]


def test_another_keys_scroll_id_is_missing_for_it(gw):
    sid = open_scroll(gw, key_auth(gw.reader))
    other = make_key(gw, "other-reader", BOOKS_READ)
    before = len(gw.stub.matching(lambda q: q.path.startswith("/_search/scroll")))
    for method, target, body in [("POST", "/_search/scroll", json.dumps({"scroll_id": sid, "scroll": "1m"})),
                                 ("GET", f"/_search/scroll/{sid}", None),
                                 ("DELETE", "/_search/scroll", json.dumps({"scroll_id": [sid]})),
                                 ("DELETE", "/_search/scroll/_all", None)]:
        r = gw.raw(method, target, [("Authorization", key_auth(other)), ("Content-Type", "application/json")],
                   body.encode() if body else None, user=None)
        assert_es_error(r, 404, "search_context_missing_exception")
    # Alice's Basic login is another identity too.
    r = gw.raw("POST", "/_search/scroll", [("Authorization", basic("alice", USERS["alice"][0])),
                                           ("Content-Type", "application/json")],
               json.dumps({"scroll_id": sid}).encode(), user=None)
    assert_es_error(r, 404, "search_context_missing_exception")
    assert len(gw.stub.matching(lambda q: q.path.startswith("/_search/scroll"))) == before
    # The owner continues it.
    r = gw.raw("POST", "/_search/scroll", [("Authorization", key_auth(gw.reader)),
                                           ("Content-Type", "application/json")],
               json.dumps({"scroll_id": sid, "scroll": "1m"}).encode(), user=None)
    assert r.status == 200, r


def test_scroll_ids_are_not_stored_in_the_clear(gw, redis_client):
    sid = open_scroll(gw, key_auth(gw.reader))
    prefix = gw.config["redis"]["prefix"]
    keys = [k.decode() if isinstance(k, bytes) else k for k in redis_client.keys(prefix + "ctx:*")]
    assert keys, "the binding should be in Redis"
    assert all(sid not in k for k in keys)
    values = [redis_client.get(k) for k in keys]
    assert all(sid.encode() not in (v or b"") for v in values)


def test_point_in_time_is_bound_to_its_opener(gw):
    auth = key_auth(gw.reader)
    r = gw.raw("POST", "/books/_pit?keep_alive=1m", [("Authorization", auth)], None, user=None)
    assert r.status == 200, r
    pit = r.json()["id"]
    body = json.dumps({"pit": {"id": pit, "keep_alive": "1m"}, "query": {"match_all": {}}}).encode()
    hdrs = [("Content-Type", "application/json")]
    other = make_key(gw, "pit-other", BOOKS_READ)
    r = gw.raw("POST", "/_search", hdrs + [("Authorization", key_auth(other))], body, user=None)
    assert_es_error(r, 404, "search_context_missing_exception")
    r = gw.raw("POST", "/_search", hdrs + [("Authorization", auth)], body, user=None)
    assert r.status == 200, r
    assert {h["_id"] for h in r.json()["hits"]["hits"]} == {"b1", "b2"}
    # Forwarded without narrowing: Elasticsearch refuses indices beside a PIT.
    assert gw.stub.matching(lambda q: q.path == "/_search" and pit.encode() in q.body)
    r = gw.raw("DELETE", "/_pit", hdrs + [("Authorization", key_auth(other))],
               json.dumps({"id": pit}).encode(), user=None)
    assert_es_error(r, 404, "search_context_missing_exception")
    assert pit in gw.stub.es.pits


def test_non_json_inspected_body_is_refused(gw):
    m = marker()
    body = f"---\nquery:\n  terms:\n    user: {{index: secret, id: '1', path: u}}\n# {m}\n".encode()
    r = post(gw, "/books/_search", body, key_auth(gw.reader), ctype="application/yaml")
    assert_es_error(r, 415)
    assert_not_forwarded(gw.stub, m)


def test_clear_scroll_needs_an_id_the_caller_owns(gw):
    sid = open_scroll(gw, key_auth(gw.reader))
    other = make_key(gw, "clear-other", BOOKS_READ)
    src = urllib.parse.quote(json.dumps({"scroll_id": [sid]}))
    before = len(gw.stub.matching(lambda q: q.path.startswith("/_search/scroll")))
    for target in (f"/_search/scroll?source={src}&source_content_type=application/json", "/_search/scroll"):
        r = gw.raw("DELETE", target, [("Authorization", key_auth(other))], None, user=None)
        assert_es_error(r, 400)
    assert len(gw.stub.matching(lambda q: q.path.startswith("/_search/scroll"))) == before
    assert sid in gw.stub.es.scrolls
    r = gw.raw("DELETE", f"/_search/scroll/{sid}", [("Authorization", key_auth(gw.reader))], None, user=None)
    assert r.status == 200 and r.json()["num_freed"] == 1, r
