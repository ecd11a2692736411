"""``python -m benchmarks [--quick] [--reps N] [--markdown FILE]``.

Runs influx_compat, influxdb-python 5.3.2 and influxdb-client side by side in
this process (the HTTP sink runs in a child process), interleaved, after a
warm-up, and prints the median of each row with its ratios.  The write and
query rows run again against an InfluxDB 3 Core sink, with influxdb3-python's
own write beside them.  The memory rows run in child processes and report
their peak RSS.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional

from benchmarks import workload
from benchmarks.sink import RemoteSink


@dataclass
class Row:
    name: str
    run: Callable[[], Any]
    check: Callable[[Any], None]
    points: int
    note: Callable[[], str] = lambda: ""
    times: List[float] = field(default_factory=list)
    notes: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times)


@dataclass
class Group:
    title: str
    rows: List[Row]
    reference: str  # name of the row the ratios are against
    limit: Optional[str] = None  # name of the limit row, if any
    second: Optional[str] = None  # name of a second row the ratios are against, if any


def measure(group: Group, reps: int) -> Group:
    """Warm up and check every row, then time the rows interleaved.

    A garbage collection runs before each timed call, so no row pays for the
    garbage another left behind; the collector stays on during the call, as it
    is in the programs that use these clients.  Only the current group's
    inputs are alive while it runs.
    """
    for row in group.rows:  # warm-up, and the correctness check of every row
        row.check(row.run())
    for _ in range(reps):
        for row in group.rows:
            gc.collect()
            start = time.perf_counter()
            row.run()
            row.times.append(time.perf_counter() - start)
            row.notes = row.note()
    for row in group.rows:  # keep the numbers, let the inputs go
        row.run = row.check = row.note = _nothing
    gc.collect()
    return group


def _nothing(*args: Any) -> Any:
    return ""


def render(groups: List[Group], extra: List[str]) -> str:
    out = []
    for g in groups:
        ref = next(r for r in g.rows if r.name == g.reference)
        lim = next((r for r in g.rows if r.name == g.limit), None)
        second = next((r for r in g.rows if r.name == g.second), None)
        out.append(f"\n### {g.title}\n")
        head = "| row | median s | points/s | vs " + g.reference + " |"
        sep = "|---|---:|---:|---:|"
        if second is not None:
            head += f" vs {second.name} |"
            sep += "---:|"
        if lim is not None:
            head += " vs limit |"
            sep += "---:|"
        out.append(head + " notes |")
        out.append(sep + "---|")
        for r in g.rows:
            cells = [
                r.name,
                f"{r.median:.4f}",
                f"{r.points / r.median:,.0f}",
                f"{ref.median / r.median:.2f}x",
            ]
            if second is not None:
                cells.append(f"{second.median / r.median:.2f}x")
            if lim is not None:
                cells.append(f"{lim.median / r.median:.2f}")
            cells.append(r.notes)
            out.append("| " + " | ".join(cells) + " |")
    out.extend(extra)
    return "\n".join(out) + "\n"


# -- groups -------------------------------------------------------------------


def serialize_group(n: int, rising: bool = False, others: bool = True) -> Group:
    """make_lines on the seed's workload (or the benchmarks' earlier one: ``rising``).

    :param others: also influxdb-client's two serializers
    """
    from influxdb import line_protocol as legacy_lp
    from influxdb_client import Point, WritePrecision

    from influx_compat import _serializer
    from influx_compat import line_protocol as ours_lp

    points = workload.rising_points(n) if rising else workload.workload_points(n)
    reference = legacy_lp.make_lines({"points": points}, "ms")
    stats = dict(_serializer.STATS)

    def builder_note() -> str:
        written = _serializer.STATS["points"] - stats["points"]
        general = _serializer.STATS["general"] - stats["general"]
        stats.update(_serializer.STATS)
        return (
            f"{(written - general) / max(written, 1):.2%} of points by compiled builders, "
            f"{len(_serializer._escape_cache):,} strings in the escape cache"
        )

    def equal(out: str) -> None:
        assert out == reference, "output differs from influxdb-python's"

    def same_points(out: str) -> None:
        # influxdb-client writes the float 63.0 as "63" (still a float on the wire: no "i").
        if out != reference:
            assert out == re.sub(r"=(-?\d+)\.0(?=[, ])", r"=\1", reference), "points differ"

    def client_dicts() -> str:
        return (
            "\n".join(
                Point.from_dict(p, write_precision=WritePrecision.MS).to_line_protocol() for p in points
            )
            + "\n"
        )

    def client_points() -> str:
        lines = []
        for p in points:
            t, f = p["tags"], p["fields"]
            point = (
                Point("m1")
                .tag("fruit", t["fruit"])
                .tag("id", t["id"])
                .tag("location", t["location"])
                .field("x", f["x"])
                .field("y", f["y"])
                .field("z", f["z"])
                .time(p["time"], WritePrecision.MS)
            )
            lines.append(point.to_line_protocol())
        return "\n".join(lines) + "\n"

    rows = [
        Row(
            "influxdb-python 5.3.2 make_lines",
            lambda: legacy_lp.make_lines({"points": points}, "ms"),
            equal,
            n,
        ),
        Row(
            "influx_compat make_lines",
            lambda: ours_lp.make_lines({"points": points}, "ms"),
            equal,
            n,
            builder_note,
        ),
        Row("influxdb-client Point.from_dict", client_dicts, same_points, n),
        Row("influxdb-client Point builder", client_points, same_points, n),
        Row("limit: fixed-schema f-string", lambda: workload.fstring_lines(points), equal, n),
    ]
    if not others:
        rows = [r for r in rows if not r.name.startswith("influxdb-client")]
    what = (
        "the earlier benchmark workload (x, y up to 100, z up to 10,000, rising times)"
        if rising
        else ("the seed's write_test.py points")
    )
    return Group(
        f"Dict points to line protocol ({n:,} points of {what}, ms)",
        rows,
        "influxdb-python 5.3.2 make_lines",
        "limit: fixed-schema f-string",
    )


def shape_groups(n: int) -> List[Group]:
    from influxdb import line_protocol as legacy_lp

    from influx_compat import line_protocol as ours_lp

    groups = []
    for title, points in workload.shapes(n).items():
        reference = legacy_lp.make_lines({"points": points})

        def equal(out: str, reference: str = reference) -> None:
            assert out == reference, "output differs from influxdb-python's"

        rows = [
            Row("influxdb-python 5.3.2", lambda p=points: legacy_lp.make_lines({"points": p}), equal, n),
            Row("influx_compat", lambda p=points: ours_lp.make_lines({"points": p}), equal, n),
        ]
        groups.append(Group(f"Shape: {title} ({n:,} points)", rows, "influxdb-python 5.3.2"))
    return groups


def _sink_check(sink: RemoteSink, expected: str, n: int) -> Callable[[Any], None]:
    loose = re.sub(r"=(-?\d+)\.0(?=[, ])", r"=\1", expected)

    def check(_: Any) -> None:
        stats = sink.stats()
        assert stats["lines"] == n, f"sink received {stats['lines']} lines, not {n}"
        received = sink.received_text()
        # influxdb-client writes the float 63.0 as "63" (still a float on the wire).
        assert received in (expected, loose), "the sink received other lines than the reference"

    return check


def _connections_note(sink: RemoteSink, state: Dict[str, int]) -> Callable[[], str]:
    def note() -> str:
        stats = sink.stats()
        new = stats["connections"] - state.get("connections", 0)
        state["connections"] = stats["connections"]
        return f"{stats['requests'] - state.get('requests', 0)} requests, {new} new connections"

    return note


def _reset_then(sink: RemoteSink, func: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        sink.reset()
        return func()

    return run


def write_groups(n: int, sink: RemoteSink, others: bool = True) -> List[Group]:
    import influxdb
    import requests
    from influxdb import line_protocol as legacy_lp
    from influxdb_client import InfluxDBClient as V2Client
    from influxdb_client import WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS

    import influx_compat

    points = workload.workload_points(n)
    reference = legacy_lp.make_lines({"points": points}, "ms")
    lines = reference.splitlines()
    batch = 10_000
    ours = influx_compat.InfluxDBClient(url=sink.url, token="bench-token", org="bench", database="bench")
    ours_gzip = influx_compat.InfluxDBClient(
        url=sink.url, token="bench-token", org="bench", database="bench", gzip=True
    )
    legacy = influxdb.InfluxDBClient(port=sink.port, database="bench")
    v2 = V2Client(url=sink.url, token="bench-token", org="bench")
    v2_write = v2.write_api(write_options=SYNCHRONOUS)
    session = requests.Session()

    def v2_batches(records: List[Any]) -> None:
        for i in range(0, len(records), batch):
            v2_write.write("bench", record=records[i : i + batch], write_precision=WritePrecision.MS)

    def limit_lines() -> None:
        for i in range(0, len(lines), batch):
            session.post(
                sink.url + "/api/v2/write",
                params={"org": "bench", "bucket": "bench", "precision": "ms"},
                data="\n".join(lines[i : i + batch]).encode() + b"\n",
                headers={"Authorization": "Token bench-token"},
            ).raise_for_status()

    check = _sink_check(sink, reference, n)
    state: Dict[str, int] = {}
    note = _connections_note(sink, state)

    def row(name: str, func: Callable[[], Any]) -> Row:
        return Row(name, _reset_then(sink, func), check, n, note)

    dict_rows = [
        row(
            "influxdb-python 5.3.2 write_points", lambda: legacy.write_points(points, "ms", batch_size=batch)
        ),
        row("influx_compat write_points", lambda: ours.write_points(points, "ms", batch_size=batch)),
        row("influxdb-client WriteApi (sync)", lambda: v2_batches(points)),
    ]
    line_rows = [
        row(
            "influxdb-python 5.3.2 write_points",
            lambda: legacy.write_points(lines, "ms", batch_size=batch, protocol="line"),
        ),
        row(
            "influx_compat write_points",
            lambda: ours.write_points(lines, "ms", batch_size=batch, protocol="line"),
        ),
        row("influxdb-client WriteApi (sync)", lambda: v2_batches(lines)),
        row("limit: join + POST, one keep-alive session", limit_lines),
    ]
    gzip_state: Dict[str, int] = {}

    def gzip_note() -> str:
        stats = sink.stats()
        return f"{stats['bytes']:,} bytes on the wire"

    gzip_rows = [
        Row(
            "influx_compat write_points",
            _reset_then(sink, lambda: ours.write_points(points, "ms", batch_size=batch)),
            check,
            n,
            gzip_note,
        ),
        Row(
            "influx_compat write_points gzip=True",
            _reset_then(sink, lambda: ours_gzip.write_points(points, "ms", batch_size=batch)),
            check,
            n,
            gzip_note,
        ),
    ]
    del gzip_state
    if not others:
        dict_rows = [r for r in dict_rows if not r.name.startswith("influxdb-client")]
        line_rows = [r for r in line_rows if not r.name.startswith("influxdb-client")]
    return [
        Group(
            f"write_points of dict points, end to end to a loopback sink ({n:,} points, batches of 10,000)",
            dict_rows,
            "influxdb-python 5.3.2 write_points",
        ),
        Group(
            f"write_points of line-protocol strings ({n:,} lines, batches of 10,000)",
            line_rows,
            "influxdb-python 5.3.2 write_points",
            "limit: join + POST, one keep-alive session",
        ),
        Group(f"gzip ({n:,} dict points)", gzip_rows, "influx_compat write_points"),
    ]


def query_group(rows: int, sink: RemoteSink) -> Group:
    """Both clients ask for MessagePack (influxdb-python always did) and the sink answers it, as 2.x does."""
    import influxdb
    import msgpack

    import influx_compat

    sink.answer(rows)
    body = workload.query_answer_msgpack(rows)
    ours = influx_compat.InfluxDBClient(url=sink.url, token="bench-token", org="bench", database="bench")
    legacy = influxdb.InfluxDBClient(port=sink.port, database="bench")
    reference = list(legacy.query("SELECT * FROM cpu").get_points())
    assert len(reference) == rows and reference[-1]["count"] == rows - 1

    def check(points: Any) -> None:
        assert points == reference, "rows differ from influxdb-python's"

    def check_parsed(data: Any) -> None:
        assert len(data["results"][0]["series"][0]["values"]) == rows, "rows differ"

    limit = "limit: msgpack.unpackb of the body alone (no HTTP, no dicts)"
    return Group(
        f"query() + list(get_points()) on {rows:,} rows (MessagePack answers)",
        [
            Row(
                "influxdb-python 5.3.2",
                lambda: list(legacy.query("SELECT * FROM cpu").get_points()),
                check,
                rows,
            ),
            Row("influx_compat", lambda: list(ours.query("SELECT * FROM cpu").get_points()), check, rows),
            Row(limit, lambda: msgpack.unpackb(body, raw=False), check_parsed, rows),
        ],
        "influxdb-python 5.3.2",
        limit,
    )


def query_json_group(rows: int, sink: RemoteSink) -> Group:
    """query() + get_points() when the answer is JSON (a server or proxy without MessagePack).

    influx_compat twice: with the optional JSON accelerator (orjson, the
    ``json`` extra) and with the standard library alone (the accelerator
    switched off in this process for that row).
    """
    import influxdb

    import influx_compat
    from influx_compat import _answers

    sink.answer(rows, json_only=True)
    body = workload.query_answer(rows)
    ours = influx_compat.InfluxDBClient(url=sink.url, token="bench-token", org="bench", database="bench")
    legacy = influxdb.InfluxDBClient(port=sink.port, database="bench")
    reference = list(legacy.query("SELECT * FROM cpu").get_points())
    assert len(reference) == rows and reference[-1]["count"] == rows - 1
    accelerator = getattr(_answers, "_fast_loads", None)

    def check(points: Any) -> None:
        assert points == reference, "rows differ from influxdb-python's"

    def check_parsed(data: Any) -> None:
        assert len(data["results"][0]["series"][0]["values"]) == rows, "rows differ"

    def stdlib_only() -> Any:
        saved = getattr(_answers, "_fast_loads", None)
        _answers._fast_loads = None
        try:
            return list(ours.query("SELECT * FROM cpu").get_points())
        finally:
            _answers._fast_loads = saved

    limit = "limit: json.loads of the body alone (no HTTP, no dicts)"
    ours_rows = [
        Row("influx_compat, standard library", stdlib_only, check, rows),
    ]
    if accelerator is not None:
        ours_rows.append(
            Row(
                "influx_compat, JSON accelerator",
                lambda: list(ours.query("SELECT * FROM cpu").get_points()),
                check,
                rows,
                lambda: f"{getattr(accelerator, '__module__', None) or 'orjson'} installed",
            )
        )
    return Group(
        f"query() + list(get_points()) on {rows:,} rows (JSON answers)",
        [
            Row(
                "influxdb-python 5.3.2",
                lambda: list(legacy.query("SELECT * FROM cpu").get_points()),
                check,
                rows,
            ),
            *ours_rows,
            Row(limit, lambda: json.loads(body), check_parsed, rows),
        ],
        "influxdb-python 5.3.2",
        limit,
    )


INGEST = 0.040  # seconds the slow sink needs to ingest each batch of 10,000 lines


def ingest_group(n: int, sink: RemoteSink) -> Group:
    """Writes to a server that needs 40 ms to ingest each batch of 10,000 points.

    The limit row overlaps the two as far as one batch ahead allows: a
    fixed-schema f-string serializer in one thread building batch k+1 while
    ``http.client`` POSTs batch k from another, one keep-alive connection,
    timed as a whole.
    """
    import http.client
    import queue
    import threading

    import influxdb
    from influxdb import line_protocol as legacy_lp

    import influx_compat

    sink.ingest(INGEST)
    points = workload.workload_points(n)
    reference = legacy_lp.make_lines({"points": points}, "ms")
    batch = 10_000
    ours = influx_compat.InfluxDBClient(url=sink.url, token="bench-token", org="bench", database="bench")
    legacy = influxdb.InfluxDBClient(port=sink.port, database="bench")
    path = "/api/v2/write?org=bench&bucket=bench&precision=ms"
    headers = {"Authorization": "Token bench-token", "Content-Type": "text/plain; charset=utf-8"}

    def pipelined_limit() -> None:
        bodies: queue.Queue[Optional[bytes]] = queue.Queue()
        slots = threading.Semaphore(2)  # the batch on the wire and the one being built

        def serialize() -> None:
            for i in range(0, n, batch):
                slots.acquire()
                bodies.put(workload.fstring_lines(points[i : i + batch]).encode())
            bodies.put(None)

        worker = threading.Thread(target=serialize)
        worker.start()
        conn = http.client.HTTPConnection("127.0.0.1", sink.port)
        try:
            while True:
                body = bodies.get()
                if body is None:
                    break
                conn.request("POST", path, body, headers)
                answer = conn.getresponse()
                answer.read()
                assert answer.status == 204, answer.status
                slots.release()
        finally:
            conn.close()
            worker.join()

    check = _sink_check(sink, reference, n)
    state: Dict[str, int] = {}
    note = _connections_note(sink, state)

    def row(name: str, func: Callable[[], Any]) -> Row:
        return Row(name, _reset_then(sink, func), check, n, note)

    limit = "limit: f-string thread + http.client POSTs, one batch ahead"
    return Group(
        f"write_points of dict points to a server that ingests a batch of 10,000 in "
        f"{INGEST * 1000:.0f} ms ({n:,} points)",
        [
            row(
                "influxdb-python 5.3.2 write_points",
                lambda: legacy.write_points(points, "ms", batch_size=batch),
            ),
            row("influx_compat write_points", lambda: ours.write_points(points, "ms", batch_size=batch)),
            row(limit, pipelined_limit),
        ],
        "influxdb-python 5.3.2 write_points",
        limit,
    )


# -- the same write and query rows against an InfluxDB 3 Core sink ---------------

CORE = "InfluxDB 3 Core sink"


def _paths_check(sink: RemoteSink, expected: Dict[str, int]) -> Callable[[Any], None]:
    """Every request of the row went to the endpoint it must use on 3.x."""

    def check(_: Any) -> None:
        paths = sink.stats()["paths"]
        assert paths == expected, f"requests went to {paths}, not {expected}"

    return check


def _both(*checks: Callable[[Any], None]) -> Callable[[Any], None]:
    def check(out: Any) -> None:
        for one in checks:
            one(out)

    return check


def _paths_note(sink: RemoteSink, state: Dict[str, int]) -> Callable[[], str]:
    """The requests of the last run by path (since the last reset), and the new connections."""

    def note() -> str:
        stats = sink.stats()
        new = stats["connections"] - state.get("connections", 0)
        state["connections"] = stats["connections"]
        paths = ", ".join(f"{count} to {path}" for path, count in sorted(stats["paths"].items()))
        return f"{paths or 'no requests'}; {new} new connections"

    return note


def write_groups_v3(n: int, sink: RemoteSink) -> List[Group]:
    """The write rows of :func:`write_groups` against a 3 Core sink, and influxdb3-python's write.

    influx_compat (``flavour='core'``) writes to ``/api/v3/write_lp``;
    influxdb-python 5.3.2 to ``/write`` (3.x's 1.x endpoint: the token as its
    password, as 3.x's docs tell 1.x users); influxdb-client to
    ``/api/v2/write``; influxdb3-python to ``/api/v3/write_lp``
    (``use_v2_api=False``), synchronous, one ``write()`` of 10,000 points at a
    time, as the influxdb-client rows do (its batching mode flushes from a
    background thread every 1,000 points or second).
    """
    import influxdb
    import requests
    from influxdb import line_protocol as legacy_lp
    from influxdb_client import InfluxDBClient as V2Client
    from influxdb_client import WritePrecision
    from influxdb_client.client.write_api import SYNCHRONOUS
    from influxdb_client_3 import InfluxDBClient3, Point, WriteOptions, write_client_options
    from influxdb_client_3 import WritePrecision as WritePrecision3
    from influxdb_client_3.write_client.client.write_api import WriteType

    import influx_compat

    points = workload.workload_points(n)
    reference = legacy_lp.make_lines({"points": points}, "ms")
    lines = reference.splitlines()
    batch = 10_000
    requests_per_run = -(-n // batch)
    token = "bench-token"
    ours = influx_compat.InfluxDBClient(url=sink.url, token=token, database="bench", flavour="core")
    ours_gzip = influx_compat.InfluxDBClient(
        url=sink.url, token=token, database="bench", flavour="core", gzip=True
    )
    legacy = influxdb.InfluxDBClient(port=sink.port, password=token, database="bench")
    v2 = V2Client(url=sink.url, token=token, org="bench")
    v2_write = v2.write_api(write_options=SYNCHRONOUS)
    v3 = InfluxDBClient3(
        host=sink.url,
        token=token,
        database="bench",
        write_client_options=write_client_options(
            write_options=WriteOptions(
                write_type=WriteType.synchronous, write_precision=WritePrecision3.MS, use_v2_api=False
            )
        ),
    )
    session = requests.Session()

    def v2_batches(records: List[Any]) -> None:
        for i in range(0, len(records), batch):
            v2_write.write("bench", record=records[i : i + batch], write_precision=WritePrecision.MS)

    def v3_batches(records: List[Any]) -> None:
        for i in range(0, len(records), batch):
            v3.write(record=records[i : i + batch], write_precision=WritePrecision3.MS)

    def v3_point_batches() -> None:
        """influxdb3-python's own input: a Point built from each dict, 10,000 a write()."""
        for i in range(0, len(points), batch):
            built = []
            for p in points[i : i + batch]:
                t, f = p["tags"], p["fields"]
                built.append(
                    Point("m1")
                    .tag("fruit", t["fruit"])
                    .tag("id", t["id"])
                    .tag("location", t["location"])
                    .field("x", f["x"])
                    .field("y", f["y"])
                    .field("z", f["z"])
                    .time(p["time"], WritePrecision3.MS)
                )
            v3.write(record=built, write_precision=WritePrecision3.MS)

    def limit_lines() -> None:
        for i in range(0, len(lines), batch):
            session.post(
                sink.url + "/api/v3/write_lp",
                params={"db": "bench", "precision": "millisecond"},
                data="\n".join(lines[i : i + batch]).encode() + b"\n",
                headers={"Authorization": "Token " + token},
            ).raise_for_status()

    same = _sink_check(sink, reference, n)
    state: Dict[str, int] = {}
    note = _paths_note(sink, state)

    def row(name: str, func: Callable[[], Any], path: str) -> Row:
        check = _both(same, _paths_check(sink, {path: requests_per_run}))
        return Row(name, _reset_then(sink, func), check, n, note)

    legacy_name = "influxdb-python 5.3.2 write_points"
    v3_name = "influxdb3-python write (sync)"
    v3_points = "influxdb3-python write (sync), Point builder"
    dict_rows = [
        row(legacy_name, lambda: legacy.write_points(points, "ms", batch_size=batch), "/write"),
        row(
            "influx_compat write_points",
            lambda: ours.write_points(points, "ms", batch_size=batch),
            "/api/v3/write_lp",
        ),
        row("influxdb-client WriteApi (sync)", lambda: v2_batches(points), "/api/v2/write"),
        row(v3_points, v3_point_batches, "/api/v3/write_lp"),
        row(v3_name + ", dicts", lambda: v3_batches(points), "/api/v3/write_lp"),
    ]
    limit = "limit: join + POST to write_lp, one keep-alive session"
    line_rows = [
        row(
            legacy_name,
            lambda: legacy.write_points(lines, "ms", batch_size=batch, protocol="line"),
            "/write",
        ),
        row(
            "influx_compat write_points",
            lambda: ours.write_points(lines, "ms", batch_size=batch, protocol="line"),
            "/api/v3/write_lp",
        ),
        row("influxdb-client WriteApi (sync)", lambda: v2_batches(lines), "/api/v2/write"),
        row(v3_name, lambda: v3_batches(lines), "/api/v3/write_lp"),
        row(limit, limit_lines, "/api/v3/write_lp"),
    ]

    def gzip_note() -> str:
        stats = sink.stats()
        return f"{stats['bytes']:,} bytes on the wire"

    gzip_check = _both(same, _paths_check(sink, {"/api/v3/write_lp": requests_per_run}))
    gzip_rows = [
        Row(
            "influx_compat write_points",
            _reset_then(sink, lambda: ours.write_points(points, "ms", batch_size=batch)),
            gzip_check,
            n,
            gzip_note,
        ),
        Row(
            "influx_compat write_points gzip=True",
            _reset_then(sink, lambda: ours_gzip.write_points(points, "ms", batch_size=batch)),
            gzip_check,
            n,
            gzip_note,
        ),
    ]
    return [
        Group(
            f"{CORE}: write_points of dict points, end to end ({n:,} points, batches of 10,000)",
            dict_rows,
            legacy_name,
            second=v3_points,
        ),
        Group(
            f"{CORE}: write_points of line-protocol strings ({n:,} lines, batches of 10,000)",
            line_rows,
            legacy_name,
            limit,
            second=v3_name,
        ),
        Group(f"{CORE}: gzip ({n:,} dict points)", gzip_rows, "influx_compat write_points"),
    ]


def query_group_v3(rows: int, sink: RemoteSink) -> Group:
    """The query row against a 3 Core sink, which answers JSON (times RFC3339, 0/3/6/9 digits).

    influx_compat (``flavour='core'``) asks for JSON and shows times as 5.3.2
    showed them on 2.x; its rows must equal what influxdb-python 5.3.2 reads
    from 2.x's MessagePack answer for the same instants.  influxdb-python
    asks for MessagePack, which a real 3.x answers with positional arrays it
    cannot read ('list' object has no attribute 'get'); the sink answers it
    JSON, as 3.x answers ``Accept: application/json``, and its rows must equal
    the answer's rows as sent (3.x's time strings).
    """
    import influxdb
    import msgpack
    from influxdb.client import _msgpack_parse_hook
    from influxdb.resultset import ResultSet

    import influx_compat

    sink.answer(rows)
    body = workload.query_answer_v3(rows)
    ours = influx_compat.InfluxDBClient(url=sink.url, token="bench-token", database="bench", flavour="core")
    legacy = influxdb.InfluxDBClient(port=sink.port, password="bench-token", database="bench")

    series = json.loads(body)["results"][0]["series"][0]
    as_sent = [dict(zip(series["columns"], values)) for values in series["values"]]
    on_2x = msgpack.unpackb(workload.query_answer_msgpack(rows), ext_hook=_msgpack_parse_hook, raw=False)
    as_on_2x = list(ResultSet(on_2x["results"][0]).get_points())
    assert len(as_sent) == len(as_on_2x) == rows and as_on_2x[-1]["count"] == rows - 1

    def check_legacy(points: Any) -> None:
        assert points == as_sent, "rows differ from the rows the sink sent"

    def check_ours(points: Any) -> None:
        assert points == as_on_2x, "rows differ from influxdb-python's on 2.x"

    def check_parsed(data: Any) -> None:
        assert len(data["results"][0]["series"][0]["values"]) == rows, "rows differ"

    def accept_note(what: str) -> Callable[[], str]:
        def note() -> str:
            return f"asked Accept: {sink.stats()['last_accept']}; {what}"

        return note

    legacy_name = "influxdb-python 5.3.2"
    limit = "limit: json.loads of the body alone (no HTTP, no dicts)"
    return Group(
        f"{CORE}: query() + list(get_points()) on {rows:,} rows (JSON answers)",
        [
            Row(
                legacy_name,
                lambda: list(legacy.query("SELECT * FROM cpu").get_points()),
                check_legacy,
                rows,
                accept_note(
                    "answered JSON, as 3.x answers Accept: application/json (3.x's MessagePack has "
                    "positional arrays 5.3.2 cannot read); times as 3.x sent them"
                ),
            ),
            Row(
                "influx_compat",
                lambda: list(ours.query("SELECT * FROM cpu").get_points()),
                check_ours,
                rows,
                accept_note("times as 5.3.2 showed them on 2.x"),
            ),
            Row(limit, lambda: json.loads(body), check_parsed, rows),
        ],
        legacy_name,
        limit,
    )


def ratio_comparison(pairs: List[Any]) -> List[str]:
    """influx_compat's ratio to influxdb-python on the 2.x sink and on the 3 Core sink, side by side."""
    out = [
        f"\n### influx_compat against influxdb-python 5.3.2: 2.x sink and {CORE}, same run\n",
        "| rows | on the 2.x sink | on the 3 Core sink |",
        "|---|---:|---:|",
    ]
    for label, on_2x, on_3x in pairs:
        ratios = []
        for g in (on_2x, on_3x):
            ref = next(r for r in g.rows if r.name == g.reference)
            ours = next(r for r in g.rows if r.name.startswith("influx_compat"))
            ratios.append(f"{ref.median / ours.median:.2f}x")
        out.append(f"| {label} | {ratios[0]} | {ratios[1]} |")
    return out


# -- memory rows (child processes) ----------------------------------------------


def _child(args: List[str]) -> Dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", *args], capture_output=True, text=True, check=True
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


MEMORY_CASES = {
    "legacy_write_list": "influxdb-python 5.3.2 write_points, a list (built before the base)",
    "write_list": "influx_compat write_points, a list (built before the base)",
    "legacy_write_generator": "influxdb-python 5.3.2 write_points, a generator",
    "write_generator": "influx_compat write_points, a generator",
    "query_chunked": "influx_compat query(chunked=True, chunk_size=10,000)",
}


def memory_rows(big: int, rows_big: int, results: Dict[str, float]) -> List[str]:
    """The memory table; ``results`` gets the peak deltas of the 1,000,000-point list writes."""
    out = [
        "\n### Memory (peak RSS of a child process)\n",
        "| case | points or rows | RSS before the write MiB | peak RSS MiB | peak - before | seconds "
        "| received |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case, n in [
        ("legacy_write_list", 1_000_000),
        ("write_list", 1_000_000),
        ("legacy_write_generator", 1_000_000),
        ("write_generator", 10_000),
        ("write_generator", 1_000_000),
        ("write_generator", big),
        ("query_chunked", 100_000),
        ("query_chunked", rows_big),
    ]:
        r = _child([case, str(n)])
        delta = r["peak_mib"] - r["base_mib"]
        if n == 1_000_000:
            results[case] = delta
        out.append(
            f"| {MEMORY_CASES[case]} | {n:,} | {r['base_mib']:.1f} | {r['peak_mib']:.1f} | "
            f"{delta:.1f} | {r['seconds']:.2f} | {r['received']:,} |"
        )
    return out


def _ratio(group: Group, row: str, against: Optional[str] = None) -> float:
    """How many times faster ``row`` is than ``against`` (the group's reference by default)."""
    by_name = {r.name: r for r in group.rows}
    return by_name[against or group.reference].median / by_name[row].median


def targets(sections: Dict[str, Dict[str, Group]], memory: Dict[str, float]) -> List[str]:
    """Issue 10's targets against this run's figures, at each volume measured."""
    specs: List[Any] = [
        ("make_lines, seed workload", "serialize", "influx_compat make_lines", None, 4.5),
        ("... of the fixed-schema f-string", "serialize", "influx_compat make_lines", "limit", 0.45),
        ("write_points dicts end to end", "dicts", "influx_compat write_points", None, 4.0),
        (
            "write_points(protocol='line') of join + keep-alive",
            "lines",
            "influx_compat write_points",
            "limit",
            0.85,
        ),
        ("... against influxdb-python", "lines", "influx_compat write_points", None, 1.0),
        (
            "query() + get_points(), JSON, standard library",
            "json",
            "influx_compat, standard library",
            None,
            1.25,
        ),
        ("... with the JSON accelerator", "json", "influx_compat, JSON accelerator", None, 1.5),
        ("40 ms-ingest server: write_points dicts", "ingest", "influx_compat write_points", None, 2.2),
        ("... of the pipelined limit", "ingest", "influx_compat write_points", "limit", 0.8),
    ]
    volumes = list(sections)
    out = [
        "\n### Targets (issue 10)\n",
        "| target | at least | " + " | ".join(volumes) + " |",
        "|---|---:|" + "---:|" * len(volumes),
    ]
    for label, key, row, against, goal in specs:
        cells = []
        for volume in volumes:
            group = sections[volume].get(key)
            if group is None or row not in {r.name for r in group.rows}:
                cells.append("-")
                continue
            value = _ratio(group, row, group.limit if against == "limit" else None)
            cells.append(f"{value:.2f}{'' if value >= goal else ' (missed)'}")
        out.append(f"| {label} | {goal} | " + " | ".join(cells) + " |")
    for kind in ("list", "generator"):
        ours, theirs = memory.get(f"write_{kind}"), memory.get(f"legacy_write_{kind}")
        if ours is None or not theirs:
            continue
        ratio = ours / theirs
        out.append(
            f"| memory of a 1,000,000-point write ({kind}): peak delta against influxdb-python's | "
            f"at most 2.0 | {ratio:.2f} ({ours:.1f} / {theirs:.1f} MiB)"
            f"{'' if ratio <= 2.0 else ' (missed)'} |" + " |" * (len(volumes) - 1)
        )
    return out


def section(n: int, reps: int, sink: RemoteSink, slow: RemoteSink, full: bool) -> Dict[str, Group]:
    """The rows of the targets at ``n`` points (``full``: also the other clients and shapes)."""
    out: Dict[str, Group] = {"serialize": measure(serialize_group(n, others=full), reps)}
    if full:
        out["rising"] = measure(serialize_group(n, rising=True, others=False), reps)
        for i, g in enumerate(shape_groups(n // 2)):
            out[f"shape{i}"] = measure(g, reps)
    sink.keep_bodies(True)
    writes = write_groups(n, sink, others=full)
    out["dicts"] = measure(writes[0], reps)
    # Ten requests of about 3 ms each: the medians of this row moved by 10% between runs of 7, so it gets 3x.
    out["lines"] = measure(writes[1], 3 * reps if full else reps)
    if full:
        out["gzip"] = measure(writes[2], reps)
    del writes
    out["ingest"] = measure(ingest_group(n, slow), reps)
    sink.keep_bodies(False)
    if full:
        out["msgpack"] = measure(query_group(n, sink), reps)
    out["json"] = measure(query_json_group(n, sink), reps)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, 3 repetitions")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--no-big", action="store_true", help="leave out the rows at 1,000,000 points")
    parser.add_argument("--no-v3", action="store_true", help="leave out the InfluxDB 3 Core sink")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    big = 100_000 if args.quick else 1_000_000
    reps = args.reps or (3 if args.quick else 7)
    sink = RemoteSink()
    slow = RemoteSink()
    core_sink = RemoteSink("core")
    sections: Dict[str, Dict[str, Group]] = {}
    try:
        sections[f"{n:,} points"] = main_section = section(n, reps, sink, slow, True)
        if not args.no_big:
            sections[f"{big:,} points"] = section(big, min(reps, 3), sink, slow, False)
        if not args.no_v3:
            writes_3x = [measure(g, reps) for g in write_groups_v3(n, core_sink)]
            core_sink.keep_bodies(False)
            query_3x = measure(query_group_v3(n, core_sink), reps)
    finally:
        sink.close()
        slow.close()
        core_sink.close()
    groups = [g for s in sections.values() for g in s.values()]
    extra: List[str] = []
    if not args.no_v3:
        groups += [*writes_3x, query_3x]
        extra += ratio_comparison(
            [
                ("write_points, dict points", main_section["dicts"], writes_3x[0]),
                ("write_points, line protocol", main_section["lines"], writes_3x[1]),
                ("query() + get_points()", main_section["json"], query_3x),
            ]
        )
    memory: Dict[str, float] = {}
    if not args.no_memory:
        extra += memory_rows(
            1_000_000 if args.quick else 10_000_000, 200_000 if args.quick else 1_000_000, memory
        )
    extra += targets(sections, memory)
    header = (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform()}; {reps} repetitions after a warm-up ({min(reps, 3)} at {big:,} points, "
        f"{3 * reps} for the line-protocol rows at {n:,}), medians."
    )
    table = header + "\n" + render(groups, extra)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
