"""Test servers: InfluxDB 2.x's API, and InfluxDB 3's, over a real InfluxQL engine.

No InfluxDB 2.x binary is needed: the control plane (orgs, buckets, tokens,
DBRP mappings, v1 authorizations, users, delete, tasks) is emulated in Python
with 2.x's status codes and error bodies, over Debian's ``influxd`` 1.x (2.x's
InfluxQL is that engine), which stores and queries the points::

    from influx_compat.testing import V2TestServer

    with V2TestServer() as srv:
        client = InfluxDBClient(url=srv.url, token=srv.token, org=srv.org)

:class:`V3TestServer` does the same for InfluxDB 3 Core, Enterprise and Cloud
Dedicated (``flavour=``), with 3.x's catalog rules, errors and answer shapes.

Pytest users add ``pytest_plugins = ["influx_compat.testing.pytest_plugin"]``
for the fixtures ``v2_server_session``, ``v2_server``, ``v2_env`` and their
``v3_*`` counterparts; ``python -m influx_compat.testing [--flavour ...]``
serves one until Ctrl-C.

However a server ends (``stop()``, the ``with`` block, interpreter exit, its
Python killed by any signal, ``kill -9`` included), its engine stops and its
temporary files go: the engine runs under a small keeper process that cleans up
when the pipe from the server's Python closes.  The library installs no signal
handler; the CLI handles SIGTERM, SIGINT and SIGHUP and stops with its parent.
"""

from __future__ import annotations

from influx_compat.testing._engine import EngineNotFoundError
from influx_compat.testing._http import RequestRecord
from influx_compat.testing._v2_testserver import V2TestServer
from influx_compat.testing._v3_testserver import V3TestServer

__all__ = ["V2TestServer", "V3TestServer", "EngineNotFoundError", "RequestRecord"]
