"""Pytest fixtures for the v2 and InfluxDB 3 test servers.

Add ``pytest_plugins = ["influx_compat.testing.pytest_plugin"]`` to a
``conftest.py``.  v2: ``v2_server_session``, ``v2_server``, ``v2_env``.
InfluxDB 3: ``v3_server_session``, ``v3_server``, ``v3_env`` (Core), and
``v3_enterprise_server``, ``v3_dedicated_server`` (each over its own session
server).  Function fixtures hand the server back reset.  A missing engine
fails the tests that need it, with the command that installs it; nothing is
skipped silently.
"""

from __future__ import annotations

from typing import Iterator, TypeVar

import pytest

from influx_compat.testing import V2TestServer, V3TestServer

__all__ = [
    "v2_server_session",
    "v2_server",
    "v2_env",
    "v3_server_session",
    "v3_server",
    "v3_env",
    "v3_enterprise_server_session",
    "v3_enterprise_server",
    "v3_dedicated_server_session",
    "v3_dedicated_server",
]

_ENV_NAMES = (
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
    "INFLUX_MANAGEMENT_TOKEN",
    "INFLUX_ACCOUNT_ID",
    "INFLUX_CLUSTER_ID",
    "INFLUX_MANAGEMENT_URL",
)


S = TypeVar("S", V2TestServer, V3TestServer)


def _served(server: S) -> Iterator[S]:
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _with_env(server: S, monkeypatch: pytest.MonkeyPatch, home: object) -> S:
    """The server's environment set, every other client setting cleared, HOME an empty folder."""
    for name in _ENV_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    for name, value in server.env().items():
        monkeypatch.setenv(name, value)
    return server


@pytest.fixture(scope="session")
def v2_server_session() -> Iterator[V2TestServer]:
    """One started v2 test server for the whole session."""
    yield from _served(V2TestServer())


@pytest.fixture
def v2_server(v2_server_session: V2TestServer) -> V2TestServer:
    """The session's server, reset to its just-onboarded state."""
    v2_server_session.reset()
    return v2_server_session


@pytest.fixture
def v2_env(v2_server: V2TestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> V2TestServer:
    """``v2_server`` with INFLUX_HOST, INFLUX_TOKEN and INFLUX_ORG set (other config cleared)."""
    return _with_env(v2_server, monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def v3_server_session() -> Iterator[V3TestServer]:
    """One started InfluxDB 3 Core test server for the whole session."""
    yield from _served(V3TestServer("core"))


@pytest.fixture
def v3_server(v3_server_session: V3TestServer) -> V3TestServer:
    """The session's Core server, reset (no user databases, no recorded requests)."""
    v3_server_session.reset()
    return v3_server_session


@pytest.fixture
def v3_env(v3_server: V3TestServer, monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> V3TestServer:
    """``v3_server`` with INFLUX_HOST and INFLUX_TOKEN set (other config cleared)."""
    return _with_env(v3_server, monkeypatch, tmp_path)


@pytest.fixture(scope="session")
def v3_enterprise_server_session() -> Iterator[V3TestServer]:
    """One started InfluxDB 3 Enterprise test server for the whole session."""
    yield from _served(V3TestServer("enterprise"))


@pytest.fixture
def v3_enterprise_server(v3_enterprise_server_session: V3TestServer) -> V3TestServer:
    v3_enterprise_server_session.reset()
    return v3_enterprise_server_session


@pytest.fixture(scope="session")
def v3_dedicated_server_session() -> Iterator[V3TestServer]:
    """One started Cloud Dedicated (data API) test server for the whole session."""
    yield from _served(V3TestServer("dedicated"))


@pytest.fixture
def v3_dedicated_server(v3_dedicated_server_session: V3TestServer) -> V3TestServer:
    v3_dedicated_server_session.reset()
    return v3_dedicated_server_session
