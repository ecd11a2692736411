"""``python -m benchmarks.proxy_bench [--requests N] [--lines N]``: writes through the proxy vs straight.

N concurrent 1.x clients (N = 1, 4, 16; threads with one requests.Session
each) POST line protocol to ``/write``, once through the influx_compat proxy
in front of the v2 test server, once straight to the test server's own
1.x-compatible ``/write`` (with its token).  For each it prints the write
throughput (points per second, over the whole run) and the p50/p99 latency of
one request, as a markdown table.  Every run reads its points back
(``count``) so a faster row that lost points cannot pass.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from typing import Dict, List, Tuple

import requests
import waitress

from influx_compat.proxy import Limits, ProxyApp
from influx_compat.testing import V2TestServer

CLIENTS = (1, 4, 16)


def _body(client: int, request: int, lines: int) -> bytes:
    base = 1_600_000_000_000 + request * lines
    return "".join(f"bench,client=c{client} v={i}i {base + i}\n" for i in range(lines)).encode()


def _run(
    url: str, db: str, clients: int, requests_each: int, lines: int, auth: Dict[str, str]
) -> Tuple[float, List[float]]:
    latencies: List[float] = []
    lock = threading.Lock()
    errors: List[str] = []
    bodies = [[_body(c, r, lines) for r in range(requests_each)] for c in range(clients)]

    def client(index: int) -> None:
        session = requests.Session()
        own: List[float] = []
        for body in bodies[index]:
            started = time.perf_counter()
            r = session.post(url + "/write", params={"db": db, "precision": "ms"}, data=body, headers=auth)
            own.append(time.perf_counter() - started)
            if r.status_code != 204:
                errors.append(f"{r.status_code} {r.text[:200]}")
        with lock:
            latencies.extend(own)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise SystemExit(f"writes failed: {errors[:3]}")
    return elapsed, latencies


def _count(url: str, db: str, auth: Dict[str, str]) -> int:
    r = requests.get(url + "/query", params={"q": 'SELECT count("v") FROM "bench"', "db": db}, headers=auth)
    series = r.json()["results"][0].get("series") or [{"values": [[0, 0]]}]
    return int(series[0]["values"][0][1])


def _percentile(values: List[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxy_bench")
    parser.add_argument("--requests", type=int, default=20, help="requests per client (default 20)")
    parser.add_argument("--lines", type=int, default=1000, help="lines per request (default 1000)")
    args = parser.parse_args()
    rows: List[str] = []
    with V2TestServer() as server:
        app = ProxyApp(
            url=server.url,
            token=server.token,
            org=server.org,
            pool_size=32,
            access_log=False,
            limits=Limits(max_concurrent_write_limit=16, max_enqueued_write_limit=16),
        )
        proxy = waitress.create_server(app, host="127.0.0.1", port=0, threads=32)
        threading.Thread(target=proxy.run, daemon=True).start()
        proxy_url = f"http://127.0.0.1:{proxy.effective_port}"
        direct_auth = {"Authorization": f"Token {server.token}"}
        for clients in CLIENTS:
            for name, url, auth in (
                ("straight to the test server", server.url, direct_auth),
                ("through the proxy", proxy_url, {}),
            ):
                db = f"bench_{clients}_{'proxy' if auth == {} else 'direct'}"
                r = requests.post(proxy_url + "/query", data={"q": f'CREATE DATABASE "{db}"'})
                r.raise_for_status()
                elapsed, latencies = _run(url, db, clients, args.requests, args.lines, auth)
                points = clients * args.requests * args.lines
                stored = _count(proxy_url, db, {})
                if stored != points:
                    raise SystemExit(f"{name}, {clients} clients: {stored} points stored of {points}")
                rows.append(
                    f"| {clients} | {name} | {points / elapsed:,.0f} "
                    f"| {statistics.median(latencies) * 1000:.1f} | {_percentile(latencies, 99) * 1000:.1f} |"
                )
        proxy.close()
    print(
        f"Writes of {args.lines} lines per request, {args.requests} requests per client, "
        "every point read back.\n"
    )
    print("| clients | path | points/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
