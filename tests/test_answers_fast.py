"""The fast JSON answer path against influxdb-python 5.3.2's ResultSet, shape by shape.

Each answer is read twice: by influx_compat (``decode``, ``legacy_times`` when
no ``epoch`` was given, then its ``ResultSet``), and by 5.3.2's ``ResultSet``
over ``json.loads`` of the same body.  3.x times are shown by 5.3.2's own
MessagePack hook (``_msgpack_parse_hook``) for the same instant, which is what
5.3.2 showed on 1.x and 2.x.
"""

from __future__ import annotations

import calendar
import json
import struct
from typing import Any, Dict, List

import pytest
from influxdb.client import _msgpack_parse_hook
from influxdb.resultset import ResultSet as LegacyResultSet

from influx_compat import _answers
from influx_compat.resultset import ResultSet

NANOS = [
    0,
    1,
    499,
    500,
    501,
    1500,
    2500,
    999_499,
    999_500,
    999_501,
    123_456_789,
    999_999_499,
    999_999_500,
    999_999_501,
    999_999_999,
    500_000_000,
    1_000_000,
    1000,
    9_999_500,
    19_999_500,
]


def autosi(seconds: int, nanos: int) -> str:
    """A time as InfluxDB 3 writes it: 0, 3, 6 or 9 fraction digits."""
    base = "%04d-%02d-%02dT%02d:%02d:%02d" % __import__("time").gmtime(seconds)[:6]
    if not nanos:
        return base + "Z"
    if nanos % 1_000_000 == 0:
        return f"{base}.{nanos // 1_000_000:03d}Z"
    if nanos % 1000 == 0:
        return f"{base}.{nanos // 1000:06d}Z"
    return f"{base}.{nanos:09d}Z"


def shown_by_532(text: str) -> str:
    """5.3.2's display of an RFC3339 time, through its own MessagePack hook."""
    whole, _, fraction = text[:-1].partition(".")
    seconds = calendar.timegm(__import__("time").strptime(whole, "%Y-%m-%dT%H:%M:%S"))
    nanos = int(fraction.ljust(9, "0")) if fraction else 0
    shown: str = _msgpack_parse_hook(5, struct.pack(">QI", seconds, nanos))
    return shown


def series(name: Any, columns: List[str], values: Any, tags: Any = None) -> Dict[str, Any]:
    out: Dict[str, Any] = {"name": name, "columns": columns}
    if values is not None:
        out["values"] = values
    if tags is not None:
        out["tags"] = tags
    return out


def answer(*results: Dict[str, Any]) -> bytes:
    return json.dumps({"results": list(results)}).encode()


def rows_v3(start: int, count: int) -> List[List[Any]]:
    return [
        [
            autosi(1_577_836_800 + 86399 * i, NANOS[i % len(NANOS)]),
            i * 0.25,
            i if i % 3 else None,
            f"h{i % 4}",
        ]
        for i in range(start, start + count)
    ]


COLUMNS = ["time", "value", "count", "host"]
SHAPES = {
    "one series": answer({"statement_id": 0, "series": [series("cpu", COLUMNS, rows_v3(0, 60))]}),
    "several series with tags": answer(
        {
            "statement_id": 0,
            "series": [
                series("cpu", COLUMNS, rows_v3(0, 20), {"dc": "a"}),
                series("cpu", COLUMNS, rows_v3(20, 20), {"dc": "b"}),
                series("mem", ["time", "free"], [[autosi(1, 5), 1], [autosi(2, 0), None]]),
            ],
        }
    ),
    "partial chunk": answer(
        {
            "statement_id": 0,
            "partial": True,
            "series": [dict(series("cpu", COLUMNS, rows_v3(0, 5)), partial=True)],
        }
    ),
    "empty series and results": answer(
        {"statement_id": 0, "series": [series("cpu", COLUMNS, None), series("cpu", COLUMNS, [])]},
        {"statement_id": 1},
        {"statement_id": 2, "series": []},
    ),
    "no name (SHOW)": answer(
        {"statement_id": 0, "series": [{"columns": ["name"], "values": [["db"], ["x"]]}]}
    ),
    "duplicate columns": answer(
        {"statement_id": 0, "series": [series("m", ["time", "a", "a"], [[autosi(3, 7), 1, 2]])]}
    ),
    "non-ASCII": answer(
        {"statement_id": 0, "series": [series("café", ["time", "s"], [[autosi(4, 1500), "é"]])]}
    ),
    "compact separators, as Go and serde_json write": json.dumps(
        {"results": [{"statement_id": 0, "series": [series("cpu", COLUMNS, rows_v3(0, 30))]}]},
        separators=(",", ":"),
    ).encode(),
    "strings holding the joint between rows": answer(
        {
            "statement_id": 0,
            "series": [
                series("cpu", ["time", "s", "n"], [[autosi(5, 0), "a],[b", 1], [autosi(6, 0), "c], [d", 2]]),
                series("cpu", ["time", "s"], [[autosi(7, 0), "],["]], {"t": "], ["}),
            ],
        }
    ),
    "a string holding the joint, Python's separators": answer(
        {
            "statement_id": 0,
            "series": [series("cpu", ["time", "s"], [[autosi(5, 0), "c], [d"], [autosi(6, 0), "x"]])],
        }
    ),
    "a string holding the joint, Go's separators": json.dumps(
        {
            "results": [
                {"series": [series("cpu", ["time", "s"], [[autosi(5, 0), "c],[d"], [autosi(6, 0), "x"]])]}
            ]
        },
        separators=(",", ":"),
    ).encode(),
    "an error beside rows": answer(
        {"statement_id": 0, "series": [series("cpu", COLUMNS, rows_v3(0, 3))]},
        {"statement_id": 1, "error": "x],[y"},
    ),
    "one column, duplicate columns, several rows": answer(
        {
            "statement_id": 0,
            "series": [
                series("m", ["time"], [[autosi(i, 0)] for i in range(5)]),
                series("m", ["time", "a", "a"], [[autosi(3, 7), 1, 2], [autosi(4, 0), 3, 4]]),
            ],
        }
    ),
}


@pytest.fixture(params=["orjson", "standard library"])
def parser(request, monkeypatch):
    if request.param == "orjson":
        pytest.importorskip("orjson")  # the test extra installs it: a skip here is a broken environment
        assert _answers._fast_loads is not None
    else:
        monkeypatch.setattr(_answers, "_fast_loads", None)
    return request.param


def legacy_rows(body: bytes, legacy: bool) -> List[Any]:
    doc = json.loads(body)
    if legacy:
        for result in doc["results"]:
            for s in result.get("series", []):
                if s["columns"][0] == "time":
                    for row in s.get("values") or []:
                        row[0] = shown_by_532(row[0])
    sets = [LegacyResultSet(r, raise_errors=False) for r in doc["results"]]
    return [(rs.raw, list(rs.get_points()), [(k, list(g)) for k, g in rs.items()], repr(rs)) for rs in sets]


def our_rows(body: bytes, legacy: bool, compact: bool = False) -> List[Any]:
    doc = _answers.decode(body, "application/json", compact)
    if legacy:
        _answers.legacy_times(doc)
    sets = [ResultSet(r, raise_errors=False) for r in doc["results"]]
    # Points and items first, raw last: raw turns flat rows back into lists.
    read = [(list(rs.get_points()), [(k, list(g)) for k, g in rs.items()], repr(rs)) for rs in sets]
    return [(rs.raw, *rest) for rs, rest in zip(sets, read)]


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("legacy", [True, False], ids=["no epoch", "epoch given"])
@pytest.mark.parametrize("compact", [True, False], ids=["flat rows", "rows as parsed"])
def test_rows_equal_5_3_2s(shape, legacy, compact, parser):
    body = SHAPES[shape]
    ours, theirs = our_rows(body, legacy, compact), legacy_rows(body, legacy)
    assert ours == theirs
    for (_, points, _, _), (_, their_points, _, _) in zip(ours, theirs):
        assert [list(p) for p in points] == [list(p) for p in their_points]  # key order too
        assert [[type(v) for v in p.values()] for p in points] == [
            [type(v) for v in p.values()] for p in their_points
        ]


@pytest.mark.parametrize("nanos", NANOS + list(range(0, 1_000_000_000, 7_777_777)))
def test_every_3x_time_form_reads_as_5_3_2_showed_it(nanos):
    for seconds in (0, 1_577_836_799, 1_577_836_800):
        text = autosi(seconds, nanos)
        assert _answers._legacy_text(text) == shown_by_532(text), text


def test_times_with_other_fraction_lengths_take_the_general_path():
    _answers.legacy_times({"results": []})  # the rounding table is filled
    for text in ("2020-01-01T00:00:00.5Z", "2020-01-01T00:00:00.1234567Z", "2020-12-31T23:59:59.9999996Z"):
        assert _answers._legacy_text(text) == shown_by_532(text)


def test_tag_filters_and_measurement_filters_match_5_3_2():
    body = SHAPES["several series with tags"]
    ours = ResultSet(_answers.legacy_times(_answers.decode(body, "application/json"))["results"][0])
    doc = json.loads(body)
    theirs = LegacyResultSet(doc["results"][0])
    for measurement, tags in [(None, {"dc": "a"}), ("cpu", {"host": "h1"}), ("mem", None), ("nope", None)]:
        assert [p["value" if "value" in p else "free"] for p in ours.get_points(measurement, tags)] == [
            p["value" if "value" in p else "free"] for p in theirs.get_points(measurement, tags)
        ]


def test_a_short_row_raises_as_in_5_3_2():
    raw = {"series": [{"name": "m", "columns": ["a", "b"], "values": [[1, 2], [3]]}]}
    with pytest.raises(IndexError):
        list(LegacyResultSet(json.loads(json.dumps(raw))).get_points())
    points = ResultSet(raw).get_points()
    assert next(points) == {"a": 1, "b": 2}
    with pytest.raises(IndexError):
        next(points)


def test_an_empty_row_in_a_time_column_is_left_alone():
    doc = {"results": [{"series": [{"columns": ["time"], "values": [[], ["2020-01-01T00:00:00.500Z"]]}]}]}
    assert _answers.legacy_times(doc)["results"][0]["series"][0]["values"] == [
        [],
        ["2020-01-01T00:00:00.500000Z"],
    ]


def flat_series(doc: Dict[str, Any]) -> List[Any]:
    return [
        type(s.get("values")).__name__ for r in doc["results"] for s in r.get("series", []) if "values" in s
    ]


@pytest.mark.parametrize("separators", [(", ", ": "), (",", ":")], ids=["Python", "Go, serde_json"])
def test_series_of_several_rows_are_read_flat(separators, parser):
    body = json.dumps(json.loads(SHAPES["several series with tags"]), separators=separators).encode()
    doc = _answers.decode(body, "application/json", compact=True)
    assert flat_series(doc) == ["Rows", "Rows", "Rows"]
    rows = doc["results"][0]["series"][0]["values"]
    assert len(rows) == 20 and rows.lists() == json.loads(body)["results"][0]["series"][0]["values"]
    assert flat_series(_answers.decode(body, "application/json")) == ["list", "list", "list"]


def as_parsed(doc: Dict[str, Any]) -> Dict[str, Any]:
    for result in doc["results"]:
        for s in result.get("series", []):
            if isinstance(s.get("values"), _answers.Rows):
                s["values"] = s["values"].lists()
    return doc


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_flat_rows_hold_what_the_parser_reads(shape, parser):
    body = SHAPES[shape]
    assert as_parsed(_answers.decode(body, "application/json", compact=True)) == json.loads(body)


@pytest.mark.parametrize(
    "shape",
    [
        "strings holding the joint between rows",
        "a string holding the joint, Python's separators",
        "a string holding the joint, Go's separators",
    ],
)
def test_a_joint_inside_a_string_parses_the_body_as_it_is(shape, parser):
    body = SHAPES[shape]
    doc = _answers.decode(body, "application/json", compact=True)
    assert doc == json.loads(body)
    assert "Rows" not in flat_series(doc)


def test_rows_of_unequal_lengths_that_fill_no_whole_rows_are_parsed_as_they_are():
    body = answer({"statement_id": 0, "series": [series("m", ["a", "b"], [[1, 2], [3]])]})
    doc = _answers.decode(body, "application/json", compact=True)
    assert doc == json.loads(body)
    points = ResultSet(doc["results"][0]).get_points()
    assert next(points) == {"a": 1, "b": 2}
    with pytest.raises(IndexError):
        next(points)


def test_raw_of_flat_rows_is_a_list_of_lists_that_stays():
    body = SHAPES["one series"]
    rs = ResultSet(_answers.decode(body, "application/json", compact=True)["results"][0])
    raw = rs.raw
    assert raw == json.loads(body)["results"][0]
    raw["series"][0]["values"][0][1] = "changed"  # as a user may: the points follow raw from now on
    assert next(rs.get_points())["value"] == "changed"
