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

Speed comes from memoizing escaped keys and tag values (bounded caches),
dispatching on exact types before the general rules, and converting times
with integer arithmetic (also exact where 5.3.2's float division rounded).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta, timezone
from numbers import Integral
from typing import Any, Dict, Iterable, List, Mapping, Optional

from influx_compat.exceptions import InvalidPointError

__all__ = ["make_lines", "make_line", "quote_ident", "quote_literal"]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Divisor from nanoseconds to each precision.
_DIVISORS = {None: 1, "n": 1, "u": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9,
             "h": 3600 * 10**9}
_CACHE_LIMIT = 200_000
_escape_cache: Dict[str, str] = {}
_prefix_cache: Dict[Any, str] = {}
_order_cache: Dict[Any, List[Any]] = {}
_INF = math.inf


# -- 5.3.2's helpers, same names (other code imports some of them) ---------------


def _get_unicode(data: Any, force: bool = False) -> Any:
    """Try to return a text aka unicode object from the given data."""
    if isinstance(data, bytes):
        return data.decode("utf-8")
    if data is None:
        return ""
    if force:
        return str(data)
    return data


def _escape_tag(tag: Any) -> str:
    tag = _get_unicode(tag, force=True)
    return (
        tag.replace("\\", "\\\\")
        .replace(" ", "\\ ")
        .replace(",", "\\,")
        .replace("=", "\\=")
        .replace("\n", "\\n")
    )


def _escape_tag_value(value: Any) -> str:
    ret = _escape_tag(value)
    if ret.endswith("\\"):
        ret += " "
    return ret


def quote_ident(value: str) -> str:
    """Indent the quotes."""
    return '"{}"'.format(value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))


def quote_literal(value: str) -> str:
    """Quote provided literal."""
    return "'{}'".format(value.replace("\\", "\\\\").replace("'", "\\'"))


def _is_float(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


# The times 2.x stores, in nanoseconds (its MinNanoTime and MaxNanoTime), and each precision's unit.
_MAX_NANOS = 2**63 - 2
_NANOS_PER = {"n": 1, "u": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


def _escape_value(value: Any) -> str:
    """A field value as line protocol ('' for None); refuses what the server refuses."""
    if value is None:
        return ""
    value = _get_unicode(value)
    if isinstance(value, str):
        return quote_ident(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise InvalidPointError(
                f"field value {value} is outside InfluxDB's 64-bit integer range (the server would "
                "refuse the whole batch): write it as a float or a string"
            )
        return str(value) + "i"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (datetime, date, timedelta)) or not _is_float(value):
        raise InvalidPointError(
            f"field value {value!r} of type {type(value).__name__} cannot be written: "
            "use a str, int, float or bool"
        )
    number = float(value)
    if number != number or number in (_INF, -_INF):
        raise InvalidPointError(f"field value {value!r} cannot be written: InfluxDB has no NaN or infinity")
    return repr(number)


def _to_nanos(timestamp: datetime) -> int:
    delta = timestamp - EPOCH
    nanos = (delta.days * 86400 + delta.seconds) * 10**9 + delta.microseconds * 10**3
    extra = getattr(timestamp, "nanosecond", 0)  # pandas.Timestamp keeps nanoseconds
    return nanos + extra if isinstance(extra, int) else nanos


_ISO_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def _parse_time_string(text: str) -> int:
    """Nanoseconds since the epoch of an RFC3339 / ISO 8601 time (no offset = UTC)."""
    m = _ISO_RE.match(text)
    if m is None:
        return _parse_time_fallback(text)
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    try:
        dt = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                      int(second or 0), tzinfo=timezone.utc)
    except ValueError:
        raise InvalidPointError(f"time {text!r} is not a valid date") from None
    nanos = _to_nanos(dt)
    if fraction:
        nanos += int(fraction[:9].ljust(9, "0"))
    if offset and offset not in ("Z", "z", "UTC"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        nanos -= sign * minutes * 60 * 10**9
    return nanos


def _parse_time_fallback(text: str) -> int:
    try:
        from dateutil.parser import parse  # influxdb-python's parser, if installed
    except ImportError:
        raise InvalidPointError(
            f"time {text!r} is not an RFC3339 / ISO 8601 time (e.g. 2020-01-01T00:00:00Z)"
        ) from None
    try:
        dt = parse(text)
    except (ValueError, OverflowError):
        raise InvalidPointError(f"time {text!r} cannot be parsed") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return _to_nanos(dt)


def _truncating_div(value: int, divisor: int) -> int:
    """Integer division rounding toward zero, like 5.3.2's ``int(ns / divisor)``."""
    if divisor == 1:
        return value
    if value >= 0:
        return value // divisor
    return -((-value) // divisor)


def _convert_timestamp(timestamp: Any, precision: Optional[str] = None) -> int:
    """A timestamp in ``precision`` units; ints are taken as already in them."""
    if isinstance(timestamp, Integral):
        return timestamp  # type: ignore[return-value]
    if isinstance(timestamp, (bytes, str)):
        nanos = _parse_time_string(_get_unicode(timestamp))
    elif isinstance(timestamp, datetime):
        if timestamp.tzinfo is None:
            timestamp = timestamp.replace(tzinfo=timezone.utc)
        nanos = _to_nanos(timestamp)
    else:
        raise InvalidPointError(
            f"time {timestamp!r} of type {type(timestamp).__name__} cannot be written: use an int "
            "(in time_precision units), a datetime or an RFC3339 string"
        )
    try:
        divisor = _DIVISORS[precision]
    except (KeyError, TypeError):
        raise InvalidPointError(f"unknown time precision {precision!r}") from None
    return _truncating_div(nanos, divisor)


# -- the public API -----------------------------------------------------------------


def make_line(measurement: Any, tags: Optional[Mapping[Any, Any]] = None,
              fields: Optional[Mapping[Any, Any]] = None, time: Any = None,
              precision: Optional[str] = None) -> str:
    """Extract the actual point from a given measurement line."""
    return _line(measurement, tags or {}, fields or {}, time, precision, 1, None)


def make_lines(data: Mapping[str, Any], precision: Optional[str] = None) -> str:
    """Extract points from given dict.

    Extracts the points from the given dict and returns a Unicode string
    matching the line protocol introduced in InfluxDB 0.9.0.
    """
    return _serialize_points(data["points"], precision=precision, tags=data.get("tags"),
                             measurement=data.get("measurement"))


def _serialize_points(points: Iterable[Mapping[str, Any]], precision: Optional[str] = None,
                      tags: Optional[Mapping[Any, Any]] = None, measurement: Any = None,
                      scale: int = 1, start_index: int = 0) -> str:
    """Line protocol of many points, ``make_lines`` output with timestamps times ``scale``.

    :param points: any iterable of point dicts
    :param precision: the 1.x precision the timestamps are converted to
    :param tags: tags added to every point (a point's own tags win)
    :param measurement: measurement of points that have none
    :param scale: factor applied to every timestamp after conversion (the
        client sends 'm' and 'h' as seconds: 60 and 3600)
    :param start_index: added to the point numbers in error messages
    :raises InvalidPointError: naming the first point that cannot be written
    """
    if len(_prefix_cache) > _CACHE_LIMIT:
        _prefix_cache.clear()
        _escape_cache.clear()
        _order_cache.clear()
    prefixes = _prefix_cache
    orders = _order_cache
    lines: List[str] = []
    append = lines.append
    static = dict(tags) if tags else None
    index = start_index - 1
    point: Any = None
    last_keys: Any = None
    formatter: Any = None
    limit = _MAX_NANOS // _NANOS_PER.get(precision or "n", 1)
    try:
        for point in points:
            index += 1
            name = point.get("measurement", measurement)
            point_tags = point.get("tags")
            if static is not None:
                merged = dict(static)
                merged.update(point_tags or {})
                point_tags = merged
            # measurement and tags: one cached prefix per distinct tag set
            try:
                key = (name, tuple(point_tags.items())) if point_tags else name
                prefix = prefixes.get(key)
                if prefix is None:
                    prefix = prefixes[key] = _prefix(name, point_tags, index)
            except TypeError:  # unhashable values: no caching
                prefix = _prefix(name, point_tags, index)
            # fields: a formatter compiled per field-key tuple handles the common types
            fields = point.get("fields")
            if not fields:
                raise _point_error(index, name, "has no fields (every field is None or missing)")
            if fields.keys() != last_keys:  # output is sorted by key, so the key *set* decides
                field_keys = tuple(fields)
                formatter = orders.get(field_keys)
                if formatter is None:
                    formatter = orders[field_keys] = _compile_fields(fields)
                last_keys = frozenset(fields)  # a snapshot: the dict may be reused and changed
            time = point.get("time")
            if time is not None:
                if type(time) is not int:
                    try:
                        time = int(_convert_timestamp(time, precision))
                    except InvalidPointError as exc:
                        raise _point_error(index, name, str(exc.content)) from None
                if not -limit <= time <= limit:
                    raise _point_error(index, name, f"time {time} (precision {precision or 'n'}) is "
                                       "outside the range InfluxDB stores, 1677-09-21 to 2262-04-11")
                if scale != 1:
                    time *= scale
            line = formatter(fields, prefix, time)  # the whole line, in one string build
            if line is None:
                text = _fields_text(fields, index, name)
                line = f"{prefix} {text}" if time is None else f"{prefix} {text} {time}"
            append(line)
    except InvalidPointError:
        raise
    except AttributeError:
        raise InvalidPointError(f"point {index} is not a dict: {_short(point)}") from None
    return "\n".join(lines) + "\n"


def _fields_text(fields: Mapping[Any, Any], index: int, name: Any) -> str:
    """The field set of a point, general rules (any value type)."""
    parts = []
    for key in sorted(fields):
        value = fields[key]
        if value is None:
            continue
        try:
            text = _escape_value(value)
        except InvalidPointError as exc:
            if isinstance(value, float):
                raise _point_error(index, name, f"field {key!r} is {value!r}: InfluxDB has no NaN "
                                   "or infinity") from None
            raise _point_error(index, name, f"field {key!r}: {exc.content}") from None
        ekey = _esc(key)
        if ekey:
            parts.append(ekey + "=" + text)
    if not parts:
        raise _point_error(index, name, "has no fields (every field is None or missing)")
    return ",".join(parts)


def _compile_fields(fields: Mapping[Any, Any]) -> Any:
    """A function ``fmt(fields, prefix, time)`` returning the whole line for field dicts with
    these keys, or None when it can't.

    It covers finite floats, ints, bools and strs that need no escaping; any
    other value sends the point to :func:`_fields_text`.  Keys are bound as
    constants, never pasted into the source.
    """
    try:
        keys = sorted(fields)
    except TypeError:
        return lambda f, p, t: None
    names: Dict[str, Any] = {"repr": repr, "type": type, "float": float, "int": int, "str": str,
                             "bool": bool}
    body = ["def fmt(f, p, ts, repr=repr, type=type):"]
    pieces = []
    for n, key in enumerate(keys):
        ekey = _esc(key)
        if not ekey:
            return lambda f, p, t: None
        names[f"K{n}"] = key
        names[f"E{n}"] = ekey + "="
        body += [
            f"    v = f[K{n}]",
            "    t = type(v)",
            "    if t is float:",
            "        if v - v != 0.0: return None",
            f"        s{n} = repr(v)",
            "    elif t is int:",
            "        if not -9223372036854775808 <= v <= 9223372036854775807: return None",
            f"        s{n} = f'{{v}}i'",
            "    elif t is str:",
            "        if '\\\\' in v or '\"' in v or '\\n' in v: return None",
            f"        s{n} = f'\"{{v}}\"'",
            "    elif t is bool:",
            f"        s{n} = 'True' if v else 'False'",
            "    else: return None",
        ]
        pieces.append(f"{{E{n}}}{{s{n}}}")
    text = ",".join(pieces)
    body.append(f"    if ts is None: return f'{{p}} {text}'")
    body.append(f"    return f'{{p}} {text} {{ts}}'")
    exec("\n".join(body), names)  # noqa: S102 - generated from constants only
    return names["fmt"]


def _prefix(measurement: Any, tags: Optional[Mapping[Any, Any]], index: Optional[int]) -> str:
    """Escaped measurement and sorted tags of a point: ``m,k=v,k2=v2``."""
    esc = _esc
    name = esc(measurement) if measurement is not None else ""
    if not name:
        raise _point_error(index, measurement, "has no measurement")
    if not tags:
        return name
    parts = [name]
    for key in sorted(tags):
        value = tags[key]
        if value is None:
            continue
        k = esc(key)
        v = esc(value)
        if k and v:
            parts.append(k + "=" + v)
    return ",".join(parts)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."


def _esc(text: Any) -> str:
    """``_escape_tag`` of a key or tag value, memoized for str."""
    if type(text) is str:
        cached = _escape_cache.get(text)
        if cached is None:
            if "\\" in text or " " in text or "," in text or "=" in text or "\n" in text:
                cached = _escape_tag(text)
            else:
                cached = text
            _escape_cache[text] = cached
        return cached
    return _escape_tag(text)


def _line(measurement: Any, tags: Mapping[Any, Any], fields: Mapping[Any, Any], time: Any,
          precision: Optional[str], scale: int, index: Optional[int]) -> str:
    esc = _esc
    name = esc(measurement) if measurement is not None else ""
    if not name:
        raise _point_error(index, measurement, "has no measurement")
    parts = [name]
    if tags:
        for key in sorted(tags):
            value = tags[key]
            if value is None:
                continue
            k = esc(key)
            v = esc(value)
            if k and v:
                parts.append(",")
                parts.append(k)
                parts.append("=")
                parts.append(v)
    sep = " "
    for key in sorted(fields):
        value = fields[key]
        t = type(value)
        if t is float:
            if value != value or value == _INF or value == -_INF:
                raise _point_error(index, measurement,
                                   f"field {key!r} is {value!r}: InfluxDB has no NaN or infinity")
            text = repr(value)
        elif t is int:
            text = str(value) + "i"
        elif t is str:
            if "\\" in value or '"' in value or "\n" in value:
                text = quote_ident(value)
            else:
                text = '"' + value + '"'
        elif t is bool:
            text = "True" if value else "False"
        elif value is None:
            continue
        else:
            try:
                text = _escape_value(value)
            except InvalidPointError as exc:
                raise _point_error(index, measurement, f"field {key!r}: {exc.content}") from None
        k = esc(key)
        if not k:
            continue
        parts.append(sep)
        parts.append(k)
        parts.append("=")
        parts.append(text)
        sep = ","
    if sep == " ":
        raise _point_error(index, measurement, "has no fields (every field is None or missing)")
    if time is not None:
        if type(time) is int:
            stamp = time
        else:
            try:
                stamp = int(_convert_timestamp(time, precision))
            except InvalidPointError as exc:
                raise _point_error(index, measurement, str(exc.content)) from None
        parts.append(" ")
        parts.append(str(stamp * scale if scale != 1 else stamp))
    return "".join(parts)


def _point_error(index: Optional[int], measurement: Any, problem: str) -> InvalidPointError:
    where = f"point {index}" if index is not None else "point"
    if measurement not in (None, ""):
        where += f" (measurement {measurement!r})"
    return InvalidPointError(f"{where} {problem}")


def _rescale_line_timestamps(lines: Iterable[str], scale: int) -> List[str]:
    """Multiply the timestamp ending each line by ``scale`` (lines without one are kept).

    The timestamp is the text after the last space that is outside a quoted
    string field and not escaped.
    """
    out: List[str] = []
    for line in lines:
        stripped = line.rstrip()
        cut = _timestamp_start(stripped)
        if cut is None:
            out.append(line)
            continue
        out.append(f"{stripped[:cut]}{int(stripped[cut:]) * scale}")
    return out


def _timestamp_start(line: str) -> Optional[int]:
    """Index of the timestamp of a line, or None when it has none.

    Quotes are literal in the measurement and tags; they delimit strings only
    in the field set, which starts after the first unescaped space.
    """
    n = len(line)
    i = 0
    while i < n and line[i] != " ":
        i += 2 if line[i] == "\\" else 1
    i += 1
    in_string = False
    while i < n:
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            in_string = not in_string
        elif c == " " and not in_string:
            stamp = line[i + 1:]
            return i + 1 if stamp.lstrip("-").isdigit() else None
        i += 1
    return None
