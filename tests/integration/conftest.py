"""Fixtures for esgate integration tests: a real redis-server, recording stub upstreams, and the real
esgate binary started from a generated config folder.

Everything that needs the binary asks for `esgate_bin` (directly or through a gateway fixture), which skips
with a clear reason when ESGATE_BIN is unset or missing. When it is present the tests run and must pass.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import signal
import subprocess
import uuid
from typing import Any, Optional

import pytest
import requests
import yaml

from helpers import (ESGATE_BIN, RawConnection, StopWaiting, basic, esgate_missing_reason, free_port,
                     raw_request, wait_until)
from stub_es import StubES

REDIS_SERVER = "/usr/bin/redis-server"
UPSTREAM_USER = "esgate"
UPSTREAM_PASSWORD = "upstream-secret-5c1f"
START_TIMEOUT = 30.0      # sanitizer builds start slowly on a busy 2-core box
STOP_TIMEOUT = 20.0

# name -> (password, roles)
DEFAULT_USERS = {
    "admin": ("admin-password-0123", ["superuser"]),
    "alice": ("alice-password-4567", ["books-read-only"]),
}

DEFAULT_ROLES = {
    "books-read-only": {"cluster": [], "indices": [{"names": ["books"], "privileges": ["read"]}]},
    "logs-writer": {"cluster": ["monitor"],
                    "indices": [{"names": ["logs-*"], "privileges": ["create_doc", "create_index"]}]},
}

DELETE = object()  # in config overrides: remove this key from the default config


# --------------------------------------------------------------------------------------------
# Generic helpers


def deep_merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        if v is DELETE:
            out.pop(k, None)
        elif isinstance(v, dict) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def run_esgate(*args: str, input: Optional[str] = None, timeout: float = 60.0,
               cwd: Optional[str] = None, bin: Optional[str] = None) -> subprocess.CompletedProcess:
    """Run the esgate binary with args (skips the test when there is none)."""
    if bin is None:
        reason = esgate_missing_reason()
        if reason:
            pytest.skip(reason)
        bin = ESGATE_BIN
    return subprocess.run([bin, *args], input=input, capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=_esgate_env())


def _esgate_env() -> dict:
    env = dict(os.environ)
    # UBSan only prints by default; make undefined behaviour fail the run visibly.
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    return env


_HASHES: dict = {}


def hash_password(password: str, bin: Optional[str] = None) -> str:
    """bcrypt hash via `esgate hash-password`, cached for the session (bcrypt is slow on purpose)."""
    key = (bin or ESGATE_BIN, password)
    if key not in _HASHES:
        # No trailing newline: correct for both "read a line" and "read everything" implementations.
        res = run_esgate("hash-password", input=password, bin=bin)
        assert res.returncode == 0, f"hash-password failed ({res.returncode}): {res.stderr}"
        hashes = [w for w in res.stdout.split() if w.startswith("$2")]
        assert len(hashes) == 1 and re.fullmatch(r"\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}", hashes[0]), \
            f"hash-password printed no single bcrypt hash: {res.stdout!r}"
        _HASHES[key] = hashes[0]
    return _HASHES[key]


# --------------------------------------------------------------------------------------------
# redis-server


class RedisServer:
    def __init__(self, workdir: str):
        self.port = free_port()
        self.log = open(os.path.join(workdir, "redis.log"), "wb")
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", workdir],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        import redis  # Debian's python3-redis
        self.client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

        def ready() -> bool:
            if self.proc.poll() is not None:
                raise StopWaiting(f"redis-server exited with {self.proc.returncode}")
            return self.client.ping()

        wait_until(ready, 15, f"redis-server on port {self.port}")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    if not os.path.exists(REDIS_SERVER):
        pytest.skip(f"{REDIS_SERVER} is not installed")
    server = RedisServer(str(tmp_path_factory.mktemp("redis")))
    yield server
    server.close()


@pytest.fixture
def redis_client(redis_server):
    return redis_server.client


# --------------------------------------------------------------------------------------------
# Stub upstreams


@pytest.fixture
def make_stub():
    stubs = []

    def make(**kw) -> StubES:
        s = StubES(**kw)
        stubs.append(s)
        return s

    yield make
    for s in stubs:
        s.close()


@pytest.fixture
def stub(make_stub) -> StubES:
    return make_stub()


# --------------------------------------------------------------------------------------------
# The gateway


_LIVE: list = []  # gateways started and not yet torn down (their stderr goes into failure reports)


class Gateway:
    """One running esgate process with its generated config folder."""

    def __init__(self, workdir: str, config: dict, users: dict, roles: dict, stubs: list,
                 bin: str = ""):
        self.bin = bin or ESGATE_BIN
        self.dir = workdir
        self.config = config
        self.users = users            # name -> (password, roles)
        self.roles = roles
        self.stubs = stubs
        self.stub: Optional[StubES] = stubs[0] if stubs else None
        self.port: int = config["listen"]["port"]
        self.config_path = os.path.join(workdir, "esgate.yaml")
        self.stderr_path = os.path.join(workdir, "esgate.stderr")
        self.proc: Optional[subprocess.Popen] = None
        self.exit_code: Optional[int] = None
        self.expect_exit_code: Optional[int] = 0   # None = do not check at teardown
        self.write_files()

    # ---- files

    def write_files(self) -> None:
        users_doc = {"users": {name: {"password_hash": hash_password(pw, self.bin), "roles": list(r)}
                               for name, (pw, r) in self.users.items()}}
        self.write_yaml("users.yml", users_doc)
        self.write_yaml("roles.yml", self.roles)
        self.write_yaml("esgate.yaml", self.config)

    def write_yaml(self, name: str, doc: Any) -> str:
        path = os.path.join(self.dir, name)
        text = yaml.safe_dump(doc, sort_keys=False, default_flow_style=False) if doc else "{}\n"
        with open(path + ".tmp", "w") as f:
            f.write(text)
        os.replace(path + ".tmp", path)
        return path

    # ---- process

    def start(self, wait: bool = True) -> "Gateway":
        self._stderr = open(self.stderr_path, "ab")
        self.proc = subprocess.Popen([self.bin, "--config", self.config_path], cwd=self.dir,
                                     stdin=subprocess.DEVNULL, stdout=self._stderr, stderr=self._stderr,
                                     env=_esgate_env())
        _LIVE.append(self)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT) -> None:
        def ready() -> bool:
            if self.proc.poll() is not None:
                raise StopWaiting(f"esgate exited with {self.proc.returncode} during start-up:\n"
                                     f"{self.stderr_text()[-4000:]}")
            return raw_request(self.port, "GET", "/_esgate/health", timeout=2).status in (200, 503)

        try:
            wait_until(ready, timeout, f"esgate health on port {self.port}")
        except StopWaiting:
            raise
        except AssertionError as e:
            raise AssertionError(f"{e}\n--- esgate stderr ---\n{self.stderr_text()[-4000:]}") from None

    def send_signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def reload(self) -> None:
        self.send_signal(signal.SIGHUP)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = STOP_TIMEOUT) -> int:
        """Send sig and wait for exit; returns the exit code (killed = AssertionError)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self._close_log()
                raise AssertionError(f"esgate did not exit within {timeout}s of signal {sig}:\n"
                                     f"{self.stderr_text()[-3000:]}")
        self.exit_code = self.proc.returncode
        self._close_log()
        return self.exit_code

    def _close_log(self) -> None:
        if getattr(self, "_stderr", None) and not self._stderr.closed:
            self._stderr.close()
        if self in _LIVE:
            _LIVE.remove(self)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stderr_text(self) -> str:
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    # ---- clients

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def auth_header(self, user: Optional[str]) -> Optional[str]:
        if user is None:
            return None
        return basic(user, self.users[user][0])

    def request(self, method: str, path: str, user: Optional[str] = "admin", headers=None,
                **kw) -> requests.Response:
        """requests call; user=None sends no credentials; `headers` are merged in."""
        h = dict(headers or {})
        auth = self.auth_header(user)
        if auth and "Authorization" not in h:
            h["Authorization"] = auth
        kw.setdefault("timeout", 30)
        return requests.request(method, self.url + path, headers=h, **kw)

    def get(self, path: str, **kw) -> requests.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return self.request("POST", path, **kw)

    def put(self, path: str, **kw) -> requests.Response:
        return self.request("PUT", path, **kw)

    def raw(self, method: str, target: str, headers=None, body: Optional[bytes] = None,
            user: Optional[str] = "admin", timeout: float = 30.0):
        """One request over a fresh raw socket (exact header list, repeated response headers kept)."""
        hdrs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
        auth = self.auth_header(user)
        if auth and not any(n.lower() == "authorization" for n, _ in hdrs):
            hdrs.append(("Authorization", auth))
        return raw_request(self.port, method, target, hdrs, body, timeout=timeout)

    def connect(self, timeout: float = 30.0) -> RawConnection:
        return RawConnection(self.port, timeout=timeout)


class GatewayFactory:
    def __init__(self, tmp_factory, redis_server: RedisServer, bin: str = ""):
        self.bin = bin or ESGATE_BIN
        self.tmp_factory = tmp_factory
        self.redis = redis_server
        self.gateways: list = []
        self.own_stubs: list = []

    def default_config(self, port: int, nodes: list) -> dict:
        return {
            "threads": 2,
            "listen": {"address": "127.0.0.1", "port": port},
            "upstream": {
                "nodes": nodes,
                "auth": {"basic": {"username": UPSTREAM_USER, "password": UPSTREAM_PASSWORD}},
                "connect_timeout": "1s",
                "request_timeout": "20s",
            },
            "redis": {"url": self.redis.url, "prefix": f"esgate-test-{uuid.uuid4().hex[:8]}:"},
            "security": {"roles_file": "roles.yml", "users_file": "users.yml"},
            "limits": {"shutdown_grace": "5s"},
        }

    def __call__(self, upstreams: Optional[list] = None, config: Optional[dict] = None,
                 users: Optional[dict] = None, roles: Optional[dict] = None,
                 start: bool = True) -> Gateway:
        """upstreams: StubES objects and/or URL strings (default: one fresh StubES).
        config: overrides deep-merged into the default config (DELETE removes a key)."""
        if upstreams is None:
            s = StubES()
            self.own_stubs.append(s)
            upstreams = [s]
        nodes = [u if isinstance(u, str) else u.url for u in upstreams]
        stubs = [u for u in upstreams if isinstance(u, StubES)]
        cfg = deep_merge(self.default_config(free_port(), nodes), config or {})
        workdir = str(self.tmp_factory.mktemp("esgate"))
        gw = Gateway(workdir, cfg, dict(DEFAULT_USERS if users is None else users),
                     copy.deepcopy(DEFAULT_ROLES if roles is None else roles), stubs, self.bin)
        self.gateways.append(gw)
        if start:
            gw.start()
        return gw

    def close(self) -> list:
        problems = []
        for gw in self.gateways:
            if gw.proc is None:
                continue
            try:
                rc = gw.stop()
            except AssertionError as e:
                problems.append(str(e))
                continue
            if gw.expect_exit_code is not None and rc != gw.expect_exit_code:
                problems.append(f"esgate on port {gw.port} exited with {rc} after SIGTERM "
                                f"(expected {gw.expect_exit_code}):\n{gw.stderr_text()[-3000:]}")
            if re.search(r"runtime error:|AddressSanitizer|LeakSanitizer", gw.stderr_text()):
                problems.append(f"sanitizer report in esgate stderr (port {gw.port}):\n"
                                f"{gw.stderr_text()[-3000:]}")
        for s in self.own_stubs:
            s.close()
        return problems


@pytest.fixture(scope="session")
def esgate_bin() -> str:
    reason = esgate_missing_reason()
    if reason:
        pytest.skip(reason)
    return ESGATE_BIN


@pytest.fixture
def make_gateway(esgate_bin, redis_server, tmp_path_factory):
    """Factory: make_gateway(upstreams=[stub], config={...}, users=..., roles=...) -> Gateway.
    Every gateway gets SIGTERM at teardown and must exit 0."""
    factory = GatewayFactory(tmp_path_factory, redis_server)
    yield factory
    problems = factory.close()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture(scope="module")
def make_module_gateway(esgate_bin, redis_server, tmp_path_factory):
    """Like make_gateway, but the gateways live for the whole test module."""
    factory = GatewayFactory(tmp_path_factory, redis_server)
    yield factory
    problems = factory.close()
    if problems:
        pytest.fail("\n\n".join(problems), pytrace=False)


@pytest.fixture
def gateway(make_gateway) -> Gateway:
    """A gateway in front of one fresh stub (gateway.stub), default users admin + alice."""
    return make_gateway()


@pytest.fixture
def users():
    return DEFAULT_USERS


# --------------------------------------------------------------------------------------------
# Failure reports carry the gateway's stderr


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for gw in list(_LIVE):
            text = gw.stderr_text()
            if text:
                report.sections.append((f"esgate stderr (port {gw.port}, last 4000 chars)", text[-4000:]))


def pytest_report_header(config):
    reason = esgate_missing_reason()
    return f"esgate: {reason or ESGATE_BIN}; redis-server: {shutil.which('redis-server') or 'missing'}"

