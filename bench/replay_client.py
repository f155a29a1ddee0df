#!/usr/bin/python3
"""Sends N requests one after another over one keep-alive connection and checks each answer's
status (bench/instructions.sh). Exits 1 on the first unexpected status or a closed connection."""
import argparse
import base64
import os
import secrets
import socket
import sys


def read_response(sock, buf):
    """Returns (status, rest of the buffer) after one whole response (Content-Length or chunked)."""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed before a response head")
        buf += data
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip()
    if headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        while True:
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            size_line, _, buf = buf.partition(b"\r\n")
            size = int(size_line.split(b";")[0], 16)
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            buf = buf[size + 2:]
            if size == 0:
                return status, buf
    length = int(headers.get(b"content-length", b"0"))
    while len(buf) < length:
        data = sock.recv(65536)
        if not data:
            raise ConnectionError("connection closed inside a response body")
        buf += data
    return status, buf[length:]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--requests", type=int, required=True)
    p.add_argument("--path", required=True)
    p.add_argument("--expect", type=int, required=True)
    p.add_argument("--auth-env", help="environment variable holding the Authorization value")
    p.add_argument("--random-key", action="store_true", help="a new unknown API key per request")
    p.add_argument("--bulk-items", type=int, default=0)
    a = p.parse_args()

    body = b""
    if a.bulk_items:
        item = (b'{"create":{"_index":"logs-a"}}\n'
                b'{"@timestamp":"2026-12-07T00:00:00Z","message":"GET /index.html 200 1234",'
                b'"host":{"name":"web-1"}}\n')
        body = item * a.bulk_items
    method = b"POST" if body else b"GET"
    content = b"Content-Type: application/x-ndjson\r\n" if body else b""

    def request():
        if a.random_key:
            raw = f"{secrets.token_urlsafe(15)}:{secrets.token_urlsafe(16)}".encode()
            auth = b"ApiKey " + base64.b64encode(raw)
        else:
            auth = os.environ[a.auth_env].encode()
        return (method + b" " + a.path.encode() + b" HTTP/1.1\r\nHost: bench\r\nAuthorization: " + auth +
                b"\r\n" + content + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)

    sock = socket.create_connection(("127.0.0.1", a.port), timeout=60)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    buf = b""
    fixed = None if a.random_key else request()
    for i in range(a.requests):
        sock.sendall(fixed or request())
        status, buf = read_response(sock, buf)
        if status != a.expect:
            print(f"request {i}: status {status}, expected {a.expect}", file=sys.stderr)
            return 1
    sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
