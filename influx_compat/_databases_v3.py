"""Where InfluxDB 3 keeps its databases: one small catalog interface, three implementations.

* :class:`ConfigureApi`: 3 Core and Enterprise, ``/api/v3/configure/database``
  and ``/table`` on the server itself (influxdb3_server/src/http.rs);
* :class:`ManagementApi`: Cloud Dedicated
  (``https://console.influxdata.com/api/v0/accounts/{account}/clusters/{cluster}/databases``)
  and Clustered (``{console}/api/v0/databases``), with a management token
  (api-docs/influxdb3/cloud-dedicated/management/openapi.yml);
* :class:`NoCatalog`: Dedicated or Clustered without management settings: every
  call raises, naming the settings and ``influxctl``.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any, Callable, Dict, List, Optional

from influx_compat._config import ManagementSettings, Settings
from influx_compat._flavour import Flavour
from influx_compat._names_v3 import LIMIT_HELP
from influx_compat._transport import Auth, Transport
from influx_compat.exceptions import (
    DatabaseNotFoundError,
    InfluxDBClientError,
    LimitExceededError,
    UnsupportedOperationError,
)

__all__ = ["Catalog", "ConfigureApi", "ManagementApi", "NoCatalog", "catalog_for"]

DEDICATED_CONSOLE = "https://console.influxdata.com"
_JSON = {"Content-Type": "application/json"}


class Catalog:
    """The databases of an InfluxDB 3 server (names are 3.x names: ``db`` or ``db/rp``)."""

    def names(self) -> List[str]:
        raise NotImplementedError

    def create(self, name: str, seconds: int) -> bool:
        """Create a database with a retention period (0: none); False when it existed."""
        raise NotImplementedError

    def set_retention(self, name: str, seconds: int) -> None:
        raise NotImplementedError

    def delete(self, name: str) -> None:
        """Delete a database; nothing if it does not exist."""
        raise NotImplementedError

    def delete_table(self, database: str, table: str) -> None:
        raise NotImplementedError


def _limit_or(transport: Transport, response: Any) -> Exception:
    exc = transport.error_for(response)
    if isinstance(exc, InfluxDBClientError) and exc.code == 422:
        return LimitExceededError(
            f"{exc.content} ({LIMIT_HELP})",
            exc.code,
            limit="databases",
        )
    return exc


class ConfigureApi(Catalog):
    """3 Core and Enterprise: the configure API of the server.

    :param show_databases: the names ``SHOW DATABASES`` answers, in the catalog's
        (creation) order, which 1.x's retention policy listings keep
    """

    def __init__(self, transport: Transport, show_databases: Callable[[], List[str]]) -> None:
        self.transport = transport
        self.show_databases = show_databases

    def _call(
        self,
        method: str,
        path: str,
        params: Optional[Dict[str, Any]] = None,
        body: Optional[Dict[str, Any]] = None,
    ) -> Any:
        return self.transport.request(
            method,
            "api/v3/configure/" + path,
            params=params,
            data=json.dumps(body).encode() if body is not None else None,
            headers=_JSON if body is not None else None,
            raw=True,
        )

    def names(self) -> List[str]:
        return self.show_databases()

    @staticmethod
    def _body(name: str, seconds: int) -> Dict[str, Any]:
        body: Dict[str, Any] = {"db": name}
        if seconds:
            body["retention_period"] = f"{seconds}s"  # humantime, as the server parses it
        return body

    def create(self, name: str, seconds: int) -> bool:
        response = self._call("POST", "database", body=self._body(name, seconds))
        if response.status_code in (200, 201, 204):
            return True
        if response.status_code == 409:  # "attempted to create a resource that already exists"
            return False
        raise _limit_or(self.transport, response)

    def set_retention(self, name: str, seconds: int) -> None:
        response = self._call("PUT", "database", body=self._body(name, seconds))
        if response.status_code == 404:
            raise DatabaseNotFoundError(f"database not found: {name}", database=name, code=404)
        if response.status_code not in (200, 204):
            raise _limit_or(self.transport, response)

    def delete(self, name: str) -> None:
        response = self._call("DELETE", "database", params={"db": name})
        if response.status_code not in (200, 204, 404):
            raise _limit_or(self.transport, response)

    def delete_table(self, database: str, table: str) -> None:
        response = self._call("DELETE", "table", params={"db": database, "table": table})
        if response.status_code not in (200, 204, 404):
            raise _limit_or(self.transport, response)


class ManagementApi(Catalog):
    """Cloud Dedicated and Clustered: the Management API, with a management token (Bearer)."""

    def __init__(self, transport: Transport, flavour: Flavour) -> None:
        self.transport = transport
        self.flavour = flavour

    def _path(self, name: Optional[str] = None) -> str:
        return "databases" + (f"/{name}" if name is not None else "")

    def names(self) -> List[str]:
        response = self.transport.request("GET", self._path(), raw=True)
        if response.status_code != 200:
            raise self.transport.error_for(response)
        return [str(row.get("name", "")) for row in response.json()]

    def create(self, name: str, seconds: int) -> bool:
        body = {"name": name, "retentionPeriod": seconds * 10**9}  # nanoseconds; 0 keeps everything
        response = self.transport.request(
            "POST", self._path(), data=json.dumps(body).encode(), headers=_JSON, raw=True
        )
        if response.status_code in (200, 201):
            return True
        if response.status_code == 409:
            return False
        raise self.transport.error_for(response)

    def set_retention(self, name: str, seconds: int) -> None:
        body = {"retentionPeriod": seconds * 10**9}
        response = self.transport.request(
            "PATCH", self._path(name), data=json.dumps(body).encode(), headers=_JSON, raw=True
        )
        if response.status_code == 404:
            raise DatabaseNotFoundError(f"database not found: {name}", database=name, code=404)
        if response.status_code != 200:
            raise self.transport.error_for(response)

    def delete(self, name: str) -> None:
        response = self.transport.request("DELETE", self._path(name), raw=True)
        if response.status_code not in (200, 204, 404):
            raise self.transport.error_for(response)

    def delete_table(self, database: str, table: str) -> None:
        raise UnsupportedOperationError(
            f"DROP MEASUREMENT {table}: {self.flavour.product}'s Management API deletes databases, not "
            "tables; delete the table with 'influxctl table delete' or drop the database"
        )


class NoCatalog(Catalog):
    """Dedicated or Clustered without management settings.

    ``create`` of a database that exists (made with ``influxctl``) succeeds, as
    1.x's CREATE DATABASE of an existing database did; everything else raises.

    :param exists: whether a database answers queries
    """

    def __init__(self, flavour: Flavour, exists: Callable[[str], bool]) -> None:
        self.flavour = flavour
        self.exists = exists

    def _refuse(self, what: str) -> UnsupportedOperationError:
        needs = (
            "INFLUX_MANAGEMENT_TOKEN (management_token=), INFLUX_ACCOUNT_ID (account_id=) and "
            "INFLUX_CLUSTER_ID (cluster_id=)"
            if self.flavour is Flavour.DEDICATED
            else "INFLUX_MANAGEMENT_TOKEN (management_token=) and INFLUX_MANAGEMENT_URL, the console's URL"
        )
        return UnsupportedOperationError(
            f"{what}: {self.flavour.product} manages databases in its Management API, not through the "
            f"data API this client talks to. Set {needs}, or use 'influxctl database create|list|delete'"
        )

    def names(self) -> List[str]:
        raise self._refuse("list databases")

    def create(self, name: str, seconds: int) -> bool:
        if not seconds and self.exists(name):
            return False
        raise self._refuse(f"create database {name!r}")

    def set_retention(self, name: str, seconds: int) -> None:
        raise self._refuse(f"set the retention period of {name!r}")

    def delete(self, name: str) -> None:
        raise self._refuse(f"drop database {name!r}")

    def delete_table(self, database: str, table: str) -> None:
        raise self._refuse(f"drop measurement {table!r}")


def catalog_for(
    flavour: Flavour,
    settings: Settings,
    transport: Transport,
    exists: Callable[[str], bool],
    show_databases: Callable[[], List[str]],
) -> Catalog:
    """The catalog of a 3.x flavour: the server's configure API, or the Management API if configured."""
    if not flavour.iox:
        return ConfigureApi(transport, show_databases)
    management: ManagementSettings = settings.management
    base = management.url
    if flavour is Flavour.DEDICATED and management.account_id and management.cluster_id:
        base = (
            f"{(base or DEDICATED_CONSOLE).rstrip('/')}/api/v0/accounts/{management.account_id}"
            f"/clusters/{management.cluster_id}"
        )
    elif base and flavour is Flavour.CLUSTERED:
        base = base.rstrip("/") + "/api/v0"
    else:
        base = None
    if not management.token or base is None:
        return NoCatalog(flavour, exists)
    # The console is InfluxData's (or the cluster's) management endpoint: verified unless a CA bundle is
    # given; influxdb-python's verify_ssl=False default never applied to it.
    verify = transport.verify_ssl if isinstance(transport.verify_ssl, str) else True
    console = Transport(
        replace(settings, base_url=base),
        verify_ssl=verify,
        timeout=transport.timeout,
        retries=transport.retries,
        proxies=transport.proxies,
        headers={"Accept": "application/json"},
    )
    console.auth = Auth(
        token=management.token,
        scheme="Bearer",
        described="the management token",
        server=f"{flavour.product}'s Management API",
        help="give a management token (influxctl management create), not a database token",
    )
    return ManagementApi(console, flavour)
