"""RFC3339 times in the test servers: the one parser, and InfluxDB 3's formatter."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

__all__ = ["parse_rfc3339", "format_autosi"]

_RFC3339_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$")
_UNIX = datetime(1970, 1, 1, tzinfo=timezone.utc)


def parse_rfc3339(text: str) -> int:
    """Nanoseconds since the epoch of an RFC3339Nano time; ValueError when ``text`` is not one."""
    m = _RFC3339_RE.match(text)
    if m is None:
        raise ValueError(f"not an RFC3339 time: {text!r}")
    y, mo, d, h, mi, s, frac, off = m.groups()
    delta = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s)) - datetime(1970, 1, 1)
    ns = (delta.days * 86400 + delta.seconds) * 10**9
    if frac:
        ns += int(frac[1:].ljust(9, "0"))
    if off != "Z":
        sign = 1 if off[0] == "+" else -1
        ns -= sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60) * 10**9
    return ns


def format_autosi(ns: int) -> str:
    """chrono's ``to_rfc3339_opts(SecondsFormat::AutoSi, true)``: 0, 3, 6 or 9 fraction digits, ``Z``."""
    seconds, frac = divmod(ns, 10**9)
    text = (_UNIX + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    if frac == 0:
        return text + "Z"
    if frac % 10**6 == 0:
        return f"{text}.{frac // 10**6:03d}Z"
    if frac % 10**3 == 0:
        return f"{text}.{frac // 10**3:06d}Z"
    return f"{text}.{frac:09d}Z"
