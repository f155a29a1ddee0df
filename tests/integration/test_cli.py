"""The operator CLI (issue 11): `esgate keys ...` against a running gateway, and `esgate explain`, the dry
run of the gateway's own authorization, compared with the live decision for every row of the
authorization test table (test_authorization.py) without a request reaching the upstream."""

from __future__ import annotations

import base64
import json
import os
import subprocess

import pytest
import requests

import test_authorization as ta
from conftest import _esgate_env
from helpers import ESGATE_BIN, esgate_missing_reason, free_port, marker
from stub_es import StubES

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

ADMIN, ADMIN_PW = "admin", ta.USERS["admin"][0]


def esgate(*args: str, env: dict | None = None, input: str | None = None,
           timeout: float = 60) -> subprocess.CompletedProcess:
    e = _esgate_env()
    for k in ("ESGATE_URL", "ESGATE_USER", "ESGATE_PASSWORD", "ESGATE_API_KEY"):
        e.pop(k, None)
    e.update(env or {})
    return subprocess.run([ESGATE_BIN, *args], capture_output=True, text=True, env=e, input=input,
                          timeout=timeout, stdin=None if input is not None else subprocess.DEVNULL)


def admin_env(gw) -> dict:
    return {"ESGATE_URL": gw.url, "ESGATE_USER": ADMIN, "ESGATE_PASSWORD": ADMIN_PW}


@pytest.fixture(scope="module")
def shared(make_module_gateway):
    stub = StubES()
    make_module_gateway.own_stubs.append(stub)
    gw = make_module_gateway(upstreams=[stub], users=ta.USERS, roles=ta.ROLES)
    r = gw.post("/_security/api_key", json={"name": "books-reader", "role_descriptors": ta.BOOKS_READ})
    assert r.status_code == 200, r.text[:300]
    gw.books_key = r.json()
    return gw


@pytest.fixture
def gw(shared):
    shared.stub.reset()
    ta.fill(shared.stub)
    return shared


# --------------------------------------------------------------------------------------------
# esgate keys


def parse_fields(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        k, _, v = line.partition(" ")
        out[k] = v.strip()
    return out


def without_last_used(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))
    for k in doc.get("api_keys", []):
        k.pop("last_used", None)
    return doc


def test_keys_round_trip(gw):
    env = admin_env(gw)
    name = "cli-" + marker()
    res = esgate("keys", "create", "--name", name, "--expiration", "1d",
                 "--role-descriptors", json.dumps(ta.BOOKS_READ), "--metadata", '{"team":"search"}', env=env)
    assert res.returncode == 0, res.stderr
    created = parse_fields(res.stdout)
    assert created["name"] == name and len(created["id"]) == 20, res.stdout
    encoded = created["encoded"]
    secret = base64.b64decode(encoded).decode().split(":", 1)[1]
    outputs = []

    # The printed key works, with the descriptors given.
    r = gw.get("/books/_search", user=None, headers={"Authorization": "ApiKey " + encoded})
    assert r.status_code == 200, r.text[:300]
    r = gw.get("/secret/_search", user=None, headers={"Authorization": "ApiKey " + encoded})
    assert r.status_code == 403, r.text[:300]

    res = esgate("keys", "list", "--name", name, env=env)
    outputs.append(res)
    assert res.returncode == 0, res.stderr
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["id", "name", "owner", "realm", "created", "expires", "invalidated",
                                "last_used"], res.stdout
    assert len(lines) == 3 and lines[2].split()[:4] == [created["id"], name, "admin", "default_file"], res.stdout
    assert lines[2].split()[6] == "no"

    res = esgate("keys", "list", "--name", name, "--json", env=env)
    outputs.append(res)
    assert res.returncode == 0, res.stderr
    api = gw.get("/_security/api_key", params={"name": name}).json()
    assert without_last_used(json.loads(res.stdout)) == without_last_used(api)

    res = esgate("keys", "get", "--id", created["id"], env=env)
    outputs.append(res)
    assert res.returncode == 0, res.stderr
    got = parse_fields(res.stdout)
    assert got["id"] == created["id"] and got["name"] == name and got["invalidated"] == "false", res.stdout
    assert json.loads(got["metadata"]) == {"team": "search"}

    res = esgate("keys", "get", "--id", created["id"], "--json", env=env)
    outputs.append(res)
    api = gw.get("/_security/api_key", params={"id": created["id"]}).json()
    assert res.returncode == 0 and without_last_used(json.loads(res.stdout)) == without_last_used(api)

    res = esgate("keys", "update", "--id", created["id"], "--metadata", '{"team":"ingest"}', env=env)
    outputs.append(res)
    assert res.returncode == 0 and res.stdout.strip() == f"{created['id']}: updated", (res.stdout, res.stderr)
    doc = json.loads(esgate("keys", "get", "--id", created["id"], "--json", env=env).stdout)
    assert doc["api_keys"][0]["metadata"] == {"team": "ingest"}

    res = esgate("keys", "invalidate", "--id", created["id"], env=env)
    outputs.append(res)
    assert res.returncode == 0, res.stderr
    assert [line.split()[:2] for line in res.stdout.splitlines()[2:]] == [[created["id"], "invalidated"]]

    res = esgate("keys", "get", "--id", created["id"], "--json", env=env)
    outputs.append(res)
    doc = json.loads(res.stdout)
    assert doc["api_keys"][0]["invalidated"] is True
    res = esgate("keys", "list", "--name", name, "--active-only", env=env)
    outputs.append(res)
    assert res.returncode == 0 and "(none)" in res.stdout, res.stdout
    r = gw.get("/books/_search", user=None, headers={"Authorization": "ApiKey " + encoded})
    assert r.status_code == 401

    # The secret appears in create's output only.
    for o in outputs:
        assert secret not in o.stdout + o.stderr and encoded not in o.stdout + o.stderr
    assert secret not in gw.stderr_text() and encoded not in gw.stderr_text()


def test_keys_create_json_is_the_api_response(gw):
    res = esgate("keys", "create", "--name", "cli-json", "--json", env=admin_env(gw))
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert set(doc) >= {"id", "name", "api_key", "encoded"} and doc["name"] == "cli-json"


def test_keys_credentials_from_flags_stdin_and_api_key(gw):
    res = esgate("keys", "--url", gw.url, "--user", ADMIN, "--password-stdin", "list", input=ADMIN_PW + "\n")
    assert res.returncode == 0, res.stderr
    # Options of `keys` may also follow the subcommand.
    res = esgate("keys", "list", "--url", gw.url, "--user", ADMIN, "--password-stdin", input=ADMIN_PW + "\n")
    assert res.returncode == 0, res.stderr
    key = gw.post("/_security/api_key", json={"name": "cli-admin-key"}).json()
    res = esgate("keys", "list", "--name", "cli-admin-key", env={"ESGATE_URL": gw.url,
                                                                 "ESGATE_API_KEY": key["encoded"]})
    assert res.returncode == 0 and key["id"] in res.stdout, (res.stdout, res.stderr)


def test_keys_errors_are_clear(gw):
    res = esgate("keys", "list", env={"ESGATE_URL": gw.url, "ESGATE_USER": ADMIN, "ESGATE_PASSWORD": "wrong"})
    assert res.returncode == 1
    assert res.stderr.startswith("error: security_exception: unable to authenticate"), res.stderr
    assert "wrong" not in res.stderr

    # alice may not manage keys: the gateway's 403 in its words.
    res = esgate("keys", "list", env={"ESGATE_URL": gw.url, "ESGATE_USER": "alice",
                                      "ESGATE_PASSWORD": ta.USERS["alice"][0]})
    assert res.returncode == 1 and res.stderr.startswith("error: security_exception: action ["), res.stderr

    res = esgate("keys", "get", "--id", "A" * 20, env=admin_env(gw))
    assert res.returncode == 1 and "no API key with id" in res.stderr, res.stderr

    port = free_port()
    res = esgate("keys", "list", env={**admin_env(gw), "ESGATE_URL": f"http://127.0.0.1:{port}"})
    assert res.returncode == 1 and res.stderr.startswith(f"error: cannot connect to 127.0.0.1:{port}"), res.stderr

    res = esgate("keys", "list", env={"ESGATE_URL": gw.url})
    assert res.returncode == 2 and "no credentials" in res.stderr, res.stderr
    res = esgate("keys", "get", env=admin_env(gw))
    assert res.returncode == 2, res.stderr
    res = esgate("keys", "create", "--name", "x", "--role-descriptors", "/nonexistent.json", env=admin_env(gw))
    assert res.returncode == 2 and "--role-descriptors" in res.stderr, res.stderr


def test_keys_over_tls_verify_the_gateway(make_gateway, tmp_path):
    certs = tmp_path / "tls"
    certs.mkdir()
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(certs / "key.pem"), "-out", str(certs / "cert.pem")],
                   check=True, capture_output=True)
    gw = make_gateway(config={"listen": {"tls": {"certificate": str(certs / "cert.pem"),
                                                 "key": str(certs / "key.pem")}}}, start=False)
    gw.start(wait=False)
    env = {"ESGATE_URL": f"https://127.0.0.1:{gw.port}", "ESGATE_USER": ADMIN, "ESGATE_PASSWORD": ADMIN_PW}
    import time
    deadline = time.monotonic() + 30
    while True:
        res = esgate("keys", "list", "--cacert", str(certs / "cert.pem"), env=env)
        if res.returncode == 0 or time.monotonic() > deadline or "cannot connect" not in res.stderr:
            break
        time.sleep(0.2)
    assert res.returncode == 0, res.stderr
    res = esgate("keys", "list", env=env)  # the system CAs do not know this certificate
    assert res.returncode == 1 and "TLS handshake" in res.stderr, res.stderr
    res = esgate("keys", "list", "--insecure", env=env)
    assert res.returncode == 0, res.stderr


# --------------------------------------------------------------------------------------------
# esgate explain vs the live gateway


def _targets(test) -> list:
    for m in getattr(test, "pytestmark", []):
        if m.name == "parametrize" and m.args[0] == "target":
            return list(m.args[1])
    raise AssertionError(f"no target table on {test.__name__}")


def _bulk_body() -> bytes:
    return (json.dumps({"index": {"_index": "secret", "_id": "x1"}}) + "\n" + json.dumps({"m": 1}) + "\n"
            + json.dumps({"create": {"_index": "books", "_id": "x1"}}) + "\n" + json.dumps({"m": 1}) + "\n"
            ).encode()


def authorization_table() -> list:
    """Every (identity, method, target, body) the authorization tests send, from their tables."""
    ids = ta.IDENTITIES
    rows = []
    add = lambda who, method, target, body=None: rows.append((who, method, target, body))
    for who in ids:
        add(who, "GET", "/books/_search?size=5")
        for t in _targets(ta.test_wildcards_and_all_are_narrowed_to_authorized_indices):
            add(who, "GET", t)
        add(who, "GET", "/_count")
        add(who, "POST", "/*/_count", b'{"query":{"match_all":{}}}')
        add(who, "GET", "/secret*/_search")
        for t in _targets(ta.test_an_explicit_unauthorized_name_denies_the_whole_request):
            add(who, "GET", t)
        add(who, "GET", "/secret/_doc/s1")
        for t in ta.NASTY:
            add(who, "GET", t)
        add(who, "GET", "/_cat/indices/secret")
        for method, t in [("PUT", "/books/_doc/x"), ("POST", "/books/_doc"), ("DELETE", "/books/_doc/b1"),
                          ("PUT", "/books"), ("DELETE", "/books"), ("PUT", "/books/_mapping")]:
            add(who, method, t, None if method == "DELETE" else b'{"x":1}')
    for who in ids + ["logan", "mona"]:
        for t in _targets(ta.test_cat_indices_never_lists_secret):
            add(who, "GET", t)
    for who in ids + ["logan"]:
        for t in ("/_bulk", "/secret/_bulk", "/books/_bulk"):
            add(who, "POST", t, _bulk_body())
    add("logan", "POST", "/logs-a/_doc", b'{"m":1}')
    add("logan", "PUT", "/logs-b/_create/new1", b'{"m":1}')
    for method, t in [("PUT", "/logs-a/_doc/l1"), ("POST", "/logs-a/_doc/l1"),
                      ("PUT", "/logs-a/_doc/new-one?op_type=index"), ("POST", "/logs-a/_update/l1"),
                      ("DELETE", "/logs-a/_doc/l1"), ("POST", "/secret/_doc"), ("PUT", "/secret/_doc/1"),
                      ("PUT", "/secret/_create/1"), ("GET", "/logs-a/_search"), ("POST", "/books/_doc")]:
        add("logan", method, t, None if method in ("GET", "DELETE") else b'{"m":1,"doc":{"m":1}}')
    for who in ("alice", "api_key", "logan"):
        add(who, "GET", "/_cluster/health")
    for method, t in [("GET", "/_nonexistent_api/x"), ("POST", "/_some/new/thing"),
                      ("PUT", "/_cluster/settings"), ("POST", "/_security/user/eve")]:
        for who in ("alice", "logan", "api_key"):
            add(who, method, t, b"{}" if method != "GET" else None)
    # _msearch and _mget bodies, per item
    msearch = b'{"index":"books"}\n{}\n{"index":"secret"}\n{}\n'
    mget = b'{"docs":[{"_index":"books","_id":"b1"},{"_index":"secret","_id":"s1"}]}'
    for who in ids + ["mona"]:
        add(who, "POST", "/_msearch", msearch)
        add(who, "POST", "/_mget", mget)
    return rows


TABLE = authorization_table()


@pytest.fixture(scope="module")
def resolve_file(shared, tmp_path_factory):
    """The cluster's names as the gateway fetches them, saved for --resolve (read from the stub by the
    test itself: explain never talks to the upstream)."""
    shared.stub.reset()
    ta.fill(shared.stub)
    r = requests.get(shared.stub.url + "/_resolve/index/*?expand_wildcards=all",
                     headers={"Authorization": ta.UPSTREAM_AUTH}, timeout=10)
    assert r.status_code == 200, r.text
    path = tmp_path_factory.mktemp("resolve") / "resolve.json"
    path.write_text(r.text)
    return str(path)


def explain(gw, who: str, method: str, target: str, body: bytes | None, resolve: str | None,
            tmp_path, extra=()) -> subprocess.CompletedProcess:
    args = ["explain", "--config", gw.config_path, "--json"]
    args += ["--api-key", gw.books_key["id"]] if who == "api_key" else ["--user", who]
    if body is not None:
        f = tmp_path / "body"
        f.write_bytes(body)
        args += ["--body", str(f)]
    if resolve:
        args += ["--resolve", resolve]
    return esgate(*args, *extra, method, target)


def _upstream_saw(stub, since: int) -> list:
    return [(r.method, r.target) for r in stub.requests[since:] if r.path != "/"]


@pytest.mark.parametrize("who,method,target,body", TABLE,
                         ids=[f"{w}-{m}-{t}" for w, m, t, _ in TABLE])
def test_explain_agrees_with_the_live_decision(gw, resolve_file, tmp_path, who, method, target, body):
    before = len(gw.stub.requests)
    res = explain(gw, who, method, target, body, resolve_file, tmp_path)
    assert res.returncode in (0, 1, 3), res.stderr
    assert _upstream_saw(gw.stub, before) == [], "explain reached the upstream"
    doc = json.loads(res.stdout)
    live = ta.send(gw, who, method, target, body,
                   ctype="application/x-ndjson" if body and b"\n{" in body else "application/json")
    if doc["decision"] == "not_evaluated":
        # The security API authorizes each call itself; explain says so instead of guessing.
        assert target.startswith("/_security/") and res.returncode == 3, doc
        return
    want = 200 if 200 <= live.status < 300 else live.status
    assert doc["status"] == want, (doc, live.status, live.body[:400])
    assert res.returncode == (0 if doc["decision"] == "granted" else 1), doc
    if live.status == 403:
        assert doc["decision"] == "denied" and doc["error"]["reason"] == live.json()["error"]["reason"], doc
    if "items" in doc and live.status == 200:
        key = {"/_bulk": "items", "/_msearch": "responses", "/_mget": "docs"}[
            "/" + target.split("?")[0].rstrip("/").split("/")[-1]]
        live_items = live.json()[key]

        def item_ok(i) -> bool:
            inner = next(iter(i.values())) if key == "items" else i
            err = inner.get("error")
            return not (isinstance(err, dict) and err.get("type") == "security_exception")
        assert [i["granted"] for i in doc["items"]] == [item_ok(i) for i in live_items], (doc, live_items)


def test_explain_names_the_role_and_privilege(gw, resolve_file, tmp_path):
    res = explain(gw, "alice", "GET", "/books/_search", None, None, tmp_path)
    assert res.returncode == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["decision"] == "granted" and doc["action"] == "indices:data/read/search"
    assert doc["forward"] == "GET /books/_search"
    check = [c for c in doc["checks"] if c["check"] == "index_action"][0]
    assert check["index"] == "books" and check["granted"]
    assert check["layers"][0]["grants"] == [{"role": "books-read-only", "privilege": "read", "kind": "index",
                                            "names": ["books"]}]

    res = explain(gw, "api_key", "GET", "/secret/_search", None, None, tmp_path)
    assert res.returncode == 1
    doc = json.loads(res.stdout)
    layers = [c for c in doc["checks"] if c["check"] == "index_action"][0]["layers"]
    # The key's own descriptors refuse; the owner (a superuser) would allow.
    assert [(l["layer"], l["granted"]) for l in layers] == [("the key's role_descriptors", False),
                                                           ("roles of the key's owner [admin]", True)], layers

    text = explain(gw, "logan", "POST", "/_bulk", _bulk_body(), resolve_file, tmp_path, extra=())
    res = esgate("explain", "--config", gw.config_path, "--user", "logan", "--body", str(tmp_path / "body"),
                 "POST", "/_bulk")
    assert res.returncode == 1, res.stderr
    assert "decision  denied" in res.stdout and "#0  DENIED" in res.stdout and "#1  DENIED" in res.stdout, res.stdout
    assert text.returncode == 1

    res = esgate("explain", "--config", gw.config_path, "--user", "mona", "GET", "/_cluster/health")
    assert res.returncode == 0 and "role [books-monitor] cluster privilege [monitor]" in res.stdout, res.stdout


def test_explain_usage_and_config_errors(gw, tmp_path):
    res = esgate("explain", "--config", gw.config_path, "GET", "/books/_search")
    assert res.returncode == 2 and "exactly one of" in res.stderr, res.stderr
    res = esgate("explain", "--config", gw.config_path, "--user", "nobody", "GET", "/books/_search")
    assert res.returncode == 2 and "no user [nobody]" in res.stderr, res.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("listen: {port: [1]}\n")
    res = esgate("explain", "--config", str(bad), "--user", "alice", "GET", "/")
    assert res.returncode == 2 and "bad.yaml:" in res.stderr, res.stderr
    res = esgate("explain", "--config", gw.config_path, "--user", "alice")
    assert res.returncode == 2
    # An unknown key id and an invalidated key: what the gateway would answer (401).
    res = esgate("explain", "--config", gw.config_path, "--api-key", "B" * 20, "GET", "/books/_search")
    assert res.returncode == 1 and "decision  rejected (HTTP 401)" in res.stdout, res.stdout
    key = gw.post("/_security/api_key", json={"name": "explain-dead"}).json()
    assert gw.request("DELETE", "/_security/api_key", json={"ids": [key["id"]]}).status_code == 200
    res = esgate("explain", "--config", gw.config_path, "--api-key", key["id"], "--json", "GET", "/books/_search")
    doc = json.loads(res.stdout)
    assert res.returncode == 1 and doc["status"] == 401 and "invalidated" in doc["error"]["reason"], doc
