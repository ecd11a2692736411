"""The v2 test server: InfluxDB 2.x's API over a real InfluxQL engine, for tests."""

from __future__ import annotations

import secrets
from typing import Any, Dict, List, Optional

from influx_compat.testing._lifecycle import ServedEngine
from influx_compat.testing._routes_buckets import create_engine_database
from influx_compat.testing._routes_setup import onboard
from influx_compat.testing._server import App
from influx_compat.testing._state import engine_db, version_tuple

__all__ = ["V2TestServer"]


class V2TestServer(ServedEngine):
    """An InfluxDB 2.x look-alike on 127.0.0.1, onboarded with one org, bucket and operator token.

    :param version: the 2.x version it impersonates (``X-Influxdb-Version``,
        virtual DBRP mappings from 2.4, ``Bearer`` tokens from 2.1, password rules)
    :param virtual_dbrps: force virtual DBRP mappings on or off (None: by version)
    :param org: name of the setup organization
    :param bucket: name of the setup bucket
    :param username: setup user
    :param password: setup user's password
    :param token: the operator token (generated when None)
    :param port: HTTP port (0: a free one)
    """

    def __init__(
        self,
        version: str = "2.7.10",
        virtual_dbrps: Optional[bool] = None,
        org: str = "test-org",
        bucket: str = "default",
        username: str = "admin",
        password: str = "adminpassword",
        token: Optional[str] = None,
        port: int = 0,
    ) -> None:
        self.version = version.lstrip("v")
        if virtual_dbrps is None:
            virtual_dbrps = version_tuple(self.version) >= (2, 4)
        self.virtual_dbrps = virtual_dbrps
        self.org = org
        self.bucket = bucket
        self.username = username
        self.password = password
        self.token = token or secrets.token_urlsafe(48)
        super().__init__(port)
        self.org_id = ""
        self.bucket_id = ""
        self.app: Optional[App] = None
        self._baseline: Dict[str, List[str]] = {}

    # -- lifecycle -----------------------------------------------------------

    def _build(self) -> App:
        self.app = App(self.engine, self.version, self.virtual_dbrps)
        setup = onboard(self.app.ctx, self.username, self.password, self.org, self.bucket, 0, self.token)
        self.org_id, self.bucket_id = setup["org"]["id"], setup["bucket"]["id"]
        self._remember_baseline()
        return self.app

    def _recorder(self) -> App:
        assert self.app is not None
        return self.app

    # -- facts ---------------------------------------------------------------

    @property
    def engine_url(self) -> str:
        return self.engine.url

    def env(self) -> Dict[str, str]:
        """The environment a client needs: INFLUX_HOST, INFLUX_TOKEN, INFLUX_ORG."""
        return {"INFLUX_HOST": self.url, "INFLUX_TOKEN": self.token, "INFLUX_ORG": self.org}

    # -- state -----------------------------------------------------------------

    def _stores(self) -> Dict[str, Dict[str, Dict[str, Any]]]:
        assert self.app is not None
        state = self.app.state
        return {
            "orgs": state.orgs,
            "users": state.users,
            "buckets": state.buckets,
            "dbrps": state.dbrps,
            "auths": state.auths,
            "legacy": state.legacy,
            "tasks": state.tasks,
        }

    def _remember_baseline(self) -> None:
        self._baseline = {name: list(store) for name, store in self._stores().items()}

    def reset(self) -> None:
        """Back to just after setup: only the setup org, user, buckets and token remain."""
        assert self.app is not None
        state = self.app.state
        with state.lock:
            for bucket_id in [b for b in state.buckets if b not in self._baseline["buckets"]]:
                self.engine.execute(f'DROP DATABASE "b_{bucket_id}"')
                del state.buckets[bucket_id]
            for name, store in self._stores().items():
                for key in [k for k in store if k not in self._baseline[name]]:
                    del store[key]
            # A new engine database, not DROP SERIES: the shards would keep the field types of the
            # points dropped, and the next test's writes would conflict with them.
            setup_bucket = state.buckets[self.bucket_id]
            self.engine.execute(f'DROP DATABASE "{engine_db(setup_bucket["id"])}"')
            create_engine_database(self.engine, setup_bucket)
        with self.app.records_lock:
            self.app.records.clear()
