"""No point lost under faults: 100,000 points through a fault-injecting proxy.

Each scenario writes 100,000 points in batches of 10,000 through
:class:`faultproxy.FaultProxy` in front of the v2 test server.  It ends with
every point in the server exactly once (read back: count, and a sum of a
field that a lost or doubled point would change), or with an exception whose
``points_written`` tells where to resume: the test resumes there, as a caller
would, and the final read-back must still be exact.
"""

from __future__ import annotations

import threading
from typing import Any, Dict, List

import pytest
import requests
from faultproxy import FaultProxy

import influx_compat
from influx_compat.exceptions import InfluxDBClientError, InfluxDBServerError, WriteProgress

N = 100_000
START = 1_700_000_000_000_000_000


def _points(n: int = N, offset: int = 0) -> List[Dict[str, Any]]:
    return [
        {
            "measurement": "m1",
            "tags": {"host": f"h{i % 100}", "dc": f"dc{i % 3}"},
            "fields": {"x": i * 0.5, "z": i},
            "time": START + i,
        }
        for i in range(offset, offset + n)
    ]


def _read_back(server: Any, database: str) -> Dict[str, int]:
    client = influx_compat.InfluxDBClient(
        url=server.url, token=server.token, org=server.org, database=database
    )
    rs = client.query('SELECT count("z"), sum("z") FROM "m1"')
    (row,) = list(rs.get_points())
    return {"count": row["count"], "sum": row["sum"]}


def _write_resuming(client: Any, points: List[Dict[str, Any]]) -> List[str]:
    """Write, resuming after an error where its ``points_written`` says; return what was raised."""
    seen: List[str] = []
    start = 0
    while True:
        try:
            client.write_points(points[start:], batch_size=10_000)
            return seen
        except (InfluxDBClientError, InfluxDBServerError, requests.RequestException) as exc:
            assert hasattr(exc, "points_written"), f"{type(exc).__name__} does not say what was written"
            seen.append(f"{type(exc).__name__} at point {start + exc.points_written}")
            start += exc.points_written
            assert len(seen) < 10, seen


FAULTS = {
    "connection reset before the write": dict(script=[None, "reset", None, None, "reset"]),
    "connection reset after the write landed": dict(script=[None, None, "reset_after", None, "reset_after"]),
    "delay past the client timeout": dict(script=[None, "delay"], delay=6),
    "429 with Retry-After": dict(script=[None, "429", "429", None]),
    "503 with Retry-After": dict(script=["503", None, None, "503"]),
    "truncated response": dict(script=[None, None, None, "truncate"]),
    "413 request too large": dict(max_body=150_000),
    "500 server error": dict(script=[None, None, None, "500", None, None, "500"]),
    # A 500 that outlasts the retries (4 answers: the first and 3 retries, as for a 503) raises.
    "500 server error, retries spent": dict(script=[None, "500", "500", "500", "500"]),
}
# What the caller sees, per fault: nothing (retried inside the client) unless named here.
RAISED = {"500 server error, retries spent": ["WriteServerError at point 10000"]}

RESULTS: List[str] = []


@pytest.mark.parametrize("fault", list(FAULTS))
def test_every_point_lands_exactly_once(v2_server, fault):
    database = "faults"
    setup = influx_compat.InfluxDBClient(url=v2_server.url, token=v2_server.token, org=v2_server.org)
    setup.create_database(database)
    proxy = FaultProxy(v2_server.url, **FAULTS[fault])
    try:
        client = influx_compat.InfluxDBClient(
            url=proxy.url, token=v2_server.token, org=v2_server.org, database=database, timeout=3, retries=5
        )
        seen = _write_resuming(client, _points())
    finally:
        proxy.close()
    got = _read_back(v2_server, database)
    assert got == {"count": N, "sum": N * (N - 1) // 2}, got
    injected = sum(proxy.faults.values())
    assert injected > 0, "the fault never happened"
    assert seen == RAISED.get(fault, []), seen
    RESULTS.append(
        f"| {fault} | {injected} | {N:,} | {got['count']:,} | 0 | {'; '.join(seen) or 'nothing (retried)'} |"
    )


def test_a_server_failing_one_write_in_four_with_500_stores_everything(v2_server):
    setup = influx_compat.InfluxDBClient(url=v2_server.url, token=v2_server.token, org=v2_server.org)
    setup.create_database("flaky")
    proxy = FaultProxy(v2_server.url, every=(4, "500"))
    try:
        client = influx_compat.InfluxDBClient(
            url=proxy.url, token=v2_server.token, org=v2_server.org, database="flaky"
        )
        client.write_points(_points(), batch_size=10_000)  # raises nothing: every 500 was retried
    finally:
        proxy.close()
    assert proxy.faults == {"500": proxy.seen // 4} and proxy.seen == 13, (proxy.faults, proxy.seen)
    assert _read_back(v2_server, "flaky") == {"count": N, "sum": N * (N - 1) // 2}


def test_a_500_on_a_query_is_not_retried(v2_server):
    proxy = FaultProxy(v2_server.url, script=["500", None], paths=("/query",))
    try:
        client = influx_compat.InfluxDBClient(
            url=proxy.url, token=v2_server.token, org=v2_server.org, database="faults"
        )
        with pytest.raises(InfluxDBServerError, match="500"):
            client.query('SELECT count("z") FROM "m1"')
    finally:
        proxy.close()
    assert proxy.seen == 1 and proxy.faults == {"500": 1}


def test_a_single_line_too_large_says_so(v2_server):
    setup = influx_compat.InfluxDBClient(url=v2_server.url, token=v2_server.token, org=v2_server.org)
    setup.create_database("big")
    proxy = FaultProxy(v2_server.url, max_body=2_000)
    try:
        client = influx_compat.InfluxDBClient(
            url=proxy.url, token=v2_server.token, org=v2_server.org, database="big"
        )
        points = _points(50) + [{"measurement": "m1", "fields": {"s": "x" * 5_000}, "time": START + 10**6}]
        with pytest.raises(InfluxDBClientError) as info:
            client.write_points(points)
    finally:
        proxy.close()
    assert info.value.code == 413
    assert "a single line of" in str(info.value) and "larger than the server accepts" in str(info.value)
    assert isinstance(info.value, WriteProgress) and info.value.points_written == 50
    assert _read_back(v2_server, "big")["count"] == 50


def test_one_client_shared_by_8_threads_loses_nothing(v2_server):
    client = influx_compat.InfluxDBClient(
        url=v2_server.url, token=v2_server.token, org=v2_server.org, database="threads"
    )
    client.create_database("threads")
    errors: List[BaseException] = []
    share = N // 8

    def work(k: int) -> None:
        try:
            client.write_points(_points(share, k * share), batch_size=1_000)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert _read_back(v2_server, "threads") == {"count": N, "sum": N * (N - 1) // 2}


def test_zz_fault_table():
    """The table of the scenarios above (printed with -s; kept for the release notes)."""
    print("\n| fault | faults injected | points sent | points read back | duplicates | what the caller saw |")
    print("|---|---:|---:|---:|---:|---|")
    for row in RESULTS:
        print(row)
