"""Self-tests of the fixtures (run without esgate): redis readiness, config generation, the start-up
wait and the SIGTERM/exit-code teardown, driven through fake_esgate.py instead of the real binary."""

import os
import signal
import sys

import pytest
import yaml

from conftest import (DELETE, UPSTREAM_PASSWORD, UPSTREAM_USER, GatewayFactory, _HASHES, deep_merge,
                      hash_password)
from helpers import RawConnection, basic, build_request, free_port, wait_until

FAKE = os.path.join(os.path.dirname(__file__), "fake_esgate.py")


def test_redis_server_answers(redis_client, redis_server):
    assert redis_client.ping()
    redis_client.set("harness:k", "v")
    assert redis_client.get("harness:k") == b"v"
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"


def test_deep_merge():
    base = {"a": {"b": 1, "c": 2}, "d": [1], "e": 5}
    out = deep_merge(base, {"a": {"b": 9, "c": DELETE}, "d": [2], "f": {"g": 1}, "e": DELETE})
    assert out == {"a": {"b": 9}, "d": [2], "f": {"g": 1}}
    assert base == {"a": {"b": 1, "c": 2}, "d": [1], "e": 5}


def test_free_port_is_bindable():
    import socket
    p = free_port()
    with socket.socket() as s:
        s.bind(("127.0.0.1", p))


def test_build_request_shapes():
    assert build_request("GET", "/", port=9) == b"GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\n\r\n"
    assert build_request("POST", "/x", {"A": "1"}, b"ab", host=False) == \
        b"POST /x HTTP/1.1\r\nA: 1\r\nContent-Length: 2\r\n\r\nab"
    assert build_request("POST", "/x", chunks=[b"ab", b"", b"c"], host=False) == \
        b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n"
    assert basic("u", "p:w") == "Basic dTpwOnc="


def test_wait_until_reports_what_timed_out():
    with pytest.raises(AssertionError, match="the thing"):
        wait_until(lambda: False, 0.05, "the thing")
    assert wait_until(lambda: 7, 1, "x") == 7


@pytest.fixture
def fake_factory(redis_server, tmp_path_factory):
    factory = GatewayFactory(tmp_path_factory, redis_server, bin=FAKE)
    yield factory
    for gw in factory.gateways:  # clean up whatever a failing test left running
        if gw.running:
            gw.proc.kill()
            gw.proc.wait()
        gw._close_log()


def test_factory_writes_config_starts_and_stops_cleanly(fake_factory, stub):
    gw = fake_factory(upstreams=[stub, "http://127.0.0.1:1"],
                      config={"limits": {"max_body_bytes": "1kb"}, "threads": DELETE})
    cfg = yaml.safe_load(open(gw.config_path))
    assert cfg["listen"] == {"address": "127.0.0.1", "port": gw.port}
    assert cfg["upstream"]["nodes"] == [stub.url, "http://127.0.0.1:1"]
    assert cfg["upstream"]["auth"]["basic"] == {"username": UPSTREAM_USER, "password": UPSTREAM_PASSWORD}
    assert cfg["limits"] == {"shutdown_grace": "5s", "max_body_bytes": "1kb"} and "threads" not in cfg
    assert cfg["redis"]["url"] == fake_factory.redis.url
    users = yaml.safe_load(open(os.path.join(gw.dir, "users.yml")))["users"]
    assert set(users) == {"admin", "alice"}
    assert users["admin"]["roles"] == ["superuser"]
    assert users["alice"]["password_hash"].startswith("$2b$")
    roles = yaml.safe_load(open(os.path.join(gw.dir, "roles.yml")))
    assert roles["books-read-only"]["indices"][0]["names"] == ["books"]
    assert gw.stub is stub and gw.running

    r = gw.raw("GET", "/x")
    assert r.status == 200 and r.json() == {"method": "GET", "target": "/x"}
    assert gw.get("/_esgate/health", user=None).json()["status"] == "green"
    assert "fake esgate listening" in gw.stderr_text()
    assert fake_factory.close() == []
    assert gw.exit_code == 0 and not gw.running


def test_teardown_reports_nonzero_exit(fake_factory, monkeypatch):
    monkeypatch.setenv("FAKE_ESGATE_EXIT_CODE", "3")
    gw = fake_factory()
    problems = fake_factory.close()
    assert len(problems) == 1 and "exited with 3" in problems[0]
    assert gw.exit_code == 3


def test_teardown_reports_sanitizer_output(fake_factory):
    gw = fake_factory()
    with open(gw.stderr_path, "a") as f:
        f.write("x.cpp:1:2: runtime error: signed integer overflow\n")
    problems = fake_factory.close()
    assert len(problems) == 1 and "sanitizer" in problems[0]


def test_start_failure_is_reported_with_stderr(fake_factory):
    with pytest.raises(AssertionError, match="exited with 1 during start-up"):
        fake_factory(config={"security": {"users_file": "missing.yml"}})


def test_stop_with_explicit_signal(fake_factory):
    gw = fake_factory()
    assert gw.stop(signal.SIGTERM) == 0
    with pytest.raises(ConnectionRefusedError):
        RawConnection(gw.port, timeout=1)
    assert fake_factory.close() == []


def test_hash_password_is_cached(monkeypatch):
    h1 = hash_password("pw-1", FAKE)
    assert (FAKE, "pw-1") in _HASHES
    monkeypatch.setitem(_HASHES, (FAKE, "pw-1"), "$2b$04$cached")
    assert hash_password("pw-1", FAKE) == "$2b$04$cached"
    assert h1.startswith("$2b$04$")


def test_raw_connection_against_module_stub(stub):
    with RawConnection(stub.port) as c:
        c.send(build_request("GET", "/", port=stub.port))
        assert c.read_response().status == 200
    assert sys.version_info >= (3, 9)
