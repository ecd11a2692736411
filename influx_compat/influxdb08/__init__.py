"""``influxdb.influxdb08``: influxdb-python's client for InfluxDB 0.8, which no InfluxDB 2.x or 3 serves.

The names import, so that a 1.x program that imports both clients
(``from influxdb.influxdb08 import InfluxDBClient as InfluxDB08Client``) runs;
constructing or using one raises
:class:`~influx_compat.influxdb08.client.InfluxDB08UnsupportedError`, which
says to use :class:`influxdb.InfluxDBClient` (the 1.x client) instead.
InfluxDB 0.8's HTTP API (``/db/{db}/series``, cluster and database admins,
scheduled deletes) does not exist on InfluxDB 1.x, 2.x or 3.
"""

from __future__ import annotations

from influx_compat.influxdb08.client import InfluxDBClient
from influx_compat.influxdb08.dataframe_client import DataFrameClient
from influx_compat.influxdb08.helper import SeriesHelper

__all__ = ["InfluxDBClient", "DataFrameClient", "SeriesHelper"]
