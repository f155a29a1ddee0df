#!/usr/bin/python3
"""A stand-in for the esgate binary, used only by test_harness.py to test the fixtures themselves
(config writing, start-up wait, SIGTERM teardown and its exit-code check) without the real gateway.

  fake_esgate.py hash-password          prints a bcrypt-shaped (NOT real) hash of stdin
  fake_esgate.py --config FILE          serves GET /_esgate/health and echoes other requests' auth

Environment: FAKE_ESGATE_EXIT_CODE = exit code after SIGTERM (default 0).
"""

import hashlib
import json
import os
import signal
import socketserver
import sys
import threading

import yaml


def hash_password() -> int:
    pw = sys.stdin.read()
    digest = hashlib.sha256(pw.encode()).hexdigest()
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    body = "".join(alphabet[int(digest[i:i + 2], 16) % 64] for i in range(0, 64, 2))
    print("$2b$04$" + (body * 2)[:53])
    return 0


class Handler(socketserver.StreamRequestHandler):
    def handle(self):
        while True:
            line = self.rfile.readline()
            if not line:
                return
            method, target, _ = line.decode().split(" ", 2)
            length = 0
            while True:
                h = self.rfile.readline()
                if h in (b"\r\n", b""):
                    break
                name, _, value = h.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.rfile.read(length)
            status = 200
            body = {"status": "green"} if target == "/_esgate/health" else {"method": method, "target": target}
            data = json.dumps(body).encode()
            self.wfile.write(b"HTTP/1.1 %d OK\r\nX-Elastic-Product: Elasticsearch\r\n"
                             b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (status, len(data))
                             + data)


def serve(config_path: str) -> int:
    with open(config_path) as f:
        cfg = yaml.safe_load(f)
    base = os.path.dirname(config_path)
    for key in ("users_file", "roles_file"):
        assert os.path.exists(os.path.join(base, cfg["security"][key])), key
    server = socketserver.ThreadingTCPServer((cfg["listen"]["address"], cfg["listen"]["port"]), Handler)
    server.daemon_threads = True
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"fake esgate listening on {cfg['listen']['port']}", file=sys.stderr, flush=True)
    done.wait()
    server.shutdown()
    return int(os.environ.get("FAKE_ESGATE_EXIT_CODE", "0"))


def main() -> int:
    args = sys.argv[1:]
    if args == ["hash-password"]:
        return hash_password()
    if args == ["--version"]:
        print("fake-esgate 0")
        return 0
    if len(args) == 2 and args[0] == "--config":
        return serve(args[1])
    print(f"usage error: {args}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
