"""``loads``: the JSON values found one after another in a string (as influxdb-python)."""

from __future__ import annotations

import json
from typing import Any, Iterator

__all__ = ["loads"]


def loads(s: str) -> Iterator[Any]:
    """Generate a sequence of JSON values from a string."""
    decoder = json.JSONDecoder()
    while s:
        s = s.strip()
        obj, pos = decoder.raw_decode(s)
        if not pos:
            raise ValueError("no JSON object found at %i" % pos)
        yield obj
        s = s[pos:]
