"""``influxdb.influxdb08.helper``: the 0.8 SeriesHelper; subclasses can be defined, using one raises."""

from __future__ import annotations

from typing import Any, NoReturn, Optional

from influx_compat.influxdb08.client import unsupported

__all__ = ["SeriesHelper"]


class SeriesHelper:
    """InfluxDB 0.8's series helper.

    Defining a subclass works (a program may define one it never uses);
    instantiating it or calling :meth:`commit` raises
    :class:`~influx_compat.influxdb08.client.InfluxDB08UnsupportedError`
    (use :class:`influxdb.SeriesHelper`, the 1.x one).
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> SeriesHelper:
        raise unsupported("SeriesHelper")

    @classmethod
    def commit(cls, client: Optional[Any] = None) -> NoReturn:
        raise unsupported("SeriesHelper.commit")
