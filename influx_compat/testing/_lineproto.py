"""A strict line-protocol checker with InfluxDB 2.x's parse-error reasons.

InfluxDB 2.x refuses a whole batch when one line does not parse, while the
1.x engine under the test server would store the good lines; so the server
checks every line first, as 2.x's parser would, and forwards only clean
batches.
"""

from __future__ import annotations

import re
from typing import List, Optional

__all__ = ["check_body", "check_line", "sections", "split_unescaped", "MAX_KEY_LENGTH"]

MAX_KEY_LENGTH = 65535
_INT_RE = re.compile(r"^[+-]?\d+i$")
_UINT_RE = re.compile(r"^\d+u$")
_FLOAT_RE = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_BOOLS = {"t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE"}
_MIN_NS = -9223372036854775806
_MAX_NS = 9223372036854775806


def split_unescaped(text: str, sep: str) -> List[str]:
    """Split at ``sep`` characters not escaped by a backslash (outside quotes)."""
    parts, current, i, quoted = [], [], 0, False
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text):
            current.append(text[i : i + 2])
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        if c == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(c)
        i += 1
    parts.append("".join(current))
    return parts


def sections(line: str) -> Optional[List[str]]:
    """(series key, fields, [timestamp]) split at unescaped spaces; quotes only count in fields."""
    i, n = 0, len(line)
    while i < n and line[i] != " ":
        i += 2 if line[i] == "\\" else 1
    key = line[:i]
    if i >= n:
        return [key]
    start = i + 1
    i = start
    quoted = False
    while i < n:
        c = line[i]
        if c == "\\":
            i += 2
            continue
        if c == '"':
            quoted = not quoted
        elif c == " " and not quoted:
            break
        i += 1
    if quoted:
        return None
    fields = line[start:i]
    if i >= n:
        return [key, fields]
    return [key, fields, line[i + 1 :]]


def check_line(line: str, precision_factor: int = 1) -> Optional[str]:
    """The reason 2.x would refuse this line, or None when it parses."""
    secs = sections(line)
    if secs is None:
        return "unbalanced quotes"
    key = secs[0]
    if not key or key.startswith(","):
        return "missing measurement"
    if len(key) > MAX_KEY_LENGTH:
        return f"max key length exceeded: {len(key)} > {MAX_KEY_LENGTH}"
    parts = split_unescaped(key, ",")
    for tag in parts[1:]:
        pieces = split_unescaped(tag, "=")
        if len(pieces) != 2:
            return "missing tag value"
        if not pieces[0]:
            return "missing tag key"
        if not pieces[1]:
            return "missing tag value"
    if len(secs) < 2 or not secs[1]:
        return "missing fields"
    for field in split_unescaped(secs[1], ","):
        if "=" not in field.replace("\\=", ""):
            return "missing fields"
        pieces = split_unescaped(field, "=")
        name, value = pieces[0], "=".join(pieces[1:])
        if not name:
            return "missing field key"
        if not value:
            return "missing field value"
        if value.startswith('"'):
            if len(value) < 2 or not value.endswith('"'):
                return "unbalanced quotes"
            continue
        if value[0] in "tTfF":
            if value not in _BOOLS:
                return "invalid boolean"
            continue
        if value.endswith("i"):
            if not _INT_RE.match(value):
                return "invalid number"
            if not -(2**63) <= int(value[:-1]) < 2**63:
                number = value[:-1]
                return (
                    f'unable to parse integer {number}: strconv.ParseInt: parsing "{number}": '
                    "value out of range"
                )
            continue
        if value.endswith("u"):
            if not _UINT_RE.match(value):
                return "invalid number"
            continue
        if not _FLOAT_RE.match(value):
            if value[0].isdigit() or value[0] in "+-.":
                return "invalid number"
            return "invalid field format"
        if value.lower() in ("nan", "inf", "+inf", "-inf"):
            return "invalid number"
    if len(secs) == 3:
        stamp = secs[2]
        if not re.match(r"^-?\d+$", stamp):
            return "bad timestamp"
        ns = int(stamp) * precision_factor
        if not _MIN_NS <= ns <= _MAX_NS:
            return "time outside range -9223372036854775806 - 9223372036854775806"
    return None


def check_body(body: str, precision_factor: int = 1) -> Optional[str]:
    """2.x's error message for a batch, or None when every line parses."""
    errors = []
    for raw in body.split("\n"):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        reason = check_line(line, precision_factor)
        if reason is not None:
            errors.append(f"unable to parse '{line}': {reason}")
    return "\n".join(errors) if errors else None
