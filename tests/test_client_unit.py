"""InfluxDBClient against a mocked InfluxDB 2.x: what goes on the wire, what comes back."""

import gzip
import json
import math

import pytest
import requests
import requests_mock

from influx_compat import InfluxDBClient, exceptions
from influx_compat.resultset import ResultSet

BASE = "http://localhost:8086"
ORG = "my-org"
TOKEN = "secret-token-123"
BUCKET_ID = "0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (
        "INFLUX_HOST",
        "INFLUX_TOKEN",
        "INFLUX_ORG",
        "INFLUX_ORG_ID",
        "INFLUXDB_V2_URL",
        "INFLUXDB_V2_TOKEN",
        "INFLUXDB_V2_ORG",
        "INFLUX_CONFIGS_PATH",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def mock():
    with requests_mock.Mocker() as m:
        yield m


def mapping(db="db", rp="autogen", default=True, bucket=BUCKET_ID, virtual=False):
    return {
        "id": "1111111111111111",
        "database": db,
        "retention_policy": rp,
        "default": default,
        "virtual": virtual,
        "orgID": "2222222222222222",
        "bucketID": bucket,
    }


def client(**kw):
    kw.setdefault("token", TOKEN)
    kw.setdefault("org", ORG)
    return InfluxDBClient(database=kw.pop("database", "db"), **kw)


def writes(mock):
    return [r for r in mock.request_history if r.path == "/api/v2/write"]


def test_write_points_goes_to_v2_write_with_token_header(mock):
    mock.get(BASE + "/api/v2/dbrps", json={"content": [mapping()]})
    mock.post(BASE + "/api/v2/write", status_code=204)
    points = [
        {"measurement": "cpu", "tags": {"host": "a"}, "fields": {"value": 0.5}, "time": 1257894000000000000}
    ]
    assert client().write_points(points) is True
    (req,) = writes(mock)
    assert req.qs == {"org": [ORG], "bucket": [BUCKET_ID], "precision": ["ns"]}
    assert req.headers["Authorization"] == "Token " + TOKEN
    assert TOKEN not in req.url
    assert req.body == b"cpu,host=a value=0.5 1257894000000000000\n"


def test_mapping_lookup_is_cached_per_client(mock):
    mock.get(BASE + "/api/v2/dbrps", json={"content": [mapping()]})
    mock.post(BASE + "/api/v2/write", status_code=204)
    cli = client()
    for _ in range(3):
        cli.write_points(["m v=1i 1"], protocol="line")
    assert len([r for r in mock.request_history if r.path == "/api/v2/dbrps"]) == 1
    assert len(writes(mock)) == 3


def test_without_mapping_the_virtual_convention_names_the_bucket(mock):
    mock.get(BASE + "/api/v2/dbrps", json={"content": []})
    mock.post(BASE + "/api/v2/write", status_code=204)
    cli = client()
    cli.write_points(["m v=1i 1"], protocol="line")
    cli.write_points(["m v=1i 1"], protocol="line", retention_policy="week")
    cli.write_points(["m v=1i 1"], protocol="line", retention_policy="autogen")
    assert [r.qs["bucket"] for r in writes(mock)] == [["db"], ["db/week"], ["db"]]


def test_retention_policy_picks_its_mapping_and_default_is_used_without(mock):
    mock.get(
        BASE + "/api/v2/dbrps",
        json={
            "content": [
                mapping(rp="autogen", default=False, bucket="aaaaaaaaaaaaaaaa"),
                mapping(rp="week", default=True, bucket="bbbbbbbbbbbbbbbb"),
            ]
        },
    )
    mock.post(BASE + "/api/v2/write", status_code=204)
    cli = client()
    cli.write_points(["m v=1i 1"], protocol="line")
    cli.write_points(["m v=1i 1"], protocol="line", retention_policy="autogen")
    assert [r.qs["bucket"] for r in writes(mock)] == [["bbbbbbbbbbbbbbbb"], ["aaaaaaaaaaaaaaaa"]]


def test_user_bucket_map_overrides_server(mock):
    mock.post(BASE + "/api/v2/write", status_code=204)
    cli = client(bucket_map={"db": "my-bucket", "db/rp1": "other"})
    cli.write_points(["m v=1i 1"], protocol="line")
    cli.write_points(["m v=1i 1"], protocol="line", retention_policy="rp1")
    assert [r.qs["bucket"] for r in writes(mock)] == [["my-bucket"], ["other"]]
    assert not [r for r in mock.request_history if r.path == "/api/v2/dbrps"]


@pytest.mark.parametrize(
    "precision, wire, stamp",
    [
        (None, "ns", "7"),
        ("n", "ns", "7"),
        ("u", "us", "7"),
        ("ms", "ms", "7"),
        ("s", "s", "7"),
        ("m", "s", "420"),
        ("h", "s", "25200"),
    ],
)
def test_precisions_2x_does_not_know_are_converted(mock, precision, wire, stamp):
    mock.post(BASE + "/api/v2/write", status_code=204)
    cli = client(bucket_map={"db": "b"})
    cli.write_points([{"measurement": "m", "fields": {"v": 1}, "time": 7}], time_precision=precision)
    cli.write_points(['m,t=a\\ b s="x 1" 7'], time_precision=precision, protocol="line")
    json_req, line_req = writes(mock)
    for req in (json_req, line_req):
        assert req.qs["precision"] == [wire]
    assert json_req.body == f"m v=1i {stamp}\n".encode()
    assert line_req.body == f'm,t=a\\ b s="x 1" {stamp}\n'.encode()


def test_hour_precision_datetime_lands_on_the_hour(mock):
    import datetime

    mock.post(BASE + "/api/v2/write", status_code=204)
    t = datetime.datetime(2020, 5, 17, 13, 45, 12, tzinfo=datetime.timezone.utc)
    client(bucket_map={"db": "b"}).write_points(
        [{"measurement": "m", "fields": {"v": 1.5}, "time": t}], time_precision="h"
    )
    (req,) = writes(mock)
    seconds = int(req.body.split()[-1])
    assert req.qs["precision"] == ["s"]
    assert datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc) == t.replace(minute=0, second=0)


def test_batches_are_lazy_and_counted(mock):
    mock.post(BASE + "/api/v2/write", status_code=204)
    consumed = []

    def gen():
        for i in range(25):
            consumed.append(i)
            yield {"measurement": "m", "fields": {"v": i}, "time": i}

    cli = client(bucket_map={"db": "b"})
    assert cli.write_points(gen(), batch_size=10) is True
    bodies = [r.body.decode() for r in writes(mock)]
    assert [b.count("\n") for b in bodies] == [10, 10, 5]
    assert len(consumed) == 25


def test_bad_precision_and_consistency_raise_before_sending(mock):
    cli = client(bucket_map={"db": "b"})
    with pytest.raises(ValueError, match="Invalid time precision"):
        cli.write_points([], time_precision="ns")
    with pytest.raises(ValueError, match="Invalid consistency"):
        cli.write_points([], consistency="boo")
    assert mock.request_history == []


def test_nan_in_second_batch_says_what_was_written(mock):
    mock.post(BASE + "/api/v2/write", status_code=204)
    points = [{"measurement": "m", "fields": {"v": float(i)}, "time": i} for i in range(20)]
    points[13]["fields"]["v"] = math.nan
    cli = client(bucket_map={"db": "b"})
    with pytest.raises(exceptions.InvalidPointError) as info:
        cli.write_points(points, batch_size=10)
    assert len(writes(mock)) == 1  # the first batch landed, the second was never sent
    assert "13" in str(info.value)
    assert "10 points before them" in str(info.value)
    assert info.value.points_written == 10


def test_single_batch_with_bad_point_sends_nothing(mock):
    points = [{"measurement": "m", "fields": {"v": 1}}, {"measurement": "m", "fields": {"v": [1]}}]
    with pytest.raises(exceptions.InfluxDBClientError):
        client(bucket_map={"db": "b"}).write_points(points)
    assert mock.request_history == []


def test_parse_error_in_batch_reports_progress(mock):
    mock.post(
        BASE + "/api/v2/write",
        [
            {"status_code": 204},
            {
                "status_code": 400,
                "json": {"code": "invalid", "message": "unable to parse 'bad': missing fields"},
            },
        ],
    )
    with pytest.raises(exceptions.WriteClientError) as info:
        client(bucket_map={"db": "b"}).write_points(["m v=1i"] * 3 + ["bad"], batch_size=3, protocol="line")
    err = info.value
    assert isinstance(err, exceptions.InfluxDBClientError)
    assert err.code == 400
    assert (err.batch_index, err.points_written, err.points_in_batch, err.dropped) == (1, 3, 1, 1)
    assert "unable to parse 'bad': missing fields" in str(err)
    assert "nothing of batch 1" in str(err)


def test_partial_write_422_reports_dropped(mock):
    msg = (
        "failure writing points to database: partial write: field type conflict: input field "
        '"v" on measurement "m" is type integer, already exists as type float dropped=2'
    )
    mock.post(BASE + "/api/v2/write", status_code=422, json={"code": "unprocessable entity", "message": msg})
    with pytest.raises(exceptions.PartialWriteError) as info:
        client(bucket_map={"db": "b"}).write_points(["m v=1i"] * 5, protocol="line")
    assert info.value.dropped == 2 and info.value.code == 422
    assert "other points of this batch were written" in str(info.value)


def test_server_error_is_influxdb_server_error(mock):
    mock.post(BASE + "/api/v2/write", status_code=500, json={"code": "internal error", "message": "boom"})
    with pytest.raises(exceptions.InfluxDBServerError) as info:
        client(bucket_map={"db": "b"}).write_points(["m v=1i"], protocol="line")
    assert isinstance(info.value, exceptions.WriteServerError)
    assert "boom" in str(info.value)


def test_unauthorized_says_what_was_tried_without_the_token(mock):
    mock.get(
        BASE + "/api/v2/dbrps",
        status_code=401,
        json={"code": "unauthorized", "message": "unauthorized access"},
    )
    mock.post(
        BASE + "/write", status_code=401, json={"code": "unauthorized", "message": "unauthorized access"}
    )
    with pytest.raises(exceptions.AuthenticationError) as info:
        client().write_points(["m v=1i"], protocol="line")
    text = str(info.value)
    assert info.value.code == 401
    assert "token= argument" in text and "INFLUX_TOKEN" in text
    assert TOKEN not in text


def test_missing_database_error_says_how_to_create_it(mock):
    mock.get(BASE + "/api/v2/dbrps", json={"content": []})
    mock.post(
        BASE + "/api/v2/write",
        status_code=404,
        json={"code": "not found", "message": 'bucket "nodb" not found'},
    )
    with pytest.raises(exceptions.DatabaseNotFoundError) as info:
        client(database="nodb").write_points(["m v=1i"], protocol="line")
    assert "create_database('nodb')" in str(info.value)
    assert info.value.code == 404


def test_legacy_credentials_use_v1_write_with_basic_auth(mock):
    mock.post(BASE + "/write", status_code=204)
    cli = InfluxDBClient(username="bob", password="pw", database="db")
    cli.write_points(["m v=1i 5"], time_precision="h", protocol="line")
    (req,) = mock.request_history
    assert req.path == "/write"
    assert req.qs == {"db": ["db"], "precision": ["s"]}
    assert req.headers["Authorization"].startswith("Basic ")
    assert req.body == b"m v=1i 18000\n"


def test_gzip_compresses_the_body(mock):
    mock.post(BASE + "/api/v2/write", status_code=204)
    client(bucket_map={"db": "b"}, gzip=True).write_points(["m v=1i 1"], protocol="line")
    (req,) = writes(mock)
    assert req.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(req.body) == b"m v=1i 1\n"


def test_headers_argument_is_not_mutated(mock):
    headers = {"X-Custom": "1"}
    mock.post(BASE + "/api/v2/write", status_code=204)
    client(bucket_map={"db": "b"}, headers=headers).write_points(["m v=1i"], protocol="line")
    assert headers == {"X-Custom": "1"}
    assert writes(mock)[0].headers["X-Custom"] == "1"


def test_query_sends_influxql_to_v1_query_with_token(mock):
    answer = {
        "results": [
            {
                "statement_id": 0,
                "series": [{"name": "cpu", "columns": ["time", "value"], "values": [[1, 0.5]]}],
            }
        ]
    }
    mock.get(BASE + "/query", json=answer)
    rs = client().query("SELECT * FROM cpu", epoch="ms", bind_params={"h": "a"})
    assert isinstance(rs, ResultSet)
    assert list(rs.get_points()) == [{"time": 1, "value": 0.5}]
    (req,) = mock.request_history
    assert req.headers["Authorization"] == "Token " + TOKEN
    assert req.qs["db"] == ["db"] and req.qs["epoch"] == ["ms"]
    assert json.loads(req.qs["params"][0]) == {"h": "a"}


def test_query_several_statements_returns_list_and_errors_raise(mock):
    mock.get(BASE + "/query", json={"results": [{"statement_id": 0}, {"statement_id": 1}]})
    assert isinstance(client().query("SELECT 1; SELECT 2"), list)
    mock.get(BASE + "/query", json={"results": [{"statement_id": 0, "error": "boom"}]})
    with pytest.raises(exceptions.InfluxDBClientError) as info:
        client().query("SELECT x")
    assert str(info.value) == "boom" and info.value.code is None
    assert client().query("SELECT x", raise_errors=False).error == "boom"


def test_rp_written_in_from_is_sent_as_parameter(mock):
    mock.get(BASE + "/query", json={"results": [{"statement_id": 0}]})
    client(database=None).query('SELECT * FROM "mydb"."week"."cpu"')
    assert mock.request_history[0].qs["rp"] == ["week"]
    assert mock.request_history[0].qs["db"] == ["mydb"]


def test_select_into_is_sent_with_post(mock):
    mock.post(BASE + "/query", json={"results": [{"statement_id": 0}]})
    client().query("select * into b from a")
    assert mock.request_history[0].method == "POST"


def test_create_database_statement_is_routed_to_v2_api(mock):
    mock.get(BASE + "/api/v2/dbrps", json={"content": []})
    mock.get(BASE + "/api/v2/orgs", json={"orgs": [{"id": "2222222222222222", "name": ORG}]})
    mock.post(BASE + "/api/v2/buckets", status_code=201, json={"id": BUCKET_ID, "name": "x"})
    mock.post(BASE + "/api/v2/dbrps", status_code=201, json=mapping(db="x"))
    rs = client().query('CREATE DATABASE "x"')
    assert isinstance(rs, ResultSet) and len(rs) == 0
    assert not [r for r in mock.request_history if r.path == "/query"]
    bucket_req = [r for r in mock.request_history if r.path == "/api/v2/buckets"][0]
    assert bucket_req.json() == {"orgID": "2222222222222222", "name": "x", "retentionRules": []}
    dbrp_req = [r for r in mock.request_history if r.method == "POST" and r.path == "/api/v2/dbrps"]
    assert dbrp_req[0].json() == {
        "orgID": "2222222222222222",
        "database": "x",
        "retention_policy": "autogen",
        "bucketID": BUCKET_ID,
        "default": True,
    }


def test_mixed_statements_keep_order_and_ids(mock):
    mock.get(BASE + "/api/v2/dbrps", json={"content": [mapping(db="x")]})
    mock.get(
        BASE + "/query",
        [
            {
                "json": {
                    "results": [
                        {"statement_id": 0, "series": [{"name": "a", "columns": ["v"], "values": [[1]]}]}
                    ]
                }
            },
            {
                "json": {
                    "results": [
                        {"statement_id": 0, "series": [{"name": "b", "columns": ["v"], "values": [[2]]}]}
                    ]
                }
            },
        ],
    )
    results = client().query('SELECT * FROM a; CREATE DATABASE "x"; SELECT * FROM b')
    assert [r.raw["statement_id"] for r in results] == [0, 1, 2]
    assert [list(r.get_points()) for r in results] == [[{"v": 1}], [], [{"v": 2}]]


def test_query_creates_missing_mapping_when_bucket_exists(mock):
    mock.get(
        BASE + "/query",
        [
            {"json": {"results": [{"statement_id": 0, "error": "database not found: legacy"}]}},
            {"json": {"results": [{"statement_id": 0}]}},
        ],
    )
    mock.get(BASE + "/api/v2/dbrps", json={"content": []})
    mock.get(BASE + "/api/v2/buckets", json={"buckets": [{"id": BUCKET_ID, "name": "legacy"}]})
    mock.get(BASE + "/api/v2/orgs", json={"orgs": [{"id": "2222222222222222", "name": ORG}]})
    mock.post(BASE + "/api/v2/dbrps", status_code=201, json=mapping(db="legacy"))
    client(database="legacy").query("SELECT * FROM m")
    created = [r for r in mock.request_history if r.method == "POST" and r.path == "/api/v2/dbrps"]
    assert created[0].json()["bucketID"] == BUCKET_ID
    assert len([r for r in mock.request_history if r.path == "/query"]) == 2


def test_chunked_query_yields_result_sets(mock):
    body = (
        json.dumps(
            {
                "results": [
                    {
                        "statement_id": 0,
                        "series": [{"name": "m", "columns": ["v"], "values": [[1]]}],
                        "partial": True,
                    }
                ]
            }
        )
        + "\n"
        + json.dumps(
            {"results": [{"statement_id": 0, "series": [{"name": "m", "columns": ["v"], "values": [[2]]}]}]}
        )
        + "\n"
    )
    mock.get(BASE + "/query", text=body)
    gen = client().query("SELECT v FROM m", chunked=True, chunk_size=1)
    assert [list(rs.get_points()) for rs in gen] == [[{"v": 1}], [{"v": 2}]]
    assert mock.request_history[0].qs["chunked"] == ["true"]
    assert mock.request_history[0].qs["chunk_size"] == ["1"]


def test_ping_returns_version_header(mock):
    mock.get(BASE + "/ping", status_code=204, headers={"X-Influxdb-Version": "v2.7.10"})
    assert client().ping() == "v2.7.10"


def test_get_list_database_merges_buckets_and_mappings(mock):
    mock.get(
        BASE + "/api/v2/buckets",
        json={
            "buckets": [
                {"id": "a" * 16, "name": "_monitoring", "type": "system"},
                {"id": "b" * 16, "name": "_tasks", "type": "system"},
                {"id": "c" * 16, "name": "telegraf/autogen", "type": "user"},
                {"id": "d" * 16, "name": "plain", "type": "user"},
            ]
        },
    )
    mock.get(BASE + "/api/v2/dbrps", json={"content": [mapping(db="telegraf"), mapping(db="other")]})
    assert client().get_list_database() == [{"name": "telegraf"}, {"name": "plain"}, {"name": "other"}]


def test_connection_errors_are_retried_then_reraised(mock):
    mock.get(BASE + "/query", exc=requests.exceptions.ConnectionError)
    with pytest.raises(requests.exceptions.ConnectionError):
        client(retries=2).query("SELECT 1")
    assert len(mock.request_history) == 2


def test_repr_hides_token():
    assert TOKEN not in repr(client())


def test_without_token_the_wire_is_influxdb_python_s(mock):
    """No token anywhere: v1 endpoints and InfluxQL, as 5.3.2 sent them (with 2.x's precisions)."""
    mock.post(BASE + "/write", status_code=204)
    mock.post(BASE + "/query", json={"results": [{"statement_id": 0}]})
    cli = InfluxDBClient(database="db")
    cli.write_points([{"measurement": "m", "fields": {"v": 1}}], consistency="any")
    cli.write_points([{"measurement": "m", "fields": {"v": 1}}], time_precision="u", retention_policy="r")
    cli.create_database('new"db')
    first, second, third = mock.request_history
    assert first.qs == {"db": ["db"], "consistency": ["any"]}
    assert second.qs == {"db": ["db"], "precision": ["us"], "rp": ["r"]}
    assert first.headers["Authorization"] == "Basic cm9vdDpyb290"
    assert third.method == "POST" and third.qs["q"] == ['create database "new\\"db"']


def test_without_token_not_implemented_says_how_to_fix(mock):
    mock.post(
        BASE + "/query", json={"results": [{"statement_id": 0, "error": "not implemented: CREATE DATABASE"}]}
    )
    with pytest.raises(exceptions.InfluxDBClientError) as info:
        InfluxDBClient().create_database("x")
    assert str(info.value).startswith("not implemented: CREATE DATABASE")
    assert "INFLUX_TOKEN" in str(info.value)
