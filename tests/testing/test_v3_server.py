"""The InfluxDB 3 test server answers what InfluxDB 3 answers, strictly where 3.x is strict.

Raw HTTP only (never influx_compat's client): each test pins one behaviour of
Core, Enterprise or Cloud Dedicated read from influxdata/influxdb's Rust source
(the file is named next to the test when it is not the obvious one).
"""

import ast
import base64
import gzip
import json
import os
import re
import subprocess
import sys

import msgpack
import pytest
import requests

from influx_compat.testing import EngineNotFoundError, V3TestServer

TESTING = os.path.join(
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "influx_compat", "testing"
)
UNAUTHENTICATED = '{"error": "the request was not authenticated"}'
NO_DB = "must specify a 'db' parameter, or provide the database in the InfluxQL query"


class Api:
    def __init__(self, server, token=None):
        self.server = server
        self.headers = {"Authorization": "Token " + (token or server.token)}

    def __call__(self, method, path, **kw):
        headers = dict(self.headers, **kw.pop("headers", {}))
        return requests.request(method, self.server.url + path, headers=headers, timeout=60, **kw)

    def write(self, body, path="/write", **params):
        return self("POST", path, params=params, data=body)

    def query(self, q, **params):
        resp = self("GET", "/query", params=dict(params, q=q))
        assert resp.status_code == 200, resp.text
        return resp.json()

    def values(self, q, **params):
        (result,) = self.query(q, **params)["results"]
        assert "error" not in result, result
        return [v for s in result.get("series", []) for v in s["values"]]


@pytest.fixture
def api(v3_server):
    return Api(v3_server)


@pytest.fixture
def dedicated(v3_dedicated_server):
    return Api(v3_dedicated_server)


@pytest.fixture(scope="module")
def small():
    """A Core server with tiny table and column limits."""
    with V3TestServer(max_tables=2, max_columns=3) as server:
        yield server


# -- ping, health, routing ------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture, product, build",
    [
        ("v3_server", "InfluxDB 3 Core", "Core"),
        ("v3_enterprise_server", "InfluxDB 3 Enterprise", "Enterprise"),
    ],
)
def test_ping_is_200_json_behind_the_token(request, fixture, product, build):
    server = request.getfixturevalue(fixture)
    api = Api(server)
    for method in ("GET", "POST"):  # http.rs: GET | POST /ping
        resp = api(method, "/ping")
        assert resp.status_code == 200
        body = resp.json()
        assert list(body) == ["product_name", "version", "revision", "process_id"]
        assert body["product_name"] == product
        assert re.fullmatch(r"3\.\d+\.\d+", body["version"])
        assert resp.headers["X-Influxdb-Build"] == build
        assert resp.headers["X-Influxdb-Version"] == body["version"]
        assert resp.headers["Request-Id"] == resp.headers["X-Request-Id"]
        assert resp.headers["cluster-uuid"] == server.catalog.uuid
    assert api("HEAD", "/ping").status_code == 404
    health = api("GET", "/health")
    assert (health.status_code, health.text) == (200, "OK")
    anonymous = requests.get(server.url + "/ping")
    assert (anonymous.status_code, anonymous.text) == (401, UNAUTHENTICATED)
    assert anonymous.headers["cluster-uuid"] == server.catalog.uuid


def test_dedicated_ping_is_open_204_cloud2_and_has_no_v3_api(dedicated):
    url = dedicated.server.url
    for resp in (requests.get(url + "/ping"), requests.head(url + "/ping")):
        assert resp.status_code == 204
        assert resp.headers["X-Influxdb-Build"] == "cloud2"
        assert resp.headers["X-Influxdb-Version"]
        assert "cluster-uuid" not in resp.headers
    for path in ("/api/v3/write_lp", "/api/v3/configure/database"):
        assert dedicated("POST", path, data="m v=1").status_code == 404


def test_unknown_paths_are_not_found_only_after_authentication(api):
    assert requests.get(api.server.url + "/nope").status_code == 401
    resp = api("GET", "/nope")
    assert (resp.status_code, resp.text) == (404, "Not found")
    assert "cluster-uuid" in resp.headers
    assert "Access-Control-Allow-Origin" not in resp.headers  # failures do not get the CORS header
    assert api("GET", "/write").status_code == 404  # only POST /write is routed
    preflight = requests.options(api.server.url + "/query")
    assert preflight.status_code == 204 and preflight.headers["Access-Control-Allow-Methods"] == "*"


# -- authentication ---------------------------------------------------------------------------


def _basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize("scheme", ["Token {t}", "Bearer {t}", "basic"])
def test_token_bearer_and_basic_any_user(v3_server, scheme):
    header = _basic("anyone", v3_server.token) if scheme == "basic" else scheme.format(t=v3_server.token)
    resp = requests.get(
        v3_server.url + "/query", params={"q": "SHOW DATABASES"}, headers={"Authorization": header}
    )
    assert resp.status_code == 200


def test_p_parameter_wins_over_the_header_and_u_is_ignored(v3_server):
    url, token = v3_server.url, v3_server.token
    bad = {"Authorization": "Token wrong"}
    q = requests.get(url + "/query", params={"q": "SHOW DATABASES", "u": "nobody", "p": token}, headers=bad)
    assert q.status_code == 200
    w = requests.post(url + "/write", params={"db": "pdb", "p": token}, data="m v=1 1", headers=bad)
    assert w.status_code == 204
    stale = requests.get(
        url + "/query",
        params={"q": "SHOW DATABASES", "p": "stale"},
        headers={"Authorization": "Token " + token},
    )
    assert (stale.status_code, stale.text) == (401, UNAUTHENTICATED)
    # only /query and /write read p
    v2 = requests.post(url + "/api/v2/write", params={"bucket": "pdb", "p": token}, data="m v=1 1")
    assert v2.status_code == 401


@pytest.mark.parametrize("header", ["token {t}", "Bearer {t} extra", "Bearer", "Basic !!!", "Token  {t}"])
def test_malformed_headers_are_400(v3_server, header):
    resp = requests.get(
        v3_server.url + "/query",
        params={"q": "SHOW DATABASES"},
        headers={"Authorization": header.format(t=v3_server.token)},
    )
    assert resp.status_code == 400
    assert resp.json()["error"].startswith("Authorization header was malformed")
    assert "cluster-uuid" in resp.headers


def test_wrong_or_missing_token_is_401_with_the_opaque_body(v3_server):
    for headers in ({}, {"Authorization": "Token apiv3_wrong"}, {"auth": "Bearer " + v3_server.token}):
        resp = requests.post(
            v3_server.url + "/api/v3/write_lp", params={"db": "x"}, data="m v=1", headers=headers
        )
        assert (resp.status_code, resp.text) == (401, UNAUTHENTICATED)
    assert v3_server.token.startswith("apiv3_")
    admin = requests.post(v3_server.url + "/api/v3/configure/token/admin")  # never authenticated: one exists
    assert (admin.status_code, admin.text) == (409, "token name already exists, _admin")


# -- writes ---------------------------------------------------------------------------------------


def test_write_endpoints_and_their_databases(api):
    assert api.write("m v=1 1", db="d").status_code == 204
    assert api.write("m v=2 2", db="d", rp="Week").status_code == 204  # rp lower-cased: d/week
    assert api.write("m v=3 3", db="d", rp="autogen").status_code == 204
    assert api.write("m v=4 4", db="d", rp="default").status_code == 204
    assert api.write("m v=5 5", path="/api/v2/write", bucket="b", org="ignored").status_code == 204
    assert api.write("m v=6 6", path="/api/v3/write_lp", db="lp", precision="nanosecond").status_code == 204
    assert api.values("SHOW DATABASES") == [["_internal"], ["d"], ["d/week"], ["b"], ["lp"]]
    assert api.values('SELECT v FROM "m"', db="d", epoch="ns") == [[1, 1], [3, 3], [4, 4]]
    assert api.values('SELECT v FROM "m"', db="d/week", epoch="ns") == [[2, 2]]


def test_legacy_writes_reject_the_whole_batch(api):
    body = "m v=1 1\nmeasurement_with_a_long_name v=oops 2\nm v=3 3"
    resp = api.write(body, db="d")
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "line protocol parsing error",
        "data": {
            "error_message": "No fields were provided",
            "line_number": 2,
            "original_line": "measurement_with_a_l",
        },
    }
    assert api.query("SHOW DATABASES")["results"][0]["series"][0]["values"] == [
        ["_internal"]
    ]  # nothing created
    v2 = api.write(body, path="/api/v2/write", bucket="d")
    assert v2.status_code == 400
    assert v2.json() == {
        "code": "invalid",
        "message": "write buffer error: line protocol parse failed: No fields were provided",
    }


def test_write_lp_keeps_the_good_lines_by_default(api):
    api.write("m v=1 1", path="/api/v3/write_lp", db="d")
    resp = api.write('m v=2 2\nm v="text" 3\nm v=4 4', path="/api/v3/write_lp", db="d")
    assert resp.status_code == 400
    assert resp.json() == {
        "error": "partial write of line protocol occurred",
        "data": [
            {
                "error_message": "invalid column type for column 'v', expected "
                "iox::column_type::field::float, got iox::column_type::field::string",
                "line_number": 2,
                "original_line": 'm v="text" 3',
            }
        ],
    }
    assert [v[1] for v in api.values('SELECT v FROM "m"', db="d")] == [1, 2, 4]
    strict = api.write("m v=5 5\nm v=6i 6", path="/api/v3/write_lp", db="d", accept_partial="false")
    assert strict.status_code == 400 and strict.json()["error"] == "line protocol parsing error"
    assert [v[1] for v in api.values('SELECT v FROM "m"', db="d")] == [1, 2, 4]


@pytest.mark.parametrize("precision", ["m", "h", "minute"])
def test_minute_and_hour_precisions_are_refused(api, precision):
    resp = api.write("m v=1 1", db="d", precision=precision)
    assert resp.status_code == 400
    assert resp.json()["error"].startswith(
        f"failed to deserialize db/rp/precision in request: unknown variant `{precision}`"
    )
    v2 = api.write("m v=1 1", path="/api/v2/write", bucket="d", precision=precision)
    assert v2.status_code == 400 and v2.json()["code"] == "invalid"
    lp = api.write("m v=1 1", path="/api/v3/write_lp", db="d", precision=precision)
    assert lp.status_code == 400 and lp.text.startswith("serde error: unknown variant")


def test_precisions_legacy_default_ns_and_write_lp_auto(api):
    for precision, stamp in (
        ("s", 1),
        ("ms", 1000),
        ("us", 10**6),
        ("u", 10**6),
        ("n", 10**9),
        ("second", 1),
    ):
        assert api.write(f"legacy,p={precision} v=1 {stamp}", db="d", precision=precision).status_code == 204
    assert api.write("legacy,p=none v=1 1000000000", db="d").status_code == 204  # default: nanoseconds
    assert {v[0] for v in api.values('SELECT v FROM "legacy"', db="d", epoch="ns")} == {10**9}
    now_s = 1_700_000_000  # write_lp's auto precision guesses the unit from the magnitude
    for unit, stamp in (("s", now_s), ("ms", now_s * 10**3), ("us", now_s * 10**6), ("ns", now_s * 10**9)):
        assert api.write(f"auto,u={unit} v=1 {stamp}", path="/api/v3/write_lp", db="d").status_code == 204
    assert {v[0] for v in api.values('SELECT v FROM "auto"', db="d", epoch="s")} == {now_s}


def test_empty_gzip_encoding_and_size_limit(api):
    empty = api.write("", db="d")
    assert (empty.status_code, empty.text) == (400, "incoming write was empty")
    v2 = api.write("\n", path="/api/v2/write", bucket="d")
    assert v2.json() == {"code": "invalid", "message": "write buffer error: incoming write was empty"}
    zipped = api(
        "POST",
        "/write",
        params={"db": "d"},
        data=gzip.compress(b"m v=1 1"),
        headers={"Content-Encoding": "gzip"},
    )
    assert zipped.status_code == 204
    br = api("POST", "/write", params={"db": "d"}, data=b"m v=1 1", headers={"Content-Encoding": "br"})
    assert (br.status_code, br.text) == (400, "unacceptable content-encoding: br")
    big = api.write(b"m v=1 1\n" + b"#" * (10 * 1024 * 1024), db="d")
    assert (big.status_code, big.text) == (413, "max request size (10485760 bytes) exceeded")
    big_v2 = api.write(b"#" * (10 * 1024 * 1024 + 1), path="/api/v2/write", bucket="d")
    assert big_v2.status_code == 413 and big_v2.json()["code"] == "request too large"


@pytest.mark.parametrize(
    "name, message",
    [
        ("_private", "db name did not start with a number or letter"),
        (
            "a/b/c",
            "db name with invalid retention policy, if providing a retention policy name, must be of form "
            "'<db_name>/<rp_name>'",
        ),
        (
            "tr\u00e8s",
            "invalid character in database or rp name: must be ASCII, containing only letters, numbers, "
            "underscores, or hyphens",
        ),
    ],
)
def test_database_names_are_validated(api, name, message):
    resp = api.write("m v=1 1", path="/api/v3/write_lp", db=name)
    assert resp.status_code == 400 and resp.json() == {"error": message}


def test_legacy_names_also_pass_the_namespace_rules(api):
    space = api.write("m v=1 1", db="a b")
    assert space.json() == {
        "error": "namespace name 'a b' contains invalid character, character number 1 is not allowed"
    }
    long_name = "x" * 65
    assert api.write("m v=1 1", db=long_name).json()["error"] == (
        f"namespace name {long_name} length must be between 1 and 64 characters"
    )
    assert api.write("m v=1 1", path="/api/v3/write_lp", db=long_name).status_code == 204  # 511 there
    assert api("POST", "/write").json() == {"error": "no db destination provided"}
    assert api.write("m v=1 1", rp="x").json() == {
        "error": "failed to deserialize db/rp/precision in request: missing field `db`"
    }
    assert api.write("m v=1 1", path="/api/v2/write", org="o").json() == {
        "code": "invalid",
        "message": "missing bucket value",
    }


def test_database_limit_counts_user_databases_only(api):
    for i in range(5):
        assert api.write("m v=1 1", db=f"db{i}").status_code == 204
    over = api.write("m v=1 1", db="db5")
    assert (over.status_code, over.json()) == (
        422,
        {"error": "Adding a new database would exceed limit of 5 databases"},
    )
    lp = api.write("m v=1 1", path="/api/v3/write_lp", db="db5")
    assert lp.status_code == 422
    v2 = api.write("m v=1 1", path="/api/v2/write", bucket="db5")
    assert v2.status_code == 400 and v2.json()["message"] == (
        "write buffer error: catalog update error: Adding a new database would exceed limit of 5 databases"
    )
    made = api("POST", "/api/v3/configure/database", json={"db": "db5"})
    assert made.status_code == 422
    assert api.values("SHOW DATABASES")[0] == ["_internal"]  # exists, not counted
    assert api.write("m v=2 2", db="db0").status_code == 204  # existing databases still take writes


def test_enterprise_allows_a_hundred_databases(v3_enterprise_server):
    api = Api(v3_enterprise_server)
    for i in range(6):
        assert api.write("m v=1 1", db=f"e{i}").status_code == 204


def test_table_and_column_limits(small):
    small.reset()
    api = Api(small)
    assert api.write("t1 a=1,b=2,c=3 1\nt2 a=1 1", path="/api/v3/write_lp", db="d").status_code == 204
    tables = api.write("t3 a=1 1", path="/api/v3/write_lp", db="d")
    assert tables.status_code == 422
    assert tables.json()["data"][0]["error_message"] == (
        "Update to schema would exceed number of tables limit: "
        "attempted to create table but already have 2 table(s) (limit: 2)"
    )
    columns = api.write("t1 d=4 2", path="/api/v3/write_lp", db="d")
    assert columns.status_code == 422
    assert columns.json()["data"][0]["error_message"] == (
        "Update to schema would exceed number of columns per table limit of 3 columns"
    )
    legacy = api.write("t1 d=4 2", db="d")  # the legacy endpoints say it as a parse error
    assert legacy.status_code == 400 and legacy.json()["error"] == "line protocol parsing error"


@pytest.mark.parametrize(
    "first, second, message",
    [
        (
            "m,host=a v=1 1",
            "m host=1 2",
            "invalid column type for column 'host', expected iox::column_type::tag, got "
            "iox::column_type::field::float",
        ),
        (
            "m v=1i 1",
            "m v=1.5 2",
            "invalid column type for column 'v', expected iox::column_type::field::integer, got "
            "iox::column_type::field::float",
        ),
        ("m v=1 1", "m v=2,v=3 2", "invalid line protocol - multiple instances of 'v' field found"),
        ("m v=1 1", "n,time=x v=1 2", "'time' is a reserved column"),
        ("m v=1 1", "n time=1 2", "'time' is a reserved column"),
        (
            "m v=1 1",
            "m,time=x v=1 2",
            "invalid column type for column 'time', expected iox::column_type::timestamp, "
            "got iox::column_type::tag",
        ),
    ],
)
def test_schema_rules_of_the_catalog(api, first, second, message):
    assert api.write(first, db="schema").status_code == 204
    resp = api.write(second, db="schema")
    assert resp.status_code == 400
    assert resp.json()["data"]["error_message"] == message


def test_3x_line_protocol_grammar(api):
    for line, message in (
        ("m", "Expected at least one space character, got end of input"),
        ("m,t v=1", "Tag set malformed: could not find equals sign in `t v=1`"),
        ("m,t= v=1", "Expected tag value, got ` v=1`"),
        ("m v=+1", "No fields were provided"),
        ("m v=1. 1", "Could not parse entire line. Found trailing content: `. 1`"),
        ("m v=1\r", "Could not parse entire line. Found trailing content: `\r`"),
    ):
        resp = api.write(line, db="g")
        assert resp.json()["data"]["error_message"] == message, line
    assert api.write('m v=-1.5e3,w=2u,s="a b",b=t  1', db="g").status_code == 204


# -- queries --------------------------------------------------------------------------------------


def test_query_request_errors(api):
    assert api("GET", "/query", params={"db": "d"}).json() == {
        "error": "expected a query to be provided in the query string or body"
    }
    assert api("GET", "/query").json() == {"error": "missing query parameters 'db' and 'q'"}
    js = api(
        "POST",
        "/query",
        params={"db": "d"},
        data="SHOW DATABASES",
        headers={"Content-Type": "application/json"},
    )
    assert (js.status_code, js.json()) == (400, {"error": "invalid mime type (application/json)"})
    accept = api(
        "GET", "/query", params={"q": "SHOW DATABASES"}, headers={"Accept": "application/json; charset=utf-8"}
    )
    assert accept.json() == {"error": "invalid mime type (application/json; charset=utf-8)"}
    us = api("GET", "/query", params={"q": "SHOW DATABASES", "epoch": "us"})
    assert us.status_code == 400
    assert us.json() == {
        "error": "error decoding params from url: unknown variant `us`, expected one of `ns`, `u`, "
        "`ms`, `s`, `m`, `h`, `d`, `w`"
    }


def test_post_content_types_that_are_accepted(api):
    api.write("m v=1 1", db="d")
    q = 'SELECT v FROM "m"'
    for kw in (
        {"params": {"db": "d"}, "data": q},
        {"params": {"db": "d"}, "data": q, "headers": {"Content-Type": "application/vnd.influxql"}},
        {"data": {"db": "d", "q": q}},
        {"files": {"db": (None, "d"), "q": (None, q)}},
    ):
        resp = api("POST", "/query", **kw)
        assert resp.status_code == 200, (kw, resp.text)
        assert resp.json()["results"][0]["series"][0]["values"] == [["1970-01-01T00:00:00.000000001Z", 1]]


def test_answers_are_never_compressed(api):
    resp = api("GET", "/query", params={"q": "SHOW DATABASES"}, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in resp.headers


def test_rp_parameter_is_ignored_unless_the_statement_names_the_database(api):
    api.write("m v=1 1", db="d")
    api.write("m v=2 2", db="d", rp="week")
    assert api.values('SELECT v FROM "m"', db="d", rp="week", epoch="ns") == [[1, 1]]
    assert api.values('SELECT v FROM "week"."m"', db="d", epoch="ns") == [[1, 1]]
    assert api.values('SELECT v FROM "d"."week"."m"', epoch="ns") == [[2, 2]]
    assert api.values('SELECT v FROM "d"."autogen"."m"', db="other", epoch="ns") == [[1, 1]]
    assert api.values('SELECT v FROM "d".."m"', rp="week", epoch="ns") == [[2, 2]]  # the rp fills in there


def test_times_are_rfc3339_autosi_and_epochs(api):
    api.write(
        "m v=1 1500000000000000000\nm v=2 1500000000500000000\nm v=3 1500000000123456000\n"
        "m v=4 1500000000123456789",
        db="d",
    )
    assert [v[0] for v in api.values('SELECT v FROM "m"', db="d")] == [
        "2017-07-14T02:40:00Z",
        "2017-07-14T02:40:00.123456Z",
        "2017-07-14T02:40:00.123456789Z",
        "2017-07-14T02:40:00.500Z",
    ]
    for epoch, first in (
        ("u", 1500000000000000),
        ("\u00b5", 1500000000000000),
        ("ms", 1500000000000),
        ("s", 1500000000),
        ("m", 25000000),
        ("h", 416666),
        ("d", 17361),
        ("w", 2480),
    ):
        assert api.values('SELECT v FROM "m"', db="d", epoch=epoch)[0][0] == first


def test_msgpack_structs_are_positional_arrays(api):
    api.write("m,t=a v=1.5 1000000000\nm,t=a v=2 2000000000", db="d")
    resp = api(
        "GET",
        "/query",
        params={"db": "d", "q": 'SELECT * FROM "m" GROUP BY "t"'},
        headers={"Accept": "application/x-msgpack"},
    )
    assert resp.headers["Content-Type"] == "application/x-msgpack"
    assert msgpack.unpackb(resp.content) == [
        [
            [
                0,
                [
                    [
                        "m",
                        {"t": "a"},
                        ["time", "v"],
                        [["1970-01-01T00:00:01Z", 1.5], ["1970-01-01T00:00:02Z", 2]],
                    ]
                ],
            ]
        ]
    ]
    error = api(
        "GET", "/query", params={"q": "SHOW MEASUREMENTS"}, headers={"Accept": "application/x-msgpack"}
    )
    assert msgpack.unpackb(error.content) == [[[0, NO_DB]]]


def test_chunked_answers_are_json_documents_without_newlines(api):
    api.write("\n".join(f"m,t={t} v={i} {i + 1}" for t in "ab" for i in range(3)), db="d")
    resp = api(
        "GET",
        "/query",
        params={
            "db": "d",
            "q": 'SELECT v FROM "m" GROUP BY "t"',
            "chunked": "true",
            "chunk_size": "2",
            "epoch": "ns",
        },
    )
    raw = resp.content.decode()
    assert "\n" not in raw and "}{" in raw
    docs, pos, decoder = [], 0, json.JSONDecoder()
    while pos < len(raw):
        doc, pos = decoder.raw_decode(raw, pos)
        docs.append(doc)
    shapes = [
        (
            r["series"][0]["tags"]["t"],
            len(r["series"][0]["values"]),
            r["series"][0].get("partial", False),
            r.get("partial", False),
        )
        for d in docs
        for r in d["results"]
    ]
    assert shapes == [
        ("a", 2, True, True),
        ("a", 1, False, True),
        ("b", 2, True, True),
        ("b", 1, False, False),
    ]


def test_csv_answers(api):
    api.write('m,t=a v=1.5,s="x,y" 1000000000', db="d")
    resp = api("GET", "/query", params={"db": "d", "q": 'SELECT * FROM "m"'}, headers={"Accept": "text/csv"})
    assert resp.headers["Content-Type"] == "application/csv"
    assert resp.text == 'name,tags,time,s,t,v\nm,,1000000000,"x,y",a,1.5\n'


@pytest.mark.parametrize(
    "q, error",
    [
        (
            "SHOW SERIES",
            "invalid SHOW statement, expected DATABASES, FIELD KEYS, MEASUREMENTS, TAG KEYS, TAG VALUES, or "
            "RETENTION POLICIES following SHOW at pos 5",
        ),
        (
            "SHOW USERS",
            "invalid SHOW statement, expected DATABASES, FIELD KEYS, MEASUREMENTS, TAG KEYS, TAG VALUES, or "
            "RETENTION POLICIES following SHOW at pos 5",
        ),
        (
            "SHOW CONTINUOUS QUERIES",
            "invalid SHOW statement, expected DATABASES, FIELD KEYS, MEASUREMENTS, TAG KEYS, "
            "TAG VALUES, or RETENTION POLICIES following SHOW at pos 5",
        ),
        ("DROP SERIES FROM m", "invalid DROP statement, expected MEASUREMENT at pos 5"),
        ("DROP DATABASE d", "invalid DROP statement, expected MEASUREMENT at pos 5"),
        (
            "CREATE USER bob WITH PASSWORD 'x'",
            "Invalid CREATE statement, expected DATABASE following CREATE at pos 7",
        ),
        (
            "CREATE RETENTION POLICY w ON d DURATION 1d REPLICATION 1",
            "Invalid CREATE statement, expected DATABASE following CREATE at pos 7",
        ),
        (
            "GRANT ALL TO bob",
            'invalid InfluxQL statement at pos 0. Parsing Error: Nom("GRANT ALL TO bob", Tag)',
        ),
        (
            'SELECT mean(v) INTO "x" FROM "m"',
            "invalid InfluxQL statement at pos 0. Parsing Error: "
            'Nom("SELECT mean(v) INTO \\"x\\" FROM \\"m\\"", Tag)',
        ),
        (
            "SHOW MEASUREMENTS; SHOW SERIES",
            "invalid SHOW statement, expected DATABASES, FIELD KEYS, MEASUREMENTS, TAG "
            "KEYS, TAG VALUES, or RETENTION POLICIES following SHOW at pos 24",
        ),
    ],
)
def test_statements_3x_cannot_parse_fail_the_whole_query_in_band(api, q, error):
    assert api.query(q, db="d") == {
        "results": [{"statement_id": 0, "error": "error in InfluxQL statement: parsing error: " + error}]
    }


def test_statements_that_parse_but_are_not_implemented(api):
    api.write("m v=1 1", db="d")
    answer = api.query(
        'CREATE DATABASE "x"; DELETE FROM "m"; DROP MEASUREMENT "m"; SELECT v FROM "m" SLIMIT 1', db="d"
    )
    assert [r["error"] for r in answer["results"]] == [
        "datafusion error: This feature is not implemented: CREATE DATABASE",
        "datafusion error: This feature is not implemented: DELETE",
        "datafusion error: This feature is not implemented: DROP MEASUREMENT",
        "datafusion error: rewriting statement\ncaused by\n"
        "This feature is not implemented: SLIMIT or SOFFSET",
    ]
    assert api.query("CREATE DATABASE x")["results"][0]["error"] == NO_DB
    multi = api.query('SELECT v FROM "a"."autogen"."m", "b"."autogen"."m"')
    assert (
        multi["results"][0]["error"]
        == "error in InfluxQL statement: can only perform queries on a single database"
    )


def test_database_errors_are_in_band_and_later_statements_still_run(api):
    api.write("m,t=a v=1 1", db="d")
    answer = api.query(
        'SELECT v FROM "m"; SHOW MEASUREMENTS ON "nope"; SHOW TAG KEYS; SHOW FIELD KEYS ON "d"',
        db="d",
        epoch="ns",
    )
    results = answer["results"]
    assert [r["statement_id"] for r in results] == [0, 1, 2, 3]
    assert results[0]["series"][0]["values"] == [[1, 1]]
    assert results[1] == {
        "statement_id": 1,
        "error": "Cannot retrieve database: External error: database not found: nope",
    }
    assert results[2]["series"][0]["values"] == [["t"]]
    assert results[3]["series"][0]["values"] == [["v", "float"]]
    assert api.query("SHOW MEASUREMENTS")["results"][0]["error"] == NO_DB
    assert api.query('SELECT v FROM "nothing"', db="d") == {"results": [{"statement_id": 0}]}


def test_show_databases_and_retention_policies_on_core(api):
    api.write("m v=1 1", db="d")
    api("POST", "/api/v3/configure/database", json={"db": "r", "retention_period": "30d"})
    assert api.query("SHOW DATABASES")["results"][0]["series"] == [
        {"name": "databases", "columns": ["name"], "values": [["_internal"], ["d"], ["r"]]}
    ]
    assert api.query("SHOW RETENTION POLICIES", db="d")["results"][0]["series"] == [
        {
            "name": "retention_policies",
            "columns": ["name", "duration", "default"],
            "values": [["d", "0s", True]],
        }
    ]
    assert api.values('SHOW RETENTION POLICIES ON "r"') == [["r", "720h0m0s", True]]
    assert api.query('SHOW RETENTION POLICIES ON "frodo"')["results"][0]["error"] == (
        "datafusion error: Error during planning: database not found: frodo"
    )
    assert api.query("SHOW RETENTION POLICIES")["results"][0]["error"] == NO_DB


def test_dedicated_queries(dedicated):
    server = dedicated.server
    server.create_database("d")
    assert dedicated.write("m v=1 1", path="/api/v2/write", bucket="d").status_code == 204
    assert dedicated.query("SHOW DATABASES", db="d")["results"][0]["error"] == (
        "datafusion error: This feature is not implemented: SHOW DATABASES"
    )
    assert dedicated.query("SHOW RETENTION POLICIES", db="d")["results"][0]["series"] == [
        {
            "name": "retention_policies",
            "columns": ["name", "duration", "shardGroupDuration", "replicaN", "default"],
            "values": [["autogen", "0s", "168h0m0s", 1, True]],
        }
    ]
    assert dedicated.values('SELECT v FROM "m"', db="d", epoch="ns") == [[1, 1]]
    parse = requests.get(
        server.url + "/query", params={"q": "SHOW SERIES", "db": "d"}
    )  # parse errors come first
    assert parse.status_code == 200
    anonymous = requests.get(server.url + "/query", params={"q": 'SELECT v FROM "m"', "db": "d"})
    assert (anonymous.status_code, anonymous.json()) == (401, {"error": "unauthorized access"})


def test_dedicated_writes_need_an_existing_database_and_a_token(dedicated):
    server = dedicated.server
    missing = dedicated.write("m v=1 1", db="nope")
    assert missing.status_code == 404 and missing.json()["code"] == "not found"
    server.create_database("d")
    anonymous = requests.post(server.url + "/write", params={"db": "d"}, data="m v=1 1")
    assert anonymous.status_code == 401
    bad = dedicated.write("m v=1 1\nm v= 2", db="d")
    assert bad.status_code == 400 and bad.json()["line"] == 2
    assert dedicated.write("m v=1 1", db="d", precision="ms").status_code == 204


def test_dedicated_management_api(dedicated):
    server = dedicated.server
    base = f"{server.url}/api/v0/accounts/{server.account_id}/clusters/{server.cluster_id}/databases"
    auth = {"Authorization": f"Bearer {server.management_token}"}
    assert requests.get(base).status_code == 401
    made = requests.post(
        base, json={"name": "mdb", "maxTables": 10, "retentionPeriod": 3600 * 10**9}, headers=auth
    )
    assert made.status_code == 200 and made.json()["maxTables"] == 10
    assert requests.post(base, json={"name": "mdb"}, headers=auth).status_code == 409
    assert [d["name"] for d in requests.get(base, headers=auth).json()] == ["mdb"]
    assert dedicated.write("m v=1 1", db="mdb").status_code == 204
    assert requests.delete(base + "/mdb", headers=auth).status_code == 204
    assert dedicated.write("m v=1 1", db="mdb").status_code == 404


# -- configure API -------------------------------------------------------------------------------------


def test_configure_database_api(api):
    path = "/api/v3/configure/database"
    fmt = api("GET", path)
    assert (fmt.status_code, fmt.text) == (400, "serde error: missing field `format`")
    no_json = api("POST", path, data='{"db": "c"}')
    assert (no_json.status_code, no_json.text) == (
        415,
        "unacceptable content-type, expected: application/json",
    )
    assert api("POST", path, json={"db": "c"}).status_code == 200
    again = api("POST", path, json={"db": "c"})
    assert (again.status_code, again.text) == (409, "attempted to create a resource that already exists")
    assert api("GET", path, params={"format": "json"}).json() == [
        {"iox::database": "_internal"},
        {"iox::database": "c"},
    ]
    assert api("PUT", path, json={"db": "c", "retention_period": "7d"}).status_code == 200
    assert api.values('SHOW RETENTION POLICIES ON "c"') == [["c", "168h0m0s", True]]
    rp = path + "/retention_period"
    assert api("POST", rp, params={"db": "c", "duration": "1h"}).status_code == 204
    assert api.values('SHOW RETENTION POLICIES ON "c"') == [["c", "1h0m0s", True]]
    assert api("DELETE", rp, params={"db": "c"}).status_code == 204
    assert api.values('SHOW RETENTION POLICIES ON "c"') == [["c", "0s", True]]
    api.write("m v=1 1", db="c")
    assert api("DELETE", path, params={"db": "c"}).status_code == 200
    assert api.values("SHOW DATABASES") == [["_internal"]]
    deleted = api("GET", path, params={"format": "json", "show_deleted": "true"}).json()
    assert deleted[-1]["iox::database"].startswith("c-") and deleted[-1]["deleted"] is True
    assert api.write("m v=2i 2", db="c").status_code == 204  # the name is free again, with a fresh schema
    gone = api("DELETE", path, params={"db": "nope"})
    assert (gone.status_code, gone.text) == (404, "the requested resource was not found: nope")
    internal = api("DELETE", path, params={"db": "_internal"})
    assert (internal.status_code, internal.text) == (500, "cannot delete internal db")


def test_configure_table_api(api):
    path = "/api/v3/configure/table"
    table = {"db": "t", "table": "cpu", "tags": ["host"], "fields": [{"name": "usage", "type": "float64"}]}
    assert api("POST", path, json=table).status_code == 200
    assert api("POST", path, json=table).status_code == 409
    conflict = api.write("cpu usage=1i 1", db="t")
    assert "expected iox::column_type::field::float" in conflict.json()["data"]["error_message"]
    assert api.write("cpu,host=a usage=1 1", db="t").status_code == 204
    assert api("DELETE", path, params={"db": "t", "table": "cpu"}).status_code == 200
    assert api.query("SHOW MEASUREMENTS", db="t") == {"results": [{"statement_id": 0}]}
    assert api.write("cpu usage=1i 1", db="t").status_code == 204  # a new table, a new type
    missing = api("DELETE", path, params={"db": "t", "table": "nope"})
    assert missing.status_code == 404


# -- the official influxdb3-python client ------------------------------------------------------------


@pytest.mark.parametrize("use_v2", [True, False])
def test_influxdb3_python_writes_to_core(v3_server, use_v2):
    from influxdb_client_3 import InfluxDBClient3, Point

    client = InfluxDBClient3(
        host=v3_server.url, token=v3_server.token, database="py3", write_use_v2_api=use_v2
    )
    try:
        client.write(record="m,t=a v=1i 1700000000000000000")
        client.write(record=Point("m").tag("t", "b").field("v", 2).time(1700000001000000000))
    finally:
        client.close()
    assert [r.path for r in v3_server.requests] == ["/api/v2/write" if use_v2 else "/api/v3/write_lp"] * 2
    assert Api(v3_server).values('SELECT * FROM "m"', db="py3", epoch="s") == [
        [1700000000, "a", 1],
        [1700000001, "b", 2],
    ]


def test_influxdb3_python_writes_to_dedicated_through_the_v2_endpoint(dedicated):
    from influxdb_client_3 import InfluxDBClient3

    dedicated.server.create_database("py3")
    client = InfluxDBClient3(
        host=dedicated.server.url, token=dedicated.server.token, database="py3", write_use_v2_api=True
    )
    try:
        client.write(record="m,t=a v=1i 1700000000000000000")
    finally:
        client.close()
    assert dedicated.values('SELECT * FROM "m"', db="py3", epoch="s") == [[1700000000, "a", 1]]


# -- the server object, CLI, independence ------------------------------------------------------------


def test_env_requests_and_reset(v3_server):
    assert v3_server.env() == {"INFLUX_HOST": v3_server.url, "INFLUX_TOKEN": v3_server.token}
    Api(v3_server).write("m v=1 1", db="d")
    (record,) = v3_server.requests
    assert (record.method, record.path, record.query, record.body) == (
        "POST",
        "/write",
        {"db": ["d"]},
        b"m v=1 1",
    )
    v3_server.reset()
    assert v3_server.requests == []
    assert Api(v3_server).values("SHOW DATABASES") == [["_internal"]]


def test_flavour_is_checked():
    with pytest.raises(ValueError, match="flavour"):
        V3TestServer("serverless")


def test_missing_engine_fails_loudly(monkeypatch):
    monkeypatch.setenv("INFLUXD_PATH", "/nonexistent/influxd")
    with pytest.raises(EngineNotFoundError, match="apt-get install -y influxdb"):
        V3TestServer().start()


def test_cli_run_gives_the_child_the_environment():
    code = (
        "import os; print(os.environ['INFLUX_HOST'], os.environ['INFLUX_TOKEN'], 'INFLUX_ORG' in os.environ)"
    )
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "influx_compat.testing",
            "run",
            "--flavour",
            "core",
            "--port",
            "0",
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    host, token, has_org = proc.stdout.split()
    assert host.startswith("http://127.0.0.1:") and token.startswith("apiv3_") and has_org == "False"
    assert "core" in proc.stderr and host in proc.stderr and token in proc.stderr


def test_v3_oracles_import_nothing_from_the_library():
    """The 3.x modules judge influx_compat: they may import only each other and the shared test machinery."""
    for name in sorted(os.listdir(TESTING)):
        if not (name.startswith("_v3_") or name == "_msgpack.py"):
            continue
        with open(os.path.join(TESTING, name), encoding="utf-8") as fh:
            tree = ast.parse(fh.read())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("influx_compat"):
                assert node.module.startswith("influx_compat.testing."), (name, node.module)
                assert node.module != "influx_compat.testing._influxql_engine", name
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith("influx_compat") for a in node.names), name


def test_run_takes_a_free_port_and_hands_the_url_to_the_command():
    import subprocess
    import sys

    code = "import os; print(os.environ['INFLUX_HOST'], os.environ['INFLUX_TOKEN'][:6])"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "influx_compat.testing",
            "run",
            "--flavour",
            "core",
            "--",
            sys.executable,
            "-c",
            code,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    host, token = proc.stdout.split()
    assert host.startswith("http://127.0.0.1:") and not host.endswith(":8181") and token == "apiv3_"


def test_cli_papercuts_busy_port_and_wrong_influxd_path(tmp_path):
    import os
    import socket
    import subprocess
    import sys

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "influx_compat.testing", "--flavour", "core", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and f":{port}" in proc.stderr
    env = dict(os.environ, INFLUXD_PATH=str(tmp_path / "no-such-influxd"))
    proc = subprocess.run(
        [sys.executable, "-m", "influx_compat.testing", "run", "--", sys.executable, "-c", "pass"],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 2 and "INFLUXD_PATH=" in proc.stderr and "no-such-influxd" in proc.stderr
