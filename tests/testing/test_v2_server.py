"""The v2 test server answers what InfluxDB 2.x answers (contract, status codes, traps)."""

import gzip
import json
import os

import jsonschema
import pytest
import requests

DATA = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "data")
with open(os.path.join(DATA, "oss-v2-schemas.json"), encoding="utf-8") as fh:
    CONTRACT = json.load(fh)


def conforms(instance, schema_name):
    """Validate against a schema of the 2.x OpenAPI contract (OpenAPI 3.0 `nullable` allowed)."""
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": CONTRACT["components"]}
    validator = jsonschema.Draft7Validator(schema)
    errors = [
        e for e in validator.iter_errors(instance) if not (e.validator == "type" and e.instance is None)
    ]
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


class Api:
    def __init__(self, server, token=None):
        self.server = server
        self.headers = {"Authorization": "Token " + (token or server.token)}

    def __call__(self, method, path, **kw):
        headers = dict(self.headers, **kw.pop("headers", {}))
        return requests.request(method, self.server.url + path, headers=headers, timeout=30, **kw)


@pytest.fixture
def api(v2_server):
    return Api(v2_server)


def make_bucket(api, name, **body):
    resp = api("POST", "/api/v2/buckets", json=dict({"orgID": api.server.org_id, "name": name}, **body))
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_every_answer_carries_version_headers(v2_server, api):
    for resp in (requests.get(v2_server.url + "/ping"), api("GET", "/api/v2/buckets"), api("GET", "/nope")):
        assert resp.headers["X-Influxdb-Build"] == "OSS"
        assert resp.headers["X-Influxdb-Version"] == "v2.7.10"


def test_ping_health_ready(v2_server):
    assert requests.get(v2_server.url + "/ping").status_code == 204
    assert requests.head(v2_server.url + "/ping").status_code == 204
    assert requests.post(v2_server.url + "/ping").status_code == 405
    health = requests.get(v2_server.url + "/health")
    assert health.status_code == 200
    conforms(health.json(), "HealthCheck")
    conforms(requests.get(v2_server.url + "/ready").json(), "Ready")


def test_bucket_objects_conform_and_conflicts_are_422(api):
    bucket = make_bucket(api, "b1", retentionRules=[{"type": "expire", "everySeconds": 86400}])
    conforms(bucket, "Bucket")
    assert bucket["retentionRules"] == [
        {"type": "expire", "everySeconds": 86400, "shardGroupDurationSeconds": 3600}
    ]
    listing = api("GET", "/api/v2/buckets", params={"org": api.server.org}).json()
    conforms(listing, "Buckets")
    dup = api("POST", "/api/v2/buckets", json={"orgID": api.server.org_id, "name": "b1"})
    assert dup.status_code == 422
    assert dup.json() == {"code": "conflict", "message": "bucket with name b1 already exists"}
    assert dup.headers["X-Platform-Error-Code"] == "conflict"
    conforms(dup.json(), "Error")


@pytest.mark.parametrize(
    "body, status, message",
    [
        ({"name": "x"}, 400, "organization id must be provided"),
        ({"name": "_x"}, 400, "bucket name _x is invalid. Buckets may not start with underscore"),
        ({"name": 'a"b'}, 400, 'bucket name a"b is invalid. Bucket names may not include quotation marks'),
        (
            {"name": "short", "retentionRules": [{"type": "expire", "everySeconds": 60}]},
            500,
            "retention policy duration must be at least 1h0m0s",
        ),
        (
            {"name": "two", "retentionRules": [{"everySeconds": 3600}, {"everySeconds": 7200}]},
            422,
            "buckets cannot have more than one retention rule at this time",
        ),
    ],
)
def test_bucket_validation(api, body, status, message):
    if "orgID" not in body and body.get("name") != "x":
        body = dict(body, orgID=api.server.org_id)
    resp = api("POST", "/api/v2/buckets", json=body)
    assert (resp.status_code, resp.json()["message"]) == (status, message)


def test_missing_bucket_by_name_is_404(api):
    resp = api("GET", "/api/v2/buckets", params={"org": api.server.org, "name": "missing"})
    assert resp.status_code == 404
    assert resp.json() == {"code": "not found", "message": 'bucket "missing" not found'}


def test_dbrps_first_mapping_is_default_and_virtual_ones_appear(api):
    bucket = make_bucket(api, "db1/week")
    org = api.server.org_id
    resp = api(
        "POST",
        "/api/v2/dbrps",
        json={
            "orgID": org,
            "bucketID": bucket["id"],
            "database": "db1",
            "retention_policy": "week",
            "default": False,
        },
    )
    assert resp.status_code == 201
    created = resp.json()
    conforms(created, "DBRP")
    assert created["default"] is True  # the first mapping of a database becomes its default
    listing = api("GET", "/api/v2/dbrps", params={"orgID": org}).json()
    conforms(listing, "DBRPs")
    virtual = [m for m in listing["content"] if m["virtual"]]
    assert {m["database"] for m in virtual} >= {"default", "_monitoring", "_tasks"}
    assert not [m for m in virtual if m["database"] == "db1"]  # hidden by the physical one
    dup = api(
        "POST",
        "/api/v2/dbrps",
        json={"orgID": org, "bucketID": bucket["id"], "database": "db1", "retention_policy": "week"},
    )
    assert dup.status_code == 422
    assert api("GET", "/api/v2/dbrps").json() == {
        "code": "invalid",
        "message": "either 'org' or 'orgID' must be provided",
    }
    bad = api(
        "POST",
        "/api/v2/dbrps",
        json={"orgID": org, "bucketID": bucket["id"], "database": "a/b", "retention_policy": "r"},
    )
    assert bad.status_code == 400 and bad.json()["message"].startswith("DBRP provided is invalid")


def test_no_virtual_mappings_before_2_4():
    from influx_compat.testing import V2TestServer

    with V2TestServer(version="2.3.0") as srv:
        headers = {"Authorization": "Token " + srv.token}
        content = requests.get(
            srv.url + "/api/v2/dbrps", params={"orgID": srv.org_id}, headers=headers
        ).json()["content"]
        assert content == []
        bearer = requests.get(srv.url + "/api/v2/buckets", headers={"Authorization": "Bearer " + srv.token})
        assert bearer.status_code == 200  # Bearer from 2.1 on


def test_write_errors_follow_the_2x_check_order(api):
    org = api.server.org
    cases = [
        (
            {"org": org, "bucket": "default", "precision": "h"},
            400,
            "invalid precision; valid precision units are ns, us, ms, and s",
        ),
        ({"org": org}, 404, "bucket not found"),
        ({"bucket": "default"}, 400, "Please provide either orgID or org"),
        ({"org": "acme", "bucket": "default"}, 404, 'organization name "acme" not found'),
        ({"org": org, "bucket": "mybucket"}, 404, 'bucket "mybucket" not found'),
    ]
    for params, status, message in cases:
        resp = api("POST", "/api/v2/write", params=params, data="m v=1")
        assert (resp.status_code, resp.json()["message"]) == (status, message), params
    resp = requests.post(
        api.server.url + "/api/v2/write", params={"org": org, "bucket": "default"}, data="m v=1"
    )
    assert resp.status_code == 401
    assert resp.json() == {"code": "unauthorized", "message": "unauthorized access"}


def count(api, db, measurement="m"):
    resp = api("GET", "/query", params={"db": db, "q": f'SELECT count(*) FROM "{measurement}"'})
    series = resp.json()["results"][0].get("series")
    return series[0]["values"][0][1] if series else 0


def test_parse_error_rejects_the_whole_batch(api):
    resp = api(
        "POST",
        "/api/v2/write",
        params={"org": api.server.org, "bucket": "default"},
        data="m v=1 1\ninvalid\nm v=2 2\n",
    )
    assert resp.status_code == 400
    assert resp.json() == {"code": "invalid", "message": "unable to parse 'invalid': missing fields"}
    assert count(api, "default") == 0


def test_field_type_conflict_is_422_with_dropped(api):
    params = {"org": api.server.org, "bucket": "default"}
    assert api("POST", "/api/v2/write", params=params, data="m v=1.5 1").status_code == 204
    resp = api("POST", "/api/v2/write", params=params, data="m v=2i 2\nm v=3.5 3\n")
    assert resp.status_code == 422
    message = resp.json()["message"]
    assert message.startswith("failure writing points to database: partial write: field type conflict")
    assert message.endswith("dropped=1")
    assert count(api, "default") == 2


def test_gzip_bodies(api):
    resp = api(
        "POST",
        "/api/v2/write",
        params={"org": api.server.org, "bucket": "default"},
        data=gzip.compress(b"m v=1 1\n"),
        headers={"Content-Encoding": "gzip"},
    )
    assert resp.status_code == 204
    assert count(api, "default") == 1


def test_v1_write_reads_unknown_precisions_as_nanoseconds(api):
    """The 2.x trap: /write?precision=h stores the point near 1970, silently."""
    resp = api("POST", "/write", params={"db": "default", "precision": "h"}, data="m v=1 438000\n")
    assert resp.status_code == 204
    answer = api("GET", "/query", params={"db": "default", "q": "SELECT * FROM m", "epoch": "ns"}).json()
    assert answer["results"][0]["series"][0]["values"] == [[438000, 1]]
    assert api("POST", "/write", params={"db": "nodb"}, data="m v=1").json() == {
        "code": "not found",
        "message": "no dbrp mapping found",
    }
    assert api("GET", "/write", params={"db": "default"}).status_code == 405


def test_query_statement_errors_are_in_band(api):
    q = 'CREATE DATABASE "x"'
    answer = api("GET", "/query", params={"q": q}).json()
    assert answer == {"results": [{"statement_id": 0, "error": "not implemented: CREATE DATABASE"}]}
    answer = api("GET", "/query", params={"q": "SELECT * FROM m", "db": "nodb"}).json()
    assert answer["results"][0]["error"] == "database not found: nodb"
    answer = api("GET", "/query", params={"q": "SELECT * FROM m"}).json()
    assert answer["results"][0]["error"] == "database name required"
    resp = api("GET", "/query", params={"q": "FOO", "db": "default"})
    assert resp.status_code == 400
    assert resp.json()["message"].startswith("failed to parse query: found FOO")


def test_query_legacy_credentials(v2_server):
    url = v2_server.url + "/query"
    resp = requests.get(url, params={"q": "SHOW DATABASES"}, auth=("root", "root"))
    assert resp.status_code == 401
    assert resp.json() == {"code": "unauthorized", "message": "Unauthorized"}
    ok = requests.get(url, params={"q": "SHOW DATABASES", "u": "anyone", "p": v2_server.token})
    assert ok.status_code == 200
    bearer = requests.get(
        url, params={"q": "SHOW DATABASES"}, headers={"Authorization": "Bearer " + v2_server.token}
    )
    assert bearer.status_code == 401


def test_query_resolves_rp_and_rewrites_sources(api):
    week = make_bucket(api, "db2/week")
    auto = make_bucket(api, "db2")
    params = {"org": api.server.org}
    api("POST", "/api/v2/write", params=dict(params, bucket=week["id"]), data="m v=1 1")
    api("POST", "/api/v2/write", params=dict(params, bucket=auto["id"]), data="m v=2 2")
    q = 'SELECT v FROM "db2"."week"."m"; SELECT v FROM m; SELECT v FROM week.m'
    answer = api("GET", "/query", params={"q": q, "db": "db2", "epoch": "ns"}).json()
    values = [r["series"][0]["values"] for r in answer["results"]]
    assert values == [[[1, 1]], [[2, 2]], [[1, 1]]]
    rps = api("GET", "/query", params={"q": "SHOW RETENTION POLICIES ON db2"}).json()
    assert sorted(rps["results"][0]["series"][0]["values"]) == [
        ["autogen", "0s", "168h0m0s", 1, True],
        ["week", "0s", "168h0m0s", 1, False],
    ]


def test_chunked_query_streams_lines(api):
    api(
        "POST",
        "/api/v2/write",
        params={"org": api.server.org, "bucket": "default"},
        data="\n".join(f"m v={i} {i}" for i in range(1, 6)),
    )
    resp = api(
        "GET",
        "/query",
        params={"q": "SELECT v FROM m", "db": "default", "chunked": "true", "chunk_size": "2"},
        stream=True,
    )
    lines = [json.loads(line) for line in resp.iter_lines() if line]
    assert [len(doc["results"][0]["series"][0]["values"]) for doc in lines] == [2, 2, 1]
    assert lines[0]["results"][0]["partial"] is True


def test_delete_predicates(api):
    params = {"org": api.server.org, "bucket": "default"}
    api("POST", "/api/v2/write", params=params, data="m,host=a v=1 1\nm,host=b v=2 2\nn v=3 3")
    window = {"start": "1970-01-01T00:00:00Z", "stop": "2030-01-01T00:00:00Z"}
    resp = api(
        "POST", "/api/v2/delete", params=params, json=dict(window, predicate='_measurement="m" AND host="a"')
    )
    assert resp.status_code == 204
    assert count(api, "default") == 1 and count(api, "default", "n") == 1
    for predicate, status, start in [
        ('host="a" OR host="b"', 400, "error decoding json body: the logical operator OR"),
        ("host='a'", 400, 'error decoding json body: bad tag value: "a"'),
        ('_field="v"', 501, "delete by field is not supported"),
    ]:
        resp = api("POST", "/api/v2/delete", params=params, json=dict(window, predicate=predicate))
        assert resp.status_code == status and resp.json()["message"].startswith(start), resp.text
    resp = api("POST", "/api/v2/delete", params=params, json={"start": "yesterday", "stop": window["stop"]})
    assert resp.status_code == 400 and "invalid RFC3339Nano for field start" in resp.json()["message"]


def test_limited_token_permissions(api):
    bucket = make_bucket(api, "ro")
    perms = [
        {"action": "read", "resource": {"type": "buckets", "id": bucket["id"], "orgID": api.server.org_id}}
    ]
    auth = api("POST", "/api/v2/authorizations", json={"orgID": api.server.org_id, "permissions": perms})
    assert auth.status_code == 201
    conforms(auth.json(), "Authorization")
    reader = Api(api.server, auth.json()["token"])
    resp = reader("POST", "/api/v2/write", params={"org": api.server.org, "bucket": "ro"}, data="m v=1")
    assert resp.status_code == 403
    assert resp.json() == {"code": "forbidden", "message": "insufficient permissions for write"}


def test_reset_forgets_everything_but_setup(v2_server, api):
    make_bucket(api, "temporary")
    v2_server.reset()
    names = [b["name"] for b in api("GET", "/api/v2/buckets").json()["buckets"]]
    assert sorted(names) == ["_monitoring", "_tasks", "default"]
    assert v2_server.requests[-1].path == "/api/v2/buckets"


def test_official_v2_client_works_against_it(v2_server):
    """influxdb-client (the official 2.x client) writes, manages buckets and DBRPs without error."""
    try:
        import influxdb_client
    except ImportError as exc:  # pragma: no cover
        raise RuntimeError("this test needs the official client: pip install influxdb-client") from exc
    from influxdb_client.client.write_api import SYNCHRONOUS
    from influxdb_client.domain.dbrp_create import DBRPCreate
    from influxdb_client.service.dbr_ps_service import DBRPsService

    with influxdb_client.InfluxDBClient(
        url=v2_server.url, token=v2_server.token, org=v2_server.org
    ) as client:
        buckets = client.buckets_api()
        bucket = buckets.create_bucket(bucket_name="official", org=v2_server.org)
        assert buckets.find_bucket_by_name("official").id == bucket.id
        DBRPsService(client.api_client).post_dbrp(
            DBRPCreate(
                org_id=v2_server.org_id,
                bucket_id=bucket.id,
                database="officialdb",
                retention_policy="autogen",
                default=True,
            )
        )
        write = client.write_api(write_options=SYNCHRONOUS)
        write.write(
            bucket="official",
            record=[
                influxdb_client.Point("cpu").tag("host", "a").field("v", 1.5).time(10**18),
                "cpu,host=b v=2.5 1000000000000000001",
            ],
        )
        orgs = client.organizations_api().find_organizations()
        assert [o.name for o in orgs] == [v2_server.org]
    answer = requests.get(
        v2_server.url + "/query",
        params={"db": "officialdb", "q": "SELECT * FROM cpu"},
        headers={"Authorization": "Token " + v2_server.token},
    ).json()
    assert answer["results"][0]["series"][0]["values"] == [
        ["2001-09-09T01:46:40Z", "a", 1.5],
        ["2001-09-09T01:46:40.000000001Z", "b", 2.5],
    ]
