"""2.x's delete predicates (``_measurement="m" AND host="a"``) turned into engine WHERE conditions.

Only what 2.x accepts: ``=`` and ``!=`` on tags and ``_measurement``, joined
by AND; OR, regex operators and ``_field`` are refused with 2.x's texts.
"""

from __future__ import annotations

import re
from typing import List, Optional, Tuple

from influx_compat.testing._state import ApiError

__all__ = ["parse_predicate", "esc_ident"]


def esc_ident(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


_PRED_TOKEN = re.compile(
    r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>!=|=~|!~|=)|(?P<dq>"(?:[^"\\]|\\.)*")'
    r"|(?P<sq>'(?:[^'\\]|\\.)*')|(?P<word>[A-Za-z0-9_.\-:]+))"
)


def _scan_string(quoted: str) -> str:
    """A double-quoted predicate string as InfluxQL's scanner reads it (\\n, \\\\, \\", \\')."""
    out = []
    body = quoted[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in "n\\\"'":
                raise ApiError("invalid", f"error decoding json body: bad escape \\{nxt}")
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def parse_predicate(text: str) -> Tuple[Optional[str], List[str]]:
    """2.x's delete predicate -> (measurement, engine WHERE conditions)."""
    if not text.strip():
        return None, []
    measurement: Optional[str] = None
    conditions: List[str] = []
    pos = 0
    expect = "key"
    key: Optional[str] = None
    op: Optional[str] = None
    terms = 0
    while pos < len(text):
        m = _PRED_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ApiError("invalid", f"error decoding json body: invalid predicate at position {pos}")
        start = m.start(m.lastgroup) if m.lastgroup else pos
        pos = m.end()
        kind, value = m.lastgroup, m.group(m.lastgroup or 0)
        if kind in ("lp", "rp"):
            continue
        if expect == "key":
            if kind == "word" and value.upper() == "AND" and terms:
                continue
            if kind == "word" and value.upper() == "OR":
                raise ApiError(
                    "invalid",
                    "error decoding json body: the logical operator OR is not "
                    f"supported yet at position {start}",
                )
            if kind not in ("word", "dq"):
                raise ApiError("invalid", f"error decoding json body: invalid predicate at position {start}")
            key = _scan_string(value) if kind == "dq" else value
            expect = "op"
        elif expect == "op":
            if kind == "word" and value.upper() == "OR":
                raise ApiError(
                    "invalid",
                    "error decoding json body: the logical operator OR is not "
                    f"supported yet at position {start}",
                )
            if kind != "op":
                raise ApiError("invalid", f"error decoding json body: invalid predicate at position {start}")
            if value in ("=~", "!~"):
                raise ApiError(
                    "invalid",
                    f'error decoding json body: operator: "{value}" at position: '
                    f"{start} is not supported yet",
                )
            op = value
            expect = "value"
        else:
            if kind == "sq":
                raise ApiError(
                    "invalid",
                    f'error decoding json body: bad tag value: "{value[1:-1]}", at position {start}',
                )
            if kind not in ("word", "dq"):
                raise ApiError("invalid", f"error decoding json body: invalid predicate at position {start}")
            val = _scan_string(value) if kind == "dq" else value
            assert key is not None and op is not None
            if key == "_field":
                raise ApiError("not implemented", "delete by field is not supported")
            if key == "_measurement":
                if op != "=":
                    raise ApiError("invalid", "error decoding json body: _measurement must use =")
                measurement = val
            else:
                esc = val.replace("\\", "\\\\").replace("'", "\\'")
                conditions.append(f"\"{esc_ident(key)}\" {op} '{esc}'")
            expect = "key"
            terms += 1
    if expect != "key":
        raise ApiError("invalid", "error decoding json body: incomplete predicate")
    return measurement, conditions
