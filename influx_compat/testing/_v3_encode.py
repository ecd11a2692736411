"""How InfluxDB 3's ``/query`` writes its answers: JSON, CSV, MessagePack, chunks.

``core/iox_v1_query_api/src/response``: the 1.x shape, but times as RFC3339
with 0, 3, 6 or 9 fraction digits (chrono ``SecondsFormat::AutoSi``),
integral floats written as integers, empty parts left out, and MessagePack
with every struct as a positional array (rmp_serde's default).  A chunked
answer is one JSON document per series chunk, written back to back with no
newline between them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Dict, Iterator, List, Optional

from influx_compat.testing._msgpack import packb
from influx_compat.testing._rfc3339 import format_autosi

__all__ = ["Series", "Result", "chunk_results", "encode_json", "encode_msgpack", "encode_csv", "EPOCHS"]

_EPOCH_NS = {"ns": 1, "u": 10**3, "\u00b5": 10**3, "ms": 10**6}
_EPOCH_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
EPOCHS = tuple(_EPOCH_NS) + tuple(_EPOCH_SECONDS)  # iox_v1_query_api/src/types.rs Precision (no `us`)
_I64_MAX = 2**63 - 1


@dataclass
class Series:
    """One series (or one chunk of it); ``values`` rows keep times as integer nanoseconds."""

    name: str
    columns: List[str]
    values: List[List[Any]]
    tags: Dict[str, str] = field(default_factory=dict)
    timed: bool = False  # column 0 holds timestamps
    partial: bool = False


@dataclass
class Result:
    statement_id: int
    series: List[Series] = field(default_factory=list)
    error: str = ""
    partial: bool = False


def _epoch(ns: int, epoch: str) -> int:
    if epoch in _EPOCH_NS:
        return ns // _EPOCH_NS[epoch]  # chrono timestamp_micros/millis round down
    seconds = ns // 10**9
    divisor = _EPOCH_SECONDS[epoch]
    return int(seconds / divisor) if seconds < 0 else seconds // divisor  # Rust `/` truncates toward zero


def _value(value: Any, allow_inf: bool) -> Any:
    # value.rs ValueSerializer: x.0 that fits an i64 is written as an integer
    if isinstance(value, float) and not isinstance(value, bool):
        if value != value:
            return None
        if value in (float("inf"), float("-inf")) and not allow_inf:
            raise ValueError("json: unsupported value: " + ("+Inf" if value > 0 else "-Inf"))
        if value.is_integer() and abs(value) < _I64_MAX:
            return int(value)
    return value


def _rows(series: Series, epoch: Optional[str], allow_inf: bool) -> List[List[Any]]:
    rows = []
    for row in series.values:
        out = [_value(v, allow_inf) for v in row]
        if series.timed and out and isinstance(out[0], int):
            out[0] = format_autosi(out[0]) if epoch is None else _epoch(out[0], epoch)
        rows.append(out)
    return rows


def chunk_results(results: List[Result], chunk_size: int) -> Iterator[List[Result]]:
    """response/chunked.rs: one response per series chunk; an empty statement gives nothing."""
    for result in results:
        if result.error:
            yield [Result(result.statement_id, error=result.error)]
            continue
        pieces: List[Series] = []
        for series in result.series:
            for start in range(0, len(series.values), chunk_size):
                rows = series.values[start : start + chunk_size]
                more = start + chunk_size < len(series.values)
                pieces.append(
                    Series(series.name, series.columns, rows, series.tags, series.timed, partial=more)
                )
        for index, piece in enumerate(pieces):
            yield [Result(result.statement_id, [piece], partial=index < len(pieces) - 1)]


def _series_map(series: Series, epoch: Optional[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if series.name:
        out["name"] = series.name
    if series.tags:
        out["tags"] = dict(sorted(series.tags.items()))
    if series.columns:
        out["columns"] = series.columns
    if series.values:
        out["values"] = _rows(series, epoch, allow_inf=False)
    if series.partial:
        out["partial"] = True
    return out


def _result_map(result: Result, epoch: Optional[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"statement_id": result.statement_id}
    if result.series:
        out["series"] = [_series_map(s, epoch) for s in result.series]
    if result.partial:
        out["partial"] = True
    if result.error:
        out["error"] = result.error
    return out


def encode_json(results: List[Result], epoch: Optional[str], pretty: bool) -> bytes:
    """response/json.rs: one document; a value JSON cannot hold turns it into ``{"error": ...}``."""
    try:
        doc: Dict[str, Any] = {"results": [_result_map(r, epoch) for r in results]} if results else {}
    except ValueError as err:
        doc = {"error": str(err)}
    if pretty:
        return json.dumps(doc, indent=2, ensure_ascii=False).encode()
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


def _series_array(series: Series, epoch: Optional[str]) -> List[Any]:
    out: List[Any] = []
    if series.name:
        out.append(series.name)
    if series.tags:
        out.append(dict(sorted(series.tags.items())))
    if series.columns:
        out.append(series.columns)
    if series.values:
        out.append(_rows(series, epoch, allow_inf=True))
    if series.partial:
        out.append(True)
    return out


def encode_msgpack(results: List[Result], epoch: Optional[str]) -> bytes:
    """response/msgpack.rs: rmp_serde writes each struct as an array of the fields it serializes."""
    body: List[Any] = []
    for result in results:
        item: List[Any] = [result.statement_id]
        if result.series:
            item.append([_series_array(s, epoch) for s in result.series])
        if result.partial:
            item.append(True)
        if result.error:
            item.append(result.error)
        body.append(item)
    return packb([body] if results else [])


def _rust_display(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f")
    return str(value)


def _csv_escape(text: str) -> str:
    return '"' + text.replace('"', '""') + '"' if ("," in text or '"' in text) else text


def encode_csv(results: List[Result], epoch: Optional[str]) -> bytes:
    """response/csv.rs: ``name,tags,<columns>`` once per statement; errors left out; epoch ns by default."""
    out: List[str] = []
    for result in results:
        if result.error:
            continue
        for index, series in enumerate(result.series):
            if index == 0:
                if result.statement_id != 0:
                    out.append("\n")
                out.append("name,tags" + "".join("," + c for c in series.columns) + "\n")
            tags = _csv_escape(",".join(f"{k}={v}" for k, v in sorted(series.tags.items())))
            for row in series.values:
                cells = [_csv_escape(series.name), tags]
                for column, value in enumerate(row):
                    if series.timed and column == 0 and isinstance(value, int):
                        cells.append(str(_epoch(value, epoch or "ns")))
                    else:
                        cells.append(_csv_escape(_rust_display(value)))
                out.append(",".join(cells) + "\n")
    return "".join(out).encode()
