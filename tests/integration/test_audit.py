"""Audit log, access log, structured logs and the shadow policy, over the real binary.

Every event type is produced by the request that should produce it and checked field by field; the audit
file, the access log and stderr never contain a secret used in the test; SIGHUP reopens a rotated file;
a flood with a tiny queue drops and counts instead of blocking; the shadow policy counts and audits without
changing a response or what reached the upstream."""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import UPSTREAM_PASSWORD, run_esgate
from helpers import basic, esgate_missing_reason, marker, wait_until

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

USERS = {
    "admin": ("admin-password-0123", ["superuser"]),
    "alice": ("alice-password-4567", ["books-read-only"]),
}
ROLES = {
    "books-read-only": {"cluster": ["manage_own_api_key"],
                        "indices": [{"names": ["books"], "privileges": ["read"]}]},
}
# The trial: alice would read `secret` instead of `books`.
SHADOW_ROLES = {
    "books-read-only": {"cluster": ["manage_own_api_key"],
                        "indices": [{"names": ["secret"], "privileges": ["read"]}]},
}
ALL_EVENTS = ["authentication_success", "authentication_failed", "access_granted", "access_denied",
              "anonymous_access_denied", "tampered_request", "security_config_change", "shadow_granted",
              "shadow_denied"]


def fill(stub) -> None:
    stub.es.create_index("books", {"b1": {"title": "Dune"}})
    stub.es.create_index("secret", {"s1": {"title": "classified"}})


def read_lines(path: str) -> list:
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for raw in data.split(b"\n"):
        if raw:
            out.append(json.loads(raw.decode("utf-8")))  # every line is valid UTF-8 JSON
    return out


def events(path: str, action: str | None = None) -> list:
    return [e for e in read_lines(path) if action is None or e.get("event.action") == action]


def wait_event(path: str, pred, what: str, timeout: float = 10.0) -> dict:
    def found():
        for e in read_lines(path):
            if pred(e):
                return e
        return None
    return wait_until(found, timeout, what)


def metric(gw, name: str, labels: str = "") -> int:
    text = gw.get("/_esgate/metrics", user="admin").text
    key = name + ("{" + labels + "}" if labels else "")
    for line in text.splitlines():
        if line.startswith(key + " "):
            return int(line.split()[-1])
    return 0


def audit_config(path: str, **extra) -> dict:
    cfg = {"audit": {"enabled": True, "file": path, **extra}}
    return cfg


def assert_no_secrets(texts: list, secrets: list) -> None:
    for secret in secrets:
        assert secret, "empty secret in the list"
        for name, text in texts:
            assert secret not in text, f"secret {secret[:6]}… found in {name}"


def file_text(path: str) -> str:
    if not os.path.exists(path):
        return ""
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------


def test_every_event_type_with_its_fields_and_no_secret_anywhere(make_gateway, tmp_path):
    audit_path = str(tmp_path / "audit.log")
    access_path = str(tmp_path / "access.log")
    cfg = audit_config(audit_path, events={"include": ALL_EVENTS})
    cfg["logging"] = {"format": "json", "access_log": access_path, "level": "debug"}
    gw = make_gateway(config=cfg, users=USERS, roles=ROLES)
    fill(gw.stub)
    secrets = [pw for pw, _ in USERS.values()] + [UPSTREAM_PASSWORD]
    secrets += [basic(u, pw).split(" ", 1)[1] for u, (pw, _) in USERS.items()]

    # anonymous_access_denied
    m = marker()
    r = gw.get("/books/_search", user=None, headers={"X-Opaque-Id": m})
    assert r.status_code == 401
    e = wait_event(audit_path, lambda e: e.get("opaque_id") == m, "anonymous_access_denied")
    assert e["event.action"] == "anonymous_access_denied"
    assert e["event.type"] == "rest"
    assert e["origin.address"] == "127.0.0.1"
    assert e["url.path"] == "/books/_search"
    assert e["request.method"] == "GET"
    assert e["request.id"]

    # authentication_failed: a Basic user with a wrong password (the name is logged, never the password)
    wrong = "wrong-password-" + marker()
    secrets.append(wrong)
    m = marker()
    r = gw.get("/books/_search", user=None,
               headers={"Authorization": basic("alice", wrong), "X-Opaque-Id": m})
    assert r.status_code == 401
    e = wait_event(audit_path, lambda e: e.get("opaque_id") == m, "authentication_failed")
    assert e["event.action"] == "authentication_failed"
    assert e["user.name"] == "alice"
    assert e["reason"] == "bad_password"
    assert e["authentication.type"] == "REALM"

    # authentication_success + access_granted (included here)
    m = marker()
    r = gw.get("/books/_search?q=title:dune", user="alice", headers={"X-Opaque-Id": m})
    assert r.status_code == 200
    e = wait_event(audit_path, lambda e: e.get("opaque_id") == m and
                   e["event.action"] == "access_granted", "access_granted")
    assert e["event.type"] == "transport"
    assert e["user.name"] == "alice"
    assert e["user.realm"] == "default_file"
    assert e["user.roles"] == ["books-read-only"]
    assert e["action"] == "indices:data/read/search"
    assert e["indices"] == ["books"]
    assert e["decision"] == "allow"
    assert e["url.path"] == "/books/_search"  # no query string
    ok = [x for x in events(audit_path, "authentication_success") if x.get("opaque_id") == m]
    assert len(ok) == 1 and ok[0]["authentication.type"] == "REALM"

    # access_denied names the privilege that would grant it
    m = marker()
    r = gw.get("/secret/_search", user="alice", headers={"X-Opaque-Id": m})
    assert r.status_code == 403
    e = wait_event(audit_path, lambda e: e.get("opaque_id") == m and
                   e["event.action"] == "access_denied", "access_denied")
    assert e["indices"] == ["secret"]
    assert e["decision"] == "deny"
    assert "privileges [read,all]" in e["reason"]
    assert e["http.status"] == 403

    # tampered_request: a protocol upgrade the gateway refuses before authentication
    m = marker()
    resp = gw.raw("GET", "/books/_search", [("Upgrade", "h2c"), ("Connection", "Upgrade"),
                                            ("X-Opaque-Id", m)], user="alice")
    assert resp.status == 400
    e = wait_event(audit_path, lambda e: e.get("opaque_id") == m, "tampered_request")
    assert e["event.action"] == "tampered_request"
    assert e["http.status"] == 400
    assert "user.name" not in e  # refused before authentication

    # security_config_change: create, use, update, invalidate an API key
    r = gw.post("/_security/api_key", json={"name": "audit-key"}, user="admin")
    assert r.status_code == 200
    key = r.json()
    secrets += [key["api_key"], key["encoded"]]
    e = wait_event(audit_path, lambda e: e.get("event.action") == "create_apikey", "create_apikey")
    assert e["event.type"] == "security_config_change"
    assert e["event.outcome"] == "success"
    assert e["apikey.ids"] == [key["id"]]
    assert e["apikey.name"] == "audit-key"
    assert e["user.name"] == "admin"

    m = marker()
    r = gw.get("/books/_search", user=None,
               headers={"Authorization": "ApiKey " + key["encoded"], "X-Opaque-Id": m})
    assert r.status_code == 200
    e = wait_event(audit_path, lambda e: e.get("opaque_id") == m and
                   e["event.action"] == "authentication_success", "API key authentication_success")
    assert e["authentication.type"] == "API_KEY"
    assert e["authentication.api_key.id"] == key["id"]
    assert e["authentication.api_key.name"] == "audit-key"
    assert e["user.realm"] == "_es_api_key"

    # a wrong secret for a real id: authentication_failed with the id, never the secret tried
    bad_secret = "A" * 22
    bad_encoded = base64.b64encode(f"{key['id']}:{bad_secret}".encode()).decode()
    secrets.append(bad_encoded)
    m = marker()
    r = gw.get("/books/_search", user=None,
               headers={"Authorization": "ApiKey " + bad_encoded, "X-Opaque-Id": m})
    assert r.status_code == 401
    e = wait_event(audit_path, lambda e: e.get("opaque_id") == m, "API key authentication_failed")
    assert e["authentication.api_key.id"] == key["id"]
    assert e["reason"] == "bad_api_key_secret"

    r = gw.put(f"/_security/api_key/{key['id']}", json={"metadata": {"a": 1}}, user="admin")
    assert r.status_code == 200, r.text
    e = wait_event(audit_path, lambda e: e.get("event.action") == "change_apikey", "change_apikey")
    assert e["apikey.ids"] == [key["id"]]

    r = gw.request("DELETE", "/_security/api_key", json={"ids": [key["id"]]}, user="admin")
    assert r.status_code == 200
    e = wait_event(audit_path, lambda e: e.get("event.action") == "invalidate_apikeys",
                   "invalidate_apikeys")
    assert e["apikey.ids"] == [key["id"]]

    # policy reload, ok then failed
    gw.reload()
    e = wait_event(audit_path, lambda e: e.get("event.action") == "reload_security_config",
                   "reload_security_config")
    assert e["event.outcome"] == "success"
    with open(os.path.join(gw.dir, "roles.yml"), "w") as f:
        f.write("books-read-only: [unclosed\n")
    gw.reload()
    e = wait_event(audit_path, lambda e: e.get("event.action") == "reload_security_config" and
                   e["event.outcome"] == "failure", "failed reload")
    gw.write_yaml("roles.yml", ROLES)

    # The access log: one JSON line per request, no query string, durations and identity.
    m = marker()
    r = gw.get("/books/_search?api_key=" + key["encoded"] + "&password=" + wrong, user="alice",
               headers={"X-Opaque-Id": m})
    line = wait_until(lambda: next((x for x in read_lines(access_path) if x.get("opaque_id") == m), None),
                      10, "access log line")
    assert line["url.path"] == "/books/_search"
    assert line["http.request.method"] == "GET"
    assert line["http.response.status_code"] == 200
    assert line["user.name"] == "alice"
    assert line["upstream.node"] == gw.stub.url
    for k in ("authn_us", "authz_us", "upstream_us", "total_us", "http.response.bytes"):
        assert isinstance(line[k], int) and line[k] >= 0, k

    # stderr is JSON lines with levels
    gw.stop()
    err_lines = [ln for ln in gw.stderr_text().splitlines() if ln.startswith("{")]
    assert err_lines, gw.stderr_text()[-2000:]
    for ln in err_lines:
        obj = json.loads(ln)
        assert obj["log.level"] in ("trace", "debug", "info", "warning", "warn", "error", "critical")

    # Every line of every file is valid JSON, and no secret appears anywhere.
    for e in read_lines(audit_path):
        assert e["type"] == "audit" and e["@timestamp"].endswith("Z") and e["event.action"]
    texts = [("audit log", file_text(audit_path)), ("access log", file_text(access_path)),
             ("stderr", gw.stderr_text())]
    assert_no_secrets(texts, secrets)
    assert "Authorization" not in file_text(audit_path)


def test_events_of_granted_requests_are_off_by_default(make_gateway, tmp_path):
    """authentication_success (not in Elasticsearch's default set) and access_granted are written only
    when included: a granted request writes no line, a denied one its access_denied."""
    audit_path = str(tmp_path / "audit.log")
    gw = make_gateway(config=audit_config(audit_path), users=USERS, roles=ROLES)
    fill(gw.stub)
    m = marker()
    assert gw.get("/books/_search", user="alice", headers={"X-Opaque-Id": m}).status_code == 200
    assert gw.get("/secret/_search", user="alice", headers={"X-Opaque-Id": m}).status_code == 403
    wait_event(audit_path, lambda e: e.get("opaque_id") == m and e["event.action"] == "access_denied",
               "access_denied")
    mine = [e for e in read_lines(audit_path) if e.get("opaque_id") == m]
    assert not [e for e in mine if e["event.action"] == "access_granted"]
    assert not [e for e in mine if e["event.action"] == "authentication_success"]


def test_include_and_exclude_select_events(make_gateway, tmp_path):
    audit_path = str(tmp_path / "audit.log")
    cfg = audit_config(audit_path, events={"include": ["access_granted", "access_denied"],
                                           "exclude": ["access_denied"]})
    gw = make_gateway(config=cfg, users=USERS, roles=ROLES)
    fill(gw.stub)
    m = marker()
    assert gw.get("/secret/_search", user="alice", headers={"X-Opaque-Id": m}).status_code == 403
    assert gw.get("/books/_search", user="alice", headers={"X-Opaque-Id": m}).status_code == 200
    wait_event(audit_path, lambda e: e.get("opaque_id") == m, "access_granted")
    assert {e["event.action"] for e in read_lines(audit_path)} == {"access_granted"}


def test_sighup_reopens_a_renamed_file(make_gateway, tmp_path):
    audit_path = str(tmp_path / "audit.log")
    gw = make_gateway(config=audit_config(audit_path), users=USERS, roles=ROLES)
    # A denied request: its access_denied is written with the default events.
    m1 = marker()
    assert gw.get("/secret/_search", user="alice", headers={"X-Opaque-Id": m1}).status_code == 403
    wait_event(audit_path, lambda e: e.get("opaque_id") == m1, "first line")
    os.rename(audit_path, audit_path + ".1")  # what logrotate does
    gw.reload()
    wait_until(lambda: os.path.exists(audit_path), 10, "the audit file recreated after SIGHUP")
    m2 = marker()
    assert gw.get("/secret/_search", user="alice", headers={"X-Opaque-Id": m2}).status_code == 403
    wait_event(audit_path, lambda e: e.get("opaque_id") == m2, "line in the new file")
    assert not [e for e in read_lines(audit_path) if e.get("opaque_id") == m1]
    old = read_lines(audit_path + ".1")
    assert [e for e in old if e.get("opaque_id") == m1]
    assert not [e for e in old if e.get("opaque_id") == m2]


def test_a_flood_with_a_tiny_queue_drops_and_counts_but_never_blocks(make_gateway, tmp_path):
    # The audit "file" is a pipe nobody reads: the writer thread blocks on it once the pipe buffer is
    # full, the queue of 2 fills up, and requests must still be answered at full speed.
    fifo = str(tmp_path / "audit.fifo")
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    stop_draining = threading.Event()
    try:
        cfg = audit_config(fifo, queue_size=1, events={"include": ALL_EVENTS})
        gw = make_gateway(config=cfg, users=USERS, roles=ROLES)
        fill(gw.stub)

        def one(_):
            return gw.get("/books/_search", user="alice", timeout=10).status_code

        start = time.monotonic()
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(one, range(600)))
        elapsed = time.monotonic() - start
        assert statuses == [200] * 600
        assert elapsed < 60, f"600 requests took {elapsed:.1f}s: audit must not block requests"
        dropped = metric(gw, "esgate_audit_events_dropped_total")
        assert dropped > 0
    finally:
        # Drain the pipe so the writer can finish at shutdown.
        def drain():
            while not stop_draining.is_set():
                try:
                    if not os.read(reader, 65536):
                        time.sleep(0.01)
                except BlockingIOError:
                    time.sleep(0.01)
        t = threading.Thread(target=drain, daemon=True)
        t.start()
        try:
            gw.stop()
        finally:
            stop_draining.set()
            t.join(5)
            os.close(reader)


def _shadow_run(make_gateway, tmp_path, stub, with_shadow: bool):
    audit_path = str(tmp_path / ("audit-shadow.log" if with_shadow else "audit-plain.log"))
    cfg = audit_config(audit_path, events={"include": ALL_EVENTS})
    gw = make_gateway(upstreams=[stub], config=cfg, users=USERS, roles=ROLES, start=False)
    if with_shadow:
        gw.write_yaml("roles.next.yml", SHADOW_ROLES)
        gw.config["security"]["shadow_roles_file"] = "roles.next.yml"
        gw.write_yaml("esgate.yaml", gw.config)
    gw.start()
    stub.reset()
    fill(stub)
    key = gw.post("/_security/api_key", json={"name": "shadow-key"}, user="alice").json()
    answers = []
    for user, path in [("alice", "/books/_search"), ("alice", "/secret/_search"),
                       ("admin", "/books/_search"), ("alice", "/books/_doc/b1"),
                       ("key", "/books/_search"), ("key", "/secret/_search")]:
        headers = {"X-Opaque-Id": f"{user} {path}"}
        if user == "key":
            headers["Authorization"] = "ApiKey " + key["encoded"]
            r = gw.get(path, user=None, headers=headers)
        else:
            r = gw.get(path, user=user, headers=headers)
        answers.append((user, path, r.status_code, r.text))
    upstream = [(q.method, q.target, q.header("X-Opaque-Id")) for q in stub.requests]
    granted = metric(gw, "esgate_shadow_decisions_total", 'result="granted"')
    denied = metric(gw, "esgate_shadow_decisions_total", 'result="denied"')
    gw.stop()
    return answers, upstream, granted, denied, audit_path


def test_the_shadow_policy_counts_and_audits_but_changes_nothing(make_gateway, make_stub, tmp_path):
    plain = _shadow_run(make_gateway, tmp_path, make_stub(), with_shadow=False)
    shadow = _shadow_run(make_gateway, tmp_path, make_stub(), with_shadow=True)
    assert [a[:3] for a in shadow[0]] == [a[:3] for a in plain[0]]
    # Response bodies agree except the took/ids that differ run to run: compare status + shape.
    for (u, p, s, body_a), (_, _, _, body_b) in zip(plain[0], shadow[0]):
        if s == 403:  # the same denial, but for the key's id (a new key per run)
            ids = re.compile(r"API key id \[[A-Za-z0-9_-]{20}\]")
            assert ids.sub("KEY", body_a) == ids.sub("KEY", body_b), (u, p)
    assert [(m, t) for m, t, _ in shadow[1]] == [(m, t) for m, t, _ in plain[1]]
    assert plain[2] == plain[3] == 0
    # alice: books (live allow, shadow deny), secret (live deny, shadow allow), her doc (allow/deny);
    # admin allow/allow; the key: books allow/deny, secret deny/allow.
    assert shadow[2] == 3, shadow[2:4]   # granted: alice secret, admin books, key secret
    assert shadow[3] == 3, shadow[2:4]   # denied: alice books, alice doc, key books
    lines = read_lines(shadow[4])
    differ = {(e["event.action"], e.get("opaque_id")) for e in lines
              if e["event.action"] in ("shadow_granted", "shadow_denied")}
    assert differ == {("shadow_denied", "alice /books/_search"), ("shadow_granted", "alice /secret/_search"),
                      ("shadow_denied", "alice /books/_doc/b1"), ("shadow_denied", "key /books/_search"),
                      ("shadow_granted", "key /secret/_search")}
    for e in lines:
        if e["event.action"].startswith("shadow_"):
            assert e["live_decision"] != e["decision"]
            assert e["reason"] == "security.shadow_roles_file"
    assert not [e for e in read_lines(plain[4]) if e["event.action"].startswith("shadow_")]


def test_check_config_checks_the_shadow_roles_file(make_gateway, tmp_path):
    gw = make_gateway(users=USERS, roles=ROLES, start=False)
    with open(os.path.join(gw.dir, "roles.next.yml"), "w") as f:
        f.write("books-read-only:\n  indices:\n    - names: [books]\n      privileges: [not_a_privilege]\n")
    gw.config["security"]["shadow_roles_file"] = "roles.next.yml"
    gw.write_yaml("esgate.yaml", gw.config)
    res = run_esgate("check-config", "--config", gw.config_path)
    assert res.returncode == 1
    assert re.search(r"roles\.next\.yml:\d+:\d+: ", res.stdout), res.stdout
    gw.write_yaml("roles.next.yml", SHADOW_ROLES)
    res = run_esgate("check-config", "--config", gw.config_path)
    assert res.returncode == 0, res.stdout + res.stderr


def test_unknown_audit_keys_and_events_are_errors(make_gateway):
    gw = make_gateway(users=USERS, roles=ROLES, start=False)
    gw.config["audit"] = {"enabled": True, "events": {"include": ["access_granted", "acess_denied"]},
                          "colour": "red"}
    gw.write_yaml("esgate.yaml", gw.config)
    res = run_esgate("check-config", "--config", gw.config_path)
    assert res.returncode == 1
    assert re.search(r"esgate\.yaml:\d+:\d+: .*acess_denied", res.stdout), res.stdout
    assert re.search(r"esgate\.yaml:\d+:\d+: .*colour", res.stdout), res.stdout
