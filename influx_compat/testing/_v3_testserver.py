"""The InfluxDB 3 test server: a 3.x front end over the real InfluxQL engine."""

from __future__ import annotations

import secrets
from typing import Dict, List, Optional

from influx_compat.testing._lifecycle import ServedEngine
from influx_compat.testing._v3_catalog import Catalog, Database, Limits
from influx_compat.testing._v3_http import FLAVOURS, V3Context
from influx_compat.testing._v3_server import V3App

__all__ = ["V3TestServer"]

_DEFAULT_VERSIONS = {"core": "3.10.0", "enterprise": "3.10.0", "dedicated": "3.10.0"}
_MAX_REQUEST_SIZE = 10 * 1024 * 1024  # influxdb3 serve --max-http-request-size default (10 MiB)


class V3TestServer(ServedEngine):
    """An InfluxDB 3 look-alike on 127.0.0.1 with one admin (or database) token.

    ``core`` and ``enterprise`` emulate InfluxDB 3 Core/Enterprise (``/api/v3``,
    the catalog, ``/ping`` answering 200 JSON behind the token); ``dedicated``
    emulates the data API of Cloud Dedicated/Clustered (``/write``,
    ``/api/v2/write``, ``/query``, an open ``/ping`` answering 204), whose
    databases are made with :meth:`create_database` or the emulated
    Management API (:attr:`management_token`, :attr:`account_id`,
    :attr:`cluster_id`).

    :param flavour: ``core``, ``enterprise`` or ``dedicated``
    :param token: the token (an ``apiv3_`` admin token is generated when None)
    :param port: HTTP port (0: a free one)
    :param max_databases: database limit (None: the flavour's, Core 5, Enterprise 100)
    :param max_tables: table limit (None: Core 2000 in all, Enterprise 10000, Dedicated 500 per database)
    :param max_columns: tag and field columns per table (None: 500, Dedicated 250)
    :param version: the version it reports (``X-Influxdb-Version``, the ping body)
    :param max_request_size: the request size limit in bytes (413 above it)
    """

    def __init__(
        self,
        flavour: str = "core",
        token: Optional[str] = None,
        port: int = 0,
        max_databases: Optional[int] = None,
        max_tables: Optional[int] = None,
        max_columns: Optional[int] = None,
        version: Optional[str] = None,
        max_request_size: int = _MAX_REQUEST_SIZE,
    ) -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"flavour must be one of {', '.join(FLAVOURS)}, not {flavour!r}")
        self.flavour = flavour
        defaults = Limits.for_flavour(flavour)
        self.limits = Limits(
            max_databases or defaults.databases,
            max_tables or defaults.tables,
            max_columns or defaults.columns,
            defaults.per_database,
        )
        self.token = token or "apiv3_" + secrets.token_urlsafe(64)
        super().__init__(port)
        self.version = version or _DEFAULT_VERSIONS[flavour]
        self.max_request_size = max_request_size
        self.management_token = secrets.token_urlsafe(32)
        self.account_id = secrets.token_hex(8)
        self.cluster_id = secrets.token_hex(8)
        self.app: Optional[V3App] = None

    # -- lifecycle -----------------------------------------------------------------

    serve_options = True

    def _build(self) -> V3App:
        catalog = Catalog(self.limits, internal=self.flavour != "dedicated")
        ctx = V3Context(self.flavour, catalog, self.engine, self.max_request_size, self.version)
        for db in catalog.databases.values():
            ctx.create_engine_database(db)
        self.app = V3App(ctx, self.token, (self.account_id, self.cluster_id, self.management_token))
        return self.app

    def _recorder(self) -> V3App:
        assert self.app is not None
        return self.app

    def env(self) -> Dict[str, str]:
        """The environment a client needs: INFLUX_HOST and INFLUX_TOKEN (3.x has no org).

        For ``dedicated`` also the Management API's settings (INFLUX_MANAGEMENT_TOKEN,
        INFLUX_ACCOUNT_ID, INFLUX_CLUSTER_ID, INFLUX_MANAGEMENT_URL), as influx_compat reads them.
        """
        env = {"INFLUX_HOST": self.url, "INFLUX_TOKEN": self.token}
        if self.flavour == "dedicated":
            env.update(
                INFLUX_MANAGEMENT_TOKEN=self.management_token,
                INFLUX_ACCOUNT_ID=self.account_id,
                INFLUX_CLUSTER_ID=self.cluster_id,
                INFLUX_MANAGEMENT_URL=self.url,
            )
        return env

    @property
    def catalog(self) -> Catalog:
        assert self.app is not None
        return self.app.ctx.catalog

    # -- state -------------------------------------------------------------------------

    def create_database(self, name: str, retention_seconds: Optional[int] = None) -> None:
        """Create a database as an operator would (``influxdb3 create database``, ``influxctl``)."""
        assert self.app is not None
        with self.catalog.lock:
            db = self.catalog.create_database(name, retention_seconds)
            self.app.ctx.create_engine_database(db)

    def reset(self) -> None:
        """Back to just after start: no user databases (the limits' counts start again), no records."""
        assert self.app is not None
        ctx = self.app.ctx
        with self.catalog.lock:
            doomed: List[Database] = [d for n, d in self.catalog.databases.items() if n != "_internal"]
            for db in doomed + self.catalog.deleted:
                ctx.engine.execute(f'DROP DATABASE "{db.engine_name}"')
                self.catalog.databases.pop(db.name, None)
            self.catalog.deleted.clear()
            internal = self.catalog.get("_internal")
            if internal is not None:
                internal.tables.clear()
                internal.retention_seconds = 7 * 86400
                ctx.engine.execute("DROP SERIES FROM /.*/", internal.engine_name)
        with self.app.records_lock:
            self.app.records.clear()
