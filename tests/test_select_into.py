"""SELECT ... INTO, side by side: influxdb-python 5.3.2 on a real 1.x engine, where
the server carries it out, against influx_compat on the v2 and InfluxDB 3 test
servers, where the client does (2.x and 3.x have no INTO clause).

The same points are written both ways, the same statement is run on both, and
then the answers and the target measurement's contents (its points with their
tags, its tag keys and field keys with their types) must be equal.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterator, List, Tuple

import influxdb as legacy
import pytest

import influx_compat
from influx_compat import _select_into
from influx_compat.testing._engine import Engine

S = 10**9
POINTS: List[Dict[str, Any]] = [
    # Whole floats (1.0, 2.0) answer as JSON integers: they must stay floats.
    {
        "measurement": "cpu",
        "tags": {"host": "a", "region": "eu"},
        "fields": {"v": 1.0, "n": 1, "s": "x"},
        "time": S,
    },
    {
        "measurement": "cpu",
        "tags": {"host": "b", "region": "us"},
        "fields": {"v": 2.0, "n": 2},
        "time": 2 * S,
    },
    {
        "measurement": "cpu",
        "tags": {"host": "a", "region": "eu"},
        "fields": {"v": 3.5, "b": True},
        "time": 65 * S,
    },
    {"measurement": "cpu", "tags": {"host": "a"}, "fields": {"v": 4.0, "n": 7}, "time": 66 * S},
    {"measurement": "mem", "tags": {"host": "a"}, "fields": {"free": 5.0, "used": 3}, "time": S},
    {"measurement": "mem", "tags": {"host": "b"}, "fields": {"free": 6.25}, "time": 70 * S},
]

# (statement, [(database, measurement) of each target to compare]).
CASES: List[Any] = [
    ("SELECT * INTO t1 FROM cpu", [("db", "t1")]),
    ("SELECT * INTO t2 FROM cpu GROUP BY *", [("db", "t2")]),
    ("SELECT v, host INTO t3 FROM cpu", [("db", "t3")]),
    ("SELECT v, host INTO t4 FROM cpu GROUP BY host", [("db", "t4")]),
    ("SELECT mean(v) INTO t5 FROM cpu", [("db", "t5")]),
    ("SELECT mean(v) INTO t6 FROM cpu WHERE time > 1s", [("db", "t6")]),
    ("SELECT mean(v), max(n) INTO t7 FROM cpu WHERE time < 200s GROUP BY time(1m), host", [("db", "t7")]),
    ("SELECT count(v) INTO t8 FROM cpu WHERE time >= 0s AND time < 200s GROUP BY time(1m)", [("db", "t8")]),
    (
        "SELECT mean(v) INTO t9 FROM cpu WHERE time >= 0s AND time < 200s GROUP BY time(1m) fill(0)",
        [("db", "t9")],
    ),
    ("SELECT mean(v) INTO t10 FROM cpu GROUP BY region", [("db", "t10")]),
    ("SELECT max(n), sum(v), count(s) INTO t11 FROM cpu", [("db", "t11")]),
    ('SELECT v INTO "db"."autogen"."quoted into" FROM cpu', [("db", "quoted into")]),
    ("SELECT v INTO db..t12 FROM cpu", [("db", "t12")]),
    ("SELECT v INTO other..t13 FROM cpu WHERE host = 'a'", [("other", "t13")]),
    ("SELECT * INTO other..:MEASUREMENT FROM /^(cpu|mem)$/ GROUP BY *", [("other", "cpu"), ("other", "mem")]),
    ("SELECT * INTO :MEASUREMENT_copy FROM cpu, mem", [("db", "cpu_copy")]),
    ("SELECT * INTO t14 FROM cpu, mem GROUP BY *", [("db", "t14")]),
    ("SELECT v AS \"into\" INTO t15 FROM cpu WHERE s = 'into x'", [("db", "t15")]),
    ("SELECT v INTO t16 FROM nosuch", [("db", "t16")]),
    ("SELECT v, v * 2 INTO t17 FROM cpu", [("db", "t17")]),
    ("SELECT top(v, 2) INTO t18 FROM cpu", [("db", "t18")]),
    ("SELECT max(*) INTO ty1 FROM cpu", [("db", "ty1")]),
    (
        "SELECT n * 2, n / 2, n + v, -n, n * 2.0, 2 * n - 1, n % 2, (n + 1) * 3 INTO ty2 FROM cpu",
        [("db", "ty2")],
    ),
    ("SELECT max(n) * 2, mean(n) + 1, count(v) - 1 INTO ty7 FROM cpu", [("db", "ty7")]),
    ("SELECT * INTO ty8 FROM mem WHERE host = 'a'", [("db", "ty8")]),
    ("SELECT used INTO ty9 FROM mem GROUP BY *", [("db", "ty9")]),
    ("SELECT derivative(n), cumulative_sum(n), difference(v) INTO ty3 FROM cpu", [("db", "ty3")]),
    (
        "SELECT mean(n), sum(n), last(n) AS l INTO ty4 FROM cpu WHERE time < 200s GROUP BY time(1m)",
        [("db", "ty4")],
    ),
    ("SELECT count(*) INTO ty5 FROM cpu WHERE time >= 0s AND time < 200s GROUP BY time(1m)", [("db", "ty5")]),
    ("SELECT used, free INTO ty6 FROM mem", [("db", "ty6")]),
    ("SELECT v INTO t19 FROM cpu; SELECT * FROM t19; SHOW MEASUREMENTS", [("db", "t19")]),
    ("SELECT v INTO nodb..t20 FROM cpu", []),
    ("SELECT nosuch(v) INTO t22 FROM cpu", [("db", "t22")]),
    ("SELECT v INTO t23 FROM cpu WHERE", [("db", "t23")]),
    ("SELECT v INTO t24 FROM nodb..cpu", [("db", "t24")]),
    ("SELECT v INTO db.nope.t21 FROM cpu", []),
]


def _case_id(case: Any) -> str:
    return str(case.values[0] if hasattr(case, "values") else case[0])


@pytest.fixture(scope="module")
def v1_engine() -> Iterator[Engine]:
    engine = Engine().start()
    yield engine
    engine.stop()


@pytest.fixture
def old(v1_engine: Engine) -> Iterator[Any]:
    client = legacy.InfluxDBClient(port=int(v1_engine.url.rsplit(":", 1)[1]), database="db")
    for db in client.get_list_database():
        client.drop_database(db["name"])
    _fill(client)
    yield client
    client.close()


def _fill(client: Any) -> None:
    client.create_database("db")
    client.create_database("other")
    assert client.write_points(POINTS)


@pytest.fixture(params=["v2", "v3"])
def new(request: Any) -> Iterator[Any]:
    server = request.getfixturevalue("v2_server" if request.param == "v2" else "v3_server")
    options = {"org": server.org} if request.param == "v2" else {}
    client = influx_compat.InfluxDBClient(
        host=server.host, port=server.port, database="db", token=server.token, **options
    )
    client.drop_database("db")
    client.drop_database("other")
    _fill(client)
    yield client
    client.close()


def _outcome(client: Any, statement: str, **kw: Any) -> Any:
    try:
        answer = client.query(statement, **kw)
    except influx_compat.InfluxDBClientError as exc:  # 5.3.2's class is caught by name below
        return ("error", str(exc))
    except legacy.exceptions.InfluxDBClientError as exc:
        return ("error", str(exc))
    return [a.raw for a in answer] if isinstance(answer, list) else answer.raw


def _contents(client: Any, database: str, measurement: str) -> Dict[str, Any]:
    name = '"' + measurement.replace('"', '\\"') + '"'
    return {
        "points": _outcome(client, f"SELECT * FROM {name} GROUP BY *", database=database),
        "tag keys": _outcome(client, f"SHOW TAG KEYS FROM {name}", database=database),
        "field keys": _outcome(client, f"SHOW FIELD KEYS FROM {name}", database=database),
    }


def _side(client: Any, statement: str, targets: List[Tuple[str, str]]) -> Dict[str, Any]:
    return {
        "answer": _outcome(client, statement),
        "answer, epoch": _outcome(client, statement, epoch="s"),  # again: the same points overwrite
        "targets": {f"{db}.{m}": _contents(client, db, m) for db, m in targets},
    }


def _comparable(value: Any) -> Any:
    """Errors without 1.x's parse position, which the shim's parser does not give (docs/differences.md)."""
    if isinstance(value, tuple) and value and value[0] == "error":
        return ("error", re.sub(r" at line \d+, char \d+", "", value[1]))
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


# What InfluxDB 3 cannot store, with the error that says so (the same statement works on 2.x).
V3_CANNOT = {
    "SELECT v, host INTO t4 FROM cpu GROUP BY host": "does not allow a tag and a field of the same name",
}

# The SELECT fails on 3.x as the same SELECT without INTO does, in 3.x's own words.
V3_WORDS = {
    "SELECT v INTO t23 FROM cpu WHERE": "parsing error",
    "SELECT v INTO t24 FROM nodb..cpu": "database not found: nodb",
}


@pytest.mark.parametrize("statement, targets", CASES, ids=[_case_id(c) for c in CASES])
def test_select_into_matches_1x(old: Any, new: Any, statement: str, targets: List[Tuple[str, str]]) -> None:
    if new._core.flavour.v3 and statement in V3_WORDS:
        with pytest.raises(influx_compat.InfluxDBClientError, match=V3_WORDS[statement]):
            new.query(statement)
        assert _outcome(old, statement)[0] == "error"
        return
    if new._core.flavour.v3 and statement in V3_CANNOT:
        with pytest.raises(influx_compat.exceptions.PartialWriteError, match=V3_CANNOT[statement]):
            new.query(statement)
        return
    expected = _comparable(_side(old, statement, targets))
    got = _comparable(_side(new, statement, targets))
    assert got == expected
    assert expected["answer"] != ("error", "not implemented: SELECT INTO")


def test_select_into_is_posted_written_in_batches_and_never_held_whole(v2_server: Any) -> None:
    """A backfill larger than a chunk: the reads and the writes alternate, chunk by chunk."""
    client = influx_compat.InfluxDBClient(
        host=v2_server.host, port=v2_server.port, database="db", token=v2_server.token, org=v2_server.org
    )
    client.create_database("db")
    client.write_points(
        [{"measurement": "big", "fields": {"x": float(i)}, "time": i * S} for i in range(2500)],
        batch_size=5000,
    )
    events: List[Any] = []
    core = client._core
    backend = core.backend
    send, query = core.send_batch, backend.query

    def record_send(body: bytes, destination: Any) -> None:
        events.append(("write", body.count(b"\n")))
        send(body, destination)

    def record_query(
        text: str, params: Any, method: str, chunked: bool, expected: int, compact: bool = False
    ) -> Any:
        answer = query(text, params, method, chunked, expected, compact)
        if not chunked:
            return answer

        def chunks() -> Iterator[Any]:
            for chunk in answer:
                events.append(("read", sum(len(s["values"]) for s in chunk["results"][0]["series"])))
                yield chunk

        return chunks()

    core.send_batch = record_send  # type: ignore[method-assign]
    backend.query = record_query  # type: ignore[method-assign]
    answer = client.query("SELECT x INTO big_copy FROM big", params={"chunk_size": 1000}, method="POST")
    assert answer.raw["series"][0]["values"] == [["1970-01-01T00:00:00Z", 2500]]
    assert [n for kind, n in events if kind == "write"] == [1000, 1000, 500]
    assert [n for kind, n in events if kind == "read"] == [1000, 1000, 500]
    # Reads lead writes by a chunk or two at most: the rows never sit in memory whole.
    held = [sum(n if kind == "read" else -n for kind, n in events[: k + 1]) for k in range(len(events))]
    assert max(held) <= 2000 and events.index(("write", 1000)) < events.index(("read", 500))
    assert list(client.query("SELECT count(x) FROM big_copy").get_points())[0]["count"] == 2500


def test_into_in_names_strings_and_regexes_is_not_a_clause() -> None:
    assert _select_into.parse_into("SELECT \"into\" FROM cpu WHERE s = 'INTO x'") is None
    assert _select_into.parse_into("SELECT * FROM /into/") is None
    assert _select_into.parse_into("SELECT * FROM (SELECT v FROM cpu) WHERE a = 'into'") is None
    parsed = _select_into.parse_into('select mean(v) as "into" into "db"..:measurement from /x/ group by *')
    assert parsed is not None
    assert (parsed.database, parsed.retention_policy, parsed.measurement) == ("db", None, None)
    assert parsed.select == 'select mean(v) as "into" from /x/ group by *'


def test_a_target_that_does_not_parse_is_1x_parse_error(v2_server: Any) -> None:
    client = influx_compat.InfluxDBClient(
        host=v2_server.host, port=v2_server.port, database="db", token=v2_server.token, org=v2_server.org
    )
    with pytest.raises(influx_compat.InfluxDBClientError, match="error parsing query: found FROM"):
        client.query("SELECT v INTO FROM cpu")


def test_through_the_proxy_influxdb_python_gets_1x_answers(old: Any, v2_server: Any) -> None:
    """The v1 proxy runs SELECT INTO in the same core: 5.3.2 behind it sees what 1.x answered."""
    import threading

    import waitress

    from influx_compat.proxy import ProxyApp

    app = ProxyApp(url=v2_server.url, token=v2_server.token, org=v2_server.org)
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=2)
    threading.Thread(target=server.run, daemon=True).start()
    behind = legacy.InfluxDBClient(host="127.0.0.1", port=server.effective_port, database="db")
    try:
        _fill(behind)
        statement = (
            # Starting with SELECT, so that 5.3.2 POSTs it (1.x adds a warning to a SELECT INTO sent by GET).
            "SELECT mean(v) INTO db..t1 FROM cpu WHERE time < 200s GROUP BY time(1m), *; "
            "SHOW MEASUREMENTS; SELECT * FROM t1 GROUP BY *; SHOW FIELD KEYS FROM t1"
        )
        assert _outcome(behind, statement) == _outcome(old, statement)
    finally:
        behind.close()
        server.close()


def test_a_v1_user_without_a_token_runs_select_into(v2_server: Any) -> None:
    """Basic auth on 2.x's /query and /write only (no v2 API): the client still carries INTO out."""
    admin = influx_compat.InfluxDBClient(
        host=v2_server.host, port=v2_server.port, database="db", token=v2_server.token, org=v2_server.org
    )
    _fill(admin)
    admin.create_user("backfill", "backfill-secret")
    admin.grant_privilege("all", "db", "backfill")
    user = influx_compat.InfluxDBClient(
        host=v2_server.host,
        port=v2_server.port,
        database="db",
        username="backfill",
        password="backfill-secret",
    )
    answer = user.query("SELECT mean(v) INTO cpu_1m FROM cpu WHERE time < 200s GROUP BY time(1m), host")
    assert answer.raw["series"][0]["values"] == [["1970-01-01T00:00:00Z", 3]]
    got = list(user.query("SELECT * FROM cpu_1m GROUP BY host", epoch="s").get_points(tags={"host": "a"}))
    assert got == [{"time": 0, "mean": 1.0}, {"time": 60, "mean": 3.75}]
    assert not [
        r
        for r in v2_server.requests
        if r.path.startswith("/api/v2/") and "Basic" in r.headers.get("Authorization", "")
    ]
