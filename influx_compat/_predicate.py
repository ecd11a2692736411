"""InfluxQL ``WHERE`` conditions of ``DROP SERIES`` / ``DELETE`` as a 2.x delete request.

InfluxDB 2.x deletes through ``POST /api/v2/delete`` with a time range and a
predicate: ``key = value`` / ``key != value`` terms joined by ``AND``, values
double-quoted.  :func:`translate` reads the condition of a 1.x statement and
returns that range and predicate, or says precisely which part 2.x cannot
express (``OR``, regular expressions, comparisons other than equality).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, List, Optional, Sequence

from influx_compat._influxql import (
    InfluxQLSyntaxError,
    Token,
    parse_duration_ns,
    tokenize,
    unquote_ident,
    unquote_string,
)
from influx_compat._serializer import EPOCH, MAX_NANOS, parse_rfc3339

__all__ = [
    "DeleteRange",
    "UnsupportedCondition",
    "translate",
    "translate_sources",
    "quote_value",
    "rfc3339",
    "MIN_NS",
    "MAX_NS",
    "MIN_TIME",
    "MAX_TIME",
]

# The range 2.x's delete API accepts: the times it stores.
MIN_NS = -MAX_NANOS
MAX_NS = MAX_NANOS
MIN_TIME = "1677-09-21T00:12:43.145224194Z"
MAX_TIME = "2262-04-11T23:47:16.854775806Z"


class UnsupportedCondition(ValueError):
    """A condition the v2 delete API cannot express."""


@dataclass
class DeleteRange:
    """Where a delete applies: nanosecond bounds (inclusive) and a v2 predicate."""

    start: int = MIN_NS
    stop: int = MAX_NS
    predicate: str = ""

    @property
    def empty(self) -> bool:
        return self.start > self.stop

    def body(self) -> Dict[str, Any]:
        return {"start": rfc3339(self.start), "stop": rfc3339(self.stop), "predicate": self.predicate}


def quote_value(value: str) -> str:
    """A name or tag value double-quoted for a 2.x delete predicate."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def rfc3339(ns: int) -> str:
    """RFC3339Nano text of a nanosecond timestamp (exact, any sign)."""
    seconds, frac = divmod(ns, 10**9)
    stamp = EPOCH + timedelta(seconds=seconds)
    text = stamp.strftime("%Y-%m-%dT%H:%M:%S")
    if frac:
        text += "." + f"{frac:09d}".rstrip("0")
    return text + "Z"


def _time_literal(text: str) -> int:
    try:
        ns = parse_rfc3339(text, strict=True)
    except ValueError:  # a date that does not exist, like 2020-02-30
        ns = None
    if ns is None:
        raise UnsupportedCondition(
            f"cannot read {text!r} as a time: use RFC3339, e.g. '2020-01-01T00:00:00Z'"
        )
    return ns


class _Reader:
    def __init__(self, tokens: Sequence[Token]) -> None:
        self.tokens = list(tokens)
        self.i = 0

    def peek(self) -> Optional[Token]:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> Token:
        tok = self.peek()
        if tok is None:
            raise InfluxQLSyntaxError("found EOF, expected an expression")
        self.i += 1
        return tok


def _time_value(reader: _Reader) -> int:
    """now() [+|- duration], a string time, an integer (ns) or a duration literal."""
    tok = reader.take()
    if tok.kind == "ident" and tok.upper == "NOW":
        if reader.take().text != "(" or reader.take().text != ")":
            raise InfluxQLSyntaxError("expected now()")
        value = time.time_ns()
        nxt = reader.peek()
        if nxt is not None and nxt.text in ("+", "-"):
            reader.take()
            offset = parse_duration_ns(reader.take().text)
            value = value + offset if nxt.text == "+" else value - offset
        return value
    if tok.kind == "string":
        return _time_literal(unquote_string(tok.text))
    if tok.kind == "number":
        if tok.text.isdigit():
            return int(tok.text)
        try:
            return parse_duration_ns(tok.text)
        except InfluxQLSyntaxError:
            raise UnsupportedCondition(f"cannot read {tok.text} as a time") from None
    raise UnsupportedCondition(f"cannot read {tok.text} as a time")


def _condition_tokens(where: str) -> List[Token]:
    """The significant tokens of a condition without its grouping parentheses (only AND is
    translated, so grouping changes nothing); the parentheses of ``now()`` are kept."""
    tokens: List[Token] = []
    for tok in tokenize(where):
        if not tok.significant:
            continue
        if tok.text == "(" and not (tokens and tokens[-1].upper == "NOW"):
            continue
        if tok.text == ")" and not (tokens and tokens[-1].text == "("):
            continue
        tokens.append(tok)
    return tokens


def translate(where: Optional[str], measurement: Optional[str], allow_time: bool) -> DeleteRange:
    """The delete range and predicate of ``[FROM measurement] [WHERE where]``.

    :param allow_time: ``DELETE`` takes time bounds, ``DROP SERIES`` does not
    :raises UnsupportedCondition: the condition has no 2.x equivalent
    :raises InfluxQLSyntaxError: the condition does not parse
    """
    result = DeleteRange()
    terms: List[str] = []
    if measurement is not None:
        terms.append("_measurement=" + quote_value(measurement))
    reader = _Reader(_condition_tokens(where or ""))
    while reader.peek() is not None:
        if reader.i:
            joiner = reader.take()
            if joiner.upper == "OR":
                raise UnsupportedCondition(
                    "OR cannot be used: InfluxDB 2.x deletes only with AND of "
                    "equality conditions; delete each alternative on its own"
                )
            if joiner.upper != "AND":
                raise InfluxQLSyntaxError(f"found {joiner.text}, expected AND")
        key_tok = reader.take()
        if key_tok.kind not in ("ident", "qident"):
            raise InfluxQLSyntaxError(f"found {key_tok.text}, expected identifier")
        key = unquote_ident(key_tok.text)
        op = reader.take().text
        if key_tok.kind == "ident" and key.lower() == "time":
            if not allow_time:
                raise UnsupportedCondition("DROP SERIES doesn't support time in WHERE clause")
            value = _time_value(reader)
            if op == "=":
                result.start, result.stop = max(result.start, value), min(result.stop, value)
            elif op in (">", ">="):
                result.start = max(result.start, value + (op == ">"))
            elif op in ("<", "<="):
                result.stop = min(result.stop, value - (op == "<"))
            else:
                raise UnsupportedCondition(f"time {op} cannot be used in a delete: use <, <=, >, >= or =")
            continue
        if op in ("=~", "!~"):
            raise UnsupportedCondition(
                f"{key} {op} /regex/ cannot be used: InfluxDB 2.x deletes only by exact tag values; "
                "list the matching series with get_list_series() and delete each value"
            )
        if op not in ("=", "!=", "<>"):
            raise UnsupportedCondition(f"{key} {op} ...: InfluxDB 2.x deletes only with = and !=")
        value_tok = reader.take()
        if value_tok.kind != "string":
            raise UnsupportedCondition(
                f"{key} {op} {value_tok.text}: compare tags with a single-quoted string ('value')"
            )
        if key == "_field":
            raise UnsupportedCondition("InfluxDB 2.x cannot delete by field")
        tag_value = unquote_string(value_tok.text)
        terms.append(quote_value(key) + ("=" if op == "=" else "!=") + quote_value(tag_value))
    result.predicate = " AND ".join(terms)
    return result


def translate_sources(sources: Optional[Sequence[str]]) -> List[Optional[str]]:
    """Measurement names of a FROM list; regex sources are refused."""
    if not sources:
        return [None]
    for source in sources:
        if source.startswith("/"):
            raise UnsupportedCondition(
                f"FROM {source}: InfluxDB 2.x deletes only named measurements; name each one"
            )
    return list(sources)
