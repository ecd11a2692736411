"""``influxdb.influxdb08.client``: the 0.8 client's names; using the client raises.

::

    InfluxDBClientError (influx_compat.exceptions)
    └── InfluxDBClientError (this module: 0.8's, code -1 by default)
        └── InfluxDB08UnsupportedError   also an UnsupportedOperationError
"""

from __future__ import annotations

from typing import Any, NoReturn, Optional

from influx_compat import exceptions

__all__ = ["InfluxDBClient", "InfluxDBClientError", "InfluxDB08UnsupportedError", "unsupported"]


class InfluxDBClientError(exceptions.InfluxDBClientError):
    """The 0.8 client's error (its ``code`` defaults to -1, as in influxdb-python 5.3.2)."""

    def __init__(self, content: Any, code: Optional[int] = -1) -> None:
        super().__init__(content, code)


class InfluxDB08UnsupportedError(InfluxDBClientError, exceptions.UnsupportedOperationError):
    """InfluxDB 0.8's API was asked for; no InfluxDB 2.x or 3 server has it.

    Caught by ``except InfluxDBClientError`` of both ``influxdb.exceptions``
    and ``influxdb.influxdb08.client``.
    """

    def __init__(self, content: Any, code: Optional[int] = None) -> None:
        super().__init__(content, code)  # through UnsupportedOperationError: statement is None


def unsupported(what: str) -> InfluxDB08UnsupportedError:
    """The error for a use of the 0.8 client's ``what`` (``'InfluxDBClient'``, ...)."""
    return InfluxDB08UnsupportedError(
        f"influxdb.influxdb08.{what} is influxdb-python's client for InfluxDB 0.8, whose HTTP API "
        "(/db/<database>/series, cluster and database admins, scheduled deletes) does not exist on "
        "InfluxDB 2.x or 3 (nor on 1.x). Use influxdb.InfluxDBClient, the 1.x client, which "
        "influx_compat runs on InfluxDB 2.x and 3: write_points() with 1.x points "
        '({"measurement": ..., "tags": ..., "fields": ..., "time": ...}) and query() with InfluxQL.'
    )


class InfluxDBClient:
    """InfluxDB 0.8's client: constructing one raises :class:`InfluxDB08UnsupportedError`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        ours = next(c for c in type(self).__mro__ if c.__module__.startswith("influx_compat.influxdb08"))
        raise unsupported(ours.__name__)  # a program's subclass is still the 0.8 class it extends

    @classmethod
    def from_dsn(cls, dsn: str, **kwargs: Any) -> NoReturn:
        raise unsupported(f"{cls.__name__}.from_dsn")
