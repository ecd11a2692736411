"""Errors that name what went wrong: the server not reached, a wrong org, a token sent to InfluxDB 1.x."""

from __future__ import annotations

import pytest
import requests

import influx_compat
from influx_compat.exceptions import (
    InfluxDBClientError,
    UnsupportedOperationError,
    WriteConnectionError,
    WriteProgress,
)
from influx_compat.testing._engine import free_port

POINTS = [{"measurement": "m1", "fields": {"x": 1}, "time": 1}]


@pytest.fixture
def stopped(monkeypatch: pytest.MonkeyPatch) -> str:
    """A URL nothing listens on, given as INFLUX_HOST; no CLI profile."""
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("INFLUX_HOST", url)
    monkeypatch.setenv("INFLUX_CONFIGS_PATH", "/nonexistent/configs")
    for name in ("INFLUX_TOKEN", "INFLUX_ORG", "INFLUXDB_V2_URL", "INFLUXDB_V2_TOKEN", "INFLUXDB_V2_ORG"):
        monkeypatch.delenv(name, raising=False)
    return url


def test_a_stopped_server_is_named_with_the_setting_that_chose_it(stopped):
    client = influx_compat.InfluxDBClient(token="t", org="o", database="db", retries=1)
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        client.query("SHOW DATABASES")
    text = str(info.value)
    assert type(info.value) is requests.exceptions.ConnectionError
    assert f"could not reach the InfluxDB server at {stopped}" in text
    assert "the environment variable INFLUX_HOST" in text
    assert "?" not in text and "Max retries" not in text, text  # no internal URL with its parameters
    assert "Connection refused" in text or "Errno" in text, text


def test_a_write_to_a_stopped_server_keeps_its_progress_and_names_the_server(stopped):
    client = influx_compat.InfluxDBClient(token="t", org="o", database="db", retries=1)
    with pytest.raises(requests.exceptions.ConnectionError) as info:
        client.write_points(POINTS)
    assert isinstance(info.value, WriteConnectionError) and isinstance(info.value, WriteProgress)
    assert info.value.points_written == 0
    assert f"could not reach the InfluxDB server at {stopped}" in str(info.value)
    assert "INFLUX_HOST" in str(info.value) and "resume with points[0:]" in str(info.value)


def test_the_url_argument_is_named_when_it_chose_the_server(stopped):
    url = f"http://127.0.0.1:{free_port()}"
    client = influx_compat.InfluxDBClient(url=url, token="t", org="o", retries=1)
    with pytest.raises(requests.exceptions.ConnectionError, match="the url= argument"):
        client.get_list_database()


def test_a_wrong_org_names_the_orgs_the_token_can_see(v2_server):
    client = influx_compat.InfluxDBClient(url=v2_server.url, token=v2_server.token, org="nope", database="db")
    with pytest.raises(InfluxDBClientError) as info:
        client.write_points(POINTS)
    text = str(info.value)
    assert info.value.code == 404
    assert "organization 'nope' not found" in text and f"'{v2_server.org}'" in text, text
    assert "the org= argument" in text and "INFLUX_ORG" in text


def test_a_wrong_org_from_the_environment_says_so(v2_server, monkeypatch):
    monkeypatch.setenv("INFLUX_ORG", "nope")
    client = influx_compat.InfluxDBClient(url=v2_server.url, token=v2_server.token)
    with pytest.raises(InfluxDBClientError) as info:
        client.create_database("db")
    assert "the environment variable INFLUX_ORG" in str(info.value)
    assert f"the token can see 1: '{v2_server.org}'" in str(info.value)


def test_a_token_sent_to_influxdb_1x_says_what_the_server_is(v2_server):
    engine = v2_server.engine.url  # the InfluxDB 1.6 under the test server, spoken to directly
    client = influx_compat.InfluxDBClient(url=engine, token="a-token", org="o", database="db")
    version = client.ping()
    assert version.startswith("1.")
    for call in (lambda: client.write_points(POINTS), lambda: client.create_database("db")):
        with pytest.raises(UnsupportedOperationError) as info:
            call()
        text = str(info.value)
        assert f"is InfluxDB {version}" in text and engine in text, text
        assert "influxdb-python" in text and "INFLUX_HOST" in text
        assert isinstance(info.value, InfluxDBClientError) and info.value.code == 404


def test_a_token_sent_to_influxdb_1x_as_3_core_says_what_the_server_is(v2_server):
    client = influx_compat.InfluxDBClient(
        url=v2_server.engine.url, token="apiv3_x", database="db", flavour="core"
    )
    with pytest.raises(UnsupportedOperationError, match=r"is InfluxDB 1\.6.*api/v3/write_lp"):
        client.write_points(POINTS)


def test_without_a_token_influxdb_1x_is_spoken_to_as_5_3_2_did(v2_server):
    client = influx_compat.InfluxDBClient(url=v2_server.engine.url, database="plain1x")
    client.create_database("plain1x")
    client.write_points(POINTS)
    assert list(client.query('SELECT "x" FROM "m1"', epoch="ns").get_points()) == [{"time": 1, "x": 1}]
