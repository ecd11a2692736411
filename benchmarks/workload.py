"""The data the benchmarks use: write_test.py's workload and the other shapes, seeded."""

from __future__ import annotations

import datetime
import json
import random
import uuid
from typing import Any, Dict, Iterator, List

LOCATIONS = [f"location{i}" for i in range(12)]
FRUITS = [f"fruit{i}" for i in range(24)]
START_MS = 1_600_000_000_000


def workload_points(n: int, seed: int = 1) -> List[Dict[str, Any]]:
    """The seed's write_test.py points as dicts (see :func:`iter_workload`)."""
    return list(iter_workload(n, seed))


def iter_workload(n: int, seed: int = 1) -> Iterator[Dict[str, Any]]:
    """The seed's workload, generated lazily: measurement m1; tags location (12), fruit (24) and id
    (100 uuid4) = 28,800 tag sets; fields x, y = ``round(random(), 4)``, z = ``randint(0, 50)``;
    ms times going down by 1 to 100 ms from the start."""
    rnd = random.Random(seed)
    ids = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(100)]
    now = START_MS
    for _ in range(n):
        now -= rnd.randint(1, 100)
        yield {
            "measurement": "m1",
            "tags": {"location": rnd.choice(LOCATIONS), "fruit": rnd.choice(FRUITS), "id": rnd.choice(ids)},
            "fields": {"x": round(rnd.random(), 4), "y": round(rnd.random(), 4), "z": rnd.randint(0, 50)},
            "time": now,
        }


def rising_points(n: int, seed: int = 1) -> List[Dict[str, Any]]:
    """The benchmarks' earlier workload: the same tags, x and y up to 100, z up to 10,000, times rising
    by 1 ms (longer floats and ints than the seed's; kept as a second serializer row)."""
    rnd = random.Random(seed)
    ids = [str(uuid.UUID(int=rnd.getrandbits(128), version=4)) for _ in range(100)]
    return [
        {
            "measurement": "m1",
            "tags": {"location": rnd.choice(LOCATIONS), "fruit": rnd.choice(FRUITS), "id": rnd.choice(ids)},
            "fields": {
                "x": round(rnd.random() * 100, 4),
                "y": round(rnd.random() * 100, 4),
                "z": rnd.randint(0, 10000),
            },
            "time": START_MS + i,
        }
        for i in range(n)
    ]


def fstring_lines(points: List[Dict[str, Any]]) -> str:
    """The practical limit: a formatter that knows the schema and the escaping it does not need."""
    return (
        "\n".join(
            f"m1,fruit={p['tags']['fruit']},id={p['tags']['id']},location={p['tags']['location']} "
            f"x={p['fields']['x']!r},y={p['fields']['y']!r},z={p['fields']['z']}i {p['time']}"
            for p in points
        )
        + "\n"
    )


def shapes(n: int) -> Dict[str, List[Dict[str, Any]]]:
    """Shapes where a generic serializer can lose: each must be no slower than influxdb-python."""
    tz = datetime.timezone(datetime.timedelta(hours=2))
    base = datetime.datetime(2020, 1, 1, tzinfo=tz)
    out: Dict[str, List[Dict[str, Any]]] = {
        "every point a new series": [
            {
                "measurement": "m",
                "tags": {"host": f"host{i}", "dc": f"dc{i % 7}"},
                "fields": {"v": i * 0.5},
                "time": i,
            }
            for i in range(n)
        ],
        "string fields with escapes": [
            {
                "measurement": "m e,x",
                "tags": {"t": "a,b c=d"},
                "fields": {"s": f'he said "hi" \\ {i}', "v": 1},
                "time": i,
            }
            for i in range(n)
        ],
        "RFC3339 string timestamps": [
            {
                "measurement": "m",
                "fields": {"v": 1.0},
                "time": f"2020-01-01T00:{(i // 60) % 60:02d}:{i % 60:02d}.{i % 1000000:06d}Z",
            }
            for i in range(n)
        ],
        "datetime timestamps with tz": [
            {"measurement": "m", "fields": {"v": 1.0}, "time": base + datetime.timedelta(seconds=i)}
            for i in range(n)
        ],
    }
    try:
        import numpy as np

        out["numpy scalars"] = [
            {"measurement": "m", "fields": {"a": np.float64(i * 0.5), "b": np.int64(i)}, "time": i}
            for i in range(n)
        ]
    except ImportError:  # pragma: no cover - numpy comes with the bench extra's pandas
        pass
    return out


def query_answer(rows: int) -> bytes:
    """A 1.x /query answer with ``rows`` rows of three tags' worth of columns."""
    values = [[f"2020-01-01T00:00:00.{i:09d}Z", i * 0.25, i, f"host{i % 50}"] for i in range(rows)]
    body = {
        "results": [
            {
                "statement_id": 0,
                "series": [{"name": "cpu", "columns": ["time", "value", "count", "host"], "values": values}],
            }
        ]
    }
    return json.dumps(body).encode()


def chunked_answer(rows: int, chunk: int) -> Iterator[bytes]:
    """The same answer as 1.x streams it with chunked=true: one JSON document per chunk."""
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        values = [[i, i * 0.25, i, f"host{i % 50}"] for i in range(start, stop)]
        doc: Dict[str, Any] = {
            "results": [
                {
                    "statement_id": 0,
                    "series": [
                        {"name": "cpu", "columns": ["time", "value", "count", "host"], "values": values}
                    ],
                }
            ]
        }
        if stop < rows:
            doc["results"][0]["partial"] = True
            doc["results"][0]["series"][0]["partial"] = True
        yield json.dumps(doc).encode() + b"\n"


def query_answer_msgpack(rows: int) -> bytes:
    """The same answer as a server sends it in MessagePack: times as timestamps (extension 5)."""
    import struct

    import msgpack

    base = 1_577_836_800  # 2020-01-01T00:00:00Z
    values = [
        [msgpack.ExtType(5, struct.pack(">QI", base, i)), i * 0.25, i, f"host{i % 50}"] for i in range(rows)
    ]
    body = {
        "results": [
            {
                "statement_id": 0,
                "series": [{"name": "cpu", "columns": ["time", "value", "count", "host"], "values": values}],
            }
        ]
    }
    return bytes(msgpack.packb(body, use_bin_type=True))


def autosi_time(nanos: int) -> str:
    """2020-01-01T00:00:00Z plus ``nanos`` (under a second) as InfluxDB 3 writes times.

    3.x formats with chrono's ``SecondsFormat::AutoSi``: 0, 3, 6 or 9 fraction
    digits, the fewest that keep the value (``.500Z`` where 1.x wrote ``.5Z``).
    """
    if not nanos:
        return "2020-01-01T00:00:00Z"
    if nanos % 1_000_000 == 0:
        return f"2020-01-01T00:00:00.{nanos // 1_000_000:03d}Z"
    if nanos % 1000 == 0:
        return f"2020-01-01T00:00:00.{nanos // 1000:06d}Z"
    return f"2020-01-01T00:00:00.{nanos:09d}Z"


def _v3_document(start: int, stop: int, partial: bool) -> Dict[str, Any]:
    values = [[autosi_time(i), i * 0.25, i, f"host{i % 50}"] for i in range(start, stop)]
    series: Dict[str, Any] = {"name": "cpu", "columns": ["time", "value", "count", "host"], "values": values}
    result: Dict[str, Any] = {"statement_id": 0, "series": [series]}
    if partial:
        result["partial"] = True
        series["partial"] = True
    return {"results": [result]}


def query_answer_v3(rows: int) -> bytes:
    """The same rows (the same instants as :func:`query_answer_msgpack`) as InfluxDB 3 answers JSON."""
    return json.dumps(_v3_document(0, rows, False)).encode()


def chunked_answer_v3(rows: int, chunk: int) -> Iterator[bytes]:
    """The same answer as InfluxDB 3 streams it with chunked=true: documents back to back, no newlines."""
    for start in range(0, rows, chunk):
        stop = min(rows, start + chunk)
        yield json.dumps(_v3_document(start, stop, stop < rows)).encode()
