"""Line protocol: influxdb-python 5.3.2's serialization, byte for byte, only faster.

``make_lines`` and ``make_line`` produce exactly what influxdb-python 5.3.2
produced for every point the server accepts: measurement, tag keys and values
and field keys escaped with ``_escape_tag``; tags and fields sorted by key;
None and empty tags dropped; ``True``/``False``; ``123i`` for ints; ``repr`` of
floats; numpy integers and bools written as floats, as 5.3.2 always did
(writing them as integers would make the server refuse new points of existing
series with a field type conflict); naive datetimes taken as UTC.

Where 5.3.2 emitted a line the server rejects, :class:`InvalidPointError` is
raised instead, naming the point: NaN or infinite floats, values of unknown
types (lists, dicts, datetimes) that 5.3.2 sent unquoted, a point without
measurement or without any field.

This module is 5.3.2's public face.  The serializer itself, and the helpers
of 5.3.2 it is built from, live in :mod:`influx_compat._serializer`; their
5.3.2 names (``_escape_tag``, ``_escape_value``, ``_convert_timestamp``,
``EPOCH``, ...) are importable from here as they were from
``influxdb.line_protocol``.
"""

from __future__ import annotations

from typing import Any, Mapping, Optional

# 5.3.2's module-level names that programs import from here.
from influx_compat._serializer import EPOCH as EPOCH
from influx_compat._serializer import _convert_timestamp as _convert_timestamp
from influx_compat._serializer import _escape_tag as _escape_tag
from influx_compat._serializer import _escape_value as _escape_value
from influx_compat._serializer import _get_unicode as _get_unicode
from influx_compat._serializer import _is_float as _is_float
from influx_compat._serializer import _to_nanos as _to_nanos
from influx_compat._serializer import format_line, rescale_line_timestamps, serialize_points
from influx_compat._serializer import quote_ident as quote_ident

__all__ = ["make_lines", "make_line", "quote_ident", "quote_literal"]

# The serializer under the private names 5.3.2-era code and the write pipeline (_writer) call it by.
_serialize_points = serialize_points
_rescale_line_timestamps = rescale_line_timestamps


def _escape_tag_value(value: Any) -> str:
    ret = _escape_tag(value)
    if ret.endswith("\\"):
        ret += " "
    return ret


def quote_literal(value: str) -> str:
    """Quote provided literal."""
    return "'{}'".format(value.replace("\\", "\\\\").replace("'", "\\'"))


def make_line(
    measurement: Any,
    tags: Optional[Mapping[Any, Any]] = None,
    fields: Optional[Mapping[Any, Any]] = None,
    time: Any = None,
    precision: Optional[str] = None,
) -> str:
    """Extract the actual point from a given measurement line."""
    return format_line(measurement, tags or {}, fields or {}, time, precision)


def make_lines(data: Mapping[str, Any], precision: Optional[str] = None) -> str:
    """Extract points from given dict.

    Extracts the points from the given dict and returns a Unicode string
    matching the line protocol introduced in InfluxDB 0.9.0.
    """
    return _serialize_points(
        data["points"], precision=precision, tags=data.get("tags"), measurement=data.get("measurement")
    )
