"""Deployment files (README "Deployment"): every example configuration passes `esgate check-config`; the
compose stack's esgate config really serves TLS and logs in upstream with the password its setup container
wrote; the ingestion example's key is create_doc-only end to end; the compose setup script's user step;
docker-compose.yml validated by `docker-compose config`; the Dockerfile's COPY sources and runtime libraries;
the systemd unit through `systemd-analyze verify` and `security`.

There is no Docker engine here: nothing starts the compose stack or builds the image.
"""

from __future__ import annotations

import base64
import fnmatch
import glob
import json
import os
import re
import shutil
import ssl
import stat
import subprocess

import pytest
import requests
import yaml

from conftest import DEFAULT_USERS, run_esgate
from helpers import ESGATE_BIN, StopWaiting, basic, marker, requests_carrying, wait_until
from stub_es import StubES

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CONFIG = os.path.join(ROOT, "config")
SECRETS_IN_COMPOSE = "/run/secrets/esgate"


def repo(*parts: str) -> str:
    return os.path.join(ROOT, *parts)


def load_yaml(path: str):
    with open(path) as f:
        return yaml.safe_load(f)


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (scripts/install-deps test installs it)")
    return path


# --------------------------------------------------------------------------------------------
# A small PKI laid out like elasticsearch-certutil's: a CA, and certificates for localhost


def openssl(*args: str, cwd: str) -> None:
    res = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"openssl {' '.join(args)}: {res.stderr}"


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict:
    d = str(tmp_path_factory.mktemp("pki"))
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-days", "2", "-subj", "/CN=esgate test CA", "-keyout", "ca.key",
            "-out", "ca.crt", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    with open(os.path.join(d, "leaf.ext"), "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n"
                "subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    out = {"ca.crt": os.path.join(d, "ca.crt"), "ca.key": os.path.join(d, "ca.key")}
    for name in ("esgate", "elasticsearch"):
        openssl("req", "-new", *ec, "-subj", f"/CN={name}", "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                "-days", "2", "-extfile", "leaf.ext", "-out", f"{name}.crt", cwd=d)
        out[f"{name}.crt"] = os.path.join(d, f"{name}.crt")
        out[f"{name}.key"] = os.path.join(d, f"{name}.key")
    return out


def tls_stub(make_gateway, pki: dict) -> StubES:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["elasticsearch.crt"], pki["elasticsearch.key"])
    stub = StubES(tls=ctx)
    make_gateway.own_stubs.append(stub)
    return stub


def write(path: str, text: str, mode: int = 0o600) -> str:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)
    return path


def start_with_config(make_gateway, cfg: dict, roles: dict, stub: StubES, ca: str, files: dict | None = None,
                      users: dict | None = None):
    """A gateway running `cfg` (an example config, made local: its own port, the stub, the suite's Redis,
    the fixture's users.yml), with `files` ({path in its folder: source file}) copied in first; readiness
    probed over TLS, verified against `ca`."""
    gw = make_gateway(upstreams=[stub], roles=roles, users=users, start=False)
    for rel, src in (files or {}).items():
        os.makedirs(os.path.dirname(os.path.join(gw.dir, rel)), exist_ok=True)
        shutil.copy(src, os.path.join(gw.dir, rel))
    cfg["listen"]["address"] = "127.0.0.1"
    cfg["listen"]["port"] = gw.port
    cfg["upstream"]["nodes"] = [f"https://localhost:{stub.port}"]
    cfg["redis"] = dict(gw.config["redis"])
    cfg["security"]["users_file"] = "users.yml"
    cfg.setdefault("limits", {})["shutdown_grace"] = "5s"
    cfg["threads"] = 2
    gw.config = cfg
    gw.write_yaml("esgate.yaml", cfg)
    gw.start(wait=False)

    def ready() -> bool:
        if gw.proc.poll() is not None:
            raise StopWaiting(f"esgate exited with {gw.proc.returncode}:\n{gw.stderr_text()[-3000:]}")
        try:
            return requests.get(f"https://localhost:{gw.port}/_esgate/health", verify=ca,
                                timeout=2).status_code in (200, 503)
        except requests.exceptions.ConnectionError:
            return False

    wait_until(ready, 30, f"esgate TLS health on port {gw.port}", interval=0.1)
    return gw


# --------------------------------------------------------------------------------------------
# Example configurations


def example_configs() -> list:
    return sorted(glob.glob(os.path.join(CONFIG, "**", "esgate*.yaml"), recursive=True))


def test_every_example_config_is_found():
    found = {os.path.relpath(p, CONFIG) for p in example_configs()}
    assert {"esgate.yaml", "esgate.example-full.yaml", "docker/esgate.yaml", "examples/cluster/esgate.yaml",
            "examples/ingest/esgate.yaml", "examples/analytics/esgate.yaml"} <= found


def _file_paths(cfg: dict) -> list:
    """The settings that name files which must exist when the config is loaded."""
    out = []
    tls = (cfg.get("listen") or {}).get("tls") or {}
    out += [tls[k] for k in ("certificate", "key", "client_ca") if k in tls]
    up = cfg.get("upstream") or {}
    if "ca" in (up.get("tls") or {}):
        out.append(up["tls"]["ca"])
    auth = up.get("auth") or {}
    if "password_file" in (auth.get("basic") or {}):
        out.append(auth["basic"]["password_file"])
    if "api_key_file" in auth:
        out.append(auth["api_key_file"])
    return out


@pytest.mark.parametrize("path", example_configs(), ids=lambda p: os.path.relpath(p, CONFIG))
def test_example_config_passes_check_config(path, tmp_path):
    """The example, copied with its folder, passes check-config once the files it names exist: its
    certificates and secrets (stand-ins: check-config checks that they can be read) and absolute paths
    such as /var/lib/esgate/users.yml moved under the test's folder, the text otherwise unchanged."""
    work = tmp_path / "conf"
    shutil.copytree(os.path.dirname(path), work, ignore=shutil.ignore_patterns("users.yml"))
    with open(path) as f:
        text = f.read()
    cfg = yaml.safe_load(text) or {}
    absolute = set()
    for p in _file_paths(cfg):
        target = str(tmp_path / "root" / p.lstrip("/")) if p.startswith("/") else str(work / p)
        if p.startswith("/"):
            absolute.add(p)
        write(target, "c2VjcmV0LWlkOnNlY3JldC1rZXk=\n" if "api_key" in p else "stand-in\n")
    users_file = (cfg.get("security") or {}).get("users_file", "")
    if users_file.startswith("/"):
        absolute.add(users_file)
    for p in sorted(absolute, key=len, reverse=True):
        text = text.replace(p, str(tmp_path / "root" / p.lstrip("/")))
    conf = work / os.path.basename(path)
    conf.write_text(text)
    res = run_esgate("check-config", "--config", str(conf))
    assert res.returncode == 0, res.stdout + res.stderr
    assert re.search(r": OK \(\d+ upstream node", res.stdout), res.stdout


def test_upstream_roles_are_valid_elasticsearch_roles(tmp_path):
    """Each es-upstream-role.json (the role of the Elasticsearch user esgate logs in with) uses only
    privileges Elasticsearch knows: esgate's roles.yml loader, which checks names as Elasticsearch does,
    accepts it."""
    files = sorted(glob.glob(os.path.join(CONFIG, "**", "es-upstream-role.json"), recursive=True))
    assert len(files) == 4
    roles = {}
    for f in files:
        with open(f) as fh:
            role = json.load(fh)
        assert "all" not in role["cluster"] and "manage_security" not in role["cluster"], f
        roles[os.path.relpath(f, CONFIG).replace("/", "_").replace(".", "_")] = role
    (tmp_path / "roles.yml").write_text(yaml.safe_dump(roles))
    (tmp_path / "esgate.yaml").write_text("security: {roles_file: roles.yml}\n")
    res = run_esgate("check-config", "--config", str(tmp_path / "esgate.yaml"))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "4 role(s)" in res.stdout, res.stdout


def test_shipper_snippets_use_api_keys_over_tls():
    d = os.path.join(CONFIG, "examples", "ingest")
    fb = load_yaml(os.path.join(d, "filebeat.yml"))
    out = fb["output.elasticsearch"]
    assert out["api_key"] == "${ESGATE_API_KEY}" and all(h.startswith("https://") for h in out["hosts"])
    assert out["ssl.certificate_authorities"]
    assert fb["setup.template.enabled"] is False and fb["setup.ilm.enabled"] is False
    agent = load_yaml(os.path.join(d, "elastic-agent.yml"))
    o = agent["outputs"]["default"]
    assert o["type"] == "elasticsearch" and o["api_key"] == "${ESGATE_API_KEY}"
    assert all(h.startswith("https://") for h in o["hosts"]) and o["ssl.certificate_authorities"]
    with open(os.path.join(d, "logstash.conf")) as f:
        ls = f.read()
    for setting in ('api_key => "${ESGATE_API_KEY}"', "ssl_enabled => true", "ssl_certificate_authorities =>",
                    "data_stream => true"):
        assert setting in ls, setting


# --------------------------------------------------------------------------------------------
# The compose stack's esgate configuration, running


def test_compose_esgate_config_serves_tls_and_logs_in_with_the_password_file(make_gateway, pki, tmp_path):
    """config/docker/esgate.yaml as the stack runs it: HTTPS with the setup's certificate, Elasticsearch over
    TLS verified with the stack's CA, and the upstream password read from the file the setup wrote; the
    client's own credentials never reach Elasticsearch."""
    secrets = str(tmp_path / "secrets")
    for name in ("esgate.crt", "esgate.key", "ca.crt"):
        os.makedirs(os.path.join(secrets, "tls"), exist_ok=True)
        shutil.copy(pki[name], os.path.join(secrets, "tls", name))
    es_password = "Zx9-generated_by_setup"
    write(os.path.join(secrets, "es-password"), es_password + "\n", 0o400)
    with open(repo("config", "docker", "esgate.yaml")) as f:
        cfg = yaml.safe_load(f.read().replace(SECRETS_IN_COMPOSE, secrets))
    assert cfg["upstream"]["auth"]["basic"] == {"username": "esgate",
                                                "password_file": os.path.join(secrets, "es-password")}
    stub = tls_stub(make_gateway, pki)
    gw = start_with_config(make_gateway, cfg, load_yaml(repo("config", "docker", "roles.yml")), stub, pki["ca.crt"])

    m = marker()
    admin_pw = DEFAULT_USERS["admin"][0]
    r = requests.get(f"https://localhost:{gw.port}/?m={m}", auth=("admin", admin_pw), verify=pki["ca.crt"],
                     timeout=10)
    assert r.status_code == 200, r.text
    got = requests_carrying(stub, m)
    assert len(got) == 1
    assert got[0].header("Authorization") == basic("esgate", es_password)
    assert admin_pw not in json.dumps(got[0].headers)


# --------------------------------------------------------------------------------------------
# The ingestion example, end to end


INGEST_USERS = {
    "admin": DEFAULT_USERS["admin"],
    "ops": ("ops-password-2f8e", ["ingest-operator"]),
    "beat": ("beat-password-91c4", ["shipper"]),
}


def _bulk(base: str, headers: dict, ca: str) -> tuple:
    """One create, one index and one delete item for logs-app-default: (per-item statuses, markers)."""
    m_create, m_index, m_delete = marker(), marker(), marker()
    body = "".join(json.dumps(x) + "\n" for x in (
        {"create": {"_index": "logs-app-default"}}, {"message": m_create},
        {"index": {"_index": "logs-app-default"}}, {"message": m_index},
        {"delete": {"_index": "logs-app-default", "_id": m_delete}},
    ))
    r = requests.post(f"{base}/_bulk", data=body, headers={**headers, "Content-Type": "application/x-ndjson"},
                      verify=ca, timeout=10)
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [list(i)[0] for i in items] == ["create", "index", "delete"]
    return [list(i.values())[0]["status"] for i in items], (m_create, m_index, m_delete)


def test_ingest_example_key_is_create_doc_only(make_gateway, pki, tmp_path):
    """config/examples/ingest: create-api-key.sh, as the admin, creates the data stream and a key and prints
    "id:api_key"; as an ingest-operator (roles.yml) it makes a key for an existing stream. With either key,
    and as a user with the shipper role, `create` bulk items reach Elasticsearch while `index` and `delete`
    items are refused in place and a search is refused whole, none of them forwarded."""
    tool("curl")
    src = repo("config", "examples", "ingest")
    cfg = load_yaml(os.path.join(src, "esgate.yaml"))
    stub = tls_stub(make_gateway, pki)
    stub.es.add_data_stream("logs-app-default")
    stub.set_response("/_data_stream/logs-app-default", status=404, times=1,
                      body={"error": {"type": "resource_not_found_exception", "reason": "no such data stream"}})
    es_password = "ingest-upstream-pw-7d21"
    pw_file = write(str(tmp_path / "es-password"), es_password + "\n")
    gw = start_with_config(make_gateway, cfg, load_yaml(os.path.join(src, "roles.yml")), stub, pki["ca.crt"],
                           {"certs/esgate.crt": pki["esgate.crt"], "certs/esgate.key": pki["esgate.key"],
                            "certs/es-ca.crt": pki["ca.crt"], "es-password": pw_file}, users=INGEST_USERS)
    base = f"https://localhost:{gw.port}"
    upstream_auth = basic("esgate-ingest", es_password)

    def create_key(user: str, host: str) -> dict:
        env = dict(os.environ, ESGATE_URL=base, ESGATE_CACERT=pki["ca.crt"], ESGATE_USER=user,
                   ESGATE_PASSWORD=INGEST_USERS[user][0])
        res = subprocess.run([os.path.join(src, "create-api-key.sh"), host, "logs-app-default"], env=env,
                             capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout + res.stderr
        key_id, _, secret = res.stdout.strip().partition(":")
        assert len(key_id) == 20 and len(secret) == 22, res.stdout
        return {"Authorization": "ApiKey " + base64.b64encode(f"{key_id}:{secret}".encode()).decode()}

    admin_key = create_key("admin", "web-01")
    created = [r for r in stub.requests if r.method == "PUT" and r.path == "/_data_stream/logs-app-default"]
    assert len(created) == 1 and created[0].header("Authorization") == upstream_auth
    ops_key = create_key("ops", "web-02")
    assert len([r for r in stub.requests if r.method == "PUT" and r.path.startswith("/_data_stream/")]) == 1

    beat = {"Authorization": basic("beat", INGEST_USERS["beat"][0])}
    for who, headers in (("admin's key", admin_key), ("operator's key", ops_key), ("shipper user", beat)):
        statuses, (m_create, m_index, m_delete) = _bulk(base, headers, pki["ca.crt"])
        assert statuses == [201, 403, 403], who
        forwarded = requests_carrying(stub, m_create)
        assert len(forwarded) == 1 and forwarded[0].header("Authorization") == upstream_auth, who
        assert requests_carrying(stub, m_index) == [] and requests_carrying(stub, m_delete) == [], who

        m = marker()
        r = requests.get(f"{base}/logs-app-default/_search?q={m}", headers=headers, verify=pki["ca.crt"], timeout=10)
        assert r.status_code == 403, (who, r.text)
        assert requests_carrying(stub, m) == [], who
        for path in (f"/?m={m}", f"/_license?m={m}"):  # what Beats, Logstash and Agent ask at start
            r = requests.get(f"{base}{path}", headers=headers, verify=pki["ca.crt"], timeout=10)
            assert r.status_code == 200, (who, path, r.text)
        assert len(requests_carrying(stub, m)) == 2, who


# --------------------------------------------------------------------------------------------
# docker-compose.yml and its setup script


def compose_file() -> dict:
    return load_yaml(repo("docker-compose.yml"))


def test_compose_file_validates_and_requires_the_elastic_password(tmp_path):
    dc = tool("docker-compose")
    env = {k: v for k, v in os.environ.items() if k not in ("ELASTIC_PASSWORD", "STACK_VERSION", "ESGATE_HOSTNAME")}
    # An operator's .env beside the compose file must not decide the outcome: an empty one instead.
    empty_env = tmp_path / "empty.env"
    empty_env.write_text("")
    cmd = [dc, "-f", repo("docker-compose.yml"), "--env-file", str(empty_env), "config"]
    res = subprocess.run(cmd, cwd=str(tmp_path), env=dict(env, ELASTIC_PASSWORD="pw-for-validation"),
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    resolved = yaml.safe_load(res.stdout)
    assert set(resolved["services"]) == {"certs", "elasticsearch", "setup", "redis", "esgate"}
    assert resolved["services"]["elasticsearch"]["environment"]["ELASTIC_PASSWORD"] == "pw-for-validation"
    res = subprocess.run(cmd, cwd=str(tmp_path), env=env, capture_output=True, text=True, timeout=60)
    assert res.returncode != 0 and "ELASTIC_PASSWORD" in res.stderr, res.stderr


def _env(service: dict) -> dict:
    return dict(e.split("=", 1) for e in service.get("environment", []))


def test_compose_stack_has_security_on_and_only_esgate_published():
    c = compose_file()
    s = c["services"]
    es = _env(s["elasticsearch"])
    for k in ("xpack.security.enabled", "xpack.security.http.ssl.enabled", "xpack.security.transport.ssl.enabled"):
        assert es[k] == "true", k
    assert "ports" not in s["elasticsearch"] and "ports" not in s["redis"]
    assert s["esgate"]["ports"] == ["9243:9243"]
    assert c["networks"]["backend"]["internal"] is True
    assert s["elasticsearch"]["networks"] == ["backend"] and s["redis"]["networks"] == ["backend"]
    assert s["esgate"]["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert s["elasticsearch"]["depends_on"]["certs"]["condition"] == "service_completed_successfully"
    assert s["setup"]["depends_on"]["elasticsearch"]["condition"] == "service_healthy"
    assert s["redis"]["command"][:3] == ["redis-server", "--appendonly", "yes"]
    assert any(v.endswith(":/data") for v in s["redis"]["volumes"])
    assert s["esgate"]["read_only"] is True and s["esgate"]["cap_drop"] == ["ALL"]
    # every bind-mounted file or folder is in the repository
    for name, svc in s.items():
        for v in svc.get("volumes", []):
            source = v.split(":")[0]
            if source.startswith("."):
                assert os.path.exists(repo(source)), f"{name}: {source}"
    # the CA key stays in the one-shot containers
    assert not any(v.startswith("ca:") for v in s["elasticsearch"]["volumes"] + s["esgate"]["volumes"])


def test_compose_setup_writes_every_file_the_esgate_config_reads():
    """The secrets esgate.yaml names under /run/secrets/esgate are the files compose-setup.sh writes into
    the volume mounted there."""
    s = compose_file()["services"]
    assert "esgate-secrets:/run/secrets/esgate:ro" in s["esgate"]["volumes"]
    assert "esgate-secrets:/esgate-secrets" in s["certs"]["volumes"]
    assert "esgate-secrets:/esgate-secrets" in s["setup"]["volumes"]
    with open(repo("deploy", "compose-setup.sh")) as f:
        script = f.read()
    cfg = load_yaml(repo("config", "docker", "esgate.yaml"))
    wanted = [p for p in _file_paths(cfg)]
    assert len(wanted) == 4
    for p in wanted:
        assert p.startswith(SECRETS_IN_COMPOSE + "/"), p
        rel = p[len(SECRETS_IN_COMPOSE) + 1:]
        assert f'"$out/{rel}"' in script, rel


def _run_setup_user(tmp_path, stub: StubES, pki: dict, password: str) -> subprocess.CompletedProcess:
    ca = tmp_path / "ca"
    ca.mkdir(exist_ok=True)
    shutil.copy(pki["ca.crt"], ca / "ca.crt")
    (tmp_path / "out").mkdir(exist_ok=True)
    (tmp_path / "tmp").mkdir(exist_ok=True)
    env = dict(os.environ, ELASTIC_PASSWORD=password, SETUP_CA_DIR=str(ca), SETUP_ESGATE_SECRETS_DIR=str(tmp_path / "out"),
               SETUP_ESGATE_UID=str(os.getuid()), SETUP_ES_URL=f"https://localhost:{stub.port}",
               SETUP_ROLE_FILE=repo("config", "docker", "es-upstream-role.json"), TMPDIR=str(tmp_path / "tmp"))
    return subprocess.run(["bash", repo("deploy", "compose-setup.sh"), "user"], env=env, capture_output=True,
                          text=True, timeout=60)


def test_compose_setup_creates_the_role_and_user_esgate_logs_in_with(make_stub, pki, tmp_path):
    """deploy/compose-setup.sh user, against a TLS stand-in Elasticsearch verified with the stack's CA: it PUTs
    the role from config/docker/es-upstream-role.json and the user esgate with a generated password, as
    elastic; writes that password where esgate reads it, readable by esgate only; keeps it on a second run;
    and fails when Elasticsearch refuses."""
    tool("curl")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki["elasticsearch.crt"], pki["elasticsearch.key"])
    stub = make_stub(tls=ctx)
    elastic_pw = 'el"astic\\pw'
    res = _run_setup_user(tmp_path, stub, pki, elastic_pw)
    assert res.returncode == 0, res.stdout + res.stderr

    pw_file = tmp_path / "out" / "es-password"
    password = pw_file.read_text().strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", password)
    assert stat.S_IMODE(pw_file.stat().st_mode) == 0o400
    role = [r for r in stub.requests if r.path == "/_security/role/esgate_gateway"]
    user = [r for r in stub.requests if r.path == "/_security/user/esgate"]
    assert len(role) == 1 and len(user) == 1 and role[0].method == user[0].method == "PUT"
    with open(repo("config", "docker", "es-upstream-role.json")) as f:
        assert role[0].json() == json.load(f)
    assert user[0].json() == {"password": password, "roles": ["esgate_gateway"], "full_name": "esgate gateway"}
    assert all(r.header("Authorization") == basic("elastic", elastic_pw) for r in role + user)
    assert os.listdir(tmp_path / "tmp") == []  # the curl config holding the elastic password is gone

    stub.clear()
    res = _run_setup_user(tmp_path, stub, pki, elastic_pw)
    assert res.returncode == 0, res.stderr
    assert pw_file.read_text().strip() == password
    assert [r.json()["password"] for r in stub.requests if r.path == "/_security/user/esgate"] == [password]

    stub.set_response("/_security/role/esgate_gateway", status=401,
                      body={"error": {"type": "security_exception", "reason": "unable to authenticate user"}})
    res = _run_setup_user(tmp_path, stub, pki, "wrong")
    assert res.returncode != 0
    assert "HTTP 401" in res.stderr and "unable to authenticate user" in res.stderr


def test_compose_setup_script_passes_shellcheck():
    sc = tool("shellcheck")
    for script in (repo("deploy", "compose-setup.sh"), repo("config", "examples", "ingest", "create-api-key.sh")):
        res = subprocess.run([sc, script], capture_output=True, text=True, timeout=60)
        assert res.returncode == 0, res.stdout


# --------------------------------------------------------------------------------------------
# Dockerfile


def dockerfile_instructions() -> list:
    with open(repo("Dockerfile")) as f:
        text = re.sub(r"\\\n", " ", f.read())
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def dockerignore() -> list:
    path = repo(".dockerignore")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln.strip().rstrip("/") for ln in f if ln.strip() and not ln.startswith("#")]


def test_dockerfile_copies_only_what_exists_and_is_sent():
    ignored = dockerignore()
    copies = [rest for word, rest in dockerfile_instructions() if word in ("COPY", "ADD")]
    assert copies
    for rest in copies:
        args = [a for a in rest.split() if not a.startswith("--")]
        if "--from=" in rest:
            continue
        for src in args[:-1]:
            src = src.rstrip("/")
            assert os.path.exists(repo(src)), f"COPY source {src} does not exist"
            assert not any(fnmatch.fnmatch(src, pat) for pat in ignored), f"{src} is in .dockerignore"
    # the build context leaves out build trees and the repository's history
    for pat in ("build*", ".git"):
        assert pat in ignored, pat


def test_dockerfile_build_stage_sources_configure(tmp_path):
    """What the build stage copies is enough for CMake: the COPY sources alone, in a fresh folder, configure
    the Release build of the binary (a compile would take minutes; configuring checks every listed source)."""
    tool("cmake")
    tool("ninja")
    ins = dockerfile_instructions()
    second_from = [i for i, (w, _) in enumerate(ins) if w == "FROM"][1]
    ctx = tmp_path / "ctx"
    ctx.mkdir()
    for word, rest in ins[:second_from]:
        if word != "COPY":
            continue
        args = [a for a in rest.split() if not a.startswith("--")]
        for src in args[:-1]:
            src = src.rstrip("/")
            dest = ctx / src
            dest.parent.mkdir(parents=True, exist_ok=True)
            if os.path.isdir(repo(src)):
                shutil.copytree(repo(src), dest)
            else:
                shutil.copy(repo(src), dest)
    res = subprocess.run(["cmake", "-S", str(ctx), "-B", str(ctx / "build"), "-G", "Ninja",
                          "-DCMAKE_BUILD_TYPE=Release", "-DESGATE_BUILD_TESTS=OFF"],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
    res = subprocess.run(["ninja", "-C", str(ctx / "build"), "-t", "targets", "all"], capture_output=True,
                         text=True, timeout=60)
    assert re.search(r"^bin/esgate: ", res.stdout, re.M), res.stdout[-2000:]


def test_dockerfile_runtime_stage():
    ins = dockerfile_instructions()
    froms = [rest for word, rest in ins if word == "FROM"]
    assert len(froms) == 2 and all(f.split()[0] in ("debian:bookworm", "debian:12") for f in froms)
    runtime = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM"):]
    words = dict((w, r) for w, r in runtime)
    assert words["USER"].split(":")[0] not in ("root", "0")
    assert "/_esgate/health" in words["HEALTHCHECK"]
    assert words["EXPOSE"] == "9243"
    assert "/etc/esgate" in words["VOLUME"]
    assert re.search(r"useradd .*--uid 10001", words["RUN"] + " ".join(r for w, r in runtime if w == "RUN"))


def runtime_packages() -> set:
    ins = dockerfile_instructions()
    runtime = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM"):]
    pkgs = set()
    for word, rest in runtime:
        if word != "RUN":
            continue
        for part in rest.split("&&"):
            tokens = part.split()
            if tokens[:2] == ["apt-get", "install"]:
                pkgs |= {t for t in tokens[2:] if not t.startswith("-")}
    return pkgs


def test_runtime_stage_installs_every_library_the_binary_links(esgate_bin):
    """Each shared library of the esgate binary comes from a Debian package the runtime stage installs
    (sanitizer runtimes aside: this is the test build); jemalloc, linked in Release builds only, too."""
    pkgs = runtime_packages()
    assert "libjemalloc2" in pkgs
    res = subprocess.run(["ldd", esgate_bin], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stderr
    libs = {}  # soname -> candidate paths (usrmerge: dpkg may know the /lib or the /usr/lib spelling)
    for line in res.stdout.splitlines():
        mt = re.match(r"\s*(\S+) => (\S+)", line)
        if not mt or re.match(r"lib(asan|ubsan|tsan)\.", mt.group(1)):
            continue
        real = os.path.realpath(mt.group(2))
        libs[mt.group(1)] = {mt.group(2), real, real.replace("/usr/lib/", "/lib/", 1),
                             real.replace("/lib/", "/usr/lib/", 1)}
    assert len(libs) >= 10, res.stdout
    # One dpkg -S for all of them (each call reads the whole database); unknown paths only cost a
    # complaint on stderr.
    q = subprocess.run(["dpkg", "-S", *sorted(set().union(*libs.values()))], capture_output=True, text=True,
                       timeout=120)
    owner_of = {}
    for line in q.stdout.splitlines():
        pkg, _, path = line.partition(": ")
        owner_of[path.strip()] = pkg.split(":")[0]
    missing = []
    for soname, candidates in sorted(libs.items()):
        owners = {owner_of[c] for c in candidates if c in owner_of}
        assert owners, f"no Debian package owns {soname} ({sorted(candidates)})"
        if not owners & (pkgs | {"libc6"}):
            missing.append(f"{soname} ({', '.join(sorted(owners))})")
    assert not missing, f"add to the Dockerfile's runtime stage: {missing}"


# --------------------------------------------------------------------------------------------
# systemd


def unit_copy(tmp_path) -> str:
    """The unit with its ExecStart binary pointed at the built one (verify checks that it exists)."""
    with open(repo("deploy", "esgate.service")) as f:
        text = f.read()
    path = tmp_path / "esgate.service"
    path.write_text(text.replace("/usr/local/bin/esgate", ESGATE_BIN))
    return str(path)


def unit_settings() -> dict:
    out: dict = {}
    with open(repo("deploy", "esgate.service")) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith(("#", "[")) and "=" in line:
                k, _, v = line.partition("=")
                out.setdefault(k, []).append(v)
    return out


def test_systemd_unit_verifies(esgate_bin, tmp_path):
    sa = tool("systemd-analyze")
    res = subprocess.run([sa, "verify", unit_copy(tmp_path)], capture_output=True, text=True, timeout=60)
    # unknown or misspelt directives are only warnings: any line about the unit fails the test
    assert res.returncode == 0 and "esgate.service" not in res.stdout + res.stderr, res.stdout + res.stderr


def test_systemd_unit_is_hardened(esgate_bin, tmp_path):
    u = unit_settings()
    for key, value in {"ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
                       "NoNewPrivileges": "yes", "CapabilityBoundingSet": "", "User": "esgate",
                       "ExecReload": "/bin/kill -HUP $MAINPID", "StateDirectory": "esgate"}.items():
        assert u.get(key) == [value], key
    assert "@system-service" in u["SystemCallFilter"]
    assert int(u["LimitNOFILE"][0]) >= 20000
    assert u["RestrictAddressFamilies"] == ["AF_INET AF_INET6 AF_UNIX"]
    assert "ReadWritePaths" not in u  # StateDirectory/LogsDirectory are the only writable places
    sa = tool("systemd-analyze")
    res = subprocess.run([sa, "security", "--offline=true", unit_copy(tmp_path)], capture_output=True, text=True,
                         timeout=60)
    mt = re.search(r"Overall exposure level for esgate\.service: (\d+\.\d+)", res.stdout)
    assert mt, res.stdout + res.stderr
    assert float(mt.group(1)) <= 2.0, res.stdout


def test_sysusers_file_declares_the_user():
    with open(repo("deploy", "esgate.sysusers")) as f:
        lines = [ln.split() for ln in f if ln.strip() and not ln.startswith("#")]
    assert lines and lines[0][:2] == ["u", "esgate"]
