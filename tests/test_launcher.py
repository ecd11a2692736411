"""The launcher: ``import influxdb`` and its submodules resolve to influx_compat.

Each check runs in a fresh interpreter, because this test process has
influxdb-python itself imported (the signature tests compare against it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _python(code: str, *args: str, env=None, launcher=True, tmp_path=None) -> subprocess.CompletedProcess:
    script = os.path.join(str(tmp_path), "legacy.py")
    with open(script, "w") as f:
        f.write(textwrap.dedent(code))
    run_env = dict(os.environ, **(env or {}))
    run_env["PYTHONPATH"] = ROOT + os.pathsep + run_env.get("PYTHONPATH", "")
    command = [sys.executable] + (["-m", "influx_compat", "run"] if launcher else []) + [script, *args]
    return subprocess.run(command, env=run_env, capture_output=True, text=True, timeout=120)


def test_influxdb_and_its_submodules_are_ours(tmp_path):
    proc = _python(
        """
        import sys
        import influxdb
        from influxdb import InfluxDBClient, DataFrameClient, SeriesHelper
        from influxdb.exceptions import InfluxDBClientError, InfluxDBServerError
        from influxdb.client import InfluxDBClient as ClientFromModule
        from influxdb.resultset import ResultSet
        from influxdb.line_protocol import make_lines, quote_ident
        import influxdb.helper, influxdb.chunked_json
        import influx_compat, influx_compat.exceptions
        assert influxdb is influx_compat
        assert InfluxDBClient is ClientFromModule is influx_compat.InfluxDBClient
        assert InfluxDBClientError is influx_compat.exceptions.InfluxDBClientError
        assert influxdb.helper is influx_compat.helper
        assert make_lines({"points": [{"measurement": "m", "fields": {"v": 1}}]}) == "m v=1i\\n"
        print("argv", sys.argv[1:], "main", __name__)
    """,
        "one",
        "--two",
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "argv ['one', '--two'] main __main__" in proc.stdout


def test_without_the_launcher_influxdb_python_is_untouched(tmp_path):
    proc = _python(
        """
        import influxdb, influx_compat
        assert influxdb is not influx_compat
        print(influxdb.__file__)
    """,
        launcher=False,
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "influx_compat" not in proc.stdout


def test_install_in_code_and_unknown_submodules(tmp_path):
    proc = _python(
        """
        import influx_compat
        influx_compat.install()
        influx_compat.install()  # idempotent
        import influxdb
        assert influxdb is influx_compat
        try:
            import influxdb.tests
        except ImportError as exc:
            print("refused:", exc)
        influx_compat.uninstall()
        import influxdb
        assert influxdb is not influx_compat
    """,
        launcher=False,
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "refused: influxdb.tests has no counterpart in influx_compat" in proc.stdout


def test_the_0_8_client_imports_and_using_it_says_to_use_the_1_x_client(tmp_path):
    """A published 1.x program imports both clients in one try block and decides from an ImportError."""
    proc = _python(
        """
        try:
            from influxdb import InfluxDBClient
            from influxdb.influxdb08 import InfluxDBClient as InfluxDB08Client
        except ImportError:
            InfluxDB08Client = None
        print("found:", InfluxDB08Client is not None)
        import influxdb.exceptions
        import influxdb.influxdb08.client
        from influxdb.influxdb08 import DataFrameClient, SeriesHelper
        from influxdb.influxdb08.dataframe_client import DataFrameClient as DataFrameClientFromModule
        from influxdb.influxdb08.helper import SeriesHelper as SeriesHelperFromModule
        from influxdb.influxdb08.chunked_json import loads
        assert DataFrameClient is DataFrameClientFromModule and SeriesHelper is SeriesHelperFromModule
        assert list(loads('{"a": 1}{"b": 2}')) == [{"a": 1}, {"b": 2}]

        class Legacy08Helper(SeriesHelper):  # defining one works; using it does not
            class Meta:
                series_name = "events"
                columns = ["value"]

        attempts = [
            lambda: InfluxDB08Client("localhost", 8086, "root", "root", "db"),
            lambda: InfluxDB08Client.from_dsn("influxdb://localhost:8086/db"),
            lambda: DataFrameClient(),
            lambda: Legacy08Helper(value=1),
            lambda: Legacy08Helper.commit(),
        ]
        for attempt in attempts:
            try:
                attempt()
            except influxdb.exceptions.UnsupportedOperationError as exc:
                assert isinstance(exc, influxdb.exceptions.InfluxDBClientError)
                assert isinstance(exc, influxdb.influxdb08.client.InfluxDBClientError)
                print("refused:", exc)
            else:
                print("not refused")
        InfluxDBClient(host="localhost", port=8086)  # the 1.x client still constructs
    """,
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "found: True"
    refused = [line for line in lines[1:] if line.startswith("refused: ")]
    assert len(refused) == 5 and "not refused" not in lines
    for what, line in zip(
        [
            "InfluxDBClient",
            "InfluxDBClient.from_dsn",
            "DataFrameClient",
            "SeriesHelper",
            "SeriesHelper.commit",
        ],
        refused,
    ):
        assert line.startswith(
            f"refused: influxdb.influxdb08.{what} is influxdb-python's client for InfluxDB 0.8"
        )
        assert "does not exist on InfluxDB 2.x or 3" in line and "Use influxdb.InfluxDBClient" in line


def test_module_form_and_usage(tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + str(tmp_path) + os.pathsep + env.get("PYTHONPATH", "")
    (tmp_path / "legacy_mod.py").write_text("import influxdb, sys\nprint(influxdb.__name__, sys.argv[1:])\n")
    proc = subprocess.run(
        [sys.executable, "-m", "influx_compat", "run", "-m", "legacy_mod", "x"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "influx_compat ['x']"
    usage = subprocess.run([sys.executable, "-m", "influx_compat"], env=env, capture_output=True, text=True)
    assert usage.returncode == 2 and "usage: python -m influx_compat run SCRIPT" in usage.stdout


def test_legacy_script_writes_to_a_v2_server(tmp_path, v2_server):
    env = v2_server.env()
    proc = _python(
        """
        from influxdb import InfluxDBClient
        client = InfluxDBClient(host="localhost", port=8086)  # INFLUX_HOST from the environment wins
        client.create_database("legacy")
        client.write_points([{"measurement": "m", "fields": {"v": 1}, "time": 0}], database="legacy")
        print(list(client.query("SELECT * FROM m", database="legacy", epoch="s").get_points()))
    """,
        env=env,
        tmp_path=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[{'time': 0, 'v': 1}]"
    assert any(r.path == "/api/v2/write" for r in v2_server.requests)


def test_run_help_prints_the_usage_instead_of_running_a_script_named_help():
    proc = subprocess.run(
        [sys.executable, "-m", "influx_compat", "run", "--help"], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert "usage: python -m influx_compat run SCRIPT" in proc.stdout


def test_dataframe_client_without_pandas_says_what_to_install(tmp_path):
    """5.3.2's ImportError text, and the command that installs what is missing."""
    blocker = tmp_path / "sitecustomize.py"
    blocker.write_text(
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in ('pandas', 'numpy'):\n"
        "            raise ImportError(f'No module named {name!r}')\n"
        "sys.meta_path.insert(0, Block())\n"
    )
    code = (
        "import influx_compat\n"
        "try:\n"
        "    influx_compat.DataFrameClient()\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(tmp_path) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert "DataFrameClient requires Pandas" in proc.stdout, proc.stderr
    assert "pip install 'influx_compat[pandas]'" in proc.stdout
