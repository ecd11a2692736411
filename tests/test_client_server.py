"""InfluxDBClient end to end against the v2 test server (a real InfluxQL engine underneath)."""

import datetime
import os
import subprocess
import sys

import pytest
import requests

from influx_compat import InfluxDBClient, exceptions

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def v2(server, method, path, **kw):
    """Call the server's v2 API with the operator token."""
    headers = {"Authorization": "Token " + server.token}
    resp = requests.request(method, server.url + path, headers=headers, timeout=10, **kw)
    assert resp.status_code < 300, resp.text
    return resp.json() if resp.content else None


def count(client, measurement, database, **kw):
    rs = client.query(f'SELECT count(*) FROM "{measurement}"', database=database, **kw)
    points = list(rs.get_points())
    return {k: v for k, v in points[0].items() if k != "time"} if points else {}


def test_create_write_query_drop(v2_env):
    client = InfluxDBClient()
    client.create_database("db1")
    client.create_database("db1")  # idempotent, like 1.x
    assert {"name": "db1"} in client.get_list_database()
    assert all(not d["name"].startswith("_") for d in client.get_list_database())
    points = [
        {
            "measurement": "cpu",
            "tags": {"host": f"h{i % 3}"},
            "fields": {"value": i * 0.5, "n": i},
            "time": 1_600_000_000_000 + i,
        }
        for i in range(50)
    ]
    assert client.write_points(points, database="db1", time_precision="ms", batch_size=20)
    assert count(client, "cpu", "db1") == {"count_value": 50, "count_n": 50}
    rs = client.query(
        'SELECT * FROM "cpu" WHERE "host" = $h ORDER BY time LIMIT 2',
        database="db1",
        epoch="ms",
        bind_params={"h": "h1"},
    )
    assert list(rs.get_points()) == [
        {"time": 1_600_000_000_001, "host": "h1", "n": 1, "value": 0.5},
        {"time": 1_600_000_000_004, "host": "h1", "n": 4, "value": 2.0},
    ]
    client.drop_database("db1")
    client.drop_database("db1")  # silent, like 1.x
    assert {"name": "db1"} not in client.get_list_database()


def test_create_database_is_a_bucket_with_a_mapping(v2_env):
    InfluxDBClient().create_database("shop")
    buckets = v2(v2_env, "GET", "/api/v2/buckets", params={"org": v2_env.org, "name": "shop"})
    (bucket,) = buckets["buckets"]
    dbrps = v2(v2_env, "GET", "/api/v2/dbrps", params={"org": v2_env.org, "db": "shop"})["content"]
    physical = [m for m in dbrps if not m["virtual"]]
    assert [(m["retention_policy"], m["default"], m["bucketID"]) for m in physical] == [
        ("autogen", True, bucket["id"])
    ]


def test_query_statements_are_routed(v2_env):
    client = InfluxDBClient()
    client.query('CREATE DATABASE "routed"')
    assert {"name": "routed"} in client.get_list_database()
    names = [p["name"] for p in client.query("SHOW DATABASES").get_points()]
    assert "routed" in names
    client.write_points(["m v=1i 1"], database="routed", protocol="line")
    results = client.query('SELECT * FROM "m"; DROP DATABASE "routed"', database="routed", epoch="ns")
    assert list(results[0].get_points()) == [{"time": 1, "v": 1}]
    assert {"name": "routed"} not in client.get_list_database()


def test_hour_precision_lands_at_the_right_hour(v2_env):
    client = InfluxDBClient(database="hours")
    client.create_database("hours")
    hours = 438_000  # 2019-12-20T00:00:00Z in hours since the epoch
    client.write_points([{"measurement": "m", "fields": {"v": 1}, "time": hours}], time_precision="h")
    client.write_points([f"m w=2i {hours + 1}"], time_precision="h", protocol="line")
    rs = client.query("SELECT * FROM m ORDER BY time", epoch="s")
    assert [p["time"] for p in rs.get_points()] == [hours * 3600, (hours + 1) * 3600]
    when = datetime.datetime.fromtimestamp(hours * 3600, datetime.timezone.utc)
    assert when == datetime.datetime(2019, 12, 20, tzinfo=datetime.timezone.utc)


@pytest.mark.parametrize(
    "precision, factor", [("n", 1), ("u", 1_000), ("ms", 1_000_000), ("s", 10**9), ("m", 60 * 10**9)]
)
def test_every_precision_stores_the_right_time(v2_env, precision, factor):
    client = InfluxDBClient(database="prec")
    client.create_database("prec")
    client.write_points(
        [{"measurement": f"m_{precision}", "fields": {"v": 1}, "time": 25_000_000}], time_precision=precision
    )
    rs = client.query(f"SELECT * FROM m_{precision}", epoch="ns")
    assert [p["time"] for p in rs.get_points()] == [25_000_000 * factor]


def test_migrated_server_layout_is_followed(v2_env):
    """A server upgraded with `influxd upgrade` holds buckets db/rp with explicit mappings."""
    org_id = v2_env.org_id
    b1 = v2(
        v2_env,
        "POST",
        "/api/v2/buckets",
        json={"orgID": org_id, "name": "telegraf/autogen", "retentionRules": []},
    )
    b2 = v2(
        v2_env,
        "POST",
        "/api/v2/buckets",
        json={"orgID": org_id, "name": "telegraf/week", "retentionRules": []},
    )
    v2(
        v2_env,
        "POST",
        "/api/v2/dbrps",
        json={
            "orgID": org_id,
            "bucketID": b1["id"],
            "database": "telegraf",
            "retention_policy": "autogen",
            "default": True,
        },
    )
    v2(
        v2_env,
        "POST",
        "/api/v2/dbrps",
        json={
            "orgID": org_id,
            "bucketID": b2["id"],
            "database": "telegraf",
            "retention_policy": "week",
            "default": False,
        },
    )
    client = InfluxDBClient(database="telegraf")
    client.create_database("telegraf")  # exists already: nothing created
    client.write_points(["cpu v=1i 1", "cpu v=2i 2"], protocol="line")
    client.write_points(["cpu v=3i 3"], protocol="line", retention_policy="week")
    assert count(client, "cpu", "telegraf") == {"count_v": 2}
    rs = client.query('SELECT count(*) FROM "telegraf"."week"."cpu"')
    assert list(rs.get_points())[0]["count_v"] == 1
    writes = [r for r in v2_env.requests if r.path == "/api/v2/write"]
    assert [r.query["bucket"] for r in writes] == [[b1["id"]], [b2["id"]]]
    names = [b["name"] for b in v2(v2_env, "GET", "/api/v2/buckets", params={"org": v2_env.org})["buckets"]]
    assert "telegraf" not in names


def test_parse_error_rejects_batch_and_reports_progress(v2_env):
    client = InfluxDBClient(database="perr")
    client.create_database("perr")
    lines = [f"m v={i}i {i + 1}" for i in range(10)]
    lines[7] = "m v=bad 8"
    with pytest.raises(exceptions.WriteClientError) as info:
        client.write_points(lines, protocol="line", batch_size=5)
    err = info.value
    assert (err.code, err.batch_index, err.points_written) == (400, 1, 5)
    assert "unable to parse" in str(err)
    assert count(client, "m", "perr") == {"count_v": 5}


def test_field_type_conflict_is_a_partial_write(v2_env):
    client = InfluxDBClient(database="conflict")
    client.create_database("conflict")
    client.write_points(["m v=1.5 1"], protocol="line")
    with pytest.raises(exceptions.PartialWriteError) as info:
        client.write_points(["m v=2i 2", "m v=3.5 3", "m v=4i 4"], protocol="line")
    assert info.value.code == 422 and info.value.dropped == 2
    assert count(client, "m", "conflict") == {"count_v": 2}


def test_missing_database_errors_name_it(v2_env):
    client = InfluxDBClient(database="nowhere")
    with pytest.raises(exceptions.DatabaseNotFoundError) as info:
        client.write_points(["m v=1i"], protocol="line")
    assert "create_database('nowhere')" in str(info.value)
    with pytest.raises(exceptions.InfluxDBClientError) as info:
        client.query("SELECT * FROM m")
    assert "database not found: nowhere" in str(info.value)


def test_query_creates_mapping_for_existing_bucket_before_virtual_dbrps():
    from influx_compat.testing import V2TestServer

    with V2TestServer(version="2.3.0") as srv:
        v2(srv, "POST", "/api/v2/buckets", json={"orgID": srv.org_id, "name": "legacy", "retentionRules": []})
        client = InfluxDBClient(url=srv.url, token=srv.token, org=srv.org, database="legacy")
        client.write_points(["m v=1i 1"], protocol="line")  # bucket named like the database
        assert list(client.query("SELECT * FROM m", epoch="ns").get_points()) == [{"time": 1, "v": 1}]
        dbrps = v2(srv, "GET", "/api/v2/dbrps", params={"org": srv.org, "db": "legacy"})
        assert [(m["retention_policy"], m["default"]) for m in dbrps["content"]] == [("autogen", True)]


def test_ping_returns_server_version(v2_env):
    assert InfluxDBClient().ping() == "v2.7.10"  # the test server's default version


def test_bad_token_is_refused_clearly(v2_env, monkeypatch):
    monkeypatch.setenv("INFLUX_TOKEN", "not-a-token")
    with pytest.raises(exceptions.AuthenticationError) as info:
        InfluxDBClient().query("SHOW DATABASES")
    assert info.value.code == 401
    assert "INFLUX_TOKEN" in str(info.value) and "not-a-token" not in str(info.value)


def test_legacy_v1_credentials_write_and_query(v2_env, monkeypatch):
    InfluxDBClient().create_database("v1db")
    bucket = v2(v2_env, "GET", "/api/v2/buckets", params={"org": v2_env.org, "name": "v1db"})
    bucket_id = bucket["buckets"][0]["id"]
    perms = [
        {"action": a, "resource": {"type": "buckets", "id": bucket_id, "orgID": v2_env.org_id}}
        for a in ("read", "write")
    ]
    auth = v2(
        v2_env,
        "POST",
        "/private/legacy/authorizations",
        json={"token": "legacy-user", "orgID": v2_env.org_id, "permissions": perms},
    )
    v2(
        v2_env,
        "POST",
        f"/private/legacy/authorizations/{auth['id']}/password",
        json={"password": "legacy-password"},
    )
    monkeypatch.delenv("INFLUX_TOKEN")
    client = InfluxDBClient(username="legacy-user", password="legacy-password", database="v1db")
    client.write_points(["m v=1i 1"], protocol="line", time_precision="s")
    assert list(client.query("SELECT * FROM m", epoch="s").get_points()) == [{"time": 1, "v": 1}]
    assert [r.path for r in v2_env.requests if r.path in ("/write", "/api/v2/write")] == ["/write"]


@pytest.mark.parametrize("how", ["import changed", "unchanged, through the launcher"])
def test_write_test_example_end_to_end(v2_server, how, tmp_path):
    """examples/write_test.py on a v2 server: with its import changed, and as the 1.x original."""
    env = dict(os.environ)
    env.update(v2_server.env())
    env.pop("INFLUXDB_V2_URL", None)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    script = os.path.join(ROOT, "examples", "write_test.py")
    command = [sys.executable, script, "100000"]
    if how.startswith("unchanged"):
        with open(script) as f:
            source = f.read()
        ours = "from influx_compat import InfluxDBClient  # was: from influxdb import InfluxDBClient"
        assert ours in source
        original = tmp_path / "write_test.py"
        original.write_text(source.replace(ours, "from influxdb import InfluxDBClient"))
        command = [sys.executable, "-m", "influx_compat", "run", str(original), "100000"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "points in m1: 100000" in proc.stdout

    writes = [r for r in v2_server.requests if r.method == "POST" and "write" in r.path]
    assert len(writes) == 10
    for r in writes:
        assert r.path == "/api/v2/write"
        assert r.query["org"] == [v2_server.org] and r.query["precision"] == ["ms"]
        assert r.headers["Authorization"] == "Token " + v2_server.token
        assert r.body.count(b"\n") == 10_000
    assert all(v2_server.token not in r.path + str(r.query) for r in v2_server.requests)

    client = InfluxDBClient(url=v2_server.url, token=v2_server.token, org=v2_server.org)
    lines = b"".join(r.body for r in writes).decode().splitlines()
    first, last = lines[0], lines[-1]
    for line in (first, last):
        series, fields, stamp = line.split(" ")
        tags = dict(kv.split("=") for kv in series.split(",")[1:])
        values = dict(kv.split("=") for kv in fields.split(","))
        rs = client.query(
            'SELECT * FROM "m1" WHERE time = $t AND "id" = $id',
            database="writetest",
            epoch="ms",
            bind_params={"t": int(stamp) * 1_000_000, "id": tags["id"]},
        )
        (point,) = list(rs.get_points())
        assert point["location"] == tags["location"] and point["fruit"] == tags["fruit"]
        assert point["x"] == float(values["x"]) and point["y"] == float(values["y"])
        assert point["z"] == int(values["z"].rstrip("i"))
        assert point["time"] == int(stamp)


def test_answers_come_as_messagepack_like_5_3_2_asked(v2_env):
    """With msgpack installed (as it always is with influxdb-python 5.3.2), answers are MessagePack:
    times without ``epoch`` read as 5.3.2 showed them, in microseconds; ``epoch`` keeps nanoseconds."""
    client = InfluxDBClient(database="mp")
    client.create_database("mp")
    client.write_points(["m v=1i 1500000000123456789", "m v=2i 1500000001000000000"], protocol="line")
    assert list(client.query("SELECT * FROM m").get_points()) == [
        {"time": "2017-07-14T02:40:00.123457Z", "v": 1},
        {"time": "2017-07-14T02:40:01Z", "v": 2},
    ]
    assert [p["time"] for p in client.query("SELECT * FROM m", epoch="ns").get_points()] == [
        1500000000123456789,
        1500000001000000000,
    ]
    assert client.query("SELECT * FROM nothing").raw == {"statement_id": 0, "series": []}
    accepts = {r.headers.get("Accept") for r in v2_env.requests if r.path == "/query"}
    assert accepts == {"application/x-msgpack"}
