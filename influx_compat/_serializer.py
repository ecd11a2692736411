"""The fast line-protocol serializer behind :mod:`influx_compat.line_protocol`.

What it writes is influxdb-python 5.3.2's ``make_lines`` output, byte for byte,
for every point the server accepts (the rules are in ``line_protocol``'s
docstring).  Speed comes from memoizing escaped keys and tag values and the
prefix of each tag set (bounded caches), a formatter compiled per field-key
set for the common value types, dispatching on exact types before the
general rules, and converting times with integer arithmetic (also exact
where 5.3.2's float division rounded).

Also here, because the serializer is built from them: 5.3.2's escaping and
time helpers under their 5.3.2 names (``line_protocol`` re-exports them, as
programs import them from there), the library's one RFC3339 parser
(:func:`parse_rfc3339`, also read by the delete predicates) and the
rescaling of timestamps in line-protocol text.
"""

from __future__ import annotations

import importlib
import itertools
import math
import re
from datetime import date, datetime, timedelta, timezone
from numbers import Integral
from typing import Any, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Tuple, Union

from influx_compat.exceptions import InvalidPointError

__all__ = [
    "EPOCH",
    "NANOS_PER",
    "MAX_NANOS",
    "parse_rfc3339",
    "serialize_points",
    "format_line",
    "rescale_line_timestamps",
]

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)

# Nanoseconds in one unit of each 1.x time precision.
NANOS_PER = {"n": 1, "u": 10**3, "ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
# The times 2.x stores, in nanoseconds (its MinNanoTime and MaxNanoTime are -MAX_NANOS and MAX_NANOS).
MAX_NANOS = 2**63 - 2
_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1
_INF = math.inf

# fmt(fields, prefix, time) -> the whole line, or None for values it does not cover.
_Formatter = Callable[[Mapping[Any, Any], str, Optional[int]], Optional[str]]

# Bounds of the caches, each cleared when full: escaped strings (keys and tag values: the compiled
# builders read tag values from it; a dict entry each, the strings shared with the points) and the
# general rules' prefixes per tag set (a new string each: about 250 bytes a tag set).
_CACHE_LIMIT = 200_000
_PREFIX_LIMIT = 20_000
# Points written since import, and how many of them by the general rules (not a compiled builder):
# the benchmarks print the share; the escape cache's size is len(_escape_cache).
STATS = {"points": 0, "general": 0}
_escape_cache: Dict[str, str] = {}
_prefix_cache: Dict[Any, str] = {}
_order_cache: Dict[Any, _Formatter] = {}


# -- 5.3.2's helpers, same names and results ------------------------------------


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
    text: str = _get_unicode(tag, force=True)
    return (
        text.replace("\\", "\\\\")
        .replace(" ", "\\ ")
        .replace(",", "\\,")
        .replace("=", "\\=")
        .replace("\n", "\\n")
    )


def quote_ident(value: str) -> str:
    """Indent the quotes."""
    return '"{}"'.format(value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n"))


def _is_float(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


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


def _convert_timestamp(timestamp: Any, precision: Optional[str] = None) -> Union[int, Integral]:
    """A timestamp in ``precision`` units; ints (numpy's too, returned as they are) are taken as in them."""
    if isinstance(timestamp, Integral):
        return timestamp
    if isinstance(timestamp, (bytes, str)):
        text = _get_unicode(timestamp)
        try:
            parsed = parse_rfc3339(text)
        except ValueError:
            raise InvalidPointError(f"time {text!r} is not a valid date") from None
        nanos = _parse_time_fallback(text) if parsed is None else parsed
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
        divisor = NANOS_PER["n" if precision is None else precision]
    except (KeyError, TypeError):
        raise InvalidPointError(f"unknown time precision {precision!r}") from None
    return _truncating_div(nanos, divisor)


def _truncating_div(value: int, divisor: int) -> int:
    """Integer division rounding toward zero, like 5.3.2's ``int(ns / divisor)``."""
    if divisor == 1:
        return value
    if value >= 0:
        return value // divisor
    return -((-value) // divisor)


# -- RFC3339 times ----------------------------------------------------------------

# InfluxQL's time literals: RFC3339 with up to 9 fraction digits, its "date time" and date-only forms.
_STRICT_TIME_RE = re.compile(
    r"^(\d{4})-(\d\d)-(\d\d)(?:[T ](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?)?(Z|[+-]\d\d:\d\d)?$"
)
# What 5.3.2 (dateutil) read in points' times, most of which this reads without dateutil: also
# one-digit months, days and hours, no seconds, any number of fraction digits, more offset forms.
_TIME_RE = re.compile(
    r"^\s*(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?"
    r"\s*(Z|z|UTC|[+-]\d{2}(?::?\d{2})?)?\s*$"
)


def parse_rfc3339(text: str, strict: bool = False) -> Optional[int]:
    """Nanoseconds since the epoch of an RFC3339 time (no offset: UTC), None if ``text`` is not one.

    :param strict: accept only InfluxQL's time literals (``2020-01-01T00:00:00.5Z``,
        ``2020-01-01 00:00:00``, ``2020-01-01``); otherwise also the looser
        ISO 8601 forms influxdb-python accepted in points
    :raises ValueError: a field out of range (``2020-02-30``, hour 25)
    """
    m = (_STRICT_TIME_RE if strict else _TIME_RE).match(text)
    if m is None:
        return None
    y, mo, d, h, mi, s, fraction, offset = m.groups()
    stamp = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=timezone.utc)
    nanos = _to_nanos(stamp)
    if fraction:
        nanos += int(fraction[:9].ljust(9, "0"))
    if offset and offset not in ("Z", "z", "UTC"):
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        minutes = int(digits[:2]) * 60 + (int(digits[2:4]) if len(digits) > 2 else 0)
        nanos -= sign * minutes * 60 * 10**9
    return nanos


def _parse_time_fallback(text: str) -> int:
    """Nanoseconds of a point's time that :func:`parse_rfc3339` cannot read, by dateutil if installed."""
    try:
        # Imported by name: optional (influxdb-python's own parser) and without type information.
        parser = importlib.import_module("dateutil.parser")
    except ImportError:
        raise InvalidPointError(
            f"time {text!r} is not an RFC3339 / ISO 8601 time (e.g. 2020-01-01T00:00:00Z)"
        ) from None
    try:
        parsed: datetime = parser.parse(text)
    except (ValueError, OverflowError):
        raise InvalidPointError(f"time {text!r} cannot be parsed") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return _to_nanos(parsed)


# -- many points ------------------------------------------------------------------


def serialize_points(
    points: Iterable[Mapping[str, Any]],
    precision: Optional[str] = None,
    tags: Optional[Mapping[Any, Any]] = None,
    measurement: Any = None,
    scale: int = 1,
    start_index: int = 0,
) -> str:
    """Line protocol of many points, ``make_lines`` output with timestamps times ``scale``.

    Runs of points with one schema (measurement, tag keys, field keys and
    value types, time type) go through a line builder compiled for that
    schema (:func:`_compile_runner`); any point it does not cover, and the
    first point of each schema, through the general rules below.

    :param points: any iterable of point dicts
    :param precision: the 1.x precision the timestamps are converted to
    :param tags: tags added to every point (a point's own tags win)
    :param measurement: measurement of points that have none
    :param scale: factor applied to every timestamp after conversion (the
        client sends 'm' and 'h' as seconds: 60 and 3600)
    :param start_index: added to the point numbers in error messages
    :raises InvalidPointError: naming the first point that cannot be written
    """
    if len(_escape_cache) > _CACHE_LIMIT:
        _escape_cache.clear()
        _order_cache.clear()
        _runners.clear()
    if len(_prefix_cache) > _PREFIX_LIMIT:
        _prefix_cache.clear()
    prefixes = _prefix_cache
    orders = _order_cache
    lines: List[str] = []
    append = lines.append
    static = dict(tags) if tags else None
    context = _context(static, measurement, precision, scale)
    index = start_index - 1
    point: Any = None
    limit = MAX_NANOS // NANOS_PER.get(precision or "n", 1)
    it = iter(points)
    skip = backoff = general = 0
    try:
        point = next(it, _DONE)
        while point is not _DONE:
            if context is not None:
                if skip:
                    skip -= 1
                else:
                    runner = _runner_for(point, context)
                    if runner is not None:
                        after = runner(point, it, append)
                        if after is not point:  # it wrote at least this point
                            point = after
                            backoff = 0
                            continue
                    # the schema cannot be compiled, or a value is new: try again later, less often
                    backoff = min(64, backoff * 2 or 1)
                    skip = backoff
            index = start_index + len(lines)
            general += 1
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
                    prefix = _prefix(name, point_tags, index)
                    if _all_str(key):  # 1 == 1.0 == True: only exact strings are safe keys
                        prefixes[key] = prefix
            except TypeError:  # unhashable values: no caching
                prefix = _prefix(name, point_tags, index)
            # fields: a formatter compiled per field-key tuple handles the common types
            fields = point.get("fields")
            if not fields:
                raise _point_error(index, name, "has no fields (every field is None or missing)")
            field_keys = tuple(fields)
            formatter = orders.get(field_keys)
            if formatter is None:
                formatter = orders[field_keys] = _compile_fields(fields)
            time = point.get("time")
            if time is not None:
                if type(time) is not int:
                    try:
                        time = int(_convert_timestamp(time, precision))
                    except InvalidPointError as exc:
                        raise _point_error(index, name, str(exc.content)) from None
                if not -limit <= time <= limit:
                    raise _point_error(
                        index,
                        name,
                        f"time {time} (precision {precision or 'n'}) is "
                        "outside the range InfluxDB stores, 1677-09-21 to 2262-04-11",
                    )
                if scale != 1:
                    time *= scale
            line = formatter(fields, prefix, time)  # the whole line, in one string build
            if line is None:
                text = _fields_text(fields, index, name)
                line = f"{prefix} {text}" if time is None else f"{prefix} {text} {time}"
            append(line)
            point = next(it, _DONE)
    except InvalidPointError:
        raise
    except AttributeError:
        index = start_index + len(lines)
        error = InvalidPointError(f"point {index} is not a dict: {_short(point)}")
        error.point_index = index  # type: ignore[attr-defined]
        raise error from None
    finally:
        STATS["points"] += len(lines)
        STATS["general"] += general
    if not lines:
        return "\n"
    append("")  # the last newline, without a copy of the whole text
    return "\n".join(lines)


def _all_str(key: Any) -> bool:
    """True when a prefix-cache key holds exact strings only."""
    if type(key) is str:
        return True
    name, items = key
    return type(name) is str and all(type(k) is str and type(v) is str for k, v in items)


# -- compiled line builders ---------------------------------------------------------

# runner(first, rest, append) -> the first point it does not write (``first`` when it wrote none),
# or _DONE when ``rest`` ran out.
_Runner = Callable[[Any, Iterator[Any], Callable[[str], None]], Any]
_DONE: Any = object()
_RUNNER_LIMIT = 1000
_runners: Dict[Any, Optional[_Runner]] = {}
_EPOCH_NAIVE = datetime(1970, 1, 1)
_FIELD_TYPES = (float, int, str, bool)
_TIME_TYPES = (int, type(None), datetime)


def _context(
    static: Optional[Dict[Any, Any]], measurement: Any, precision: Optional[str], scale: int
) -> Optional[Tuple[Any, ...]]:
    """What the compiled builders of one call depend on besides the points, or None when they can't run."""
    if precision is not None and precision not in NANOS_PER:
        return None
    static_key: Tuple[Any, ...] = ()
    if static:
        if not all(type(k) is str for k in static):
            return None
        static_key = tuple((k, type(v), v) for k, v in static.items())  # the type: 1 == 1.0 == True
        try:
            hash(static_key)
        except TypeError:
            return None
    return (static_key, static, measurement if type(measurement) is str else None, precision, scale)


def _runner_for(point: Any, context: Tuple[Any, ...]) -> Optional[_Runner]:
    """The compiled builder of the point's schema (compiled on first use), or None."""
    try:
        name = point.get("measurement", context[2])
        tags = point.get("tags")
        fields = point.get("fields")
        time = point.get("time")
        schema = (
            context[0],
            context[2],
            context[3],
            context[4],
            name,
            tuple(tags) if tags else (),
            tuple(fields) if fields else (),
            tuple(map(type, fields.values())) if fields else (),
            type(time),
        )
        runner = _runners[schema]
    except KeyError:
        if len(_runners) > _RUNNER_LIMIT:
            _runners.clear()
        runner = _runners[schema] = _compile_runner(schema, context[1])
    except Exception:  # not a dict, unhashable: the general rules say what is wrong
        return None
    return runner


def _compile_runner(schema: Tuple[Any, ...], static: Optional[Dict[Any, Any]]) -> Optional[_Runner]:
    """A builder writing, while points keep this schema, each point's whole line in one f-string.

    Everything a point could get wrong is checked per point (key sets by
    size and lookup, exact value types, finite floats, the int64 range,
    strings without quotes, backslashes or newlines, times in range); a
    point that fails a check is returned for the general rules to write or
    refuse.  Tag values come from the escape cache, which holds exact
    strings only, so a value not seen yet (or not a string) sends its point
    to the general rules once, which fill the cache.  Names are pasted into
    the source as ``repr`` literals.
    """
    _, default, precision, scale, name, tag_keys, field_keys, field_types, time_type = schema
    if type(name) is not str or not field_keys or time_type not in _TIME_TYPES:
        return None
    if not all(type(k) is str for k in tag_keys) or not all(type(k) is str for k in field_keys):
        return None
    if not all(t in _FIELD_TYPES for t in field_types):
        return None
    ename = _esc(name)
    if not ename or not all(_esc(k) for k in field_keys):
        return None
    # The try is inside the loop: an error raised by the input itself (a generator) is not a point's.
    src = ["def run(first, rest, append):", "    for p in chain((first,), rest):", "        try:"]
    body: List[str] = []

    def line(text: str) -> None:
        body.append("            " + text)

    line(f"if p.get('measurement', {default!r}) != {name!r}: return p")
    template = [_braces(ename)]
    if tag_keys:
        line("t = p['tags']")
        line(f"if len(t) != {len(tag_keys)}: return p")
    else:
        line("if p.get('tags'): return p")
    keys = set(tag_keys) | set(static or ())
    for n, key in enumerate(sorted(keys)):
        ekey = _esc(key)
        if key in tag_keys:
            if not ekey:
                return None
            line(f"v{n} = E[t[{key!r}]]")
            template.append(_braces(f",{ekey}=") + f"{{v{n}}}")
        else:
            value = static[key]  # type: ignore[index]
            text = _esc(value) if value is not None else ""
            if ekey and text:
                template.append(_braces(f",{ekey}={text}"))
    line("f = p['fields']")
    line(f"if len(f) != {len(field_keys)}: return p")
    pieces = []
    by_key = dict(zip(field_keys, field_types))
    for n, key in enumerate(sorted(field_keys)):
        kind = by_key[key]
        line(f"x{n} = f[{key!r}]")
        line(f"if type(x{n}) is not {kind.__name__}: return p")
        if kind is float:
            line(f"if x{n} - x{n} != 0.0: return p")
            value = f"{{x{n}!r}}"
        elif kind is int:
            line(f"if not -9223372036854775808 <= x{n} <= 9223372036854775807: return p")
            value = f"{{x{n}}}i"
        elif kind is str:
            line(f"if '\\\\' in x{n} or '\"' in x{n} or '\\n' in x{n}: return p")
            value = f'"{{x{n}}}"'
        else:
            line(f"s{n} = 'True' if x{n} else 'False'")
            value = f"{{s{n}}}"
        pieces.append(_braces(f"{_esc(key)}=") + value)
    text = "".join(template) + " " + ",".join(pieces)
    limit = MAX_NANOS // NANOS_PER[precision or "n"]
    scaled = "ts" if scale == 1 else f"ts * {scale}"
    if time_type is type(None):
        line("if p.get('time') is not None: return p")
        line(f"append({text!r})" if "{" not in text else f"append(f{text!r})")
    else:
        line("ts = p['time']")
        if time_type is int:
            line("if type(ts) is not int: return p")
        else:
            divisor = NANOS_PER[precision or "n"]
            line("if type(ts) is not datetime: return p")
            line("d = ts - (EPOCH_NAIVE if ts.tzinfo is None else EPOCH)")
            line("ts = (d.days * 86400 + d.seconds) * 1000000000 + d.microseconds * 1000")
            if divisor != 1:
                line(f"ts = ts // {divisor} if ts >= 0 else -(-ts // {divisor})")
        line(f"if not -{limit} <= ts <= {limit}: return p")
        line(f"append(f{text + ' {' + scaled + '}'!r})")
    src += body
    src += ["        except Exception:", "            return p", "    return DONE"]
    names: Dict[str, Any] = {
        "chain": itertools.chain,
        "E": _escape_cache,
        "DONE": _DONE,
        "datetime": datetime,
        "EPOCH": EPOCH,
        "EPOCH_NAIVE": _EPOCH_NAIVE,
    }
    exec("\n".join(src), names)  # noqa: S102 - names pasted as repr literals only
    run: _Runner = names["run"]
    return run


def _braces(text: str) -> str:
    """``text`` as the literal part of an f-string."""
    return text.replace("{", "{{").replace("}", "}}")


def _fields_text(fields: Mapping[Any, Any], index: Optional[int], name: Any, check_ints: bool = True) -> str:
    """The field set of a point, general rules (any value type).

    :param check_ints: refuse ints outside the 64-bit range (``make_line`` does not, as 5.3.2)
    """
    parts = []
    for key in sorted(fields):
        value = fields[key]
        if value is None:
            continue
        try:
            text = f"{value}i" if not check_ints and type(value) is int else _escape_value(value)
        except InvalidPointError as exc:
            if isinstance(value, float):
                raise _point_error(
                    index, name, f"field {key!r} is {value!r}: InfluxDB has no NaN or infinity"
                ) from None
            raise _point_error(index, name, f"field {key!r}: {exc.content}") from None
        ekey = _esc(key)
        if ekey:
            parts.append(ekey + "=" + text)
    if not parts:
        raise _point_error(index, name, "has no fields (every field is None or missing)")
    return ",".join(parts)


def _no_line(fields: Mapping[Any, Any], prefix: str, time: Optional[int]) -> Optional[str]:
    return None


def _compile_fields(fields: Mapping[Any, Any]) -> _Formatter:
    """A function ``fmt(fields, prefix, time)`` returning the whole line for field dicts with
    these keys, or None when it can't.

    It covers finite floats, ints, bools and strs that need no escaping; any
    other value sends the point to :func:`_fields_text`.  Keys are bound as
    constants, never pasted into the source.
    """
    try:
        keys = sorted(fields)
    except TypeError:
        return _no_line
    names: Dict[str, Any] = {"repr": repr, "type": type, "float": float, "int": int, "str": str, "bool": bool}
    body = ["def fmt(f, p, ts, repr=repr, type=type):"]
    pieces = []
    for n, key in enumerate(keys):
        ekey = _esc(key)
        if not ekey:
            return _no_line
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
    fmt: _Formatter = names["fmt"]
    return fmt


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
            if cached:  # "" stays out: the compiled builders take every cached value as a tag
                _escape_cache[text] = cached
        return cached
    return _escape_tag(text)


# -- one point ----------------------------------------------------------------------


def format_line(
    measurement: Any, tags: Mapping[Any, Any], fields: Mapping[Any, Any], time: Any, precision: Optional[str]
) -> str:
    """One point as ``make_line`` writes it: integers and times not range-checked, as in 5.3.2."""
    line = f"{_prefix(measurement, tags, None)} {_fields_text(fields, None, measurement, check_ints=False)}"
    if time is None:
        return line
    if type(time) is not int:
        try:
            time = int(_convert_timestamp(time, precision))
        except InvalidPointError as exc:
            raise _point_error(None, measurement, str(exc.content)) from None
    return f"{line} {time}"


def _point_error(index: Optional[int], measurement: Any, problem: str) -> InvalidPointError:
    where = f"point {index}" if index is not None else "point"
    if measurement not in (None, ""):
        where += f" (measurement {measurement!r})"
    error = InvalidPointError(f"{where} {problem}")
    error.point_index = index  # type: ignore[attr-defined]  # read by the write pipeline's progress
    return error


# -- line-protocol text ---------------------------------------------------------------


def rescale_line_timestamps(lines: Iterable[str], scale: int) -> List[str]:
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
            stamp = line[i + 1 :]
            return i + 1 if stamp.lstrip("-").isdigit() else None
        i += 1
    return None
