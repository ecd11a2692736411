"""``influx-compat doctor``: every check against the test servers, in a working configuration and broken."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys

import pytest

from influx_compat import InfluxDBClient
from influx_compat._doctor import FAIL, INFO, OK, SKIP, Doctor, main
from influx_compat.testing import V2TestServer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def doctor(*args: str):
    out = io.StringIO()
    status = main(list(args), out=out)
    return status, out.getvalue()


def checks(*databases: str):
    return {c.name: c for c in Doctor(databases).run()}


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_working_v2_configuration_passes_every_check(v2_env):
    InfluxDBClient().create_database("sensors")
    status, out = doctor("sensors")
    assert status == 0, out
    lines = out.splitlines()
    assert lines[0] == "[ok]   settings: where each setting came from:"
    assert f"         URL {v2_env.url} from the environment variable INFLUX_HOST" in lines
    assert (
        f"         token ({len(v2_env.token)} characters) from the environment variable INFLUX_TOKEN" in lines
    )
    assert "         org 'test-org' from the environment variable INFLUX_ORG" in lines
    assert "         flavour read from the server's answers" in lines
    assert f"[ok]   server: {v2_env.url} answers (GET /ping: 204)" in lines
    assert (
        "[ok]   version: InfluxDB 2.x v2.7.10, from X-Influxdb-Build: OSS, X-Influxdb-Version: v2.7.10"
        in lines
    )
    assert (
        "[ok]   token: InfluxDB 2.x accepts a v2 API token from the environment variable INFLUX_TOKEN"
        in lines
    )
    assert (
        f"[ok]   org: 'test-org' from the environment variable INFLUX_ORG found (ID {v2_env.org_id})" in lines
    )
    assert "[ok]   database 'sensors': sensors/autogen -> bucket 'sensors' (default)" in lines
    assert "[ok]   /query: answers (SHOW DATABASES)" in lines
    assert "[ok]   /write: answers (an empty write without a database: 400 missing db)" in lines
    assert lines[-1] == "no check failed"
    assert v2_env.token not in out
    # Read-only: no write reached a bucket, nothing was created.
    assert not [r for r in v2_env.requests if r.method in ("PUT", "PATCH", "DELETE")]
    assert [r.path for r in v2_env.requests if r.method == "POST"][-1:] == ["/write"]
    assert InfluxDBClient().get_list_database() == [{"name": "default"}, {"name": "sensors"}]


def test_wrong_token(v2_env, monkeypatch):
    monkeypatch.setenv("INFLUX_TOKEN", "not-the-token")
    status, out = doctor("default")
    assert status == 1
    assert (
        "[FAIL] token: InfluxDB 2.x refused a v2 API token from the environment variable INFLUX_TOKEN "
        "(401 unauthorized access)\n"
        "       fix: set INFLUX_TOKEN to an API token of this server (influx auth list; influx auth create "
        "--all-access), and INFLUX_ORG to its organization"
    ) in out
    assert "[skip] org: needs a token the server accepts (the v2 API)" in out
    assert "[skip] database 'default': needs a token the server accepts" in out
    assert out.splitlines()[-1] == "3 check(s) failed: token, /query, /write"


def test_wrong_org_names_the_ones_the_token_can_read(v2_env, monkeypatch):
    monkeypatch.setenv("INFLUX_ORG", "other-org")
    found = checks("default")
    assert found["org"].status == FAIL
    assert found["org"].detail == (
        "'other-org' from the environment variable INFLUX_ORG is not an org the token can read "
        "(it can read: 'test-org')"
    )
    assert found["org"].fix.endswith("e.g. INFLUX_ORG=test-org")
    assert found["database 'default'"].status == SKIP
    assert found["token"].status == OK


def test_no_org_set_uses_the_only_one(v2_env, monkeypatch):
    monkeypatch.delenv("INFLUX_ORG")
    found = checks("default")
    assert found["org"].status == OK
    assert found["org"].detail == "none set: the only org the token can read, 'test-org', is used"
    assert found["database 'default'"].status == OK


def test_org_given_by_id(v2_env, monkeypatch):
    monkeypatch.setenv("INFLUX_ORG", v2_env.org_id)
    found = checks()
    assert found["org"].status == OK and found["org"].detail.startswith(
        f"org ID {v2_env.org_id} ('test-org')"
    )
    assert found["databases"].status == INFO


def test_missing_database_and_a_database_with_two_retention_policies(v2_env):
    client = InfluxDBClient()
    client.create_database("weather")
    client.create_retention_policy("week", "7d", 1, database="weather", default=True)
    client.create_retention_policy("month", "30d", 1, database="weather")
    found = checks("nowhere", "weather")
    missing = found["database 'nowhere'"]
    assert missing.status == FAIL
    assert missing.detail == (
        "no DBRP mapping and no bucket named 'nowhere': writes and queries of 'nowhere' fail with "
        "'database not found'"
    )
    assert missing.fix == "create it: client.create_database('nowhere') (a bucket and its DBRP mapping)"
    weather = found["database 'weather'"]
    assert weather.status == OK
    assert "weather/week -> bucket 'weather/week' (default)" in weather.detail
    assert "weather/month -> bucket 'weather/month'" in weather.detail


def test_a_database_without_a_default_retention_policy(v2_env):
    """A bucket named db/rp alone is a virtual mapping that is not the default: 1.x calls without rp fail."""
    bucket = (
        InfluxDBClient()
        ._core.transport.request(
            "POST",
            "api/v2/buckets",
            data=json.dumps({"orgID": v2_env.org_id, "name": "orphan/week", "retentionRules": []}),
            headers={"Content-Type": "application/json"},
            expected=201,
        )
        .json()
    )
    found = checks("orphan")["database 'orphan'"]
    assert found.status == FAIL
    assert found.detail == (
        "orphan/week -> bucket 'orphan/week' (virtual): no default retention policy, so writes and queries "
        "without retention_policy= find no bucket"
    )
    assert found.fix == f"influx v1 dbrp create --db orphan --rp week --bucket-id {bucket['id']} --default"


def test_a_bucket_without_a_mapping_before_2_4(monkeypatch, tmp_path):
    """Before 2.4 a bucket named like the database is not a mapping: /query cannot find it."""
    with V2TestServer(version="2.3.0") as server:
        for name, value in server.env().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("HOME", str(tmp_path))
        found = checks(server.bucket)
    check = found[f"database {server.bucket!r}"]
    assert check.status == FAIL
    assert check.detail == (
        f"bucket {server.bucket!r} ({server.bucket_id}) exists but no DBRP mapping: /query cannot find "
        f"{server.bucket!r}"
    )
    assert check.fix.startswith(
        f"influx v1 dbrp create --db {server.bucket} --rp autogen --bucket-id {server.bucket_id} --default"
    )
    assert found["version"].detail.startswith("InfluxDB 2.x v2.3.0")


def test_server_down(v2_env, monkeypatch):
    port = closed_port()
    monkeypatch.setenv("INFLUX_HOST", f"http://127.0.0.1:{port}")
    status, out = doctor("default")
    assert status == 1
    assert (
        f"[FAIL] server: no answer from http://127.0.0.1:{port} (from the environment variable INFLUX_HOST): "
        "ConnectionError (Connection refused)\n"
        "       fix: start the server, or point INFLUX_HOST at it"
    ) in out
    for later in ("token", "org", "databases", "/query and /write"):
        assert f"[skip] {later}: http://127.0.0.1:{port} does not answer" in out
    assert out.splitlines()[-1] == "1 check(s) failed: server"


def test_a_1x_server_is_named_as_one(v2_env, monkeypatch):
    """The v2 test server's engine is a real influxd 1.x: a token there is a sign of the wrong URL."""
    monkeypatch.setenv("INFLUX_HOST", v2_env.engine_url)
    found = checks()
    assert found["version"].status == FAIL
    assert found["version"].detail.startswith("InfluxDB 1.")
    assert found["version"].detail.endswith(
        "is a 1.x server: influx_compat translates 1.x programs onto 2.x and 3"
    )
    assert "pip install influxdb==5.3.2" in found["version"].fix
    assert found["token"].status == SKIP


def test_no_token(v2_env, monkeypatch):
    monkeypatch.delenv("INFLUX_TOKEN")
    found = checks()
    assert found["settings"].status == "warn" and "no token" in found["settings"].detail
    assert found["token"].status == FAIL
    # Without a token the client sends influxdb-python's default user as HTTP Basic, as 5.3.2 did.
    assert found["token"].detail == (
        "InfluxDB 2.x refused influxdb-python's default user root/root, which is not a credential on 2.x "
        "(401 Unauthorized)"
    )


def test_v3_core_working_and_missing_database(v3_env):
    InfluxDBClient().create_database("metrics")
    InfluxDBClient().create_retention_policy("hot", "1d", 1, database="metrics")
    found = checks("metrics", "absent")
    assert found["version"].status == OK
    assert found["version"].detail == "InfluxDB 3 Core 3.10.0, from X-Influxdb-Build: Core"
    assert found["token"].status == OK
    assert "org" not in found
    assert found["database 'metrics'"].status == OK
    assert found["database 'metrics'"].detail == "present (retention policies as databases: metrics/hot)"
    absent = found["database 'absent'"]
    assert absent.status == FAIL
    assert absent.detail == "not on the server (its databases: metrics, metrics/hot)"
    assert "influxdb3 create database absent" in absent.fix
    assert found["/query"].status == OK and found["/write"].status == OK
    # The empty write named no database: nothing was created.
    assert sorted(v3_env.catalog.databases) == ["_internal", "metrics", "metrics/hot"]


def test_v3_core_wrong_token(v3_env, monkeypatch):
    monkeypatch.setenv("INFLUX_TOKEN", "apiv3_wrong")
    found = checks("metrics")
    assert found["version"].status == OK
    assert found["version"].detail.startswith("InfluxDB 3 Core (version not shown")
    assert found["token"].status == FAIL
    assert "(401 the request was not authenticated)" in found["token"].detail
    assert "influxdb3 create token --admin" in found["token"].fix
    assert found["database 'metrics'"].status == SKIP


def test_v3_org_is_reported_as_unused(v3_env, monkeypatch):
    monkeypatch.setenv("INFLUX_ORG", "my-org")
    found = checks()
    assert found["org"].status == INFO
    assert found["org"].detail == (
        "InfluxDB 3 Core has no organizations: 'my-org' from the environment variable INFLUX_ORG is not used"
    )


def test_dedicated_database_present_and_missing(v3_dedicated_server, monkeypatch, tmp_path):
    for name, value in v3_dedicated_server.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    v3_dedicated_server.create_database("fleet")
    found = checks("fleet", "gone")
    assert (
        found["version"].detail
        == "InfluxDB Cloud Dedicated 3.10.0, from /ping saying cloud2 and no /api/v2/orgs"
    )
    assert found["token"].status == OK
    assert found["database 'fleet'"].status == OK
    assert found["database 'gone'"].status == FAIL
    assert "influxctl database create gone" in found["database 'gone'"].fix
    assert found["management"].status == OK
    assert found["management"].detail == "the Management API accepts the management token (databases: fleet)"
    monkeypatch.setenv("INFLUX_TOKEN", "wrong")
    monkeypatch.setenv("INFLUX_MANAGEMENT_TOKEN", "wrong-too")
    broken = checks("fleet")
    assert broken["token"].status == FAIL
    assert broken["management"].status == FAIL
    assert broken["management"].detail.startswith("the Management API refused the management token")
    assert "influxctl management create" in broken["management"].fix


def test_flavour_setting_that_contradicts_the_server(v2_env, monkeypatch):
    monkeypatch.setenv("INFLUX_COMPAT_FLAVOUR", "serverless")
    found = checks()
    assert found["version"].status == "warn"
    assert "INFLUX_COMPAT_FLAVOUR=v2" in found["version"].fix


def test_an_unknown_flavour_is_a_failed_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("INFLUX_COMPAT_FLAVOUR", "v9")
    found = checks()
    assert found["settings"].status == FAIL
    assert "unknown InfluxDB flavour 'v9' from the environment variable INFLUX_COMPAT_FLAVOUR" in (
        found["settings"].detail
    )
    assert found["server"].status == SKIP


def test_launcher_check_with_and_without_influxdb_python(monkeypatch, tmp_path):
    installed = tmp_path / "site"
    (installed / "influxdb").mkdir(parents=True)
    (installed / "influxdb" / "__init__.py").write_text("")
    (installed / "influxdb-5.3.2.dist-info").mkdir()
    (installed / "influxdb-5.3.2.dist-info" / "METADATA").write_text("Name: influxdb\nVersion: 5.3.2\n")
    monkeypatch.setattr(sys, "path", [str(installed)])
    found = Doctor()
    found.check_launcher()
    launcher = found.checks[-1]
    assert launcher.status == INFO
    assert launcher.detail == (
        f"influxdb-python 5.3.2 is installed ({installed / 'influxdb' / '__init__.py'}): python -m "
        "influx_compat run and influx_compat.install() shadow it, so `import influxdb` gives influx_compat "
        "in that program only; programs run without them keep influxdb-python"
    )
    monkeypatch.setattr(sys, "path", [str(tmp_path / "empty")])
    alone = Doctor()
    alone.check_launcher()
    assert alone.checks[-1].status == OK
    assert alone.checks[-1].detail.startswith("influxdb-python is not installed")


@pytest.mark.parametrize("args", [["doctor", "default"], ["doctor", "--org", "nope", "default"]])
def test_the_command_line_exit_status(v2_env, args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(
        [sys.executable, "-m", "influx_compat", *args], capture_output=True, text=True, timeout=120, env=env
    )
    if "nope" in args:
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert "[FAIL] org: 'nope' from the org= argument" in proc.stdout
    else:
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert proc.stdout.splitlines()[-1] == "no check failed"
    assert v2_env.token not in proc.stdout + proc.stderr
