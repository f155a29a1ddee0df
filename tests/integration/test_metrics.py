"""Prometheus metrics (issue 11 item 1): known requests, then a scrape, compared family by family.

The gateway runs with one I/O thread (so the key cache's hits and misses are deterministic) and the
`metrics.listen` listener, whose scrapes are not requests of the main listener: a scrape there
changes no family but `esgate_scrapes_total`, so deltas between two scrapes are exactly what the
requests in between did.
"""

from __future__ import annotations

import base64
import json
import os
import re
import socket

import pytest
import requests

from conftest import DEFAULT_ROLES, DEFAULT_USERS
from helpers import basic, esgate_missing_reason, free_port, marker, raw_request

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse(text: str) -> dict:
    """{(name, ((label, value), ...)): value} of every sample; checks the HELP/TYPE lines too."""
    out, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = SAMPLE.match(line)
        assert m, f"not a Prometheus sample line: {line!r}"
        name, labels, value = m.group(1), m.group(2) or "", m.group(3)
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in typed or base in typed, f"{name} has no # TYPE line"
        key = (name, tuple(sorted(LABEL.findall(labels))))
        assert key not in out, f"duplicate sample {key}"
        out[key] = float(value)
    return out


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def total(samples: dict, name: str, **labels) -> float:
    """Sum over every sample of `name` whose labels include `labels`."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= set(ls))


@pytest.fixture(scope="module")
def gw(make_module_gateway, tmp_path_factory):
    from stub_es import StubES
    stub = StubES()
    stub.es.create_index("books")
    stub.es.create_index("logs-a")
    stub.es.create_index("secret")
    users = dict(DEFAULT_USERS)
    users["writer"] = ("writer-password-89ab", ["logs-writer"])
    port = free_port()
    g = make_module_gateway(upstreams=[stub], users=users, roles=dict(DEFAULT_ROLES),
                            config={"threads": 1, "metrics": {"listen": f"127.0.0.1:{port}"}})
    g.metrics_port = port
    yield g
    stub.close()


def scrape(gw) -> dict:
    r = requests.get(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=10)
    assert r.status_code == 200, r.text[:500]
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return parse(r.text)


def delta(before: dict, after: dict) -> dict:
    keys = set(before) | set(after)
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in keys
            if after.get(k, 0.0) != before.get(k, 0.0)}


def node_label(gw) -> str:
    return gw.stub.url.rstrip("/")


def create_key(gw, name: str) -> dict:
    r = gw.post("/_security/api_key", json={"name": name})
    assert r.status_code == 200, r.text[:300]
    return r.json()


def test_known_requests_move_every_family_by_exactly_their_count(gw):
    key = create_key(gw, "metrics-known")  # before the baseline: its own requests are not counted
    before = scrape(gw)
    m = marker()
    alice = {"Authorization": gw.auth_header("alice"), "X-Opaque-Id": m}
    # 2 x 200 search (file realm), 1 x 403 on an index alice may not read.
    assert gw.get("/books/_search", user="alice").status_code == 200
    assert gw.get("/books/_search", user="alice").status_code == 200
    assert gw.get("/secret/_search", user="alice").status_code == 403
    # 401: a wrong password, an unknown API key id, a known id with a wrong secret; then the key.
    assert gw.get("/books/_search", user=None,
                  headers={"Authorization": basic("alice", "wrong")}).status_code == 401
    assert gw.get("/books/_search", user=None,
                  headers={"Authorization": "ApiKey " + base64.b64encode(
                      b"AAAAAAAAAAAAAAAAAAAA:BBBBBBBBBBBBBBBBBBBBBB").decode()}).status_code == 401
    bad = base64.b64encode(f"{key['id']}:{'x' * 22}".encode()).decode()
    assert gw.get("/books/_search", user=None, headers={"Authorization": "ApiKey " + bad}).status_code == 401
    assert gw.get("/books/_search", user=None,
                  headers={"Authorization": "ApiKey " + key["encoded"]}).status_code == 200
    assert gw.get("/books/_search", user=None,
                  headers={"Authorization": "ApiKey " + key["encoded"]}).status_code == 200
    # No credentials at all.
    assert gw.get("/books/_search", user=None).status_code == 401
    # A _bulk with two allowed items and one denied (writer: create_doc on logs-* only).
    body = (b'{"create":{"_index":"logs-a","_id":"m1"}}\n{"n":1}\n'
            b'{"create":{"_index":"books","_id":"m2"}}\n{"n":2}\n'
            b'{"create":{"_index":"logs-a","_id":"m3"}}\n{"n":3}\n')
    r = gw.post("/_bulk", user="writer", data=body, headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text[:300]
    assert [next(iter(i.values()))["status"] for i in r.json()["items"]] == [201, 403, 201]
    # An upstream error: the node resets the connection after reading a non-idempotent request.
    gw.stub.set_response("/logs-a/_doc", abort=True, times=1)
    r = gw.post("/logs-a/_doc", user="writer", json={"n": 4})
    assert r.status_code == 502, r.text[:300]
    after = scrape(gw)
    d = delta(before, after)

    req = "esgate_requests_total"
    assert value(d, req, method="GET", family="search", code="200") == 4
    assert value(d, req, method="GET", family="search", code="403") == 1
    assert value(d, req, method="GET", family="search", code="401") == 4
    assert value(d, req, method="POST", family="bulk", code="200") == 1
    assert value(d, req, method="POST", family="doc", code="502") == 1
    assert total(d, req) == 11

    au = "esgate_authentications_total"
    assert value(d, au, realm="file", result="success") == 2 + 1 + 2  # alice x3, writer x2
    assert value(d, au, realm="file", result="bad_password") == 1
    assert value(d, au, realm="api_key", result="unknown_key") == 1
    assert value(d, au, realm="api_key", result="bad_secret") == 1
    assert value(d, au, realm="api_key", result="success") == 2
    assert value(d, au, realm="none", result="missing") == 1
    assert total(d, au) == 11

    az = "esgate_authorizations_total"
    assert value(d, az, action_class="index", result="allowed") == 5  # 4 searches, the doc
    # _bulk is authorized by action name, then item by item (esgate_body_items_total).
    assert value(d, az, action_class="index_name_only", result="allowed") == 1
    assert value(d, az, action_class="index", result="denied") == 1
    assert total(d, az) == 7

    assert value(d, "esgate_body_items_total", api="bulk", result="allowed") == 2
    assert value(d, "esgate_body_items_total", api="bulk", result="denied") == 1

    # The unknown id and the wrong secret (the key's first use) read Redis: misses; both uses of
    # the right secret found the record cached: hits.
    kc = "esgate_key_cache_total"
    assert value(d, kc, event="miss") == 2
    assert value(d, kc, event="hit") == 2
    assert value(d, kc, event="stale") == 0 and value(d, kc, event="eviction") == 0
    assert value(d, "esgate_redis_command_duration_seconds_count") >= 2
    assert value(d, "esgate_redis_errors_total") == 0

    node = node_label(gw)
    assert value(d, "esgate_upstream_errors_total", node=node) == 1
    assert value(d, "esgate_upstream_retries_total", node=node) == 0
    # Every forwarded request but the failed one got a response head from the node.
    assert value(d, "esgate_upstream_duration_seconds_count", node=node) == 5
    assert value(d, "esgate_upstream_duration_seconds_bucket", node=node, le="+Inf") == 5
    assert value(d, "esgate_upstream_duration_seconds_sum", node=node) > 0
    assert value(d, "esgate_scrapes_total") == 1  # the first scrape (counted before the second read)

    # bcrypt ran for alice's first login, her wrong password and writer's first login; the rest
    # were verified logins found in the cache.
    assert value(d, "esgate_password_checks_total") == 3

    # Nothing else moved.
    moved = {n for (n, _) in d} - {req, au, az, "esgate_body_items_total", kc,
                                   "esgate_redis_command_duration_seconds_bucket",
                                   "esgate_redis_command_duration_seconds_count",
                                   "esgate_redis_command_duration_seconds_sum",
                                   "esgate_upstream_errors_total",
                                   "esgate_upstream_duration_seconds_bucket",
                                   "esgate_upstream_duration_seconds_count",
                                   "esgate_upstream_duration_seconds_sum",
                                   "esgate_scrapes_total", "esgate_connections_accepted_total",
                                   "esgate_password_checks_total",
                                   "esgate_connections_open"}
    assert not moved, moved


def test_histogram_buckets_are_cumulative_and_end_in_inf(gw):
    s = scrape(gw)
    node = node_label(gw)
    buckets = sorted(((float(dict(ls)["le"]), v) for (n, ls), v in s.items()
                      if n == "esgate_upstream_duration_seconds_bucket" and dict(ls)["node"] == node))
    assert buckets[-1][0] == float("inf")
    assert [v for _, v in buckets] == sorted(v for _, v in buckets)
    assert buckets[-1][1] == value(s, "esgate_upstream_duration_seconds_count", node=node)


def test_connections_gauge_and_accepted_counter(gw):
    before = scrape(gw)
    with gw.connect() as c:
        assert c.request("GET", "/books/_search", [("Authorization", gw.auth_header("alice"))]).status == 200
        during = scrape(gw)
        assert value(during, "esgate_connections_open") >= 1
    assert value(during, "esgate_connections_accepted_total") - value(before, "esgate_connections_accepted_total") == 1


def test_main_listener_metrics_need_cluster_monitor(gw):
    r = gw.get("/_esgate/metrics", user="alice")
    assert r.status_code == 403
    assert "cluster:monitor/esgate/metrics" in r.json()["error"]["reason"]
    assert gw.get("/_esgate/metrics", user=None).status_code == 401
    r = gw.get("/_esgate/metrics", user="writer")  # logs-writer holds cluster monitor
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    s = parse(r.text)
    assert ("esgate_reloads_total", (("result", "ok"),)) in s
    before = scrape(gw)
    gw.get("/_esgate/metrics", user="alice")
    d = delta(before, scrape(gw))
    assert value(d, "esgate_authorizations_total", action_class="served", result="denied") == 1
    assert value(d, "esgate_requests_total", method="GET", family="esgate", code="403") == 1


def test_metrics_listener_serves_only_its_two_paths_without_auth(gw):
    base = f"http://127.0.0.1:{gw.metrics_port}"
    for path in ("/metrics", "/_esgate/metrics", "/metrics?x=1"):
        r = requests.get(base + path, timeout=10)
        assert r.status_code == 200, path
        assert "# TYPE esgate_requests_total counter" in r.text
    assert requests.get(base + "/", timeout=10).status_code == 404
    assert requests.get(base + "/books/_search", timeout=10).status_code == 404
    assert requests.post(base + "/metrics", timeout=10).status_code == 405
    r = requests.head(base + "/metrics", timeout=10)
    assert r.status_code == 200 and r.content == b""


def test_metrics_listener_is_bound_to_its_address_only(gw):
    # 127.0.0.2 is loopback too, but the listener is bound to 127.0.0.1 alone.
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.2", gw.metrics_port), timeout=2).close()


def test_the_exposition_carries_no_secret(gw):
    key = create_key(gw, "metrics-secret")
    gw.get("/books/_search", user=None, headers={"Authorization": "ApiKey " + key["encoded"]})
    text = requests.get(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=10).text
    for secret in (key["id"], key["api_key"], key["encoded"], DEFAULT_USERS["alice"][0], "alice",
                   "writer-password-89ab"):
        assert secret not in text


def test_bad_metrics_listen_is_a_startup_error(make_gateway):
    gw = make_gateway(config={"metrics": {"listen": "localhost:9244"}}, start=False)
    from conftest import run_esgate
    r = run_esgate("check-config", "--config", gw.config_path)
    assert r.returncode != 0
    assert "metrics.listen" in (r.stdout + r.stderr)


def test_every_family_is_documented_and_on_the_dashboard_only_real_ones(gw):
    root = os.path.join(os.path.dirname(__file__), "..", "..")
    with open(os.path.join(root, "README.md")) as f:
        readme = f.read()
    text = requests.get(f"http://127.0.0.1:{gw.metrics_port}/metrics", timeout=10).text
    families = set(re.findall(r"^# TYPE (\S+) ", text, re.M))
    assert len(families) >= 20
    for name in families:
        assert f"| `{name}` |" in readme, f"{name} is not in the README's metrics table"
    with open(os.path.join(root, "config", "grafana-esgate.json")) as f:
        dashboard = json.load(f)
    used = set()
    for panel in dashboard["panels"]:
        for t in panel["targets"]:
            used |= {re.sub(r"_(bucket|sum|count)$", "", n) for n in re.findall(r"esgate_[a-z_]+", t["expr"])}
    assert used and used <= families, used - families


def test_a_streamed_bulk_counts_its_items_once(make_gateway):
    """A bulk above limits.body_lookahead is filtered as it streams; its items are counted once the
    request is done, also when the answer is rebuilt for `filter_path` (it used to be counted by each
    of the two rewrite paths it went through)."""
    from stub_es import StubES
    stub = StubES()
    stub.es.create_index("logs-a")
    users = dict(DEFAULT_USERS)
    users["writer"] = ("writer-password-89ab", ["logs-writer"])
    port = free_port()
    g = make_gateway(upstreams=[stub], users=users, roles=dict(DEFAULT_ROLES),
                     config={"threads": 1, "metrics": {"listen": f"127.0.0.1:{port}"},
                             "limits": {"body_lookahead": "2mb"}})
    g.metrics_port = port
    try:
        m = marker()
        lines = []
        for i in range(25000):  # ~2.6 MB: over the look-ahead
            index = "books" if i in (7, 24000) else "logs-a"
            lines.append(json.dumps({"create": {"_index": index, "_id": f"{m}-{i}"}}))
            lines.append(json.dumps({"n": i, "pad": "x" * 40}))
        body = ("\n".join(lines) + "\n").encode()
        assert len(body) > 2 * 1024 * 1024
        before = scrape(g)
        # Without gzip the gateway first tries to splice the answer as parts, then rebuilds it for
        # the filter_path: the two paths the count used to be taken on.
        r = g.post("/_bulk?filter_path=errors,items.*.status", user="writer", data=body,
                   headers={"Content-Type": "application/x-ndjson", "Accept-Encoding": "identity"})
        assert r.status_code == 200, r.text[:300]
        statuses = [next(iter(i.values()))["status"] for i in r.json()["items"]]
        assert len(statuses) == 25000 and statuses[7] == 403 and statuses[24000] == 403
        assert [q for q in stub.requests if q.path == "/_bulk"], "the allowed items reached the stub"
        d = delta(before, scrape(g))
        assert value(d, "esgate_body_items_total", api="bulk", result="allowed") == 24998
        assert value(d, "esgate_body_items_total", api="bulk", result="denied") == 2
    finally:
        stub.close()
