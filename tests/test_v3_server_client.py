"""influx_compat's client, launcher and proxy against the InfluxDB 3 test server (Core flavour).

The server is strict where 3.x is strict (MessagePack arrays, chunks without
newlines, the ignored ``rp``, the refused content type, ``m``/``h``, the
schema rules): a shim that speaks 1.x to it fails here.
"""

import os
import subprocess
import sys

import pytest
import requests

from influx_compat import DataFrameClient, InfluxDBClient, exceptions
from influx_compat.testing import V3TestServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV_NAMES = (
    "INFLUX_HOST",
    "INFLUX_TOKEN",
    "INFLUX_ORG",
    "INFLUX_ORG_ID",
    "INFLUX_COMPAT_FLAVOUR",
    "INFLUXDB_V2_URL",
    "INFLUXDB_V2_TOKEN",
    "INFLUXDB_V2_ORG",
    "INFLUX_CONFIGS_PATH",
    "INFLUX_MANAGEMENT_TOKEN",
    "INFLUX_ACCOUNT_ID",
    "INFLUX_CLUSTER_ID",
    "INFLUX_MANAGEMENT_URL",
)


@pytest.fixture(scope="module")
def core():
    server = V3TestServer(flavour="core").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def env(core, monkeypatch, tmp_path):
    core.reset()
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name, value in core.env().items():
        monkeypatch.setenv(name, value)
    return core


def points_of(client, text, **kw):
    return list(client.query(text, **kw).get_points())


def test_flavour_is_detected_and_ping_returns_the_version(env):
    client = InfluxDBClient(database="d")
    version = client.ping()
    assert version and version[0] == "3"
    assert client._core.flavour.value == "core"
    (ping,) = [r for r in env.requests if r.path == "/ping"]
    assert ping.headers["Authorization"] == "Token " + env.token


def test_write_and_read_back_with_legacy_times(env):
    client = InfluxDBClient(database="d")
    client.create_database("d")
    client.write_points(
        [
            {"measurement": "m", "tags": {"t": "a"}, "fields": {"v": 1.5}, "time": 1500000000123456789},
            {"measurement": "m", "tags": {"t": "b"}, "fields": {"v": 2.0}, "time": 1500000001000000000},
        ]
    )
    assert points_of(client, 'SELECT * FROM "m"') == [
        {"time": "2017-07-14T02:40:00.123457Z", "t": "a", "v": 1.5},
        {"time": "2017-07-14T02:40:01Z", "t": "b", "v": 2},
    ]
    assert [p["time"] for p in points_of(client, 'SELECT * FROM "m"', epoch="ns")] == [
        1500000000123456789,
        1500000001000000000,
    ]
    paths = {r.path for r in env.requests}
    assert "/api/v3/write_lp" in paths and "/api/v2/dbrps" not in paths
    assert all(r.headers.get("Accept") == "application/json" for r in env.requests if r.path == "/query")
    assert all("u" not in r.query and "p" not in r.query for r in env.requests)


def test_minutes_and_hours_land_on_their_time(env):
    client = InfluxDBClient(database="prec")
    client.create_database("prec")
    client.write_points(["m v=1i 2"], protocol="line", time_precision="h")
    client.write_points([{"measurement": "m", "fields": {"v": 2}, "time": 3}], time_precision="m")
    assert points_of(client, 'SELECT * FROM "m"', epoch="s") == [
        {"time": 180, "v": 2},
        {"time": 7200, "v": 1},
    ]


def test_retention_policies_are_databases(env):
    client = InfluxDBClient(database="rpdb")
    client.create_database("rpdb")
    client.create_retention_policy("Week", "7d", 1, database="rpdb")
    client.write_points(["m v=1i 1"], protocol="line", retention_policy="Week")
    client.write_points(["m v=2i 2"], protocol="line")
    assert points_of(client, 'SELECT * FROM "m"', epoch="ns") == [{"time": 2, "v": 2}]
    assert points_of(client, 'SELECT * FROM "m"', epoch="ns", params={"rp": "week"}) == [{"time": 1, "v": 1}]
    assert points_of(client, 'SELECT * FROM "rpdb"."week"."m"', epoch="ns") == [{"time": 1, "v": 1}]
    rps = client.get_list_retention_policies()
    assert [(r["name"], r["duration"], r["default"]) for r in rps] == [
        ("autogen", "0s", True),
        ("week", "168h0m0s", False),
    ]
    assert client.get_list_database() == [{"name": "rpdb"}]
    assert {m["name"] for m in client.get_list_measurements()} == {"m"}
    client.drop_retention_policy("week", "rpdb")
    assert [r["name"] for r in client.get_list_retention_policies()] == ["autogen"]
    client.drop_database("rpdb")
    assert client.get_list_database() == []


def test_management_statements_in_query_strings(env):
    client = InfluxDBClient()
    client.query('CREATE DATABASE "q1"; CREATE DATABASE "q2"')
    assert [r["name"] for r in client.query("SHOW DATABASES").get_points()] == ["q1", "q2"]
    client.query('DROP DATABASE "q1"')
    assert client.get_list_database() == [{"name": "q2"}]


def test_series_and_drop_measurement(env):
    client = InfluxDBClient(database="ser")
    client.create_database("ser")
    client.write_points(
        ["cpu,host=a,region=x v=1 1", "cpu,host=b v=2 2", "mem,host=a v=3 3"], protocol="line"
    )
    assert sorted(client.get_list_series()) == ["cpu,host=a,region=x", "cpu,host=b", "mem,host=a"]
    assert client.get_list_series(measurement="cpu", tags={"host": "b"}) == ["cpu,host=b"]
    client.drop_measurement("cpu")
    assert [m["name"] for m in client.get_list_measurements()] == ["mem"]


def test_a_bad_line_does_not_cost_the_batch(env):
    client = InfluxDBClient(database="pw")
    client.create_database("pw")
    client.write_points(["m v=1.5 1"], protocol="line")
    with pytest.raises(exceptions.PartialWriteError) as info:
        client.write_points(["m v=2.5 2", "m v=3i 3", "m v=4.5 4"], protocol="line")
    err = info.value
    assert err.dropped == 1 and err.points_written == 0 and err.points_in_batch == 3
    (rejected,) = err.rejected
    assert rejected.point == 1 and rejected.line_number == 2
    assert "first write" in str(err)
    assert [p["v"] for p in points_of(client, 'SELECT * FROM "m"')] == [1.5, 2.5, 4.5]


def test_chunked_queries_stream(env):
    client = InfluxDBClient(database="ch")
    client.create_database("ch")
    client.write_points([f"m v={i}i {i + 1}" for i in range(25)], protocol="line")
    chunks = list(client.query('SELECT * FROM "m"', chunked=True, chunk_size=10, epoch="ns"))
    assert sum(len(list(rs.get_points())) for rs in chunks) == 25
    assert len(chunks) >= 2


def test_post_queries_and_bind_params(env):
    client = InfluxDBClient(database="bp", headers={"Content-Type": "application/json"})
    client.create_database("bp")
    client.write_points(["m,t=a v=1i 1", "m,t=b v=2i 2"], protocol="line")
    rs = client.query('SELECT * FROM "m" WHERE "t" = $t', bind_params={"t": "b"}, epoch="ns", method="POST")
    assert list(rs.get_points()) == [{"time": 2, "t": "b", "v": 2}]


def test_password_holding_the_token_works(env, monkeypatch):
    monkeypatch.delenv("INFLUX_TOKEN")
    client = InfluxDBClient(username="legacy", password=env.token, database="lg")
    client.create_database("lg")
    client.write_points(["m v=1i 1"], protocol="line")
    assert points_of(client, 'SELECT * FROM "m"', epoch="ns") == [{"time": 1, "v": 1}]
    assert all(env.token not in r.path + str(r.query) for r in env.requests)


def test_wrong_token_says_what_to_do(env, monkeypatch):
    monkeypatch.setenv("INFLUX_TOKEN", "apiv3_not-a-token")
    with pytest.raises(exceptions.AuthenticationError) as info:
        InfluxDBClient(database="x").write_points(["m v=1i 1"], protocol="line")
    text = str(info.value)
    assert "InfluxDB 3" in text and "token" in text and "not-a-token" not in text


def test_unsupported_operations_name_the_alternative(env):
    client = InfluxDBClient(database="un")
    client.create_database("un")
    with pytest.raises(exceptions.UnsupportedOperationError, match="token"):
        client.create_user("bob", "password1")
    with pytest.raises(exceptions.UnsupportedOperationError, match="drop_measurement"):
        client.delete_series(measurement="m")
    with pytest.raises(exceptions.UnsupportedOperationError, match="processing engine"):
        client.create_continuous_query("cq", 'SELECT mean(v) INTO "x" FROM "m" GROUP BY time(1m)')
    assert client.get_list_users() == []


def test_dataframes_round_trip(env):
    import pandas as pd  # the test extra installs it

    client = DataFrameClient(database="df")
    client.create_database("df")
    frame = pd.DataFrame({"v": [1.5, 2.5]}, index=pd.to_datetime([1, 2], unit="s", utc=True))
    client.write_points(frame, "m", batch_size=1)
    got = client.query('SELECT * FROM "m"')["m"]
    assert list(got["v"]) == [1.5, 2.5]


@pytest.mark.parametrize("how", ["import changed", "unchanged, through the launcher"])
def test_write_test_example_on_core(core, how, tmp_path):
    """examples/write_test.py on 3 Core: every point lands, with its values and ms timestamp."""
    core.reset()
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(core.env())
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    script = os.path.join(ROOT, "examples", "write_test.py")
    command = [sys.executable, script, "20000"]
    if how.startswith("unchanged"):
        with open(script) as f:
            source = f.read()
        ours = "from influx_compat import InfluxDBClient  # was: from influxdb import InfluxDBClient"
        original = tmp_path / "write_test.py"
        original.write_text(source.replace(ours, "from influxdb import InfluxDBClient"))
        command = [sys.executable, "-m", "influx_compat", "run", str(original), "20000"]
    proc = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert "points in m1: 20000" in proc.stdout
    writes = [r for r in core.requests if r.method == "POST" and "write" in r.path]
    assert [r.path for r in writes] == ["/api/v3/write_lp"] * 2
    for r in writes:
        assert r.query["db"] == ["writetest"] and r.query["precision"] == ["millisecond"]
        assert r.headers["Authorization"] == "Token " + core.token
    client = InfluxDBClient(url=core.url, token=core.token, database="writetest")
    lines = b"".join(r.body for r in writes).decode().splitlines()
    for line in (lines[0], lines[-1]):
        series, fields, stamp = line.split(" ")
        tags = dict(kv.split("=") for kv in series.split(",")[1:])
        values = dict(kv.split("=") for kv in fields.split(","))
        (point,) = points_of(
            client,
            'SELECT * FROM "m1" WHERE time = $t AND "id" = $id',
            epoch="ms",
            bind_params={"t": int(stamp) * 1_000_000, "id": tags["id"]},
        )
        assert (point["location"], point["fruit"]) == (tags["location"], tags["fruit"])
        assert point["x"] == float(values["x"]) and point["y"] == float(values["y"])
        assert point["z"] == int(values["z"].rstrip("i")) and point["time"] == int(stamp)


def test_notebook_through_the_proxy_onto_core(core):
    """Raw v1 HTTP: CREATE DATABASE through /query, line protocol to /write?db=, then read back."""
    import threading
    from wsgiref.simple_server import WSGIRequestHandler, make_server

    from influx_compat.proxy import ProxyApp

    core.reset()

    class Quiet(WSGIRequestHandler):
        def log_message(self, *args):
            pass

    httpd = make_server("127.0.0.1", 0, ProxyApp(url=core.url, token=core.token), handler_class=Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_port}"
    try:
        assert requests.post(base + "/query", data={"q": 'CREATE DATABASE "x"'}).status_code == 200
        r = requests.post(base + "/write", params={"db": "x", "precision": "s"}, data="m,t=a v=1i 10\n")
        assert r.status_code == 204, r.text
        answer = requests.get(base + "/query", params={"db": "x", "q": 'SELECT * FROM "m"', "epoch": "s"})
        assert answer.json()["results"][0]["series"][0]["values"] == [[10, "a", 1]]
        assert requests.get(base + "/ping").headers["X-Influxdb-Version"].startswith("3")
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert any(r.path == "/api/v3/configure/database" and r.method == "POST" for r in core.requests)


@pytest.fixture(scope="module")
def dedicated():
    server = V3TestServer(flavour="dedicated").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.parametrize("management", ["Management API configured", "database made with influxctl"])
def test_write_test_example_on_dedicated(dedicated, management):
    """The flavour is found out (/ping says cloud2, no /api/v2/orgs), writes go to /api/v2/write."""
    dedicated.reset()
    env = {k: v for k, v in os.environ.items() if k not in ENV_NAMES}
    env.update(dedicated.env())
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    if not management.startswith("Management"):
        for name in (
            "INFLUX_MANAGEMENT_TOKEN",
            "INFLUX_ACCOUNT_ID",
            "INFLUX_CLUSTER_ID",
            "INFLUX_MANAGEMENT_URL",
        ):
            del env[name]
        dedicated.create_database("writetest")
    script = os.path.join(ROOT, "examples", "write_test.py")
    proc = subprocess.run(
        [sys.executable, script, "20000"], env=env, capture_output=True, text=True, timeout=300, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stderr
    assert "points in m1: 20000" in proc.stdout
    writes = [r for r in dedicated.requests if r.method == "POST" and "write" in r.path]
    assert [r.path for r in writes] == ["/api/v2/write"] * 2
    assert all(r.query["bucket"] == ["writetest"] and r.query["precision"] == ["ms"] for r in writes)
    creates = [r for r in dedicated.requests if r.path.endswith("/databases") and r.method == "POST"]
    assert len(creates) == (1 if management.startswith("Management") else 0)
    client = InfluxDBClient(
        url=dedicated.url, token=dedicated.token, database="writetest", flavour="dedicated"
    )
    (count,) = points_of(client, 'SELECT count("z") FROM "m1"')
    assert count["count"] == 20000


def test_dedicated_without_a_database_says_how_to_make_one(dedicated, monkeypatch):
    dedicated.reset()
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    client = InfluxDBClient(url=dedicated.url, token=dedicated.token, database="nope", flavour="dedicated")
    with pytest.raises(exceptions.UnsupportedOperationError, match="influxctl"):
        client.create_database("nope")
    with pytest.raises(exceptions.DatabaseNotFoundError, match="influxctl database create"):
        client.write_points(["m v=1i 1"], protocol="line")
