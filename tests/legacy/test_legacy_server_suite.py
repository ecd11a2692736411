"""influxdb-python 5.3.2's own server tests, run through influx_compat on the project's test servers.

``influxdb/tests/server_tests/client_test_with_server.py`` (with its ``base.py``) comes from the same
PyPI sdist as the unit suites of ``test_legacy_suites.py``, with the same aliasing conftest
(``influxdb`` is ``influx_compat``).  5.3.2's ``InfluxDbInstance``, which starts a fresh 1.x ``influxd``
per test class, is replaced by a generated one that hands out the child run's test server instead:
``V2TestServer()`` (InfluxDB 2.x) or ``V3TestServer(flavour="core")`` (InfluxDB 3 Core), started once
per child run and reset for every instance (so each test class, and each ``SingleTestCase`` test, sees a
fresh server); its port is ``http_port`` and its token (plus org on 2.x) is in the environment, so that
5.3.2's ``InfluxDBClient('localhost', port, 'root', '', database='db')`` authenticates.  The suite's
code is not changed; only its ``time.sleep`` calls (up to 5 s after a write, for 1.x's UDP listener)
return at once.  The table of tests left out, with reasons, is docs/legacy-server-suite.md.
"""

import os
import re
import subprocess
import sys
import textwrap

import pytest

from .test_legacy_suites import legacy_tests_dir  # noqa: F401  (the sdist download + aliasing conftest)

SUITE = "legacy_tests/server_tests/client_test_with_server.py"

# Tests 5.3.2 itself marks @unittest.skip (broken since InfluxDB 0.9): they are reported as skipped,
# and nothing else may be.
SKIPPED_BY_5_3_2 = {
    f"{cls}::{test}"
    for cls in ("SimpleTests", "GzipSimpleTests")
    for test in ("test_revoke_admin_privileges",)
} | {
    f"{cls}::{test}"
    for cls in ("CommonTests", "GzipCommonTests")
    for test in (
        "test_write_points_check_read_DF",
        "test_write_multiple_points_different_series_DF",
        "test_query_chunked",
    )
}

# Tests left out per server generation, each for what that server cannot do; everything else must pass.
# SimpleTests, CommonTests and UdpTests run again as GzipSimpleTests, GzipCommonTests and GzipUdpTests:
# a test left out is left out in both.
_NO_CQ = "{} has no continuous queries: create_continuous_query raises UnsupportedOperationError"
_NO_USERS = (
    "InfluxDB 3 has no InfluxQL users or privileges: create_user/drop_user/grant/revoke raise "
    "UnsupportedOperationError (authenticate with a token instead)"
)
_NO_SHARDS = (
    "InfluxDB 3 has no shard groups and no replication: shard_duration and replication are not "
    "kept; the policy lists 1.x's default shard group duration for its duration and replicaN 1"
)
_SHORT_PASSWORD = (
    "2.x refuses v1 passwords shorter than 8 bytes (the test uses {}): create_user raises "
    "PasswordRejectedError before anything is created"
)
_LEFT_OUT = {
    "v2": {
        **{
            f"SimpleTests::{test}": _SHORT_PASSWORD.format(password)
            for test, password in [
                ("test_create_user_blank_password", "''"),
                ("test_get_list_users", "'test'"),
                ("test_drop_user", "'test'"),
                ("test_grant_privilege", "'test'"),
                ("test_grant_privilege_invalid", "'test'"),
                ("test_revoke_privilege", "'test'"),
                ("test_revoke_privilege_invalid", "'test'"),
            ]
        },
        "SimpleTests::test_fresh_server_no_db": (
            "a 2.x server always has its onboarding bucket ('default' here), which lists as a database"
        ),
        "SimpleTests::test_create_database": (
            "expects exactly the two new databases; the 2.x onboarding bucket 'default' lists too"
        ),
        "SimpleTests::test_drop_database": (
            "expects exactly one database left; the 2.x onboarding bucket 'default' lists too"
        ),
        "CommonTests::test_alter_retention_policy": (
            "2.x buckets have no replication factor: alter replication=4 is not kept, replicaN stays 1"
        ),
        "CommonTests::test_create_continuous_query": _NO_CQ.format("InfluxDB 2.x"),
        "CommonTests::test_drop_continuous_query": _NO_CQ.format("InfluxDB 2.x"),
    },
    "core": {
        "SimpleTests::test_create_user": _NO_USERS,
        "SimpleTests::test_create_user_admin": _NO_USERS,
        "SimpleTests::test_create_user_blank_password": _NO_USERS,
        "SimpleTests::test_get_list_users": _NO_USERS,
        "SimpleTests::test_drop_user": _NO_USERS,
        "SimpleTests::test_drop_user_nonexisting": _NO_USERS + "; 5.3.2 expects 'user not found'",
        "SimpleTests::test_grant_privilege": _NO_USERS,
        "SimpleTests::test_grant_privilege_invalid": _NO_USERS + " (it creates its user first)",
        "SimpleTests::test_revoke_privilege": _NO_USERS,
        "SimpleTests::test_revoke_privilege_invalid": _NO_USERS + " (it creates its user first)",
        "SimpleTests::test_query_fail_ignore_errors": (
            "3.x's in-band error is 'Cannot retrieve database: External error: database not found: db'; "
            "5.3.2 compares the whole text with 1.x's 'database not found: db'"
        ),
        "CommonTests::test_create_retention_policy": _NO_SHARDS,
        "CommonTests::test_alter_retention_policy": _NO_SHARDS,
        "CommonTests::test_create_continuous_query": _NO_CQ.format("InfluxDB 3"),
        "CommonTests::test_drop_continuous_query": _NO_CQ.format("InfluxDB 3"),
    },
}


def _expand(table):
    out = {}
    for test, reason in table.items():
        cls, name = test.split("::")
        out[test] = reason
        out[f"Gzip{cls}::{name}"] = reason
    return out


DESELECTED = {generation: _expand(table) for generation, table in _LEFT_OUT.items()}

SERVER_CONFTEST = textwrap.dedent(
    '''
    """5.3.2's InfluxDbInstance replaced by a project test server (written by test_legacy_server_suite)."""
    import os
    import socket
    import sys
    import time
    import types

    import pytest

    import legacy_tests.server_tests as _package

    GENERATION = os.environ["LEGACY_SERVER_GENERATION"]
    _running = []


    def _server():
        """The child run's test server, started on first use; its token goes into the environment."""
        if not _running:
            from influx_compat import testing

            if GENERATION == "v2":
                server = testing.V2TestServer()
            else:
                server = testing.V3TestServer(flavour=GENERATION)
            server.start()
            _running.append(server)
            os.environ.update(server.env())
        return _running[0]


    def _free_udp_port():
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]


    class InfluxDbInstance(object):
        """Stands for 5.3.2's fresh influxd: the shared test server, reset to just after its setup."""

        def __init__(self, conf_template, udp_enabled=False):
            server = _server()
            server.reset()
            self.server = server
            self.http_port = server.port
            # Neither 2.x nor 3.x listens on UDP: the shim sends use_udp writes over HTTP (with a warning).
            self.udp_port = _free_udp_port() if udp_enabled else -1

        def close(self, remove_tree=True):
            pass


    _instance = types.ModuleType("legacy_tests.server_tests.influxdb_instance")
    _instance.InfluxDbInstance = InfluxDbInstance
    _package.influxdb_instance = _instance
    sys.modules["legacy_tests.server_tests.influxdb_instance"] = _instance
    sys.modules["influxdb.tests.server_tests"] = _package
    sys.modules["influxdb.tests.server_tests.influxdb_instance"] = _instance


    class _NoWait(object):
        """The test module's ``time``, whose sleep does not wait: 5.3.2 sleeps up to 5 s after its writes
        for a 1.x UDP listener to ingest; the shim writes over HTTP and both test servers answer
        reads as soon as the write is answered."""

        def __getattr__(self, name):
            return getattr(time, name)

        @staticmethod
        def sleep(seconds):
            pass


    @pytest.fixture(autouse=True)
    def _no_waiting_for_1x(request, monkeypatch):
        module = sys.modules[request.cls.__module__] if request.cls else request.module
        monkeypatch.setattr(module, "time", _NoWait())


    def pytest_sessionfinish(session, exitstatus):
        while _running:
            _running.pop().stop()
    '''
)

# Configuration the shim would otherwise read from the parent's environment or home directory, and
# 5.3.2's switch that skips every server test.
_FOREIGN_ENV = (
    "INFLUX_HOST",
    "INFLUX_TOKEN",
    "INFLUX_ORG",
    "INFLUX_ORG_ID",
    "INFLUXDB_V2_URL",
    "INFLUXDB_V2_TOKEN",
    "INFLUXDB_V2_ORG",
    "INFLUX_CONFIGS_PATH",
    "INFLUX_ACTIVE_CONFIG",
    "INFLUX_COMPAT_FLAVOUR",
    "INFLUX_COMPAT_VERIFY_SSL",
    "INFLUXDB_PYTHON_SKIP_SERVER_TESTS",
)


@pytest.mark.parametrize("generation", sorted(DESELECTED, reverse=True))
def test_influxdb_python_server_suite_passes(legacy_tests_dir, generation, tmp_path):  # noqa: F811
    suite = legacy_tests_dir / SUITE
    assert suite.exists(), f"{SUITE} is not in influxdb 5.3.2's sdist"
    (suite.parent / "conftest.py").write_text(SERVER_CONFTEST)
    deselect = [f"{SUITE}::{test}" for test in sorted(DESELECTED[generation])]
    env = {k: v for k, v in os.environ.items() if k not in _FOREIGN_ENV}
    env.update(HOME=str(tmp_path), LEGACY_SERVER_GENERATION=generation, LEGACY_DESELECT=",".join(deselect))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-v",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore",
            f"--rootdir={legacy_tests_dir}",
            str(suite),
        ],
        cwd=legacy_tests_dir,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    out = proc.stdout
    assert "EngineNotFoundError" not in out, "\n".join(
        line for line in out.splitlines() if "EngineNotFoundError" in line
    )[:2000]
    assert proc.returncode == 0, out[-12000:] + proc.stderr[-2000:]
    last = out.splitlines()[-1]
    print(f"{generation}: {last}")
    assert " passed" in last, out[-3000:]
    # every test left out exists (a renamed test must not slip through)
    assert f"{len(deselect)} deselected" in last, out[-3000:]
    # nothing is skipped but the tests 5.3.2 itself skips
    skipped = set(re.findall(r"::(\w+::\w+) SKIPPED", out))
    assert skipped == SKIPPED_BY_5_3_2, sorted(skipped ^ SKIPPED_BY_5_3_2)
