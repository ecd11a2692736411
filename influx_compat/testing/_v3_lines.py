"""Line protocol as InfluxDB 3 reads it, for the 3.x test server.

InfluxDB 3 parses line protocol with its own nom parser
(``core/influxdb_line_protocol/src/lib.rs``), stricter than 1.x/2.x in places
(no ``+1``, ``.5`` or ``1.`` floats; only spaces separate the sections; a
trailing ``\\r`` is trailing content) and with its own error texts.  This
module follows that grammar and its messages, then asks the independent 2.x
checker of :mod:`._lineproto` too, so that nothing the 1.x engine underneath
could refuse is forwarded.  Nothing here comes from influx_compat itself.
"""

from __future__ import annotations

import re
from typing import Iterator, List, NamedTuple, Optional, Tuple

from influx_compat.testing._lineproto import check_line

__all__ = ["Line", "LineError", "parse_body", "rust_lines", "LEGACY_PRECISIONS", "V3_PRECISIONS", "to_nanos"]

# core/iox_http/src/write/params.rs: the /write and /api/v2/write precisions (no m, no h), default ns
LEGACY_PRECISIONS = {
    "second": "second",
    "s": "second",
    "millisecond": "millisecond",
    "ms": "millisecond",
    "microsecond": "microsecond",
    "us": "microsecond",
    "u": "microsecond",
    "nanosecond": "nanosecond",
    "ns": "nanosecond",
    "n": "nanosecond",
}
# influxdb3_types/src/write.rs: /api/v3/write_lp adds `auto` (its default)
V3_PRECISIONS = dict(LEGACY_PRECISIONS, auto="auto")
_MULTIPLIER = {"second": 10**9, "millisecond": 10**6, "microsecond": 10**3, "nanosecond": 1}
_DEBUG_NAME = {
    "auto": "Auto",
    "second": "Second",
    "millisecond": "Millisecond",
    "microsecond": "Microsecond",
    "nanosecond": "Nanosecond",
}
_I64 = 2**63
_STRING_LIMIT = 65_536  # influxdb_line_protocol: STRING_LENGTH_LIMIT_IN_BYTES (64 KiB)
_BOOLS = (
    ("true", True),
    ("True", True),
    ("TRUE", True),
    ("t", True),
    ("T", True),
    ("false", False),
    ("False", False),
    ("FALSE", False),
    ("f", False),
    ("F", False),
)
_FLOATS = [re.compile(p) for p in (r"-?\d+\.\d+[eE][-+]?\d+", r"-?\d+[eE][-+]?\d+", r"-?\d+\.\d+", r"-?\d+")]
_INT = re.compile(r"(-?\d+)i")
_UINT = re.compile(r"(\d+)u")
_TIMESTAMP = re.compile(r"-?\d+")
_WS = " \t\n"


class LineError(Exception):
    """A line InfluxDB 3's parser refuses; ``str(err)`` is its message."""


class Line(NamedTuple):
    """One parsed line: names unescaped, field types as 3.x's catalog names them."""

    measurement: str
    tags: List[Tuple[str, str]]
    fields: List[Tuple[str, str]]  # (name, "integer" | "uinteger" | "float" | "string" | "boolean")
    timestamp: Optional[int]
    series_text: str  # measurement and tags as written
    field_texts: List[str]  # each field as the engine should receive it
    display: str  # the line as ParsedLine's Display writes it (catalog errors quote it)


def _truncate(text: str) -> str:
    # influxdb_line_protocol: maybe_truncate_context keeps 10 characters of context
    return text[:10] + "..." if len(text.encode()) > 10 else text


def _got(text: str) -> str:
    return "end of input" if not text else f"`{_truncate(text)}`"


def _scan(text: str, i: int, stops: str) -> Tuple[str, int]:
    """An escaped name from ``i``: backslash escapes the next stop character (or itself)."""
    out: List[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            if i + 1 >= n:
                raise LineError(
                    "Measurements, tag keys and values, and field keys may not end with a backslash"
                )
            nxt = text[i + 1]
            if nxt in stops or nxt == "\\":
                out.append(nxt)
                i += 2
                continue
            out.append(c)  # escape_or_fallback: an unknown escape is a literal backslash
            i += 1
            continue
        if c in stops:
            break
        out.append(c)
        i += 1
    return "".join(out), i


def _field_value(text: str, i: int) -> Optional[Tuple[str, str, int]]:
    """(type, engine text, end) of the value at ``i``; None when no alternative matches."""
    # field_value: alt((int, uint, float, string, bool)), in that order
    m = _INT.match(text, i)
    if m:
        if not -_I64 <= int(m.group(1)) < _I64:
            raise LineError(f"Unable to parse integer value `{m.group(1)}`")
        return "integer", m.group(0), m.end()
    m = _UINT.match(text, i)
    if m:
        value = int(m.group(1))
        if value >= 2**64:
            raise LineError(f"Unable to parse unsigned integer value `{m.group(1)}`")
        if value >= _I64:  # the 1.x engine has no unsigned type: stored as integers
            raise LineError(f"test server: unsigned value {value} exceeds the engine's integer range")
        return "uinteger", m.group(1) + "i", m.end()
    for pattern in _FLOATS:
        m = pattern.match(text, i)
        if m:
            return "float", m.group(0), m.end()
    if text.startswith('"', i):
        j = i + 1
        size = 0
        while j < len(text):
            if text.startswith('\\"', j) or text.startswith("\\\\", j):
                j, size = j + 2, size + 1
                continue
            if text[j] == '"':
                if size > _STRING_LIMIT:
                    raise LineError("String is greater than 64KB")
                return "string", text[i : j + 1], j + 1
            size += len(text[j].encode())
            j += 1
        return None
    for word, value in _BOOLS:
        if text.startswith(word, i):
            return "boolean", "true" if value else "false", i + len(word)
    return None


def _rust_float(text: str) -> str:
    value = float(text)
    if value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(value)


def parse_line(text: str) -> Line:
    """One non-empty line (leading whitespace and comments already trimmed)."""
    measurement, i = _scan(text, 0, ", \t\n\0")
    if not measurement:
        raise LineError("Invalid measurement was provided")
    tags: List[Tuple[str, str]] = []
    if text.startswith(",", i):
        rest_start = i + 1
        i = rest_start
        while True:
            key, j = _scan(text, i, "= \t\n")
            if not key:
                raise LineError(f"Expected tag key, got {_got(text[i:])}")
            if not text.startswith("=", j):
                raise LineError(
                    f"Tag set malformed: could not find equals sign in `{_truncate(text[rest_start:])}`"
                )
            value, k = _scan(text, j + 1, ", \t\n")
            if not value:
                raise LineError(f"Expected tag value, got {_got(text[j + 1 :])}")
            tags.append((key, value))
            i = k
            if not text.startswith(",", i):
                break
            i += 1
    series_text = text[:i]
    j = i
    while j < len(text) and text[j] == " ":
        j += 1
    if j == i:
        rest = text[i:]
        raise LineError(
            "Expected at least one space character, got " + (f"`{rest}`" if rest else "end of input")
        )
    fields: List[Tuple[str, str]] = []
    field_texts: List[str] = []
    shown: List[str] = []
    i = j
    while True:
        key, k = _scan(text, i, "= \t\n")
        parsed = _field_value(text, k + 1) if key and text.startswith("=", k) else None
        if parsed is None:
            if not fields:
                raise LineError("No fields were provided")
            i -= 1  # the comma before the field that does not parse is trailing content
            break
        ftype, engine_text, end = parsed
        fields.append((key, ftype))
        field_texts.append(text[i:k] + "=" + engine_text)
        shown.append(text[i:k] + "=" + (_rust_float(engine_text) if ftype == "float" else text[k + 1 : end]))
        i = end
        if not text.startswith(",", i):
            break
        i += 1
    timestamp: Optional[int] = None
    j = i
    while j < len(text) and text[j] == " ":
        j += 1
    m = _TIMESTAMP.match(text, j) if j > i else None
    if m:
        timestamp = int(m.group(0))
        if not -_I64 <= timestamp < _I64:
            raise LineError(f"Unable to parse timestamp value `{m.group(0)}`")
        i = m.end()
        while i < len(text) and text[i] == " ":
            i += 1
    if i < len(text):
        raise LineError(f"Could not parse entire line. Found trailing content: `{_truncate(text[i:])}`")
    reason = check_line(series_text + " " + ",".join(field_texts))
    if reason is not None:  # 3.x would take it, the 1.x engine would not: refuse rather than diverge
        raise LineError(f"test server: the engine cannot store this line ({reason})")
    display = series_text + " " + ",".join(shown) + ("" if timestamp is None else f" {timestamp}")
    return Line(measurement, tags, fields, timestamp, series_text, field_texts, display)


def split_lines(body: str) -> Iterator[str]:
    """influxdb_line_protocol's split_lines: newlines inside quoted field strings do not end a line."""
    quoted = fields = escaped = False
    equals = commas = 0
    start = 0
    for i, c in enumerate(body):
        if escaped:
            escaped = False
            continue
        if c == "\\":
            escaped = True
        elif c == " ":
            fields = True
        elif fields and not quoted and c == "=":
            equals += 1
        elif fields and not quoted and c == ",":
            commas += 1
        elif fields and c == '"' and equals > commas:
            quoted = not quoted
        elif c == "\n" and not quoted:
            yield body[start:i]
            start = i + 1
            quoted = fields = False
            equals = commas = 0
    yield body[start:]


def _trim_leading(text: str) -> str:
    while True:
        text = text.lstrip(_WS)
        if not text.startswith("#"):
            return text
        cut = text.find("\n")
        text = "" if cut < 0 else text[cut:]


def rust_lines(body: str) -> List[str]:
    """``str::lines()``: split at ``\\n``, one trailing ``\\r`` dropped, no final empty line."""
    parts = body.split("\n")
    if parts and parts[-1] == "":
        parts.pop()
    return [p[:-1] if p.endswith("\r") else p for p in parts]


def parse_body(body: str) -> Iterator[Tuple[int, str, Optional[Line], Optional[str]]]:
    """(line_number, original_line, line or None, error or None) for each non-empty line.

    influxdb3_write/src/write_buffer/validator.rs numbers the non-empty lines
    but takes each ``original_line`` from ``str::lines()`` of the whole body
    in step, so blank lines shift the quoted text: reproduced as is.
    """
    raw = iter(rust_lines(body))
    number = 0
    for piece in split_lines(body):
        text = _trim_leading(piece)
        if not text:
            continue
        number += 1
        original = next(raw, "")
        try:
            yield number, original, parse_line(text), None
        except LineError as err:
            yield number, original, None, str(err)


def to_nanos(timestamp: Optional[int], precision: str, ingest_ns: int) -> int:
    """influxdb3_types/src/write.rs Precision::to_nanos: guess the unit under ``auto``; raises ValueError."""
    if timestamp is None:
        if precision == "auto":
            return ingest_ns
        return ingest_ns // _MULTIPLIER[precision] * _MULTIPLIER[precision]
    unit = precision
    if unit == "auto":
        magnitude = abs(timestamp) // 10**9
        unit = (
            "second"
            if magnitude < 5
            else "millisecond"
            if magnitude < 5_000
            else "microsecond"
            if magnitude < 5_000_000
            else "nanosecond"
        )
    ns = timestamp * _MULTIPLIER[unit]
    if not -_I64 <= ns < _I64:
        raise ValueError(f"timestamp, {timestamp}, out of range for precision: {_DEBUG_NAME[precision]}")
    return ns
