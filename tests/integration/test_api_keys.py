"""API keys end to end: the gateway's `/_security/api_key` API over real sockets, keys used on proxied
requests, expiry, invalidation (also seen by a second instance sharing Redis), ownership, escalation through
key-created keys, last_used, Redis outages and SIGHUP reloads of the owner's users/roles.

Asserts on what reached the recording upstream (and on what Redis holds), not only on statuses."""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import time
import warnings

import pytest

from conftest import REDIS_SERVER, UPSTREAM_PASSWORD, UPSTREAM_USER, Gateway
from helpers import (RawConnection, StopWaiting, assert_es_error, assert_not_forwarded, basic, esgate_missing_reason,
                     free_port, marker, requests_carrying, wait_until)
from stub_es import StubES

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

UPSTREAM_AUTH = basic(UPSTREAM_USER, UPSTREAM_PASSWORD)
URLSAFE = re.compile(r"[A-Za-z0-9_-]+")

USERS = {
    "admin": ("admin-password-0123", ["superuser"]),
    "alice": ("alice-password-4567", ["books-read-only"]),
    "bob": ("bob-password-89ab", ["own-keys"]),
}
ROLES = {
    "books-read-only": {"cluster": [], "indices": [{"names": ["books"], "privileges": ["read"]}]},
    "own-keys": {"cluster": ["manage_own_api_key"],
                 "indices": [{"names": ["books"], "privileges": ["read"]}]},
}
BOOKS_READ = {"books-read-only": {"cluster": [], "indices": [{"names": ["books"], "privileges": ["read"]}]}}
SEARCH_DENIED = ("action [indices:data/read/search] is unauthorized for API key id [{id}] of user [{user}] "
                 "on indices [{index}], this action is granted by the index privileges [read,all]")


def fill_books(stub: StubES) -> None:
    stub.es.create_index("books", {"b1": {"title": "Dune"}, "b2": {"title": "Solaris"}})
    stub.es.create_index("secret", {"s1": {"title": "classified"}})


@pytest.fixture(scope="module")
def shared(make_module_gateway):
    stub = StubES()
    make_module_gateway.own_stubs.append(stub)  # closed after the gateway stops
    return make_module_gateway(upstreams=[stub], users=USERS, roles=ROLES)


@pytest.fixture
def gw(shared):
    shared.stub.reset()
    fill_books(shared.stub)
    return shared


# --------------------------------------------------------------------------------------------
# Helpers


def apikey(encoded: str) -> str:
    return "ApiKey " + encoded


def create_key(gw: Gateway, body: dict, user: str = "admin", auth: str | None = None) -> dict:
    """Create a key (as a user, or with an explicit Authorization value) and check the response shape."""
    headers = {"Authorization": auth} if auth else None
    r = gw.post("/_security/api_key", json=body, user=user, headers=headers)
    assert r.status_code == 200, r.text[:500]
    assert r.headers.get("X-Elastic-Product") == "Elasticsearch"
    k = r.json()
    assert len(k["id"]) == 20 and URLSAFE.fullmatch(k["id"]), k
    assert len(k["api_key"]) == 22 and URLSAFE.fullmatch(k["api_key"]), k
    assert k["encoded"] == base64.b64encode(f"{k['id']}:{k['api_key']}".encode()).decode(), k
    assert k["name"] == body["name"]
    CREATED_SECRETS.append((k["id"], k["api_key"], k["encoded"]))
    return k


CREATED_SECRETS: list = []   # (id, api_key, encoded) of every key made in this module: never in Redis


def use_key(gw: Gateway, encoded: str, method: str = "GET", path: str = "/books/_search",
            body: bytes | None = None, m: str | None = None):
    """One request with ApiKey credentials over a fresh connection, tagged with a marker."""
    hdrs = [("Authorization", apikey(encoded)), ("X-Opaque-Id", m or marker())]
    if body is not None:
        hdrs.append(("Content-Type", "application/json"))
    return gw.raw(method, path, hdrs, body, user=None)


def get_keys(gw: Gateway, user: str = "admin", **params):
    return gw.get("/_security/api_key", params=params, user=user)


def one_key(gw: Gateway, key_id: str) -> dict:
    r = get_keys(gw, id=key_id)
    assert r.status_code == 200, r.text[:500]
    keys = r.json()["api_keys"]
    assert [k["id"] for k in keys] == [key_id], keys
    return keys[0]


def invalidate(gw: Gateway, body: dict, user: str = "admin"):
    return gw.request("DELETE", "/_security/api_key", json=body, user=user)


def upstream_of(stub: StubES, m: str):
    got = requests_carrying(stub, m)
    assert len(got) == 1, f"expected one upstream request with {m}: {[(r.method, r.target) for r in got]}"
    return got[0]


def assert_credentials_not_leaked(rec, *secrets: str) -> None:
    raw = rec.raw_head + rec.body
    for s in secrets:
        assert s.encode() not in raw, f"the upstream received the client's credential {s[:6]}…"


# --------------------------------------------------------------------------------------------
# Lifecycle


def test_full_lifecycle_create_use_get_query_update_invalidate(gw):
    m = marker()
    name = f"lifecycle-{m}"
    before = int(time.time() * 1000)
    k = create_key(gw, {"name": name, "role_descriptors": BOOKS_READ, "metadata": {"team": "red", "m": m}})
    assert "expiration" not in k

    # use it: the upstream sees the gateway's credentials, never the key
    r = use_key(gw, k["encoded"], m=m)
    assert r.status == 200, r
    assert {h["_index"] for h in r.json()["hits"]["hits"]} == {"books"}
    up = upstream_of(gw.stub, m)
    assert (up.method, up.path) == ("GET", "/books/_search")
    assert up.header_all("Authorization") == [UPSTREAM_AUTH]
    assert_credentials_not_leaked(up, k["encoded"], k["api_key"])

    # get by id, by name, by owner
    info = one_key(gw, k["id"])
    assert info["name"] == name and info["invalidated"] is False
    assert info["username"] == "admin" and info["realm"] == "default_file"
    assert info["metadata"] == {"team": "red", "m": m}
    assert before - 1000 <= info["creation"] <= int(time.time() * 1000) + 1000
    assert set(info["role_descriptors"]) == {"books-read-only"}
    rd = info["role_descriptors"]["books-read-only"]
    assert rd["indices"][0]["names"] == ["books"] and rd["indices"][0]["privileges"] == ["read"]
    assert "api_key" not in info and k["api_key"] not in json.dumps(info)

    r = get_keys(gw, name=name)
    assert r.status_code == 200 and [x["id"] for x in r.json()["api_keys"]] == [k["id"]], r.text
    r = get_keys(gw, name=f"lifecycle-{m[:8]}*")
    assert k["id"] in [x["id"] for x in r.json()["api_keys"]], r.text
    r = get_keys(gw, owner="true")
    assert r.status_code == 200 and k["id"] in [x["id"] for x in r.json()["api_keys"]], r.text
    r = get_keys(gw, id="AAAAAAAAAAAAAAAAAAAA")
    assert r.status_code == 404 and r.json() == {"api_keys": []}, r.text

    # query: term + range
    q = {"query": {"bool": {"filter": [{"term": {"name": name}},
                                       {"range": {"creation": {"gte": before - 1000}}}]}}}
    r = gw.post("/_security/_query/api_key", json=q)
    assert r.status_code == 200, r.text[:500]
    res = r.json()
    assert res["total"] == 1 and res["count"] == 1 and res["api_keys"][0]["id"] == k["id"], res
    r = gw.post("/_security/_query/api_key",
                json={"query": {"bool": {"filter": [{"term": {"name": name}},
                                                    {"range": {"creation": {"lt": before - 60000}}}]}}})
    assert r.status_code == 200 and r.json()["count"] == 0, r.text[:500]

    # update metadata (replaces it wholesale), visible to get and query
    r = gw.put(f"/_security/api_key/{k['id']}", json={"metadata": {"team": "blue"}})
    assert r.status_code == 200 and r.json() == {"updated": True}, r.text
    assert one_key(gw, k["id"])["metadata"] == {"team": "blue"}
    r = gw.post("/_security/_query/api_key",
                json={"query": {"bool": {"must": [{"term": {"metadata.team": "blue"}},
                                                  {"term": {"name": name}}]}}})
    assert r.status_code == 200 and [x["id"] for x in r.json()["api_keys"]] == [k["id"]], r.text
    assert use_key(gw, k["encoded"]).status == 200  # an update does not break the key

    # invalidate: 401 from now on, nothing reaches the upstream
    r = invalidate(gw, {"ids": [k["id"]]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["invalidated_api_keys"] == [k["id"]] and body["error_count"] == 0, body
    assert body["previously_invalidated_api_keys"] == []
    m2 = marker()
    r = use_key(gw, k["encoded"], m=m2)
    assert_es_error(r, 401, "security_exception")
    assert "ApiKey" in r.header_all("WWW-Authenticate")
    assert k["api_key"] not in r.body.decode()
    assert_not_forwarded(gw.stub, m2)
    info = one_key(gw, k["id"])
    assert info["invalidated"] is True and isinstance(info.get("invalidation"), int), info
    r = get_keys(gw, name=name, active_only="true")
    assert r.status_code == 200 and r.json()["api_keys"] == [], r.text


def test_invalidating_an_invalidated_key_lists_it_as_previously_invalidated(gw):
    name = f"twice-{marker()}"
    first = create_key(gw, {"name": name})
    second = create_key(gw, {"name": name})
    r = invalidate(gw, {"ids": [first["id"]]})
    assert r.status_code == 200, r.text
    assert r.json() == {"invalidated_api_keys": [first["id"]], "previously_invalidated_api_keys": [],
                        "error_count": 0}, r.text

    # the same id again: nothing newly invalidated, the key is reported as already dead
    r = invalidate(gw, {"ids": [first["id"]]})
    assert r.status_code == 200, r.text
    assert r.json() == {"invalidated_api_keys": [], "previously_invalidated_api_keys": [first["id"]],
                        "error_count": 0}, r.text

    # a mix by name: the live one is invalidated now, the dead one listed apart
    r = invalidate(gw, {"name": name})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["invalidated_api_keys"] == [second["id"]], body
    assert body["previously_invalidated_api_keys"] == [first["id"]], body
    assert body["error_count"] == 0 and "error_details" not in body, body

    # both by ids, and an unknown id is neither (as Elasticsearch: not found is not an error)
    r = invalidate(gw, {"ids": [first["id"], second["id"], "AAAAAAAAAAAAAAAAAAAA"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["invalidated_api_keys"] == [], body
    assert sorted(body["previously_invalidated_api_keys"]) == sorted([first["id"], second["id"]]), body
    assert body["error_count"] == 0, body
    for k in (first, second):
        assert use_key(gw, k["encoded"]).status == 401
        assert one_key(gw, k["id"])["invalidated"] is True

    # a manage_own_api_key user repeating owner=true sees their dead key again
    bobs = create_key(gw, {"name": f"bobs-twice-{marker()}"}, user="bob")
    r = invalidate(gw, {"owner": True}, user="bob")
    assert r.status_code == 200 and bobs["id"] in r.json()["invalidated_api_keys"], r.text
    r = invalidate(gw, {"owner": True}, user="bob")
    assert r.status_code == 200, r.text
    assert r.json()["invalidated_api_keys"] == [], r.text
    assert bobs["id"] in r.json()["previously_invalidated_api_keys"], r.text
    assert first["id"] not in r.json()["previously_invalidated_api_keys"], "bob saw admin's key"


def test_a_key_updated_to_fewer_privileges_is_refused_at_once_on_a_path_it_used(gw):
    # Decisions are remembered per identity (gateway/app/authz_cache.hpp): an update must not keep the old one.
    both = {"both": {"cluster": [], "indices": [{"names": ["books", "secret"], "privileges": ["read"]}]}}
    k = create_key(gw, {"name": f"narrowed-{marker()}", "role_descriptors": both})
    for _ in range(3):  # the same path again and again, as a busy client sends it
        m = marker()
        assert use_key(gw, k["encoded"], path="/secret/_search", m=m).status == 200
        upstream_of(gw.stub, m)
    r = gw.put(f"/_security/api_key/{k['id']}", json={"role_descriptors": BOOKS_READ})
    assert r.status_code == 200 and r.json() == {"updated": True}, r.text
    for _ in range(3):
        m = marker()
        r = use_key(gw, k["encoded"], path="/secret/_search", m=m)
        doc = assert_es_error(r, 403, "security_exception")
        assert doc["error"]["reason"] == SEARCH_DENIED.format(id=k["id"], user="admin", index="secret"), doc
        assert_not_forwarded(gw.stub, m)
    m = marker()
    assert use_key(gw, k["encoded"], m=m).status == 200  # books is still readable
    upstream_of(gw.stub, m)


def test_key_restricted_to_books_gets_es_worded_403_on_secret(gw):
    k = create_key(gw, {"name": f"books-only-{marker()}", "role_descriptors": BOOKS_READ})
    m = marker()
    r = use_key(gw, k["encoded"], path="/secret/_search", m=m)
    doc = assert_es_error(r, 403, "security_exception")
    assert doc["error"]["reason"] == SEARCH_DENIED.format(id=k["id"], user="admin", index="secret"), doc
    assert not r.header_all("WWW-Authenticate")
    assert_not_forwarded(gw.stub, m)
    # writing to its own index is not reading
    m = marker()
    r = use_key(gw, k["encoded"], "PUT", "/books/_doc/x", b'{"t":1}', m=m)
    assert_es_error(r, 403, "security_exception")
    assert_not_forwarded(gw.stub, m)
    assert gw.stub.es.doc("books", "x") is None


def test_expired_key_gets_401(gw):
    k = create_key(gw, {"name": f"short-{marker()}", "role_descriptors": BOOKS_READ, "expiration": "1s"})
    assert isinstance(k.get("expiration"), int), k
    now_ms = time.time() * 1000
    assert now_ms - 5000 < k["expiration"] <= now_ms + 1500, k
    if time.time() * 1000 < k["expiration"] - 300:
        m = marker()
        assert use_key(gw, k["encoded"], m=m).status == 200
        upstream_of(gw.stub, m)

    wait_until(lambda: use_key(gw, k["encoded"]).status == 401, 5, "the key to expire")
    # once past expiration it stays refused, and nothing goes upstream
    while time.time() * 1000 <= k["expiration"] + 50:
        time.sleep(0.05)
    m = marker()
    r = use_key(gw, k["encoded"], m=m)
    assert_es_error(r, 401, "security_exception")
    assert_not_forwarded(gw.stub, m)
    info = one_key(gw, k["id"])
    assert info["expiration"] == k["expiration"] and info["invalidated"] is False


def test_wrong_secret_for_a_known_id_gets_401_and_does_not_poison_the_key(gw):
    k = create_key(gw, {"name": f"wrong-secret-{marker()}", "role_descriptors": BOOKS_READ})
    assert use_key(gw, k["encoded"]).status == 200  # cached now
    other = ("Z" if k["api_key"][0] != "Z" else "Y") + k["api_key"][1:]
    wrong = [
        base64.b64encode(f"{k['id']}:{other}".encode()).decode(),
        base64.b64encode(f"{k['id']}:{'A' * 22}".encode()).decode(),
        base64.b64encode(f"{k['id']}:{k['api_key'][:21]}".encode()).decode(),
        base64.b64encode(f"{k['id']}:{k['api_key']}x".encode()).decode(),
    ]
    for enc in wrong:
        for _ in range(2):  # the second try may hit a remembered failure: still 401
            m = marker()
            r = use_key(gw, enc, m=m)
            assert_es_error(r, 401, "security_exception")
            assert other not in r.body.decode()
            assert_not_forwarded(gw.stub, m)
    m = marker()
    assert use_key(gw, k["encoded"], m=m).status == 200
    upstream_of(gw.stub, m)


def _b64(s: bytes | str) -> str:
    return base64.b64encode(s.encode() if isinstance(s, str) else s).decode()


MALFORMED = [
    pytest.param("ApiKey", id="no-credential"),
    pytest.param("ApiKey ", id="empty-credential"),
    pytest.param("ApiKey !!!!not*base64!!!!", id="not-base64"),
    pytest.param("ApiKey " + _b64("no-colon-at-all-here-xxxxxxxxxxxxxxxxxx"), id="no-colon"),
    pytest.param("ApiKey " + _b64(":" + "A" * 22), id="empty-id"),
    pytest.param("ApiKey " + _b64("A" * 20 + ":"), id="empty-secret"),
    pytest.param("ApiKey " + _b64("A" * 19 + ":" + "B" * 22), id="short-id"),
    pytest.param("ApiKey " + _b64(b"\x00" * 20 + b":" + b"B" * 22), id="nul-bytes"),
    pytest.param("ApiKey " + _b64("A" * 20 + ":" + "B" * 22).replace("Q", "-"), id="urlsafe-alphabet"),
    pytest.param("ApiKey " + "A" * 8000, id="huge"),
    pytest.param("ApiKey " + _b64("A" * 20 + ":" + "B" * 22) + "%%", id="trailing-garbage"),
    pytest.param("ApiKeyX " + _b64("A" * 20 + ":" + "B" * 22), id="scheme-typo"),
]


@pytest.mark.parametrize("value", MALFORMED)
def test_malformed_api_key_values_get_401_and_nothing_upstream(gw, value):
    m = marker()
    r = gw.raw("GET", f"/books/_search?m={m}", [("Authorization", value), ("X-Opaque-Id", m)], user=None)
    assert_es_error(r, 401, "security_exception")
    assert_not_forwarded(gw.stub, m)


def test_api_key_scheme_is_case_insensitive_as_in_elasticsearch(gw):
    k = create_key(gw, {"name": f"case-{marker()}", "role_descriptors": BOOKS_READ})
    m = marker()
    r = gw.raw("GET", "/books/_search", [("Authorization", "apikey " + k["encoded"]), ("X-Opaque-Id", m)],
               user=None)
    assert r.status == 200, r
    assert upstream_of(gw.stub, m).header_all("Authorization") == [UPSTREAM_AUTH]


# --------------------------------------------------------------------------------------------
# Ownership and escalation


def test_manage_own_api_key_sees_and_invalidates_only_its_own_keys(gw):
    admins = create_key(gw, {"name": f"admins-{marker()}", "role_descriptors": BOOKS_READ})

    # bare GET, GET by someone else's id, invalidating someone else's key: 403
    r = get_keys(gw, user="bob")
    doc = assert_es_error(r, 403, "security_exception")
    assert doc["error"]["reason"].startswith(
        "action [cluster:admin/xpack/security/api_key/get] is unauthorized for user [bob]"), doc
    assert get_keys(gw, user="bob", id=admins["id"]).status_code == 403
    assert get_keys(gw, user="bob", username="admin", realm_name="default_file").status_code == 403
    r = invalidate(gw, {"ids": [admins["id"]]}, user="bob")
    doc = assert_es_error(r, 403, "security_exception")
    assert "api_key/invalidate" in doc["error"]["reason"], doc
    r = invalidate(gw, {"username": "admin", "realm_name": "default_file"}, user="bob")
    assert r.status_code == 403, r.text
    r = invalidate(gw, {"name": "*"}, user="bob")
    assert r.status_code == 403, r.text
    r = gw.put(f"/_security/api_key/{admins['id']}", json={"metadata": {"owned": "by bob"}}, user="bob")
    assert r.status_code in (403, 404), r.text
    assert one_key(gw, admins["id"])["metadata"] == {}

    # owner=true and query: only his own (none yet)
    r = get_keys(gw, user="bob", owner="true")
    assert r.status_code == 200 and admins["id"] not in r.text, r.text
    r = gw.post("/_security/_query/api_key", json={"query": {"match_all": {}}}, user="bob")
    assert r.status_code == 200 and admins["id"] not in r.text, r.text
    assert all(x["username"] == "bob" for x in r.json()["api_keys"]), r.text

    # his own keys: create, see, invalidate
    bobs = create_key(gw, {"name": f"bobs-{marker()}"}, user="bob")
    r = get_keys(gw, user="bob", owner="true")
    ids = [x["id"] for x in r.json()["api_keys"]]
    assert bobs["id"] in ids and admins["id"] not in ids, r.text
    r = get_keys(gw, user="bob", username="bob", realm_name="default_file")
    assert r.status_code == 200 and bobs["id"] in r.text and admins["id"] not in r.text, r.text
    r = gw.post("/_security/_query/api_key", json={"query": {"match_all": {}}}, user="bob")
    assert [x["id"] for x in r.json()["api_keys"]] == [bobs["id"]] or bobs["id"] in r.text, r.text
    assert admins["id"] not in r.text
    r = gw.put(f"/_security/api_key/{bobs['id']}", json={"metadata": {"mine": True}}, user="bob")
    assert r.status_code == 200 and r.json() == {"updated": True}, r.text
    m = marker()
    assert use_key(gw, bobs["encoded"], m=m).status == 200  # bob's own read on books
    upstream_of(gw.stub, m)

    r = invalidate(gw, {"owner": True}, user="bob")
    assert r.status_code == 200, r.text
    assert bobs["id"] in r.json()["invalidated_api_keys"]
    assert admins["id"] not in r.json()["invalidated_api_keys"]
    assert use_key(gw, bobs["encoded"]).status == 401
    m = marker()
    assert use_key(gw, admins["encoded"], m=m).status == 200  # admin's key untouched
    upstream_of(gw.stub, m)
    assert one_key(gw, admins["id"])["invalidated"] is False


def test_a_key_cannot_create_a_wider_key_but_can_create_a_narrower_one(gw):
    maker_rd = {"maker": {"cluster": ["manage_own_api_key"],
                          "indices": [{"names": ["books"], "privileges": ["read"]}]}}
    maker = create_key(gw, {"name": f"maker-{marker()}", "role_descriptors": maker_rd})
    auth = apikey(maker["encoded"])

    wide_cases = [
        {"wide": {"cluster": ["all"], "indices": [{"names": ["*"], "privileges": ["all"]}]}},
        {"wide": {"cluster": [], "indices": [{"names": ["secret"], "privileges": ["read"]}]}},
        {"wide": {"cluster": [], "indices": [{"names": ["books"], "privileges": ["write"]}]}},
        {"wide": {"cluster": ["manage_api_key"], "indices": []}},
        {"wide": {"cluster": [], "indices": [{"names": ["books*"], "privileges": ["read"]}]}},
    ]
    for rd in wide_cases:
        name = f"wide-{marker()}"
        r = gw.post("/_security/api_key", json={"name": name, "role_descriptors": rd}, user=None,
                    headers={"Authorization": auth})
        doc = assert_es_error(r, 403, "security_exception")
        assert "api_key" not in doc and "encoded" not in doc, doc
        got = get_keys(gw, name=name)
        assert got.status_code == 200 and got.json()["api_keys"] == [], f"{rd} created a key: {got.text}"

    narrow_rd = {"narrow": {"cluster": [], "indices": [{"names": ["books"], "privileges": ["read"]}]}}
    narrow = create_key(gw, {"name": f"narrow-{marker()}", "role_descriptors": narrow_rd}, user=None,
                        auth=auth)
    info = one_key(gw, narrow["id"])
    assert info["username"] == "admin", info  # owned by the creating key's owner

    m = marker()
    r = use_key(gw, narrow["encoded"], m=m)
    assert r.status == 200 and {h["_index"] for h in r.json()["hits"]["hits"]} == {"books"}, r
    upstream_of(gw.stub, m)
    m = marker()
    r = use_key(gw, narrow["encoded"], path="/secret/_search", m=m)
    doc = assert_es_error(r, 403, "security_exception")
    assert doc["error"]["reason"] == SEARCH_DENIED.format(id=narrow["id"], user="admin", index="secret")
    assert_not_forwarded(gw.stub, m)
    # no manage_own_api_key on the narrow key: it cannot mint keys itself
    name = f"grandchild-{marker()}"
    r = gw.post("/_security/api_key", json={"name": name, "role_descriptors": narrow_rd}, user=None,
                headers={"Authorization": apikey(narrow["encoded"])})
    assert_es_error(r, 403, "security_exception")
    assert get_keys(gw, name=name).json()["api_keys"] == []


def test_authenticate_reports_the_key(gw):
    k = create_key(gw, {"name": f"whoami-{marker()}", "role_descriptors": BOOKS_READ})
    r = use_key(gw, k["encoded"], path="/_security/_authenticate")
    assert r.status == 200, r
    doc = r.json()
    assert doc["username"] == "admin" and doc["authentication_type"] == "api_key", doc
    assert doc["api_key"] == {"id": k["id"], "name": k["name"]} or (
        doc["api_key"]["id"] == k["id"] and doc["api_key"]["name"] == k["name"]), doc
    assert doc["authentication_realm"] == {"name": "_es_api_key", "type": "_es_api_key"}, doc
    assert not [x for x in gw.stub.requests if "_security" in x.target], "the security API was forwarded"


def test_one_connection_switching_credentials_is_authenticated_anew_each_time(gw):
    """The gateway parses a connection's Authorization header once and reuses it while the header stays the
    same (authenticate.hpp): a changed header, even of the same length, is parsed and checked again, and an
    invalidation takes effect on the open connection."""
    a = create_key(gw, {"name": f"switch-a-{marker()}", "role_descriptors": BOOKS_READ})
    b = create_key(gw, {"name": f"switch-b-{marker()}", "role_descriptors": BOOKS_READ})
    other = ("Z" if a["api_key"][0] != "Z" else "Y") + a["api_key"][1:]
    wrong_a = base64.b64encode(f"{a['id']}:{other}".encode()).decode()
    assert len(wrong_a) == len(a["encoded"])

    def whoami(c, auth):
        hdrs = [("Authorization", auth)] if auth else []
        return c.request("GET", "/_security/_authenticate", hdrs)

    with RawConnection(gw.port) as c:
        for auth, expect in [(apikey(a["encoded"]), a["id"]), (apikey(a["encoded"]), a["id"]),
                             (apikey(b["encoded"]), b["id"]), (apikey(wrong_a), None),
                             (apikey(a["encoded"]), a["id"]), (basic("alice", USERS["alice"][0]), "alice"),
                             (None, None), (apikey(a["encoded"]), a["id"])]:
            r = whoami(c, auth)
            if expect is None:
                assert_es_error(r, 401, "security_exception")
            elif expect == "alice":
                assert r.status == 200 and r.json()["username"] == "alice", r
                assert r.json()["authentication_type"] == "realm", r.json()
            else:
                assert r.status == 200 and r.json()["api_key"]["id"] == expect, r
        m = marker()
        r = c.request("GET", f"/books/_search?m={m}", [("Authorization", apikey(a["encoded"]))])
        assert r.status == 200, r
        upstream_of(gw.stub, m)

        r = invalidate(gw, {"ids": [a["id"]]})
        assert r.status_code == 200 and r.json()["invalidated_api_keys"] == [a["id"]], r.text
        m = marker()
        r = c.request("GET", f"/books/_search?m={m}", [("Authorization", apikey(a["encoded"]))])
        assert_es_error(r, 401, "security_exception")
        assert_not_forwarded(gw.stub, m)
        assert whoami(c, apikey(b["encoded"])).json()["api_key"]["id"] == b["id"]


# --------------------------------------------------------------------------------------------
# last_used and storage


def test_last_used_appears_after_the_batched_write(gw):
    k = create_key(gw, {"name": f"used-{marker()}", "role_descriptors": BOOKS_READ})
    assert "last_used" not in one_key(gw, k["id"])
    before = int(time.time() * 1000)
    assert use_key(gw, k["encoded"]).status == 200
    after = int(time.time() * 1000)

    info = wait_until(lambda: (lambda i: i if "last_used" in i else None)(one_key(gw, k["id"])), 15,
                      "last_used to be written (batched every 10 s)", interval=0.5)
    assert before - 1000 <= info["last_used"] <= after + 1000, (before, info["last_used"], after)


def _redis_dump(client) -> bytes:
    """Every key name and every value in the Redis, concatenated."""
    out = bytearray()
    for key in client.scan_iter(count=1000):
        out += key + b"\n"
        t = client.type(key)
        if t == b"string":
            out += client.get(key) or b""
        elif t == b"hash":
            for f, v in client.hgetall(key).items():
                out += f + b"=" + v + b"\n"
        elif t == b"set":
            out += b"\n".join(client.smembers(key))
        elif t == b"zset":
            out += b"\n".join(v for v, _ in client.zrange(key, 0, -1, withscores=True))
        elif t == b"list":
            out += b"\n".join(client.lrange(key, 0, -1))
        elif t == b"stream":
            out += repr(client.xrange(key)).encode()
        out += b"\n"
    return bytes(out)


def test_secrets_are_never_stored_in_redis(gw, redis_client):
    fresh = [create_key(gw, {"name": f"stored-{i}-{marker()}", "role_descriptors": BOOKS_READ,
                             "metadata": {"i": i}}) for i in range(3)]
    for k in fresh:
        assert use_key(gw, k["encoded"]).status == 200
    dump = _redis_dump(redis_client)
    prefix = gw.config["redis"]["prefix"].encode()
    assert prefix in dump, "the gateway stored nothing under its prefix"
    for k in fresh:
        assert k["id"].encode() in dump, f"key {k['id']} is not in Redis"
    assert len(CREATED_SECRETS) >= 3
    for key_id, secret, encoded in CREATED_SECRETS:
        for needle in {secret, encoded, encoded.rstrip("="),
                       base64.urlsafe_b64encode(secret.encode()).decode().rstrip("=")}:
            assert needle.encode() not in dump, f"the secret of key {key_id} is in Redis"
    # the stored hash uses Elasticsearch's self-describing format ({SSHA256} by default)
    assert b"{SSHA256}" in dump or b"{PBKDF2}" in dump, "no ES-format hash found in Redis"


# --------------------------------------------------------------------------------------------
# Several instances, Redis outages, reloads


def test_invalidation_on_one_instance_reaches_another_within_a_second(gw, make_gateway):
    other = make_gateway(upstreams=[gw.stub], users=USERS, roles=ROLES,
                         config={"redis": {"prefix": gw.config["redis"]["prefix"]}})
    k = create_key(gw, {"name": f"shared-{marker()}", "role_descriptors": BOOKS_READ})
    for _ in range(6):  # fresh connections: warm the caches of several I/O threads of the other instance
        assert use_key(other, k["encoded"]).status == 200

    r = invalidate(gw, {"ids": [k["id"]]})
    assert r.status_code == 200 and r.json()["invalidated_api_keys"] == [k["id"]], r.text
    t0 = time.monotonic()
    wait_until(lambda: use_key(other, k["encoded"]).status == 401, 1.0,
               "the second instance to refuse the invalidated key")
    elapsed = time.monotonic() - t0
    for _ in range(6):
        m = marker()
        assert use_key(other, k["encoded"], m=m).status == 401
        assert_not_forwarded(gw.stub, m)
    assert elapsed <= 1.0


class OwnRedis:
    """A redis-server of our own on a fixed port, stoppable and restartable with its data (RDB)."""

    def __init__(self, workdir: str):
        self.dir = workdir
        self.port = free_port()
        self.proc = None
        self.start()

    def start(self) -> None:
        import redis
        self.log = open(os.path.join(self.dir, "redis.log"), "ab")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, "--dbfilename", "dump.rdb"],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

        def ready():
            if self.proc.poll() is not None:
                raise StopWaiting(f"redis-server exited with {self.proc.returncode}")
            return self.client.ping()

        wait_until(ready, 15, "own redis-server")

    def stop(self) -> None:
        """Save the data set, then stop."""
        if self.proc and self.proc.poll() is None:
            self.client.save()
            self.proc.terminate()
            self.proc.wait(10)
        self.log.close()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@pytest.fixture
def own_redis(tmp_path):
    if not os.path.exists(REDIS_SERVER):
        pytest.skip(f"{REDIS_SERVER} is not installed")
    r = OwnRedis(str(tmp_path))
    yield r
    if r.proc.poll() is None:
        r.proc.kill()
        r.proc.wait()
    if not r.log.closed:
        r.log.close()


def test_redis_restart_keys_fail_closed_with_503_then_recover(make_gateway, stub, own_redis):
    # With security.api_key.stale_if_error: 0, losing the pub/sub connection fails closed (an
    # invalidation published meanwhile could be missed), so while Redis is down every API key gets 503
    # (never 401: the key may be valid), Basic users keep working, nothing is forwarded, and keys work
    # again once Redis is back. (The default stale window: test_redis_outage.py.)
    fill_books(stub)
    cfg = {"redis": {"url": own_redis.url}, "security": {"api_key": {"stale_if_error": "0"}}}
    gw = make_gateway(upstreams=[stub], users=USERS, roles=ROLES, config=cfg)
    maker = make_gateway(upstreams=[stub], users=USERS, roles=ROLES,
                         config={"redis": {"url": own_redis.url, "prefix": gw.config["redis"]["prefix"]}})
    cached = create_key(gw, {"name": f"cached-{marker()}", "role_descriptors": BOOKS_READ})
    # made by another instance, never seen by gw: not in any of gw's caches
    uncached = create_key(maker, {"name": f"uncached-{marker()}", "role_descriptors": BOOKS_READ})
    maker.stop()
    for _ in range(6):  # several connections: every I/O thread has verified it
        assert use_key(gw, cached["encoded"]).status == 200

    own_redis.stop()
    try:
        # the gateway has noticed (interface.md §1: health turns yellow when the key store is unreachable)
        wait_until(lambda: gw.get("/_esgate/health", user=None).json().get("status") == "yellow", 10,
                   "health to report the key store unreachable", interval=0.1)
        # no stale window: the once-cached key fails closed
        wait_until(lambda: use_key(gw, cached["encoded"]).status == 503, 10,
                   "the cached key to get 503 while Redis is down", interval=0.1)
        for _ in range(4):
            m = marker()
            r = use_key(gw, cached["encoded"], m=m)
            assert_es_error(r, 503)
            assert not r.header_all("WWW-Authenticate"), "a 503 must not look like bad credentials"
            assert_not_forwarded(stub, m)
        assert gw.get("/books/_search").status_code == 200  # admin (users.yml) is unaffected

        m = marker()
        r = use_key(gw, uncached["encoded"], m=m)
        assert_es_error(r, 503)
        assert not r.header_all("WWW-Authenticate"), "a 503 must not look like bad credentials"
        assert uncached["api_key"] not in r.body.decode()
        assert_not_forwarded(stub, m)
        # a fresh key creation cannot work either, and says so with an ES error
        r = gw.post("/_security/api_key", json={"name": "while-down"})
        assert r.status_code >= 500, r.text
    finally:
        own_redis.start()

    # every I/O thread has its own Redis connection, each reconnecting with back-off (≤ 5 s)
    wait_until(lambda: all(use_key(gw, uncached["encoded"]).status == 200 for _ in range(6)), 15,
               "the key to work again on every thread after Redis is back")
    m = marker()
    assert use_key(gw, uncached["encoded"], m=m).status == 200
    upstream_of(stub, m)
    assert use_key(gw, cached["encoded"]).status == 200


def _owner_gateway(make_gateway, stub):
    users = dict(USERS, carol=("carol-password-cdef", ["carol-role"]))
    roles = dict(ROLES, **{"carol-role": {"cluster": ["manage_own_api_key"],
                                          "indices": [{"names": ["books", "secret"], "privileges": ["read"]}]}})
    fill_books(stub)
    return make_gateway(upstreams=[stub], users=users, roles=roles)


def test_owner_removed_from_users_and_reloaded_disables_their_keys(make_gateway, stub):
    gw = _owner_gateway(make_gateway, stub)
    carols = create_key(gw, {"name": f"carols-{marker()}"}, user="carol")
    admins = create_key(gw, {"name": f"admins-{marker()}", "role_descriptors": BOOKS_READ})
    assert use_key(gw, carols["encoded"]).status == 200
    assert use_key(gw, carols["encoded"], path="/secret/_search").status == 200

    del gw.users["carol"]
    gw.write_files()
    gw.reload()
    t0 = time.monotonic()
    wait_until(lambda: use_key(gw, carols["encoded"]).status == 401, 2.0,
               "the removed owner's key to be refused")
    assert time.monotonic() - t0 <= 2.0
    m = marker()
    assert_es_error(use_key(gw, carols["encoded"], m=m), 401, "security_exception")
    assert_not_forwarded(stub, m)
    assert gw.get("/", user=None, headers={"Authorization": basic("carol", "carol-password-cdef")}) \
        .status_code == 401
    assert use_key(gw, admins["encoded"]).status == 200  # other owners unaffected


def test_owner_role_narrowed_and_reloaded_narrows_their_keys(make_gateway, stub):
    gw = _owner_gateway(make_gateway, stub)
    carols = create_key(gw, {"name": f"carols-{marker()}"}, user="carol")
    assert use_key(gw, carols["encoded"], path="/secret/_search").status == 200

    gw.roles["carol-role"]["indices"] = [{"names": ["books"], "privileges": ["read"]}]
    gw.write_files()
    gw.reload()
    wait_until(lambda: use_key(gw, carols["encoded"], path="/secret/_search").status == 403, 2.0,
               "the narrowed role to apply to the owner's key")
    m = marker()
    r = use_key(gw, carols["encoded"], path="/secret/_search", m=m)
    doc = assert_es_error(r, 403, "security_exception")
    assert doc["error"]["reason"] == SEARCH_DENIED.format(id=carols["id"], user="carol", index="secret")
    assert_not_forwarded(stub, m)
    m = marker()
    assert use_key(gw, carols["encoded"], m=m).status == 200  # books still readable
    upstream_of(stub, m)


# --------------------------------------------------------------------------------------------
# The official Python client


def test_official_python_client_manages_and_uses_api_keys(gw):
    from elasticsearch import Elasticsearch
    from elasticsearch.exceptions import AuthenticationException, AuthorizationException

    from elasticsearch import __version__ as client_version

    admin_pw = gw.users["admin"][0]
    if client_version >= (8, 0, 0):
        es = Elasticsearch(gw.url, basic_auth=("admin", admin_pw))
    else:  # Debian 12 ships 7.17, which spells it http_auth
        es = Elasticsearch(gw.url, http_auth=("admin", admin_pw))
    me = es.security.authenticate()
    assert me["username"] == "admin" and me["authentication_realm"]["name"] == "default_file", me

    name = f"pyclient-{marker()}"
    created = es.security.create_api_key(body={"name": name, "role_descriptors": BOOKS_READ,
                                               "metadata": {"client": "python"}})
    assert created["name"] == name and len(created["id"]) == 20 and len(created["api_key"]) == 22
    CREATED_SECRETS.append((created["id"], created["api_key"], created["encoded"]))
    got = es.security.get_api_key(id=created["id"])
    assert [k["name"] for k in got["api_keys"]] == [name]
    q = es.security.query_api_keys(body={"query": {"term": {"name": name}}})
    assert q["count"] == 1 and q["api_keys"][0]["id"] == created["id"], q

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 7.x product check may warn that GET / is forbidden
        keyed = Elasticsearch(gw.url, api_key=created["encoded"])
        who = keyed.security.authenticate()
        assert who["authentication_type"] == "api_key" and who["api_key"]["id"] == created["id"], who
        res = keyed.search(index="books", body={"query": {"match_all": {}}})
        assert {h["_index"] for h in res["hits"]["hits"]} == {"books"} and res["hits"]["hits"]
        with pytest.raises(AuthorizationException) as exc:
            keyed.search(index="secret")
        assert exc.value.status_code == 403
        assert not [r for r in gw.stub.requests if "secret" in r.target]

        inv = es.security.invalidate_api_key(body={"ids": [created["id"]]})
        assert inv["invalidated_api_keys"] == [created["id"]] and inv["error_count"] == 0, inv
        with pytest.raises(AuthenticationException):
            keyed.search(index="books")
