"""Field type conflicts inside one batch, as InfluxDB 2.7.12 and later answer them, over the 1.6 engine.

From 2.7.12 on, the shard creates a point's new fields while it validates that point, in the
batch's order (``tsdb/field_validator.go`` ``ValidateAndCreateFields``, called per point by
``tsdb/shard.go`` ``validateSeriesAndFields``; influxdb commit "fix: prevent differing field types
in the same shard", #26025): a field given a second type later in the same batch drops those later
points, the others are stored, and the answer is 422 ``partial write: field type conflict: input
field "x" on measurement "m" is type integer, already exists as type float dropped=1``
(``tsdb/shard.go`` ``PartialWriteError.Error``, wrapped by ``http/write_handler.go`` as
``failure writing points to database: ...``).

Up to 2.7.11 the new fields were created only after the whole batch had been validated, and the
second type failed the batch (nothing stored): 500 ``unexpected error writing points to database:
field type conflict``.  The 1.6 engine under the test server does just that, so for 2.7.12 and
later the server sends such a batch again in order, cut in halves until every part writes or is
rejected point by point by the engine itself; only the first reason is kept and the dropped points
are counted, as 2.x does.

Not reproduced: a point dropped for its field ``b`` still creates its new fields before ``b`` on
2.7.12 (the engine creates none for a dropped point), and a batch over several shards reports the
dropped points of all of them (2.x reports the first shard's error it gets).
"""

from __future__ import annotations

import re
from typing import Callable, Dict, List, Optional, Tuple

from influx_compat.testing._lineproto import sections, split_unescaped

__all__ = ["PER_POINT_FIELDS", "BARE_CONFLICT", "write_in_order"]

PER_POINT_FIELDS = (2, 7, 12)  # the first 2.x creating fields point by point
BARE_CONFLICT = "field type conflict"  # the engine's whole-batch failure (tsdb.ErrFieldTypeConflict)
_PARTIAL = re.compile(r"^partial write: (.*) dropped=(\d+)$", re.S)

# (body, answer status, the engine's error message)
EngineWrite = Callable[[bytes], Tuple[int, str]]


def write_in_order(write: EngineWrite, body: str, now: int) -> Tuple[int, str]:
    """Write ``body``'s points as 2.7.12 would: ``(dropped, first reason)``; ``(0, "")`` when all were stored.

    :param write: sends a body to the engine (same database and precision)
    :param body: the batch (already checked by the line-protocol checker)
    :param now: the batch's time in its precision, for the lines without one: 2.x stamps the
        whole batch once, and a part written again must not move
    :raises RuntimeError: an engine error other than a field type conflict
    """
    lines = [_stamped(line.strip(), now) for line in body.split("\n")]
    found: List[Tuple[int, str]] = []
    _write_part(write, [line for line in lines if line and not line.startswith("#")], found)
    if not found:
        return 0, ""
    return sum(dropped for dropped, _ in found), found[0][1]


def _stamped(line: str, now: int) -> str:
    if not line or line.startswith("#"):
        return line
    parts = sections(line)
    return line if parts is None or len(parts) == 3 else f"{line} {now}"


def _write_part(write: EngineWrite, lines: List[str], found: List[Tuple[int, str]]) -> None:
    status, message = write(("\n".join(lines) + "\n").encode("utf-8"))
    if status == 204:
        return
    partial = _PARTIAL.match(message)
    if partial:
        found.append((int(partial.group(2)), partial.group(1)))
        return
    if message != BARE_CONFLICT:
        raise RuntimeError(message)
    if len(lines) == 1:  # one point naming a field twice with two types
        found.append((1, _own_conflict(lines[0]) or BARE_CONFLICT))
        return
    middle = len(lines) // 2
    _write_part(write, lines[:middle], found)
    _write_part(write, lines[middle:], found)


_TYPES = (("i", "integer"), ("u", "unsigned"))


def _field_type(value: str) -> str:
    if value.startswith('"'):
        return "string"
    if value[:1] in "tTfF":
        return "boolean"
    for suffix, name in _TYPES:
        if value.endswith(suffix):
            return name
    return "float"


def _unescape(name: str) -> str:
    return re.sub(r"\\(.)", r"\1", name)


def _own_conflict(line: str) -> Optional[str]:
    """2.7.12's reason for a point giving one field two types (the first type is created first)."""
    parts = sections(line)
    if parts is None or len(parts) < 2:
        return None
    measurement = _unescape(split_unescaped(parts[0], ",")[0])
    seen: Dict[str, str] = {}
    for field in split_unescaped(parts[1], ","):
        pieces = split_unescaped(field, "=")
        name, kind = _unescape(pieces[0]), _field_type("=".join(pieces[1:]))
        if name in seen and seen[name] != kind:
            return (
                f'{BARE_CONFLICT}: input field "{name}" on measurement "{measurement}" is type {kind}, '
                f"already exists as type {seen[name]}"
            )
        seen.setdefault(name, kind)
    return None
