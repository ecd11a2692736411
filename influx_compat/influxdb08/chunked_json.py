"""``influxdb.influxdb08.chunked_json``: the same ``loads`` as ``influxdb.chunked_json``."""

from __future__ import annotations

from influx_compat.chunked_json import loads

__all__ = ["loads"]
