"""influxdb-python 5.3.2's own unit tests, run unchanged against influx_compat.

The 5.3.2 source distribution is downloaded from PyPI at test time into a
temporary directory (nothing of it is committed); its ``influxdb/tests``
package runs in a child pytest with ``influxdb`` aliased to ``influx_compat``
by a generated ``conftest.py``.
"""

import glob
import os
import subprocess
import sys
import tarfile
import textwrap

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Files of influxdb/tests that must pass unchanged.
LEGACY_FILES = [
    "test_line_protocol.py",
    "resultset_test.py",
    "chunked_json_test.py",
    "helper_test.py",
]

ALIASING_CONFTEST = textwrap.dedent(
    """
    import importlib
    import sys
    import unittest
    import unittest.mock

    sys.path.insert(0, {root!r})
    import influx_compat

    sys.modules["influxdb"] = influx_compat
    for sub in ("client", "resultset", "line_protocol", "exceptions", "helper", "chunked_json",
                "dataframe_client"):
        try:
            sys.modules["influxdb." + sub] = importlib.import_module("influx_compat." + sub)
        except ImportError:  # dataframe_client without pandas
            pass
    sys.modules.setdefault("mock", unittest.mock)  # 5.3.2's tests use the 'mock' backport
    if not hasattr(unittest.TestCase, "assertEquals"):  # removed in Python 3.12
        unittest.TestCase.assertEquals = unittest.TestCase.assertEqual
        unittest.TestCase.assertRaisesRegexp = unittest.TestCase.assertRaisesRegex
    import legacy_tests

    sys.modules["influxdb.tests"] = legacy_tests
    """
)


@pytest.fixture(scope="session")
def legacy_tests_dir(tmp_path_factory):
    """influxdb-python 5.3.2's tests package, from its PyPI sdist, with the aliasing conftest."""
    work = tmp_path_factory.mktemp("influxdb-5.3.2")
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
         "--disable-pip-version-check", "-q", "-d", str(work), "influxdb==5.3.2"],
        capture_output=True, text=True, timeout=300,
    )
    archives = glob.glob(str(work / "influxdb-5.3.2.tar.gz"))
    assert proc.returncode == 0 and archives, (
        "could not download influxdb==5.3.2's sdist from PyPI (needed to run its own tests):\n"
        + proc.stdout + proc.stderr
    )
    with tarfile.open(archives[0]) as tar:
        members = [m for m in tar.getmembers() if "/influxdb/tests/" in m.name and m.isfile()]
        for member in members:
            member.name = "legacy_tests/" + member.name.split("/influxdb/tests/", 1)[1]
            if hasattr(tarfile, "data_filter"):  # Python 3.12+ warns without a filter
                tar.extract(member, work, filter="data")
            else:
                tar.extract(member, work)
    (work / "conftest.py").write_text(ALIASING_CONFTEST.format(root=ROOT))
    return work


@pytest.mark.parametrize("name", LEGACY_FILES)
def test_influxdb_python_suite_passes(legacy_tests_dir, name):
    path = legacy_tests_dir / "legacy_tests" / name
    assert path.exists(), f"{name} is not in influxdb 5.3.2's sdist"
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore",
         f"--rootdir={legacy_tests_dir}", str(path)],
        cwd=legacy_tests_dir, capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout[-5000:] + proc.stderr[-2000:]
    assert " passed" in proc.stdout.splitlines()[-1]
