#!/usr/bin/env python3
"""Responsiveness probe for bench/assets-import.

  poll.py run BASE_URL TOKEN OUT.tsv INTERVAL_S TIMEOUT_S
      One thread per endpoint (GET /healthz without a token, GET
      /api/v1/assets?limit=20 with it), each sending a request, waiting for
      the complete answer, then sleeping for what is left of INTERVAL_S
      (so one request every INTERVAL_S while the server keeps up; a slow
      answer delays that endpoint's next request, it never overlaps it).
      Each request opens a new connection. Writes one line per request:
      endpoint, start (s since the poller began), latency ms, status (HTTP
      code, or "timeout" / "error:<kind>"). On SIGTERM or SIGINT it starts
      no new request, waits for those in flight (at most TIMEOUT_S), and exits.

  poll.py stats OUT.tsv
      Per endpoint: "endpoint samples failed p50 p95 max max_at first_failure"
      (ms, nearest-rank percentiles over every sample, failed ones included
      at their latency; max_at: when the slowest request started, s since
      the poller began; failed = anything but 200, first_failure its status
      or "-").
"""

import http.client
import math
import os
import signal
import sys
import threading
import time
import urllib.parse

ENDPOINTS = [("healthz", "/healthz", False), ("assets", "/api/v1/assets?limit=20", True)]


def run(base: str, token: str, out: str, interval: float, timeout: float) -> None:
    u = urllib.parse.urlsplit(base)
    stop = threading.Event()
    lock = threading.Lock()

    def on_signal(_sig, _frame):
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    # The file appearing tells the caller the handlers are in place.
    f = open(out + ".part", "w", buffering=1)
    os.rename(out + ".part", out)
    t0 = time.monotonic()

    def loop(name: str, path: str, auth: bool) -> None:
        headers = {"Authorization": f"Bearer {token}"} if auth else {}
        first = True
        while first or not stop.is_set():  # at least one sample, however short the run
            first = False
            start = time.monotonic()
            status = "error"
            try:
                conn = http.client.HTTPConnection(u.hostname, u.port, timeout=timeout)
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                resp.read()
                status = str(resp.status)
                conn.close()
            except TimeoutError:
                status = "timeout"
            except Exception as e:  # noqa: BLE001 - any failure is a sample
                status = f"error:{type(e).__name__}"
            end = time.monotonic()
            with lock:
                f.write(f"{name}\t{start - t0:.3f}\t{(end - start) * 1000:.2f}\t{status}\n")
            left = interval - (end - start)
            if left > 0:
                stop.wait(left)

    threads = [threading.Thread(target=loop, args=e, daemon=True) for e in ENDPOINTS]
    for t in threads:
        t.start()
    while not stop.is_set():
        stop.wait(0.5)
    for t in threads:
        t.join(timeout + 5)
    f.close()


def stats(path: str) -> None:
    samples: dict[str, list[tuple[float, float, str]]] = {name: [] for name, _, _ in ENDPOINTS}
    with open(path) if os.path.exists(path) else open(os.devnull) as f:
        for line in f:
            name, start, ms, status = line.rstrip("\n").split("\t")
            samples.setdefault(name, []).append((float(start), float(ms), status))
    for name, got in samples.items():
        lat = sorted(ms for _, ms, _ in got)
        bad = [s for _, _, s in got if s != "200"]
        slowest = max(got, key=lambda g: g[1]) if got else None

        def rank(p: float) -> str:
            return f"{lat[max(0, math.ceil(p * len(lat)) - 1)]:.1f}" if lat else "-"

        print(name, len(lat), len(bad), rank(0.50), rank(0.95), f"{lat[-1]:.1f}" if lat else "-",
              f"{slowest[0]:.1f}" if slowest else "-", bad[0] if bad else "-")


if __name__ == "__main__":
    if sys.argv[1] == "run":
        run(sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5]), float(sys.argv[6]))
    elif sys.argv[1] == "stats":
        stats(sys.argv[2])
    else:
        sys.exit(f"usage: {sys.argv[0]} run|stats ...")
