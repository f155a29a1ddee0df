#!/usr/bin/python3
"""Memory per idle keep-alive connection of a proxy process.

Opens N connections to HOST:PORT (plain or TLS), sends one `GET PATH` on each and reads its answer
(so every connection has allocated what a request needs), then holds them all idle and reports the
growth of the proxy's VmRSS (all PIDS summed), before -> after, per connection.

usage: idle_conns.py N HOST PORT PATH plain|tls PID [PID...]
Prints one line: `<connections> <rss_before_kib> <rss_after_kib> <bytes_per_conn>`.
"""
import socket
import ssl
import sys
import time


def rss_kib(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total


def main():
    n, host, port, path, mode = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    pids = [int(p) for p in sys.argv[6:]]
    ctx = None
    if mode == "tls":
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    time.sleep(0.5)
    before = rss_kib(pids)
    conns = []
    for _ in range(n):
        s = socket.create_connection((host, port), timeout=30)
        if ctx:
            s = ctx.wrap_socket(s, server_hostname=host)
        s.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = s.recv(65536)
            if not chunk:
                raise SystemExit(f"connection closed after {len(conns)} connections")
            data += chunk
        if not data.startswith(b"HTTP/1.1 "):
            raise SystemExit(f"unexpected answer: {data[:200]!r}")
        conns.append(s)
    time.sleep(2.0)  # let the proxy settle (idle state); no readiness signal exists for that
    after = rss_kib(pids)
    print(n, before, after, round((after - before) * 1024 / n))
    for s in conns:
        s.close()


if __name__ == "__main__":
    main()
