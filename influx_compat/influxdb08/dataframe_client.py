"""``influxdb.influxdb08.dataframe_client``: the 0.8 DataFrame client; constructing one raises."""

from __future__ import annotations

from influx_compat.influxdb08.client import InfluxDBClient

__all__ = ["DataFrameClient"]


class DataFrameClient(InfluxDBClient):
    """InfluxDB 0.8's DataFrame client: constructing one raises
    :class:`~influx_compat.influxdb08.client.InfluxDB08UnsupportedError`
    (use :class:`influxdb.DataFrameClient`, the 1.x one)."""
