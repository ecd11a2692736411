"""Pytest fixtures for the v2 test server.

Add ``pytest_plugins = ["influx_compat.testing.pytest_plugin"]`` to a
``conftest.py``.  A missing engine fails the tests that need it, with the
command that installs it; nothing is skipped silently.
"""

from __future__ import annotations

from typing import Iterator

import pytest

from influx_compat.testing import V2TestServer

__all__ = ["v2_server_session", "v2_server", "v2_env"]

_ENV_NAMES = ("INFLUX_HOST", "INFLUX_TOKEN", "INFLUX_ORG", "INFLUX_ORG_ID", "INFLUXDB_V2_URL",
              "INFLUXDB_V2_TOKEN", "INFLUXDB_V2_ORG", "INFLUX_CONFIGS_PATH", "INFLUX_ACTIVE_CONFIG")


@pytest.fixture(scope="session")
def v2_server_session() -> Iterator[V2TestServer]:
    """One started v2 test server for the whole session."""
    server = V2TestServer().start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def v2_server(v2_server_session: V2TestServer) -> V2TestServer:
    """The session's server, reset to its just-onboarded state."""
    v2_server_session.reset()
    return v2_server_session


@pytest.fixture
def v2_env(v2_server: V2TestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> V2TestServer:
    """``v2_server`` with INFLUX_HOST, INFLUX_TOKEN and INFLUX_ORG set (other config cleared)."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    for name, value in v2_server.env().items():
        monkeypatch.setenv(name, value)
    return v2_server
