"""The 1.x management surface, side by side: influxdb-python 5.3.2 on a real 1.x
engine against influx_compat on the v2 test server.

Every scenario runs twice, once per side, and records what each call returned
or raised; the two records must be equal.  The differences that remain are
the documented ones (docs/differences.md), each applied explicitly below by a
named normalisation, never by skipping a step.
"""

from __future__ import annotations

import re
import time
from typing import Any, Callable, Dict, List, Tuple

import influxdb as legacy
import pytest

import influx_compat
from influx_compat.exceptions import UnsupportedOperationError
from influx_compat.testing._engine import Engine

NOW = (int(time.time()) - 3600) // 60 * 60 * 10**9  # a whole minute, inside every retention policy


@pytest.fixture(scope="module")
def v1_engine():
    engine = Engine().start()
    yield engine
    engine.stop()


def _v1_reset(client: Any) -> None:
    for db in client.get_list_database():
        client.drop_database(db["name"])
    for user in client.get_list_users():
        client.drop_user(user["user"])
    client.create_database("default")  # the v2 test server's setup bucket is a database too


@pytest.fixture
def pair(v1_engine, v2_server):
    port = int(v1_engine.url.rsplit(":", 1)[1])
    old = legacy.InfluxDBClient(port=port, database="db")
    _v1_reset(old)
    new = influx_compat.InfluxDBClient(
        host=v2_server.host, port=v2_server.port, database="db", token=v2_server.token, org=v2_server.org
    )
    yield old, new
    old.close()
    new.close()


Record = List[Tuple[str, Any]]


class Recorder:
    """Runs steps on one client and records each result or error."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.record: Record = []

    def __call__(self, label: str, func: Callable[[Any], Any]) -> Any:
        try:
            value = func(self.client)
        except Exception as exc:  # noqa: BLE001 - errors are what we compare
            code = getattr(exc, "code", None)
            message = re.sub(r" at line \d+, char \d+", "", str(exc))
            self.record.append((label, ("error", message, code)))
            return exc
        self.record.append((label, ("ok", _plain(value))))
        return value


def _plain(value: Any) -> Any:
    if hasattr(value, "raw"):
        return value.raw
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def run_both(pair, scenario: Callable[[Recorder], None]) -> Tuple[Record, Record]:
    old, new = pair
    a, b = Recorder(old), Recorder(new)
    scenario(a)
    scenario(b)
    return a.record, b.record


def _points(measurement: str, tags: Dict[str, str], n: int = 1) -> List[Dict[str, Any]]:
    return [
        {"measurement": measurement, "tags": tags, "fields": {"x": float(i)}, "time": NOW + i * 10**9}
        for i in range(n)
    ]


# -- retention policies ---------------------------------------------------------


def rp_scenario(r: Recorder) -> None:
    r("rp on missing db", lambda c: c.create_retention_policy("r", "1d", 1, "nodb"))
    r("list rp missing db", lambda c: c.get_list_retention_policies("nodb"))
    r("create db", lambda c: c.create_database("db"))
    r("list rp", lambda c: c.get_list_retention_policies("db"))
    r("create r1", lambda c: c.create_retention_policy("r1", "1d", 1, "db", shard_duration="2h"))
    r("create r1 again", lambda c: c.create_retention_policy("r1", "1d", 1, "db", shard_duration="2h"))
    r("create r1 other", lambda c: c.create_retention_policy("r1", "2d", 1, "db"))
    r("create too short", lambda c: c.create_retention_policy("r2", "30m", 1, "db"))
    r("create INF default", lambda c: c.create_retention_policy("r3", "INF", 1, "db", default=True))
    r("create 4w", lambda c: c.create_retention_policy("four", "4w", 3, "db"))
    r("list rp", lambda c: c.get_list_retention_policies("db"))
    r("alter missing", lambda c: c.alter_retention_policy("nope", "db", duration="2d"))
    r("alter nothing", lambda c: c.alter_retention_policy("r1", "db"))
    r("alter", lambda c: c.alter_retention_policy("r1", "db", duration="3w", default=True))
    r("alter shard", lambda c: c.alter_retention_policy("four", "db", shard_duration="2d"))
    r("list rp", lambda c: c.get_list_retention_policies("db"))
    r("write r1", lambda c: c.write_points(_points("m", {"t": "1"}, 3), retention_policy="r1"))
    r("write four", lambda c: c.write_points(_points("m", {"t": "4"}, 2), retention_policy="four"))
    r("write default", lambda c: c.write_points(_points("m", {"t": "d"}, 1)))
    r("read r1", lambda c: c.query('SELECT count(x) FROM "db"."r1"."m"'))
    r("read four", lambda c: c.query('SELECT count(x) FROM "four"."m"'))
    r("read default", lambda c: c.query('SELECT count(x) FROM "m"'))
    r("drop missing rp", lambda c: c.drop_retention_policy("nope", "db"))
    r("drop r3", lambda c: c.drop_retention_policy("r3", "db"))
    r("drop rp missing db", lambda c: c.drop_retention_policy("r3", "nodb"))
    r("list rp", lambda c: c.get_list_retention_policies("db"))
    r("bad duration", lambda c: c.create_retention_policy("r5", "1d; DROP DATABASE db", 1, "db"))
    r("databases", lambda c: c.get_list_database())


def test_retention_policies(pair):
    old, new = run_both(pair, rp_scenario)
    old = _replication_is_one(_fix_bad_duration(old))
    assert new == old


def _replication_is_one(record: Record) -> Record:
    """2.x has no replication factor: every policy reads replicaN 1 (docs/differences.md)."""
    out = []
    for label, outcome in record:
        if outcome[0] == "ok" and isinstance(outcome[1], list):
            outcome = (
                "ok",
                [dict(v, replicaN=1) if isinstance(v, dict) and "replicaN" in v else v for v in outcome[1]],
            )
        out.append((label, outcome))
    return out


def _fixed_quoting(old: Record, new: Record, labels: List[str]) -> Tuple[Record, Record]:
    """Steps where 5.3.2 sent an unquoted tag value and 1.x refused the query; we quote it."""
    keep_old, keep_new = [], []
    for (label, a), (label_b, b) in zip(old, new):
        assert label == label_b
        if label in labels:
            assert a[0] == "error" and a[2] == 400 and "error parsing query" in a[1], a
            assert b[0] == "ok", b
            continue
        keep_old.append((label, a))
        keep_new.append((label, b))
    return keep_old, keep_new


def _fix_bad_duration(record: Record) -> Record:
    """5.3.2 sends the unquoted duration and 1.x rejects the statement; we refuse it before sending."""
    out = []
    for label, outcome in record:
        if label == "bad duration":
            assert outcome[0] == "error" and outcome[2] == 400
            outcome = (
                "error",
                "400: invalid duration '1d; DROP DATABASE db': expected a duration such as "
                "'7d' or 'INF', or a number",
                400,
            )
        out.append((label, outcome))
    return out


# -- measurements and series ----------------------------------------------------


def series_scenario(r: Recorder) -> None:
    r("create db", lambda c: c.create_database("db"))
    r("create r1", lambda c: c.create_retention_policy("r1", "1d", 1, "db"))
    r("measurements empty", lambda c: c.get_list_measurements())
    r(
        "write r1",
        lambda c: c.write_points(
            _points("m", {"a": "1", "b": "x"}) + _points("m", {"a": "2"}) + _points("n", {}),
            retention_policy="r1",
        ),
    )
    r("write autogen", lambda c: c.write_points(_points("k", {"q": "a b,c=d"}), retention_policy="autogen"))
    r("write quote", lambda c: c.write_points(_points('we"ird', {"a": "it's"})))
    r("measurements", lambda c: c.get_list_measurements())
    r("series", lambda c: c.get_list_series("db"))
    r("series m", lambda c: c.get_list_series("db", "m"))
    r("series tags", lambda c: c.get_list_series("db", "m", {"a": "1"}))
    r("series quoted tag", lambda c: c.get_list_series("db", tags={"a": "it's"}))
    r("drop missing measurement", lambda c: c.drop_measurement("nope"))
    r("delete nothing given", lambda c: c.delete_series("db"))
    r("delete m a=1", lambda c: c.delete_series("db", "m", {"a": "1"}))
    r("series", lambda c: c.get_list_series("db"))
    r("drop n", lambda c: c.drop_measurement("n"))
    r("series", lambda c: c.get_list_series("db"))
    r("delete by tag only", lambda c: c.delete_series("db", tags={"a": "2"}))
    r("delete quoted", lambda c: c.delete_series("db", 'we"ird', {"a": "it's"}))
    r("series", lambda c: c.get_list_series("db"))
    r("measurements", lambda c: c.get_list_measurements())
    r("delete missing db", lambda c: c.delete_series("nodb", "m"))
    r("drop measurement missing db", lambda c: c.query('DROP MEASUREMENT "m"', database="nodb"))
    r("series missing db", lambda c: c.get_list_series("nodb"))


def test_measurements_and_series(pair):
    old, new = run_both(pair, series_scenario)
    assert ("series quoted tag", ("ok", ["we\"ird,a=it's"])) in new
    old, new = _fixed_quoting(old, new, ["series quoted tag"])
    assert new == old


def delete_scenario(r: Recorder) -> None:
    r("create db", lambda c: c.create_database("db"))
    r("write", lambda c: c.write_points(_points("cpu", {"host": "a"}, 5) + _points("cpu", {"host": "b"}, 5)))
    start = NOW + 2 * 10**9
    r(
        "delete range",
        lambda c: c.query(f"DELETE FROM cpu WHERE host = 'a' AND time < {start}", method="POST"),
    )
    r("read", lambda c: c.query("SELECT * FROM cpu", epoch="s"))
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime((NOW + 3 * 10**9) // 10**9))
    r("delete rfc3339", lambda c: c.query(f"DELETE WHERE time >= '{stamp}'", method="POST"))
    r("read", lambda c: c.query("SELECT * FROM cpu", epoch="s"))
    r("drop series where", lambda c: c.query("DROP SERIES FROM cpu WHERE host = 'b'", method="POST"))
    r("series", lambda c: c.get_list_series("db"))


def test_delete_statements(pair):
    old, new = run_both(pair, delete_scenario)
    assert new == old


# -- users and privileges -------------------------------------------------------


def users_scenario(r: Recorder) -> None:
    r("create db", lambda c: c.create_database("db"))
    r("users", lambda c: c.get_list_users())
    r("create u1", lambda c: c.create_user("u1", "secret-1"))
    r("create u1 again", lambda c: c.create_user("u1", "secret-1"))
    r("create u1 other password", lambda c: c.create_user("u1", "secret-2"))
    r("create admin", lambda c: c.create_user("adm", "secret-3", admin=True))
    r("users", lambda c: sorted(c.get_list_users(), key=lambda u: u["user"]))
    r("grant missing db", lambda c: c.grant_privilege("read", "nodb", "u1"))
    r("grant missing user", lambda c: c.grant_privilege("read", "db", "nouser"))
    r("grant read", lambda c: c.grant_privilege("read", "db", "u1"))
    r("privileges", lambda c: c.get_list_privileges("u1"))
    r("grant write", lambda c: c.grant_privilege("write", "db", "u1"))
    r("privileges", lambda c: c.get_list_privileges("u1"))
    r("grant all", lambda c: c.grant_privilege("all", "db", "u1"))
    r("privileges", lambda c: c.get_list_privileges("u1"))
    r("revoke read", lambda c: c.revoke_privilege("read", "db", "u1"))
    r("privileges", lambda c: c.get_list_privileges("u1"))
    r("privileges missing user", lambda c: c.get_list_privileges("nouser"))
    r("privileges admin", lambda c: c.get_list_privileges("adm"))
    r("grant admin", lambda c: c.grant_admin_privileges("u1"))
    r("grant admin missing", lambda c: c.grant_admin_privileges("nouser"))
    r("users", lambda c: sorted(c.get_list_users(), key=lambda u: u["user"]))
    r("revoke admin", lambda c: c.revoke_admin_privileges("u1"))
    r("revoke admin missing", lambda c: c.revoke_admin_privileges("nouser"))
    r("users", lambda c: sorted(c.get_list_users(), key=lambda u: u["user"]))
    r("set password", lambda c: c.set_user_password("u1", "secret-4"))
    r("set password missing", lambda c: c.set_user_password("nouser", "x"))
    r("drop user", lambda c: c.drop_user("u1"))
    r("drop user missing", lambda c: c.drop_user("u1"))
    r("users", lambda c: c.get_list_users())


def test_users_and_privileges(pair):
    old, new = run_both(pair, users_scenario)
    assert new == old


def test_user_credentials_work_on_the_v1_endpoints(pair, v2_server):
    """A user created and granted through the shim can write and read with 1.x credentials."""
    _, new = pair
    new.create_database("db")
    new.create_user("writer", "w-secret-1")
    new.grant_privilege("all", "db", "writer")
    as_user = influx_compat.InfluxDBClient(
        host=v2_server.host, port=v2_server.port, database="db", username="writer", password="w-secret-1"
    )
    assert as_user.write_points(_points("cpu", {"h": "a"}, 2))
    assert len(list(as_user.query("SELECT * FROM cpu").get_points())) == 2
    new.revoke_privilege("write", "db", "writer")
    with pytest.raises(influx_compat.InfluxDBClientError):
        as_user.write_points(_points("cpu", {"h": "b"}))
    assert len(list(as_user.query("SELECT * FROM cpu").get_points())) == 2
    wrong = influx_compat.InfluxDBClient(
        host=v2_server.host, port=v2_server.port, database="db", username="writer", password="wrong-pass"
    )
    with pytest.raises(influx_compat.InfluxDBClientError):
        wrong.query("SELECT * FROM cpu")


def test_grant_on_a_user_created_by_another_client_of_the_process(pair, v2_server):
    """A service creates users with one client and grants with the next: the process knows the password."""
    _, new = pair
    new.create_database("db")
    other = influx_compat.InfluxDBClient(
        host=v2_server.host, port=v2_server.port, token=v2_server.token, org=v2_server.org
    )
    other.create_user("someone", "s-secret-1")
    other.close()
    new.grant_privilege("read", "db", "someone")
    assert new.get_list_privileges("someone") == [{"database": "db", "privilege": "READ"}]


def test_grant_on_a_user_whose_password_the_process_never_set_says_what_to_do(pair, v2_server):
    """A v1 user made as the influx CLI makes one (the v2 API directly), or changed by it since."""
    _, new = pair
    new.create_database("db")
    api = new._core.backend.api
    org_read = [{"action": "read", "resource": {"type": "orgs", "id": api.org_id()}}]
    auth = api.create_legacy_auth("cli-user", org_read, description="made by the CLI")
    api.set_legacy_password(auth["id"], "c-secret-1")
    with pytest.raises(UnsupportedOperationError, match=r"set_user_password\('cli-user'") as info:
        new.grant_privilege("read", "db", "cli-user")
    assert "c-secret-1" not in str(info.value)
    assert new.get_list_privileges("cli-user") == []  # nothing changed, the user is still there
    new.set_user_password("cli-user", "c-secret-2")
    new.grant_privilege("read", "db", "cli-user")
    assert new.get_list_privileges("cli-user") == [{"database": "db", "privilege": "READ"}]
    # Changed behind the process's back: the remembered password no longer works, so it is not used.
    current = next(a for a in api.legacy_auths() if a["token"] == "cli-user")
    api.set_legacy_password(current["id"], "c-secret-3")
    with pytest.raises(UnsupportedOperationError, match=r"changed it since"):
        new.grant_privilege("write", "db", "cli-user")
    assert new.get_list_privileges("cli-user") == [{"database": "db", "privilege": "READ"}]


# -- continuous queries -----------------------------------------------------------


def cq_scenario(r: Recorder) -> None:
    r("create db", lambda c: c.create_database("db"))
    r("list", lambda c: c.get_list_continuous_queries())
    r("drop missing", lambda c: c.drop_continuous_query("nope", "db"))
    r("statement", lambda c: c.query("SHOW CONTINUOUS QUERIES"))


def test_continuous_queries(pair):
    old, new = run_both(pair, cq_scenario)
    assert new == old


def test_create_continuous_query_is_refused_with_directions(pair):
    _, new = pair
    new.create_database("db")
    with pytest.raises(UnsupportedOperationError, match="Flux tasks") as info:
        new.create_continuous_query("cq", 'SELECT mean("x") INTO "m_mean" FROM "m" GROUP BY time(1h)')
    assert isinstance(info.value, influx_compat.InfluxDBClientError)
    listed = sorted(new.get_list_continuous_queries(), key=lambda d: next(iter(d)))
    assert listed == [{"db": []}, {"default": []}]


# -- statements inside query() ----------------------------------------------------


def statements_scenario(r: Recorder) -> None:
    r("create", lambda c: c.query('CREATE DATABASE "x"; SHOW DATABASES', method="POST"))
    r(
        "rp",
        lambda c: c.query(
            'CREATE RETENTION POLICY "week" ON "x" DURATION 7d REPLICATION 1 DEFAULT; '
            'SHOW RETENTION POLICIES ON "x"',
            method="POST",
        ),
    )
    r("write", lambda c: c.write_points(_points("m", {"t": "1"}, 2), database="x"))
    r(
        "mixed",
        lambda c: c.query(
            "SELECT count(x) FROM m; SHOW SERIES; -- comment\n"
            'ALTER RETENTION POLICY "week" ON "x" DURATION 14d; '
            "SHOW RETENTION POLICIES",
            database="x",
            method="POST",
        ),
    )
    r(
        "users",
        lambda c: c.query(
            "CREATE USER \"bob\" WITH PASSWORD 'b-secret-1'; "
            'GRANT READ ON "x" TO "bob"; SHOW GRANTS FOR "bob"; SHOW USERS',
            method="POST",
        ),
    )
    r("drop", lambda c: c.query('DROP MEASUREMENT "m"; SHOW MEASUREMENTS', database="x", method="POST"))
    r(
        "error stops",
        lambda c: c.query(
            'DROP RETENTION POLICY "week" ON "x"; '
            'CREATE RETENTION POLICY "r" ON "nodb" DURATION 1d REPLICATION 1; '
            "SHOW DATABASES",
            method="POST",
        ),
    )
    r(
        "after",
        lambda c: c.query('SHOW RETENTION POLICIES ON "x"; DROP DATABASE "x"; SHOW DATABASES', method="POST"),
    )


def test_statements_inside_query(pair):
    old, new = run_both(pair, statements_scenario)
    fixed = []
    for label, outcome in old:
        if label == "error stops":
            # 1.x loses the failing statement's message behind "not executed"; we keep it.
            assert outcome == ("error", "not executed", None)
            outcome = ("error", "database not found: nodb", None)
        if label == "after":
            # 2.x always keeps a default mapping: dropping the default policy promotes another.
            first = dict(outcome[1][0])
            first["series"] = [dict(first["series"][0], values=[["autogen", "0s", "168h0m0s", 1, True]])]
            outcome = ("ok", [first] + outcome[1][1:])
        fixed.append((label, outcome))
    assert new == fixed


def test_statements_after_a_failure_are_not_executed(pair):
    _, new = pair
    results = new.query(
        'CREATE DATABASE "a"; CREATE RETENTION POLICY "r" ON "nodb" DURATION 1d '
        "REPLICATION 1; SELECT * FROM m; SHOW DATABASES",
        raise_errors=False,
    )
    assert [r.raw for r in results] == [
        {"statement_id": 0, "series": []},
        {"statement_id": 1, "error": "database not found: nodb"},
        {"statement_id": 2, "error": "not executed"},
        {"statement_id": 3, "error": "not executed"},
    ]


def injection_scenario(r: Recorder) -> None:
    r("victim", lambda c: c.create_database("victim"))
    for name in ["x; DROP DATABASE victim", "it's", 'sp ace\\"; DROP USER victim']:
        r(f"create {name}", lambda c, n=name: c.create_database(n.replace('"', "").replace("\\", "")))
    for name in ["x; DROP DATABASE victim", "it's"]:
        r(f"rp {name}", lambda c, n=name: c.create_retention_policy("p q'; DROP DATABASE victim", "1d", 1, n))
        r(f"list rp {name}", lambda c, n=name: c.get_list_retention_policies(n))
        r(f"write {name}", lambda c, n=name: c.write_points(_points(n, {"t": n + '\\"'}), database=n))
        r(f"series {name}", lambda c, n=name: c.get_list_series(n, n))
        r(f"delete {name}", lambda c, n=name: c.delete_series(n, n, {"t": n + '\\"'}))
        r(f"series after {name}", lambda c, n=name: c.get_list_series(n))
        r(f"user {name}", lambda c, n=name: c.create_user(n + '"', "p'; DROP DATABASE victim"))
        r(f"grant {name}", lambda c, n=name: c.grant_privilege("read", n, n + '"'))
        r(f"privileges {name}", lambda c, n=name: c.get_list_privileges(n + '"'))
    r("databases", lambda c: sorted(d["name"] for d in c.get_list_database()))
    r("users", lambda c: sorted(u["user"] for u in c.get_list_users()))


def test_names_cannot_inject(pair):
    old, new = run_both(pair, injection_scenario)
    assert new == old
    assert "victim" in dict(new)["databases"][1]


def test_quotes_in_bucket_names_are_refused_clearly(pair):
    """2.x bucket names cannot hold a double quote, so neither can such databases or policies."""
    _, new = pair
    with pytest.raises(influx_compat.InfluxDBClientError, match="quotation marks"):
        new.create_database('a"b')
    new.create_database("db")
    with pytest.raises(influx_compat.InfluxDBClientError, match="quotation marks"):
        new.create_retention_policy('p"q', "1d", 1, "db")
    assert [rp["name"] for rp in new.get_list_retention_policies("db")] == ["autogen"]
