"""Field type conflicts inside a batch on the test servers, as the real servers answer them (issue 9).

InfluxDB 2.7.12 and later store the good points of such a batch and answer 422 (``tsdb/shard.go``,
``tsdb/field_validator.go`` ``ValidateAndCreateFields``, ``http/write_handler.go``); 2.0 to 2.7.11
fail the whole batch with 500 (fields created after validation, ``ErrFieldTypeConflict``).
InfluxDB 3 (``write_lp``, ``accept_partial=true``) answers 400 with every rejected line.  The
client's ``PartialWriteError`` carries the batch's progress, and for 3.x the rejected lines.
"""

from __future__ import annotations

from typing import Any, Dict, Iterator, List

import pytest
import requests

from influx_compat import InfluxDBClient, exceptions
from influx_compat.exceptions import Progress, RejectedLine
from influx_compat.testing import V2TestServer, V3TestServer

CONFLICT = (
    'field type conflict: input field "{f}" on measurement "m" is type {got}, already exists as type {had}'
)
V3_CONFLICT = (
    "invalid column type for column '{f}', expected iox::column_type::field::{had}, "
    "got iox::column_type::field::{got}"
)


@pytest.fixture(scope="module")
def v2_2712() -> Iterator[V2TestServer]:
    """A v2 test server impersonating 2.7.12, the first 2.x that creates fields point by point."""
    with V2TestServer(version="2.7.12") as server:
        yield server


@pytest.fixture
def v2_new(v2_2712: V2TestServer) -> V2TestServer:
    v2_2712.reset()
    return v2_2712


def _write(server: V2TestServer, body: bytes, path: str = "/api/v2/write") -> requests.Response:
    params = {"org": server.org, "bucket": server.bucket, "precision": "s"}
    if path == "/write":
        params = {"db": server.bucket, "precision": "s"}
    return requests.post(
        server.url + path,
        params=params,
        data=body,
        headers={"Authorization": "Token " + server.token},
        timeout=30,
    )


def _rows(server: V2TestServer, measurement: str) -> List[List[Any]]:
    resp = requests.post(
        server.url + "/query",
        params={"q": f'SELECT * FROM "{measurement}"', "db": server.bucket, "epoch": "s"},
        headers={"Authorization": "Token " + server.token},
        timeout=30,
    )
    assert resp.status_code == 200, resp.text
    series = resp.json()["results"][0].get("series", [])
    return [list(row) for row in series[0]["values"]] if series else []


def _body(resp: requests.Response) -> Dict[str, Any]:
    body: Dict[str, Any] = resp.json()
    return body


# -- the v2 test server over HTTP ----------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/v2/write", "/write"])
def test_2712_stores_the_good_points_and_answers_422(v2_new: V2TestServer, path: str) -> None:
    resp = _write(v2_new, b"m x=1.5 1\nm x=2i 2\nm x=3.5 3\nm x=4i 4\n", path)
    assert resp.status_code == 422
    assert _body(resp) == {
        "code": "unprocessable entity",
        "message": "failure writing points to database: partial write: "
        + CONFLICT.format(f="x", got="integer", had="float")
        + " dropped=2",
    }
    assert _rows(v2_new, "m") == [[1, 1.5], [3, 3.5]]


def test_2712_first_type_in_the_batch_wins(v2_new: V2TestServer) -> None:
    resp = _write(v2_new, b"m x=1i 1\nm x=2.5 2\nm x=3i 3\nm x=true 4\nm x=5i 5\n")
    assert resp.status_code == 422
    # only the first reason is reported; dropped counts every rejected point
    assert _body(resp)["message"] == (
        "failure writing points to database: partial write: "
        + CONFLICT.format(f="x", got="float", had="integer")
        + " dropped=2"
    )
    assert _rows(v2_new, "m") == [[1, 1], [3, 3], [5, 5]]


def test_2712_a_conflict_with_stored_points_is_the_same_answer(v2_new: V2TestServer) -> None:
    assert _write(v2_new, b"m x=1.5 1\n").status_code == 204
    resp = _write(v2_new, b"m x=2i 2\nm x=3.5 3\n")
    assert resp.status_code == 422
    assert _body(resp)["message"].endswith(CONFLICT.format(f="x", got="integer", had="float") + " dropped=1")
    assert _rows(v2_new, "m") == [[1, 1.5], [3, 3.5]]


def test_2712_points_without_time_share_the_batch_time(v2_new: V2TestServer) -> None:
    """2.x stamps a batch once: a part written again after the conflict does not move in time."""
    resp = _write(v2_new, b"m x=1i,a=1i\nm x=2.5\nm a=3i\n")
    assert resp.status_code == 422 and _body(resp)["message"].endswith(" dropped=1")
    rows = _rows(v2_new, "m")
    assert len(rows) == 1 and rows[0][1:] == [3, 1]  # one point: the same series at the same time


def test_2712_batch_without_conflict_is_204(v2_new: V2TestServer) -> None:
    assert _write(v2_new, b"m x=1i 1\nn x=2.5 2\n").status_code == 204
    assert _rows(v2_new, "m") == [[1, 1]] and _rows(v2_new, "n") == [[2, 2.5]]


def test_2710_fails_the_whole_batch_with_500(v2_server: V2TestServer) -> None:
    """Up to 2.7.11 a field given two types in one new batch fails it: nothing is stored."""
    assert v2_server.version == "2.7.10"
    resp = _write(v2_server, b"m x=1.5 1\nm x=2i 2\nm x=3.5 3\n")
    assert resp.status_code == 500
    assert _body(resp) == {
        "code": "internal error",
        "message": "unexpected error writing points to database: field type conflict",
    }
    assert _rows(v2_server, "m") == []


# -- the client on them ------------------------------------------------------------------------


POINTS = ["m x=1.5 1", "m x=2.5 2", "m x=3.5 3", "m y=4i 4", "m y=5.5 5", "m y=6i 6", "m x=7.5 7"]


def test_client_partial_write_on_2712(v2_new: V2TestServer) -> None:
    client = InfluxDBClient(url=v2_new.url, token=v2_new.token, org=v2_new.org, database="pw")
    client.create_database("pw")
    with pytest.raises(exceptions.PartialWriteError) as info:
        client.write_points(POINTS, protocol="line", time_precision="s", batch_size=3)
    err = info.value
    assert err.code == 422
    assert err.progress == Progress(batch_index=1, points_written=3, points_in_batch=3, dropped=1)
    assert err.rejected == ()  # 2.x counts the dropped points, it does not name them
    assert str(err.content).startswith(
        "failure writing points to database: partial write: "
        + CONFLICT.format(f="y", got="float", had="integer")
        + " dropped=1 -- 1 of the 3 points of batch 1 (points 3..5) were rejected"
    )
    assert isinstance(err, exceptions.InfluxDBClientError)  # an old ``except`` clause still catches it
    rows = client.query('SELECT * FROM "m"', epoch="s")
    assert [(p["time"], p["x"], p["y"]) for p in rows.get_points()] == [
        (1, 1.5, None),
        (2, 2.5, None),
        (3, 3.5, None),
        (4, None, 4),
        (6, None, 6),
    ]  # the batch after the partial one was not sent


def test_client_partial_write_on_2710_conflict_with_stored_field(v2_env: V2TestServer) -> None:
    """2.7.10 answers 422 too when the field's type was stored before the batch."""
    client = InfluxDBClient(database="pw")
    client.create_database("pw")
    client.write_points(["m y=0i 0"], protocol="line", time_precision="s")
    with pytest.raises(exceptions.PartialWriteError) as info:
        client.write_points(POINTS, protocol="line", time_precision="s", batch_size=3)
    err = info.value
    assert err.code == 422 and err.rejected == ()
    assert err.progress == Progress(batch_index=1, points_written=3, points_in_batch=3, dropped=1)
    conflict = CONFLICT.format(f="y", got="float", had="integer")
    assert str(err.content).startswith(
        f"failure writing points to database: partial write: {conflict} dropped=1 -- "
    )


def test_client_partial_write_on_v3_core_names_the_rejected_lines(v3_env: V3TestServer) -> None:
    client = InfluxDBClient(database="pw")
    client.create_database("pw")
    with pytest.raises(exceptions.PartialWriteError) as info:
        client.write_points(POINTS, protocol="line", time_precision="s", batch_size=3)
    err = info.value
    assert err.code == 400
    assert err.progress == Progress(batch_index=1, points_written=3, points_in_batch=3, dropped=1)
    assert err.rejected == (
        RejectedLine(4, 2, V3_CONFLICT.format(f="y", had="integer", got="float"), "m y=5.5 5"),
    )
    assert str(err.content).startswith("partial write of line protocol occurred")
    rows = client.query('SELECT * FROM "m"', epoch="s")
    assert [p["time"] for p in rows.get_points()] == [1, 2, 3, 4, 6]


def test_v3_write_lp_answer_lists_every_rejected_line(v3_server: V3TestServer) -> None:
    resp = requests.post(
        v3_server.url + "/api/v3/write_lp",
        params={"db": "pw", "precision": "second"},
        data=b"m x=1i 1\nm x=2.5 2\nm x=3i 3\nm x=true 4\n",
        headers={"Authorization": "Bearer " + v3_server.token},
        timeout=30,
    )
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "partial write of line protocol occurred",
        "data": [
            {
                "error_message": V3_CONFLICT.format(f="x", had="integer", got="float"),
                "line_number": 2,
                "original_line": "m x=2.5 2",
            },
            {
                "error_message": V3_CONFLICT.format(f="x", had="integer", got="boolean"),
                "line_number": 4,
                "original_line": "m x=true 4",
            },
        ],
    }
