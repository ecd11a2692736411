"""The transport alone: auth headers, header removal, retries, gzip, error mapping."""

import gzip

import pytest
import requests
import requests_mock

from influx_compat._config import resolve_settings
from influx_compat._transport import Auth, Transport, error_message
from influx_compat.exceptions import (
    AuthenticationError,
    InfluxDBClientError,
    InfluxDBServerError,
    UnsupportedOperationError,
)

BASE = "http://db.example:8086"


def transport(**kw):
    settings = resolve_settings(url=BASE, env={})
    return Transport(settings, **kw)


@pytest.fixture
def mock():
    with requests_mock.Mocker() as m:
        yield m


def test_token_goes_in_the_header_and_nowhere_else(mock):
    mock.get(BASE + "/query", json={})
    t = transport()
    t.auth = Auth(token="s3cret")
    t.request("GET", "query", params={"q": "SHOW DATABASES"})
    req = mock.last_request
    assert req.headers["Authorization"] == "Token s3cret"
    assert "s3cret" not in req.url
    assert "s3cret" not in repr(t.auth)


def test_basic_credentials_without_a_token(mock):
    mock.get(BASE + "/query", json={})
    t = transport()
    t.auth = Auth(basic=("joe", "pw"))
    t.request("GET", "query")
    assert mock.last_request.headers["Authorization"].startswith("Basic ")


def test_a_users_own_authorization_header_wins(mock):
    mock.get(BASE + "/ping", status_code=204)
    t = transport(headers={"Authorization": "Bearer mine"})
    t.auth = Auth(token="ours")
    t.request("GET", "ping", expected=204)
    assert mock.last_request.headers["Authorization"] == "Bearer mine"
    assert t.has_token


def test_a_none_header_removes_a_client_header_without_touching_the_callers_dict(mock):
    mock.post(BASE + "/query", json={})
    given = {"Content-Type": "application/json", "X-Keep": "1"}
    t = transport(headers=given)
    t.request("POST", "query", headers={"content-type": None})
    assert "Content-Type" not in mock.last_request.headers
    assert mock.last_request.headers["X-Keep"] == "1"
    assert given == {"Content-Type": "application/json", "X-Keep": "1"}


def test_connection_errors_are_retried_as_many_times_as_retries_says(mock):
    mock.get(BASE + "/ping", exc=requests.exceptions.ConnectionError)
    with pytest.raises(requests.exceptions.ConnectionError):
        transport(retries=2).request("GET", "ping")
    assert mock.call_count == 2


def test_retries_zero_retries_until_success(mock):
    mock.get(BASE + "/ping", [{"exc": requests.exceptions.ConnectTimeout}] * 4 + [{"status_code": 204}])
    assert transport(retries=0).request("GET", "ping", expected=204).status_code == 204
    assert mock.call_count == 5


def test_gzip_compresses_the_body(mock):
    mock.post(BASE + "/write", status_code=204)
    transport(gzip=True).request("POST", "write", data=b"m v=1i 1\n", expected=204)
    req = mock.last_request
    assert req.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(req.body) == b"m v=1i 1\n"


def test_the_observer_sees_every_answer(mock):
    mock.get(BASE + "/ping", status_code=204, headers={"X-Influxdb-Build": "OSS"})
    seen = []
    t = transport()
    t.observer = lambda response: seen.append(response.headers["X-Influxdb-Build"])
    t.request("GET", "ping", expected=204)
    t.request("GET", "ping", raw=True)
    assert seen == ["OSS", "OSS"]


@pytest.mark.parametrize(
    "kwargs, text",
    [
        ({"json": {"code": "invalid", "message": "bad thing"}}, "bad thing"),
        ({"json": {"error": "1.x says no"}}, "1.x says no"),
        ({"text": "plain words"}, "plain words"),
        ({"text": "", "headers": {"X-Influxdb-Error": "from the header"}}, "from the header"),
    ],
)
def test_error_message_reads_every_servers_shape(mock, kwargs, text):
    mock.get(BASE + "/x", status_code=400, **kwargs)
    response = requests.get(BASE + "/x")
    assert error_message(response) == text


def test_errors_map_to_influxdb_pythons_classes(mock):
    mock.get(BASE + "/a", status_code=503, json={"message": "busy"})
    mock.get(BASE + "/b", status_code=401, json={"error": "the request was not authenticated"})
    mock.get(BASE + "/c", status_code=404, text="Not found")
    t = transport()
    t.auth = Auth(
        token="tok-123",
        described="the token from the token= argument",
        help="do this",
        server="InfluxDB 3 Core",
    )
    with pytest.raises(InfluxDBServerError, match="503: busy"):
        t.request("GET", "a")
    with pytest.raises(AuthenticationError) as info:
        t.request("GET", "b")
    assert "InfluxDB 3 Core refused the token from the token= argument" in str(info.value)
    assert "do this" in str(info.value) and "tok-123" not in str(info.value)
    with pytest.raises(InfluxDBClientError) as missing:
        t.request("GET", "c")
    assert missing.value.code == 404 and type(missing.value) is InfluxDBClientError


@pytest.mark.parametrize(
    "caught",
    [
        requests.exceptions.ConnectionError,
        requests.exceptions.ConnectTimeout,
        requests.exceptions.SSLError,
        requests.exceptions.ReadTimeout,
    ],
)
def test_a_transport_error_names_the_server_and_keeps_its_class(mock, caught):
    mock.get(BASE + "/api/v2/dbrps", exc=caught("HTTPConnectionPool(host='db.example', port=8086): boom"))
    settings = resolve_settings(env={"INFLUX_HOST": BASE})
    with pytest.raises(caught) as info:
        Transport(settings, retries=1).request("GET", "api/v2/dbrps", params={"orgID": "1", "db": "x"})
    assert type(info.value) is caught
    text = str(info.value)
    assert BASE in text and "the environment variable INFLUX_HOST" in text and "orgID" not in text, text
    assert text.endswith("GET /api/v2/dbrps: boom"), text


def test_a_404_from_influxdb_1x_says_what_the_server_is(mock):
    mock.get(
        BASE + "/api/v2/orgs",
        status_code=404,
        text="404 page not found\n",
        headers={"X-Influxdb-Version": "1.8.10"},
    )
    mock.get(BASE + "/query", status_code=404, text="nope", headers={"X-Influxdb-Version": "1.8.10"})
    mock.get(
        BASE + "/api/v2/buckets",
        status_code=404,
        json={"message": "x"},
        headers={"X-Influxdb-Version": "v2.7.1"},
    )
    t = transport()
    with pytest.raises(UnsupportedOperationError, match=r"is InfluxDB 1\.8\.10 .*use influxdb-python itself"):
        t.request("GET", "api/v2/orgs")
    for path in ("query", "api/v2/buckets"):  # 1.x's own endpoint, and 2.x: the 404 as it was
        with pytest.raises(InfluxDBClientError) as info:
            t.request("GET", path)
        assert type(info.value) is InfluxDBClientError and info.value.code == 404
