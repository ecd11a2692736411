"""``python -m benchmarks [--quick] [--reps N] [--markdown FILE]``.

Runs influx_compat, influxdb-python 5.3.2 and influxdb-client side by side in
this process (the HTTP sink runs in a child process), interleaved, after a
warm-up, and prints the median of each row with its ratios.  The memory rows
run in child processes and report their peak RSS.
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
        out.append(f"\n### {g.title}\n")
        head = "| row | median s | points/s | vs " + g.reference + " |"
        sep = "|---|---:|---:|---:|"
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
            if lim is not None:
                cells.append(f"{lim.median / r.median:.2f}")
            cells.append(r.notes)
            out.append("| " + " | ".join(cells) + " |")
    out.extend(extra)
    return "\n".join(out) + "\n"


# -- groups -------------------------------------------------------------------


def serialize_group(n: int) -> Group:
    from influxdb import line_protocol as legacy_lp
    from influxdb_client import Point, WritePrecision

    from influx_compat import line_protocol as ours_lp

    points = workload.workload_points(n)
    reference = legacy_lp.make_lines({"points": points}, "ms")

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
        Row("influx_compat make_lines", lambda: ours_lp.make_lines({"points": points}, "ms"), equal, n),
        Row("influxdb-client Point.from_dict", client_dicts, same_points, n),
        Row("influxdb-client Point builder", client_points, same_points, n),
        Row("limit: fixed-schema f-string", lambda: workload.fstring_lines(points), equal, n),
    ]
    return Group(
        f"Dict points to line protocol ({n:,} write_test.py points, ms)",
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


def write_groups(n: int, sink: RemoteSink) -> List[Group]:
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


# -- memory rows (child processes) ----------------------------------------------


def _child(args: List[str]) -> Dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", *args], capture_output=True, text=True, check=True
    )
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def memory_rows(big: int, rows_big: int) -> List[str]:
    out = [
        "\n### Memory (peak RSS of a child process)\n",
        "| case | points or rows | RSS after imports MiB | peak RSS MiB | peak - after imports | seconds "
        "| received |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for case, n in [
        ("write_generator", 10_000),
        ("write_generator", 1_000_000),
        ("write_generator", big),
        ("query_chunked", 100_000),
        ("query_chunked", rows_big),
    ]:
        r = _child([case, str(n)])
        out.append(
            f"| {case} | {n:,} | {r['base_mib']:.1f} | {r['peak_mib']:.1f} | "
            f"{r['peak_mib'] - r['base_mib']:.1f} | {r['seconds']:.2f} | {r['received']:,} |"
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, 3 repetitions")
    parser.add_argument("--reps", type=int, default=None)
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args()
    n = 20_000 if args.quick else 100_000
    reps = args.reps or (3 if args.quick else 7)
    sink = RemoteSink()
    try:
        groups = [measure(serialize_group(n), reps)]
        groups += [measure(g, reps) for g in shape_groups(n // 2)]
        groups += [measure(g, reps) for g in write_groups(n, sink)]
        sink.keep_bodies(False)
        groups.append(measure(query_group(n, sink), reps))
    finally:
        sink.close()
    extra = (
        []
        if args.no_memory
        else memory_rows(1_000_000 if args.quick else 10_000_000, 200_000 if args.quick else 1_000_000)
    )
    header = (
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
        f"{platform.platform()}; {reps} repetitions after a warm-up, medians."
    )
    table = header + "\n" + render(groups, extra)
    print(table)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
