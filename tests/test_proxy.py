"""The v1-to-v2 proxy, served by waitress: raw 1.x HTTP and influxdb-python 5.3.2 itself reach 2.x."""

from __future__ import annotations

import threading
import time

import influxdb
import pytest
import requests
import waitress

from influx_compat.proxy import ProxyApp


@pytest.fixture
def proxy(v2_server):
    def start(**kwargs):
        app = ProxyApp(url=v2_server.url, token=v2_server.token, org=v2_server.org, **kwargs)
        server = waitress.create_server(app, host="127.0.0.1", port=0, threads=4)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        started.append(server)
        return f"http://127.0.0.1:{server.effective_port}"

    started = []
    yield start
    # (waitress's run loop has no clean stop from another thread: the daemon threads end with the tests)


def test_the_notebook_speaks_raw_v1_http(proxy, v2_server):
    url = proxy()
    assert requests.get(url + "/ping").status_code == 204
    r = requests.post(url + "/query", data={"q": 'CREATE DATABASE "x"'})
    assert r.status_code == 200 and r.json() == {"results": [{"statement_id": 0}]}
    lines = "cpu,host=a value=1.5 1600000000\ncpu,host=b value=2.5 1600000060\n"
    assert requests.post(url + "/write", params={"db": "x", "precision": "s"}, data=lines).status_code == 204
    r = requests.get(url + "/query", params={"q": "SELECT * FROM cpu", "db": "x", "epoch": "s"})
    assert r.json()["results"][0]["series"][0]["values"] == [[1600000000, "a", 1.5], [1600000060, "b", 2.5]]
    writes = [rec for rec in v2_server.requests if rec.path == "/api/v2/write"]
    assert writes and all(rec.headers["Authorization"] == "Token " + v2_server.token for rec in writes)
    assert all(rec.query["precision"] == ["s"] for rec in writes)


def test_influxdb_python_5_3_2_unchanged_through_the_proxy(proxy):
    url = proxy()
    port = int(url.rsplit(":", 1)[1])
    client = influxdb.InfluxDBClient(host="127.0.0.1", port=port, database="legacy")
    client.create_database("legacy")
    client.create_retention_policy("week", "7d", 1, "legacy", default=True)
    assert [rp["name"] for rp in client.get_list_retention_policies("legacy")] == ["autogen", "week"]
    hour = int(time.time()) // 3600 - 10  # inside the 7-day policy
    points = [
        {"measurement": "m", "tags": {"t": "1"}, "fields": {"v": i}, "time": hour + i} for i in range(5)
    ]
    assert client.write_points(points, time_precision="h", batch_size=2)
    got = list(client.query("SELECT * FROM m", epoch="h").get_points())
    assert [(p["time"], p["v"]) for p in got] == [(hour + i, i) for i in range(5)]
    client.create_user("bob", "b-secret-1")
    client.grant_privilege("read", "legacy", "bob")
    assert client.get_list_privileges("bob") == [{"database": "legacy", "privilege": "READ"}]
    client.delete_series(measurement="m", tags={"t": "1"})
    assert client.get_list_series() == []
    with pytest.raises(influxdb.exceptions.InfluxDBClientError, match="Flux tasks"):
        client.create_continuous_query("cq", 'SELECT mean("v") INTO "x" FROM "m" GROUP BY time(1h)')


def test_errors_come_back_as_1x_did(proxy):
    url = proxy()
    r = requests.get(url + "/query", params={"q": "SELEKT 1"})
    assert r.status_code == 400 and "parse query" in r.json()["error"]
    r = requests.post(url + "/write", params={"db": "nowhere"}, data="m v=1\n")
    assert r.status_code == 404 and "database not found" in r.json()["error"]
    requests.post(url + "/query", data={"q": 'CREATE DATABASE "e"'})
    r = requests.post(url + "/write", params={"db": "e"}, data="not line protocol\n")
    assert r.status_code == 400 and "unable to parse" in r.json()["error"]
    r = requests.get(url + "/query", params={"q": "SELECT * FROM m", "db": "nowhere"})
    assert r.status_code == 200 and "database not found" in r.json()["results"][0]["error"]


def test_callers_must_match_the_configured_user(proxy, v2_server):
    url = proxy(user=("alice", "a-secret-1"))
    assert requests.get(url + "/query", params={"q": "SHOW DATABASES"}).status_code == 401
    ok = requests.get(url + "/query", params={"q": "SHOW DATABASES", "u": "alice", "p": "a-secret-1"})
    assert ok.status_code == 200
    basic = requests.get(url + "/query", params={"q": "SHOW DATABASES"}, auth=("alice", "a-secret-1"))
    assert basic.status_code == 200
    wrong = requests.get(url + "/query", params={"q": "SHOW DATABASES"}, auth=("alice", "x"))
    assert wrong.status_code == 401
    assert all(v2_server.token not in str(rec.query) for rec in v2_server.requests)
