"""InfluxDBClient against a mocked InfluxDB 3: what goes on the wire, what comes back.

The answers are shaped as influxdb3_server/src/http.rs and
core/iox_v1_query_api/src/ write them (see shared/notes/influxdb3-behaviour.md).
"""

import json

import pytest
import requests
import requests_mock

from influx_compat import InfluxDBClient, exceptions

BASE = "http://localhost:8181"
TOKEN = "apiv3_secret-token"
CORE = {"cluster-uuid": "b7e6d0d2-0000-4000-8000-000000000000"}
PING = {"X-Influxdb-Build": "Core", "X-Influxdb-Version": "3.10.0", **CORE}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, tmp_path):
    for name in (
        "INFLUX_HOST",
        "INFLUX_TOKEN",
        "INFLUX_ORG",
        "INFLUX_COMPAT_FLAVOUR",
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


def core_client(**kw):
    kw.setdefault("token", TOKEN)
    kw.setdefault("flavour", "core")
    return InfluxDBClient(url=BASE, database=kw.pop("database", "db"), **kw)


def _databases(*names):
    """SHOW DATABASES as 3 Core answers it (influxdb3_server/src/query_executor)."""
    values = [[n] for n in names]
    return {
        "results": [
            {"statement_id": 0, "series": [{"name": "databases", "columns": ["name"], "values": values}]}
        ]
    }


def calls(mock, path):
    return [r for r in mock.request_history if r.path == path]


def test_write_points_goes_to_write_lp_with_partial_writes_and_token(mock):
    mock.post(BASE + "/api/v3/write_lp", status_code=204, headers=CORE)
    points = [{"measurement": "cpu", "tags": {"host": "a"}, "fields": {"value": 0.5}, "time": 7}]
    assert core_client().write_points(points, time_precision="ms") is True
    (req,) = calls(mock, "/api/v3/write_lp")
    assert req.qs == {"db": ["db"], "precision": ["millisecond"], "accept_partial": ["true"]}
    assert req.headers["Authorization"] == "Token " + TOKEN
    assert "u" not in req.qs and "p" not in req.qs
    assert req.body == b"cpu,host=a value=0.5 7\n"
    assert not calls(mock, "/api/v2/dbrps")


@pytest.mark.parametrize(
    "rp, database", [(None, "db"), ("autogen", "db"), ("default", "db"), ("Week", "db/week")]
)
def test_retention_policy_is_the_database_db_slash_rp(mock, rp, database):
    mock.post(BASE + "/api/v3/write_lp", status_code=204, headers=CORE)
    core_client().write_points(["m v=1i 1"], protocol="line", retention_policy=rp)
    assert calls(mock, "/api/v3/write_lp")[0].qs["db"] == [database.lower()]


def test_minutes_and_hours_are_sent_as_seconds(mock):
    mock.post(BASE + "/api/v3/write_lp", status_code=204, headers=CORE)
    core_client().write_points(["m v=1i 2"], protocol="line", time_precision="h")
    (req,) = calls(mock, "/api/v3/write_lp")
    assert req.qs["precision"] == ["second"] and req.body == b"m v=1i 7200\n"


def test_bad_database_names_are_refused_before_sending(mock):
    with pytest.raises(exceptions.InfluxDBClientError, match="letters, digits"):
        core_client(database="bad name").write_points(["m v=1i 1"], protocol="line")
    with pytest.raises(exceptions.InfluxDBClientError, match="start with a letter or a digit"):
        core_client(database="_x").write_points(["m v=1i 1"], protocol="line")
    assert mock.request_history == []


def test_empty_batches_are_not_sent(mock):
    core_client().write_points([], protocol="line")
    assert mock.request_history == []


def test_partial_write_names_each_rejected_line_and_the_count_stored(mock):
    body = {
        "error": "partial write of line protocol occurred",
        "data": [
            {
                "error_message": "invalid column type for column 'v', expected "
                "iox::column_type::field::float, got iox::column_type::field::integer",
                "line_number": 2,
                "original_line": "m v=2i 2",
            },
        ],
    }
    mock.post(
        BASE + "/api/v3/write_lp",
        [{"status_code": 204, "headers": CORE}, {"status_code": 400, "json": body, "headers": CORE}],
    )
    with pytest.raises(exceptions.PartialWriteError) as info:
        core_client().write_points(
            ["m v=1.5 1", "m v=1.5 2", "m v=2i 3", "m v=3.5 4"], protocol="line", batch_size=2
        )
    err = info.value
    assert (err.batch_index, err.points_written, err.points_in_batch, err.dropped) == (1, 2, 2, 1)
    (line,) = err.rejected
    assert (line.point, line.line_number) == (3, 2)
    assert "point 3 (line 2): invalid column type" in str(err)
    assert "fixes a column's type at its first write" in str(err)
    assert isinstance(err.progress, exceptions.Progress)


def test_database_limit_says_which_limit_and_what_to_do(mock):
    mock.post(
        BASE + "/api/v3/write_lp",
        status_code=422,
        headers=CORE,
        json={"error": "Adding a new database would exceed limit of 5 databases"},
    )
    with pytest.raises(exceptions.WriteLimitError) as info:
        core_client().write_points(["m v=1i 1"], protocol="line", retention_policy="r6")
    assert isinstance(info.value, exceptions.LimitExceededError) and info.value.limit == "databases"
    assert "5 databases" in str(info.value) and "Enterprise" in str(info.value)
    assert info.value.points_written == 0


def test_query_asks_json_sends_db_slash_rp_and_no_content_type(mock):
    answer = {
        "results": [
            {
                "statement_id": 0,
                "series": [
                    {
                        "name": "m",
                        "columns": ["time", "v"],
                        "values": [["2020-01-01T00:00:00.500Z", 1], ["2020-01-01T00:00:01Z", 2]],
                    }
                ],
            }
        ]
    }
    mock.get(BASE + "/query", json=answer, headers=CORE)
    mock.post(BASE + "/query", json=answer, headers=CORE)
    cli = core_client(headers={"Content-Type": "application/json"})
    rs = cli.query('SELECT * FROM "m"', params={"rp": "week"}, method="POST")
    (req,) = calls(mock, "/query")
    assert req.method == "POST"
    assert req.headers["Accept"] == "application/json"
    assert "Content-Type" not in req.headers
    assert req.qs["db"] == ["db/week"] and "rp" not in req.qs
    assert list(rs.get_points()) == [
        {"time": "2020-01-01T00:00:00.500000Z", "v": 1},
        {"time": "2020-01-01T00:00:01Z", "v": 2},
    ]


def test_chunked_answers_without_newlines_are_parsed_as_a_stream(mock):
    chunks = [
        {
            "results": [
                {
                    "statement_id": 0,
                    "series": [{"name": "m", "columns": ["time", "v"], "values": [[i, i]]}],
                    "partial": i < 2,
                }
            ]
        }
        for i in range(3)
    ]
    mock.get(BASE + "/query", content="".join(json.dumps(c) for c in chunks).encode(), headers=CORE)
    sets = list(core_client().query('SELECT * FROM "m"', epoch="ns", chunked=True, chunk_size=1))
    assert [list(rs.get_points()) for rs in sets] == [[{"time": i, "v": i}] for i in range(3)]


def test_flavour_is_read_from_the_first_answer(mock):
    """No flavour given: the first write's DBRP lookup meets 3.x's 404, with its cluster-uuid."""
    mock.get(BASE + "/api/v2/orgs", status_code=404, text="Not found", headers=CORE)
    mock.get(BASE + "/api/v2/dbrps", status_code=404, text="Not found", headers=CORE)
    mock.post(BASE + "/api/v3/write_lp", status_code=204, headers=CORE)
    cli = InfluxDBClient(url=BASE, token=TOKEN, database="db")
    cli.write_points(["m v=1i 1"], protocol="line")
    cli.write_points(["m v=1i 2"], protocol="line")
    assert len(calls(mock, "/api/v3/write_lp")) == 2
    assert len(calls(mock, "/api/v2/orgs")) + len(calls(mock, "/api/v2/dbrps")) == 1


def test_ping_returns_the_version_and_fixes_the_flavour(mock):
    mock.get(
        BASE + "/ping",
        status_code=200,
        headers=PING,
        json={"product_name": "InfluxDB 3 Core", "version": "3.10.0", "revision": "x"},
    )
    cli = InfluxDBClient(url=BASE, token=TOKEN)
    assert cli.ping() == "3.10.0"
    assert mock.last_request.headers["Authorization"] == "Token " + TOKEN
    assert cli._core.flavour.value == "core"


def test_legacy_password_is_the_token(mock):
    mock.post(BASE + "/api/v3/write_lp", status_code=204, headers=CORE)
    cli = InfluxDBClient(url=BASE, username="whoever", password=TOKEN, database="db", flavour="core")
    cli.write_points(["m v=1i 1"], protocol="line")
    (req,) = calls(mock, "/api/v3/write_lp")
    assert req.headers["Authorization"] == "Token " + TOKEN
    assert "p" not in req.qs and "u" not in req.qs


def test_management_is_the_configure_api(mock):
    mock.post(
        BASE + "/api/v3/configure/database",
        [
            {"status_code": 200, "headers": CORE},
            {
                "status_code": 409,
                "headers": CORE,
                "text": "attempted to create a resource that already exists",
            },
        ],
    )
    mock.get(BASE + "/query", headers=CORE, json=_databases("_internal", "db", "db/week", "other"))
    mock.delete(BASE + "/api/v3/configure/database", status_code=200, headers=CORE)
    cli = core_client()
    cli.create_database("db")
    cli.create_database("db")  # 1.x: creating an existing database is fine
    assert [json.loads(r.body) for r in calls(mock, "/api/v3/configure/database") if r.method == "POST"] == [
        {"db": "db"},
        {"db": "db"},
    ]
    assert cli.get_list_database() == [{"name": "db"}, {"name": "other"}]
    cli.drop_database("db")
    dropped = [r.qs["db"] for r in calls(mock, "/api/v3/configure/database") if r.method == "DELETE"]
    assert dropped == [["db"], ["db/week"]]


def test_create_retention_policy_is_a_database_with_a_retention_period(mock):
    mock.get(BASE + "/query", headers=CORE, json=_databases("db"))
    mock.post(BASE + "/api/v3/configure/database", status_code=200, headers=CORE)
    core_client().create_retention_policy("Week", "7d", 1, database="db")
    (req,) = [r for r in calls(mock, "/api/v3/configure/database") if r.method == "POST"]
    assert json.loads(req.body) == {"db": "db/week", "retention_period": "604800s"}


@pytest.mark.parametrize(
    "call, words",
    [
        (lambda c: c.create_user("u", "password1"), "token"),
        (lambda c: c.grant_privilege("read", "db", "u"), "token"),
        (
            lambda c: c.create_continuous_query("cq", 'SELECT mean(v) INTO "x" FROM "m" GROUP BY time(1m)'),
            "processing engine",
        ),
        (lambda c: c.delete_series(measurement="m"), "drop_measurement"),
    ],
)
def test_what_3x_cannot_do_raises_and_names_the_alternative(mock, call, words):
    with pytest.raises(exceptions.UnsupportedOperationError, match=words):
        call(core_client())
    assert mock.request_history == []


def test_write_auth_error_keeps_its_class_and_progress(mock):
    mock.post(
        BASE + "/api/v3/write_lp",
        status_code=401,
        headers=CORE,
        json={"error": "the request was not authenticated"},
    )
    with pytest.raises(exceptions.AuthenticationError) as info:
        core_client().write_points(["m v=1i 1"], protocol="line")
    assert isinstance(info.value, exceptions.WriteAuthenticationError)
    assert "InfluxDB 3 Core refused" in str(info.value) and TOKEN not in str(info.value)
    assert info.value.points_written == 0


DEDICATED = "https://cluster-id.a.influxdb.io"


def test_dedicated_is_read_from_its_host_name_and_writes_to_the_v2_endpoint(mock):
    mock.post(DEDICATED + "/api/v2/write", status_code=204)
    client = InfluxDBClient(url=DEDICATED, token="db-token", database="db", verify_ssl=True)
    client.write_points(["m v=1i 1"], protocol="line", retention_policy="week", time_precision="s")
    (req,) = mock.request_history
    assert req.path == "/api/v2/write" and req.qs == {"bucket": ["db/week"], "precision": ["s"]}
    assert req.headers["Authorization"] == "Token db-token"


def test_dedicated_without_management_settings_names_them(mock):
    mock.get(DEDICATED + "/query", json={"results": [{"statement_id": 0}]})
    client = InfluxDBClient(url=DEDICATED, token="db-token", database="db", verify_ssl=True)
    client.create_database("db")  # it exists (made with influxctl): fine, as on 1.x
    mock.get(DEDICATED + "/query", json={"results": [{"statement_id": 0, "error": "database not found: x"}]})
    with pytest.raises(exceptions.UnsupportedOperationError) as info:
        client.create_database("x")
    for words in ("INFLUX_MANAGEMENT_TOKEN", "INFLUX_ACCOUNT_ID", "INFLUX_CLUSTER_ID", "influxctl"):
        assert words in str(info.value)


def test_dedicated_management_api_with_a_management_token(mock, monkeypatch):
    console = "https://console.example/api/v0/accounts/acc/clusters/clu/databases"
    mock.post(console, status_code=200, json={"name": "db/week"})
    mock.get(console, json=[{"name": "db", "retentionPeriod": 0}, {"name": "db/week", "retentionPeriod": 1}])
    mock.delete(console + "/db", status_code=204)
    mock.delete(console + "/db/week", status_code=204)
    monkeypatch.setenv("INFLUX_MANAGEMENT_URL", "https://console.example")
    client = InfluxDBClient(
        url=DEDICATED,
        token="db-token",
        database="db",
        management_token="mgmt",
        account_id="acc",
        cluster_id="clu",
        verify_ssl=True,
    )
    client.create_retention_policy("week", "1d", 1)
    assert client.get_list_database() == [{"name": "db"}]
    client.drop_database("db")
    posts = [r for r in mock.request_history if r.method == "POST"]
    assert [json.loads(r.body) for r in posts] == [{"name": "db/week", "retentionPeriod": 86400 * 10**9}]
    assert all(r.headers["Authorization"] == "Bearer mgmt" for r in mock.request_history)
    assert [r.path for r in mock.request_history if r.method == "DELETE"] == [
        "/api/v0/accounts/acc/clusters/clu/databases/db",
        "/api/v0/accounts/acc/clusters/clu/databases/db/week",
    ]


def test_an_unexplained_404_asks_the_server_what_it_is_and_the_error_says_so(mock):
    """Serverless: /ping absent, the org's defaultStorageType is iox; the error names the guess."""
    cloud = "https://serverless.example"
    mock.get(
        cloud + "/api/v2/orgs",
        json={"orgs": [{"id": "0123456789abcdef", "name": "o", "defaultStorageType": "iox"}]},
    )
    mock.get(cloud + "/api/v2/dbrps", status_code=404, json={"code": "not found", "message": "not found"})
    mock.get(cloud + "/ping", status_code=404, text="")
    client = InfluxDBClient(url=cloud, token="t", database="db", verify_ssl=True)
    with pytest.raises(exceptions.InfluxDBClientError) as info:
        client.write_points(["m v=1i 1"], protocol="line")
    assert client._core.flavour.value == "serverless"
    assert "InfluxDB Cloud Serverless, from the org's defaultStorageType 'iox'" in str(info.value)
    assert "INFLUX_COMPAT_FLAVOUR" in str(info.value)


@pytest.mark.parametrize("accelerated", [True, False])
def test_json_answers_read_the_same_with_and_without_the_accelerator(monkeypatch, accelerated):
    from influx_compat import _answers

    if not accelerated:
        monkeypatch.setattr(_answers, "_fast_loads", None)
    body = (
        b'{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","v","u"],'
        b'"values":[["2020-01-01T00:00:00.123456789Z",1.5,18446744073709551615]]}]}]}'
    )
    answer = _answers.legacy_times(_answers.decode(body, "application/json"))
    assert answer["results"][0]["series"][0]["values"] == [["2020-01-01T00:00:00.123457Z", 1.5, 2**64 - 1]]


def test_a_partial_write_in_a_split_batch_still_sends_every_part(mock):
    """413 splits the batch; the second half is partly rejected: every half is sent, the lines are named."""

    def answer(request, context):
        body = request.body.decode()
        if body.count("\n") > 2:
            context.status_code = 413
            return "max request size (10485760 bytes) exceeded"
        if "v=5i" in body:
            context.status_code = 400
            return json.dumps(
                {
                    "error": "partial write of line protocol occurred",
                    "data": [
                        {
                            "error_message": "invalid column type",
                            "line_number": 2,
                            "original_line": "m v=5i 6",
                        }
                    ],
                }
            )
        context.status_code = 204
        return ""

    mock.post(BASE + "/api/v3/write_lp", text=answer, headers=CORE)
    lines = [f"m v={i}.5 {i + 1}" for i in range(8)]
    lines[5] = "m v=5i 6"
    with pytest.raises(exceptions.PartialWriteError) as info:
        core_client().write_points(lines, protocol="line")
    sent = [r.body.decode() for r in calls(mock, "/api/v3/write_lp") if r.body.count(b"\n") <= 2]
    assert "".join(sent).splitlines() == lines  # every line went out, none twice
    err = info.value
    assert (err.points_written, err.points_in_batch, err.dropped) == (0, 8, 1)
    assert [r.point for r in err.rejected] == [5]
    assert "resume with points[8:]" in str(err)


def test_chunked_stream_keeps_a_character_split_between_reads():
    from influx_compat import _answers

    docs = [
        {"results": [{"statement_id": 0, "series": [{"name": "café", "columns": ["v"], "values": [["é"]]}]}]}
    ]
    data = (json.dumps(docs[0], ensure_ascii=False) * 2).encode()

    class Response:
        def iter_content(self, chunk_size, decode_unicode):
            for i in range(0, len(data), 3):  # 3 bytes a read: some reads end inside an é
                yield data[i : i + 3]

        def close(self):
            pass

    assert list(_answers.json_stream(Response())) == docs * 2


def test_a_chunked_query_mixing_translated_and_plain_statements(mock):
    answer = {
        "results": [
            {"statement_id": 0, "series": [{"name": "m", "columns": ["time", "v"], "values": [[1, 1]]}]}
        ]
    }
    mock.get(BASE + "/query", json=answer, headers=CORE)
    sets = list(core_client().query('SHOW USERS; SELECT * FROM "m"', chunked=True, chunk_size=5, epoch="ns"))
    (plain,) = [r for r in calls(mock, "/query")]
    assert "chunked" not in plain.qs and "chunk_size" not in plain.qs
    assert [list(rs.get_points()) for rs in sets] == [[], [{"time": 1, "v": 1}]]


def test_send_packet_keeps_the_packets_measurement(mock):
    mock.post(BASE + "/api/v3/write_lp", status_code=204, headers=CORE)
    client = core_client(use_udp=True)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client.send_packet({"measurement": "cpu", "tags": {"h": "a"}, "points": [{"fields": {"v": 1}}]})
    assert mock.last_request.body == b"cpu,h=a v=1i\n"


@pytest.mark.parametrize(
    "error",
    [
        requests.exceptions.SSLError,
        requests.exceptions.ChunkedEncodingError,
    ],
)
def test_a_write_transport_error_is_still_the_requests_class_caught(mock, error):
    mock.post(BASE + "/api/v3/write_lp", exc=error("boom"))
    with pytest.raises(error) as info:
        core_client(retries=1).write_points(["m v=1i 1"], protocol="line")
    assert isinstance(info.value, exceptions.WriteProgress) and info.value.points_written == 0


def test_the_verify_switch_reaches_the_proxy(monkeypatch):
    from influx_compat.proxy import ProxyApp

    monkeypatch.setenv("INFLUX_COMPAT_VERIFY_SSL", "1")
    app = ProxyApp(url="https://influx.example:8181", token="t", flavour="core")
    assert app.core.transport.verify_ssl is True


def test_a_password_alone_is_the_token(mock):
    mock.post(BASE + "/api/v3/write_lp", status_code=204, headers=CORE)
    InfluxDBClient(url=BASE, username=None, password=TOKEN, database="db", flavour="core").write_points(
        ["m v=1i 1"], protocol="line"
    )
    assert mock.last_request.headers["Authorization"] == "Token " + TOKEN
