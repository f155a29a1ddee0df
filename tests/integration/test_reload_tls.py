"""The TLS listener: HTTPS requests, certificate reload on SIGHUP (new connections see the new certificate,
existing keep-alive connections keep working), a broken certificate rejected on reload, `min_version`, and
mutual TLS with `client_ca`."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import ssl
import subprocess

import pytest
import requests

from conftest import UPSTREAM_PASSWORD, UPSTREAM_USER, Gateway
from helpers import (RawConnection, StopWaiting, basic, esgate_missing_reason, marker, requests_carrying,
                     wait_until)
from stub_es import StubES

pytestmark = pytest.mark.skipif(esgate_missing_reason() is not None, reason=esgate_missing_reason() or "")

OPENSSL = "openssl"
SAN = "subjectAltName=DNS:localhost,IP:127.0.0.1"


# --------------------------------------------------------------------------------------------
# Certificates


def openssl(*args: str, cwd: str) -> None:
    res = subprocess.run([OPENSSL, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, f"openssl {' '.join(args)} failed: {res.stderr}"


def self_signed(folder: str, stem: str, cn: str = "localhost") -> tuple:
    """A fresh self-signed certificate and key: (cert path, key path)."""
    crt, key = os.path.join(folder, stem + ".crt"), os.path.join(folder, stem + ".key")
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", f"/CN={cn}",
            "-addext", SAN, "-keyout", key, "-out", crt, cwd=folder)
    return crt, key


def signed_by(folder: str, stem: str, ca_crt: str, ca_key: str, cn: str) -> tuple:
    """A client certificate signed by the given CA: (cert path, key path)."""
    crt, key, csr = (os.path.join(folder, stem + s) for s in (".crt", ".key", ".csr"))
    ext = os.path.join(folder, stem + ".ext")
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n")
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={cn}", "-keyout", key, "-out", csr,
            cwd=folder)
    openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial", "-days", "1",
            "-extfile", ext, "-out", crt, cwd=folder)
    return crt, key


def pem_fingerprint(path: str) -> str:
    with open(path) as f:
        return hashlib.sha256(ssl.PEM_cert_to_DER_cert(f.read())).hexdigest()


def replace_file(src: str, dst: str) -> None:
    """Atomically put src's bytes at dst (what a careful operator or certbot does)."""
    with open(src, "rb") as f:
        data = f.read()
    with open(dst + ".new", "wb") as f:
        f.write(data)
    os.replace(dst + ".new", dst)


# --------------------------------------------------------------------------------------------
# Clients


def client_context(cafile: str, cert: tuple | None = None, max_version=None, min_version=None) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cafile)
    ctx.check_hostname = True
    if cert:
        ctx.load_cert_chain(*cert)
    if max_version:
        ctx.maximum_version = max_version
    if min_version:
        ctx.minimum_version = min_version
    return ctx


class TlsConnection(RawConnection):
    """RawConnection over TLS (same request/response parsing)."""

    def __init__(self, port: int, ctx: ssl.SSLContext, server_hostname: str = "localhost", timeout: float = 10):
        raw = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            self.sock = ctx.wrap_socket(raw, server_hostname=server_hostname)
        except BaseException:
            raw.close()
            raise
        self.buf = bytearray()
        self.port = port

    def peer_fingerprint(self) -> str:
        return hashlib.sha256(self.sock.getpeercert(binary_form=True)).hexdigest()


def served_fingerprint(port: int, cafile: str) -> str:
    with TlsConnection(port, client_context(cafile)) as c:
        return c.peer_fingerprint()


def tls_gateway(make_gateway, tls: dict, files: dict | None = None, wait_cert: tuple | None = None,
                config: dict | None = None, **kw) -> Gateway:
    """A gateway with listen.tls; files = {name in the config folder: source path} copied in first.
    Readiness is probed over TLS (the fixture's plain-HTTP probe cannot talk to a TLS listener)."""
    cfg = dict(config or {})
    cfg["listen"] = {**cfg.get("listen", {}), "tls": tls}
    gw = make_gateway(config=cfg, start=False, **kw)
    for name, src in (files or {}).items():
        replace_file(src, os.path.join(gw.dir, name))
    gw.start(wait=False)
    ca = os.path.join(gw.dir, tls["certificate"])

    def ready() -> bool:
        if gw.proc.poll() is not None:
            raise StopWaiting(f"esgate exited with {gw.proc.returncode}:\n{gw.stderr_text()[-3000:]}")
        with TlsConnection(gw.port, client_context(ca, cert=wait_cert), timeout=2) as c:
            return c.request("GET", "/_esgate/health").status in (200, 503)

    wait_until(ready, 30, f"esgate TLS health on port {gw.port}", interval=0.1)
    return gw


def https_url(gw: Gateway, path: str = "/") -> str:
    return f"https://localhost:{gw.port}{path}"


def admin_headers(gw: Gateway) -> dict:
    return {"Authorization": basic("admin", gw.users["admin"][0])}


def reloads(gw: Gateway, ca: str, cert: tuple | None = None) -> dict:
    r = requests.get(https_url(gw, "/_esgate/metrics"), headers=admin_headers(gw), verify=ca, cert=cert,
                     timeout=10)
    assert r.status_code == 200, r.text[:300]
    out = {}
    for res in ("ok", "failed"):
        mt = re.search(r'^esgate_reloads_total\{result="%s"\} (\d+(?:\.\d+)?)' % res, r.text, re.M)
        assert mt, f"no esgate_reloads_total{{result={res!r}}} in metrics:\n{r.text[:2000]}"
        out[res] = float(mt.group(1))
    return out


# --------------------------------------------------------------------------------------------
# Tests


def test_https_requests_are_proxied(make_gateway, tmp_path):
    crt, key = self_signed(str(tmp_path), "gw")
    gw = tls_gateway(make_gateway, {"certificate": "gw.crt", "key": "gw.key"}, {"gw.crt": crt, "gw.key": key})
    ca = os.path.join(gw.dir, "gw.crt")
    m = marker()
    r = requests.get(https_url(gw, f"/?m={m}"), headers=admin_headers(gw), verify=ca, timeout=10)
    assert r.status_code == 200 and r.json()["tagline"] == "You Know, for Search", r.text[:300]
    up = requests_carrying(gw.stub, m)
    assert len(up) == 1
    assert up[0].header_all("X-Forwarded-Proto") == ["https"]
    assert up[0].header_all("Authorization") == [basic(UPSTREAM_USER, UPSTREAM_PASSWORD)]
    # 401 over TLS too, nothing upstream
    m = marker()
    r = requests.get(https_url(gw, f"/?m={m}"), verify=ca, timeout=10)
    assert r.status_code == 401
    assert not requests_carrying(gw.stub, m)
    # plain HTTP on the TLS port gets no HTTP answer and reaches nothing
    m = marker()
    with RawConnection(gw.port, timeout=5) as c:
        c.send(f"GET /?m={m} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        c.sock.settimeout(5)
        try:
            data = c.sock.recv(4096)
        except OSError:
            data = b""
        assert not data.startswith(b"HTTP/1.1 200"), data[:200]
    assert not requests_carrying(gw.stub, m, include_partial=True)
    # the default minimum (1.2) admits a TLS 1.2 client
    with TlsConnection(gw.port, client_context(ca, max_version=ssl.TLSVersion.TLSv1_2)) as c:
        assert c.sock.version() == "TLSv1.2"
        assert c.request("GET", "/", [("Authorization", admin_headers(gw)["Authorization"])]).status == 200


def test_sighup_reloads_the_certificate_without_dropping_connections(make_gateway, tmp_path):
    old_crt, old_key = self_signed(str(tmp_path), "old")
    new_crt, new_key = self_signed(str(tmp_path), "new")
    assert pem_fingerprint(old_crt) != pem_fingerprint(new_crt)
    gw = tls_gateway(make_gateway, {"certificate": "gw.crt", "key": "gw.key"},
                     {"gw.crt": old_crt, "gw.key": old_key})
    auth = [("Authorization", admin_headers(gw)["Authorization"])]
    assert served_fingerprint(gw.port, old_crt) == pem_fingerprint(old_crt)
    before = reloads(gw, old_crt)

    kept = TlsConnection(gw.port, client_context(old_crt))
    try:
        assert kept.request("GET", "/?before", auth).status == 200
        assert kept.peer_fingerprint() == pem_fingerprint(old_crt)

        replace_file(new_key, os.path.join(gw.dir, "gw.key"))
        replace_file(new_crt, os.path.join(gw.dir, "gw.crt"))
        gw.reload()

        def sees_new() -> bool:
            return served_fingerprint(gw.port, new_crt) == pem_fingerprint(new_crt)

        wait_until(sees_new, 5, "new connections to be served the new certificate", interval=0.1)
        # the connection opened before the reload keeps working, on its old session
        for i in range(3):
            m = marker()
            r = kept.request("GET", f"/?after={i}&m={m}", auth)
            assert r.status == 200, r
            assert len(requests_carrying(gw.stub, m)) == 1
        assert kept.peer_fingerprint() == pem_fingerprint(old_crt)
    finally:
        kept.close()

    # clients trusting only the old certificate are now refused; the new one verifies
    with pytest.raises(ssl.SSLError):
        served_fingerprint(gw.port, old_crt)
    r = requests.get(https_url(gw, "/"), headers=admin_headers(gw), verify=new_crt, timeout=10)
    assert r.status_code == 200
    after = reloads(gw, new_crt)
    assert after["ok"] == before["ok"] + 1 and after["failed"] == before["failed"], (before, after)


def test_a_broken_certificate_on_reload_is_rejected_and_the_old_one_stays(make_gateway, tmp_path):
    crt, key = self_signed(str(tmp_path), "gw")
    other_crt, _ = self_signed(str(tmp_path), "other")
    gw = tls_gateway(make_gateway, {"certificate": "gw.crt", "key": "gw.key"}, {"gw.crt": crt, "gw.key": key})
    before = reloads(gw, crt)

    # a certificate that does not match the key, then a file that is not PEM at all
    for bad in (other_crt, None):
        if bad:
            replace_file(bad, os.path.join(gw.dir, "gw.crt"))
        else:
            with open(os.path.join(gw.dir, "gw.crt"), "w") as f:
                f.write("-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n")
        failed_before = reloads(gw, crt)["failed"]
        gw.reload()
        wait_until(lambda: reloads(gw, crt)["failed"] == failed_before + 1, 5, "the failed reload to be counted")
        assert gw.running
        assert served_fingerprint(gw.port, crt) == pem_fingerprint(crt)
        r = requests.get(https_url(gw, "/"), headers=admin_headers(gw), verify=crt, timeout=10)
        assert r.status_code == 200
    after = reloads(gw, crt)
    assert after["failed"] == before["failed"] + 2 and after["ok"] == before["ok"], (before, after)


def test_min_version_1_3_refuses_a_tls_1_2_only_client(make_gateway, tmp_path):
    crt, key = self_signed(str(tmp_path), "gw")
    gw = tls_gateway(make_gateway, {"certificate": "gw.crt", "key": "gw.key", "min_version": "1.3"},
                     {"gw.crt": crt, "gw.key": key})
    with pytest.raises((ssl.SSLError, ConnectionResetError)):
        TlsConnection(gw.port, client_context(crt, max_version=ssl.TLSVersion.TLSv1_2)).close()
    with TlsConnection(gw.port, client_context(crt, min_version=ssl.TLSVersion.TLSv1_3)) as c:
        assert c.sock.version() == "TLSv1.3"
        assert c.request("GET", "/", [("Authorization", admin_headers(gw)["Authorization"])]).status == 200


def _tls_request_fails(gw: Gateway, ctx: ssl.SSLContext, m: str) -> bool:
    """True when no HTTP response comes back (handshake or first read fails)."""
    try:
        with TlsConnection(gw.port, ctx) as c:
            c.request("GET", f"/?m={m}", [("Authorization", admin_headers(gw)["Authorization"])])
    except (ssl.SSLError, ConnectionError, OSError):
        return True
    return False


def test_mutual_tls_requires_a_client_certificate_signed_by_client_ca(make_gateway, tmp_path):
    d = str(tmp_path)
    ca_crt, ca_key = self_signed(d, "ca", cn="esgate test client CA")
    client = signed_by(d, "client", ca_crt, ca_key, "client-1")
    rogue_ca_crt, rogue_ca_key = self_signed(d, "rogue-ca", cn="rogue CA")
    rogue = signed_by(d, "rogue", rogue_ca_crt, rogue_ca_key, "client-1")
    crt, key = self_signed(d, "gw")
    gw = tls_gateway(make_gateway, {"certificate": "gw.crt", "key": "gw.key", "client_ca": "ca.crt"},
                     {"gw.crt": crt, "gw.key": key, "ca.crt": ca_crt}, wait_cert=client)

    m = marker()
    assert _tls_request_fails(gw, client_context(crt), m), "a client without a certificate got an answer"
    with pytest.raises((requests.exceptions.SSLError, requests.exceptions.ConnectionError)):
        requests.get(https_url(gw, f"/?m={m}"), headers=admin_headers(gw), verify=crt, timeout=10)
    assert _tls_request_fails(gw, client_context(crt, cert=rogue), m), "a rogue client certificate was accepted"
    assert not requests_carrying(gw.stub, m, include_partial=True)

    m = marker()
    r = requests.get(https_url(gw, f"/?m={m}"), headers=admin_headers(gw), verify=crt, cert=client, timeout=10)
    assert r.status_code == 200, r.text[:300]
    assert len(requests_carrying(gw.stub, m)) == 1
    # the client certificate authenticates the channel, not the user: credentials are still required
    m = marker()
    r = requests.get(https_url(gw, f"/?m={m}"), verify=crt, cert=client, timeout=10)
    assert r.status_code == 401
    assert not requests_carrying(gw.stub, m)


def test_https_upstream_nodes_are_verified_and_proxied(make_gateway, tmp_path):
    """An https:// node: esgate verifies its certificate against upstream.tls.ca (name included) and
    proxies over TLS; a gateway that does not trust the certificate sends nothing and answers 502."""
    crt, key = self_signed(str(tmp_path), "es")
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(crt, key)
    stub = StubES(tls=server_ctx)
    make_gateway.own_stubs.append(stub)
    node = f"https://localhost:{stub.port}"

    gw = make_gateway(upstreams=[node], config={"upstream": {"tls": {"ca": crt}}})
    m = marker()
    r = gw.get(f"/?m={m}")
    assert r.status_code == 200, r.text
    got = requests_carrying(stub, m)
    assert len(got) == 1 and got[0].header("Authorization") == basic(UPSTREAM_USER, UPSTREAM_PASSWORD)

    untrusting = make_gateway(upstreams=[node])  # system CAs only: the self-signed node is refused
    m2 = marker()
    r = untrusting.get(f"/?m={m2}")
    assert r.status_code == 502, r.text
    assert requests_carrying(stub, m2) == []
