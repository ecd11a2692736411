"""``SELECT ... INTO``, carried out by the client with 1.x's semantics.

InfluxDB 2.x answers ``not implemented: SELECT INTO`` and InfluxDB 3's InfluxQL
has no INTO clause at all.  The core runs the SELECT without its INTO clause on
the server, chunked, and writes each chunk's rows to the target measurement
before it reads the next, so a backfill of millions of rows never sits in
memory.  What 1.x did, and so what is done here (checked against influxd 1.6):

* the target is ``m``, ``rp.m``, ``db.rp.m`` or ``db..m`` (the default policy),
  or ``:MEASUREMENT`` (each source measurement's own name, for a regex or a
  list of measurements in FROM); the query's ``db``/``rp`` fill what is left out;
* the tags of a series (``GROUP BY *`` or named tags) stay tags, a tag with an
  empty value is left out; every selected column becomes a field, so a tag
  selected without ``GROUP BY`` becomes a string field;
* each row keeps the time the SELECT returns: the bucket start for ``GROUP BY
  time()``, the start of the time range (epoch 0 when there is none) for an
  aggregate without time grouping;
* a NULL column is left out of its point, a row without any value is not
  written; the 0 that ``count()`` shows for an empty ``GROUP BY time()`` bucket
  without ``fill()`` is such a NULL;
* a field keeps its type: JSON answers show a float with a whole value as an
  integer, so a column's type is read from the SELECT (``count()`` is an
  integer, ``mean()`` a float, ``max(x)`` the type of ``x``) and the source's
  field types (``SHOW FIELD KEYS``);
* the answer is 1.x's: one series ``result`` with the columns ``time`` and
  ``written``, at time 0.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from influx_compat._influxql import InfluxQLSyntaxError, Token, tokenize, unquote_ident

__all__ = [
    "SelectInto",
    "parse_into",
    "ColumnTypes",
    "Outcome",
    "field_types",
    "points_of",
    "rows_to_points",
    "written_result",
]

# Words that end the FROM clause of a SELECT.
_AFTER_FROM = frozenset(
    {"WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "SLIMIT", "SOFFSET", "FILL", "TZ", "INTO"}
)
_INTEGER_FUNCTIONS = frozenset({"count", "elapsed"})
_FLOAT_FUNCTIONS = frozenset(
    {
        "mean",
        "median",
        "stddev",
        "integral",
        "derivative",
        "non_negative_derivative",
        "moving_average",
        "holt_winters",
        "holt_winters_with_fit",
        "exponential_moving_average",
        "double_exponential_moving_average",
        "triple_exponential_moving_average",
        "triple_exponential_derivative",
        "relative_strength_index",
        "kaufmans_efficiency_ratio",
        "kaufmans_adaptive_moving_average",
        "chande_momentum_oscillator",
        "sqrt",
        "ln",
        "log",
        "log2",
        "log10",
        "exp",
        "pow",
        "sin",
        "cos",
        "tan",
        "asin",
        "acos",
        "atan",
        "atan2",
    }
)
_DUPLICATE_SUFFIX = re.compile(r"_\d+$")


@dataclass(frozen=True)
class _Expr:
    """What a selected field computes: a function of an argument, or a field (``function`` None).

    :ivar argument: a field name, a nested expression, or None for ``*`` or a regex
    :ivar operands: for arithmetic (``function`` ``"arithmetic"``): its operands, each an
        expression, or ``int``/``float`` for a literal
    :ivar divides: arithmetic with a ``/`` (a float in 1.x, even of integers)
    """

    function: Optional[str]
    argument: Any
    wildcard: bool = False
    operands: Tuple[Any, ...] = ()
    divides: bool = False


@dataclass(frozen=True)
class SelectInto:
    """A ``SELECT ... INTO`` statement, split into the SELECT to run and the target to write.

    :ivar select: the statement without its INTO clause
    :ivar database: the target database; None for the query's ``db``
    :ivar retention_policy: the target policy; None for the query's ``rp`` (or the default)
    :ivar measurement: the target measurement; None for ``:MEASUREMENT``
    :ivar from_clause: the text of the SELECT's FROM clause (None for a subquery)
    :ivar fields: the output name of each selected field and what it computes
    :ivar count_fill: whether a ``count()`` 0 is a value (an explicit ``fill()``, no ``GROUP BY time``)
    """

    select: str
    database: Optional[str]
    retention_policy: Optional[str]
    measurement: Optional[str]
    from_clause: Optional[str]
    fields: Tuple[Tuple[str, _Expr], ...] = field(default=())
    count_fill: bool = True


def _positions(text: str) -> List[Tuple[Token, int]]:
    """The significant tokens of ``text`` with their start offsets."""
    out: List[Tuple[Token, int]] = []
    offset = 0
    for tok in tokenize(text):
        if tok.significant:
            out.append((tok, offset))
        offset += len(tok.text)
    return out


def parse_into(text: str) -> Optional[SelectInto]:
    """The INTO clause of a SELECT statement, or None for any other statement.

    Only a bare ``INTO`` outside parentheses, before FROM, is the clause:
    ``"into"`` quoted, in a string, a regex or a subquery is not.

    :raises InfluxQLSyntaxError: an INTO clause without a valid target
    """
    if "into" not in text.lower():
        return None
    toks = _positions(text)
    if not toks or toks[0][0].upper != "SELECT":
        return None
    depth = 0
    into = None
    for i, (tok, _) in enumerate(toks):
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.kind == "ident" and tok.upper == "FROM":
            return None
        elif depth == 0 and tok.kind == "ident" and tok.upper == "INTO":
            into = i
            break
    if into is None:
        return None
    parts, end = _target(toks, into + 1)
    start = toks[into][1]
    stop = toks[end][1] if end < len(toks) else len(text)
    select = (text[:start].rstrip() + " " + text[stop:].lstrip()).strip()
    measurement = parts[-1]
    database = parts[-3] if len(parts) == 3 else None
    policy = parts[-2] if len(parts) >= 2 else None
    rest = _positions(select)
    return SelectInto(
        select=select,
        database=database or None,
        retention_policy=policy or None,
        measurement=measurement,
        from_clause=_from_clause(select, rest),
        fields=tuple(_fields(rest)),
        count_fill=_count_fill(rest),
    )


def _target(toks: List[Tuple[Token, int]], i: int) -> Tuple[List[Optional[str]], int]:
    """The dotted parts of an INTO target starting at token ``i``, and the index after them."""
    parts: List[Optional[str]] = []
    while True:
        tok = toks[i][0] if i < len(toks) else None
        if (
            tok is not None
            and tok.text == ":"
            and i + 1 < len(toks)
            and toks[i + 1][0].upper == "MEASUREMENT"
        ):
            parts.append(None)
            i += 2
            break
        if tok is not None and tok.kind in ("ident", "qident") and tok.upper != "FROM":
            parts.append(unquote_ident(tok.text))
            i += 1
        elif tok is not None and tok.text == "." and parts and len(parts) < 3:
            parts.append("")  # db..m: the default policy
        else:
            raise InfluxQLSyntaxError(f"found {tok.text if tok else 'EOF'}, expected identifier")
        nxt = toks[i][0] if i < len(toks) else None
        if nxt is None or nxt.text != "." or len(parts) >= 3:
            break
        i += 1
    if len(parts) > 3 or (parts and parts[-1] == ""):
        raise InfluxQLSyntaxError("found ., expected identifier")
    return parts, i


def _from_clause(select: str, toks: List[Tuple[Token, int]]) -> Optional[str]:
    depth = 0
    start = None
    for tok, offset in toks:
        if tok.text == "(":
            if start is not None and depth == 0:
                return None  # a subquery: its fields have no stored types
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and tok.kind == "ident" and tok.upper == "FROM":
            start = offset + len(tok.text)
        elif depth == 0 and start is not None and tok.kind == "ident" and tok.upper in _AFTER_FROM:
            return select[start:offset].strip() or None
    return select[start:].strip() or None if start is not None else None


def _fields(toks: List[Tuple[Token, int]]) -> Iterator[Tuple[str, _Expr]]:
    """(output name, expression) of each selected field, from SELECT up to FROM."""
    current: List[Token] = []
    depth = 0
    for tok, _ in toks[1:]:
        if depth == 0 and tok.kind == "ident" and tok.upper == "FROM":
            break
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        if depth == 0 and tok.text == ",":
            yield _field(current)
            current = []
            continue
        current.append(tok)
    if current:
        yield _field(current)


def _field(toks: List[Token]) -> Tuple[str, _Expr]:
    alias = None
    if len(toks) >= 3 and toks[-2].upper == "AS":
        alias, toks = unquote_ident(toks[-1].text), toks[:-2]
    expr = _expr(toks)
    return alias or _name(expr), expr


def _name(expr: _Expr) -> str:
    """1.x's column name of an unaliased field: the function, else the fields joined with '_'."""
    if expr.function == "arithmetic":
        return "_".join(_name(o) for o in expr.operands if isinstance(o, _Expr) and _name(o))
    return expr.function or str(expr.argument or "")


def _expr(toks: List[Token]) -> _Expr:
    while len(toks) >= 2 and toks[0].text == "(" and _closing(toks, 0) == len(toks) - 1:
        toks = toks[1:-1]
    if len(toks) == 1 and toks[0].kind in ("ident", "qident"):
        return _Expr(None, unquote_ident(toks[0].text))
    if (
        len(toks) >= 3
        and toks[0].kind == "ident"
        and toks[1].text == "("
        and _closing(toks, 1) == len(toks) - 1
    ):
        inner: List[Token] = []
        depth = 0
        for tok in toks[2:-1]:  # the first argument only
            if tok.text == "(":
                depth += 1
            elif tok.text == ")":
                depth -= 1
            if depth == 0 and tok.text == ",":
                break
            inner.append(tok)
        wildcard = len(inner) == 1 and (inner[0].text == "*" or inner[0].kind == "regex")
        argument = None if wildcard else _expr(inner)
        return _Expr(toks[0].text.lower(), argument, wildcard)
    return _arithmetic(toks)


def _closing(toks: List[Token], start: int) -> int:
    """The index of the parenthesis closing the one at ``start``."""
    depth = 0
    for i in range(start, len(toks)):
        if toks[i].text == "(":
            depth += 1
        elif toks[i].text == ")":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _arithmetic(toks: List[Token]) -> _Expr:
    """The operands of ``n * 2``, ``(a + b) / c``, ``-n``, ``mean(v) * 2`` in order."""
    operands: List[Any] = []
    divides = False
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.text == "(":
            end = _closing(toks, i)
            if end < 0:
                break
            inner = _expr(toks[i + 1 : end])
            operands.extend(inner.operands if inner.function == "arithmetic" else (inner,))
            divides = divides or inner.divides
            i = end + 1
            continue
        if tok.kind == "ident" and i + 1 < len(toks) and toks[i + 1].text == "(":
            end = _closing(toks, i + 1)
            if end < 0:
                break
            operands.append(_expr(toks[i : end + 1]))
            i = end + 1
            continue
        if tok.kind in ("ident", "qident"):
            operands.append(_Expr(None, unquote_ident(tok.text)))
        elif tok.kind == "number":
            operands.append(float if "." in tok.text else int)
        elif tok.text == "/":
            divides = True
        i += 1
    return _Expr("arithmetic", None, operands=tuple(operands), divides=divides)


def _count_fill(toks: List[Tuple[Token, int]]) -> bool:
    """Whether count()'s 0 is written: not for GROUP BY time() buckets left empty without fill()."""
    words = [t.upper for t, _ in toks]
    group = next((i for i in range(len(words) - 1) if words[i : i + 2] == ["GROUP", "BY"]), len(words))
    grouped_by_time = any(words[j : j + 2] == ["TIME", "("] for j in range(group, len(words)))
    if not grouped_by_time:
        return True
    at = words.index("FILL") if "FILL" in words else -1
    return at >= 0 and words[at + 2 : at + 3] != ["NULL"]  # fill(null) is the default


# -- types and points --------------------------------------------------------------


class ColumnTypes:
    """The InfluxDB type of each output column, for the whole numbers of a JSON answer.

    :param statement: the parsed statement
    :param field_types: looks up the source's ``{field: type}`` (``SHOW FIELD KEYS``);
        called once, when the first whole number needs it
    """

    def __init__(self, statement: SelectInto, field_types: Callable[[], Dict[str, str]]) -> None:
        self.fields = statement.fields
        self.expressions = dict(statement.fields)
        self.wildcards = [(n, e) for n, e in statement.fields if e.wildcard and e.function]
        self._field_types = field_types
        self._source: Optional[Dict[str, str]] = None
        self._columns: Dict[Tuple[Tuple[str, ...], int], bool] = {}

    def _sources(self) -> Dict[str, str]:
        if self._source is None:
            self._source = self._field_types()
        return self._source

    def expression(self, columns: Tuple[str, ...], index: int) -> Optional[_Expr]:
        """What the column at ``index`` computes.

        By position when each column is one selected field (no ``*``, regex or
        tag columns added by ``top()``/``bottom()``), else by name.
        """
        values = len(columns) - (1 if "time" in columns else 0)
        if values == len(self.fields) and not self.wildcards and not any(e.wildcard for _, e in self.fields):
            position = index - (1 if "time" in columns and columns.index("time") < index else 0)
            return self.fields[position][1]
        column = columns[index]
        for name in (column, _DUPLICATE_SUFFIX.sub("", column)):
            expr = self.expressions.get(name)
            if expr is not None and (expr.function or expr.argument):
                return expr
        for _, expr in self.wildcards:
            prefix = f"{expr.function}_"
            if column.startswith(prefix):
                return _Expr(expr.function, _Expr(None, column[len(prefix) :]))
        return _Expr(None, column)

    def integer(self, columns: Tuple[str, ...], index: int) -> bool:
        """Whether the whole numbers of a column are integers (else floats)."""
        key = (columns, index)
        known = self._columns.get(key)
        if known is None:
            known = self._columns[key] = self._of(self.expression(columns, index)) == "integer"
        return known

    def _of(self, expr: Any) -> Optional[str]:
        if expr is int or expr is float:
            return "integer" if expr is int else "float"
        if not isinstance(expr, _Expr):
            return None
        if expr.function is None:
            return self._sources().get(expr.argument) if isinstance(expr.argument, str) else None
        if expr.function == "arithmetic":
            kinds = {self._of(o) for o in expr.operands}
            return "integer" if kinds == {"integer"} and not expr.divides else "float"
        if expr.function in _INTEGER_FUNCTIONS:
            return "integer"
        if expr.function in _FLOAT_FUNCTIONS:
            return "float"
        return self._of(expr.argument)


def rows_to_points(
    series: Dict[str, Any], statement: SelectInto, types: ColumnTypes
) -> Iterator[Dict[str, Any]]:
    """The points 1.x wrote for one series of the SELECT's answer (times in nanoseconds)."""
    measurement = statement.measurement or str(series.get("name", ""))
    tags = {k: v for k, v in (series.get("tags") or {}).items() if v not in (None, "")}
    columns: Tuple[str, ...] = tuple(series.get("columns") or ())
    try:
        time_index = columns.index("time")
    except ValueError:
        time_index = -1
    counts = set() if statement.count_fill else _count_columns(columns, types)
    for row in series.get("values") or ():
        fields: Dict[str, Any] = {}
        for i, value in enumerate(row):
            if i == time_index or value is None:
                continue
            column = columns[i]
            if isinstance(value, int) and not isinstance(value, bool):
                if column in counts and value == 0:
                    continue
                if not types.integer(columns, i):
                    value = float(value)
            fields[column] = value
        if not fields:
            continue
        point: Dict[str, Any] = {"measurement": measurement, "fields": fields}
        if tags:
            point["tags"] = tags
        if time_index >= 0 and row[time_index] is not None:
            point["time"] = int(row[time_index])
        yield point


def _count_columns(columns: Tuple[str, ...], types: ColumnTypes) -> Set[str]:
    found = set()
    for index, column in enumerate(columns):
        expr = types.expression(columns, index)
        if expr is not None and expr.function == "count" and column != "time":
            found.add(column)
    return found


def field_types(answer: Dict[str, Any]) -> Dict[str, str]:
    """``{field: type}`` of a ``SHOW FIELD KEYS`` answer; a field both integer and float reads float."""
    found: Dict[str, str] = {}
    for result in answer.get("results", []):
        for series in result.get("series", []):
            for name, kind in series.get("values", []):
                found[name] = "float" if found.get(name, kind) != kind else kind
    return found


@dataclass
class Outcome:
    """What :func:`points_of` did: points handed out, and the SELECT's error if it failed."""

    written: int = 0
    error: Optional[str] = None


def points_of(
    chunks: Iterable[Dict[str, Any]], statement: SelectInto, types: ColumnTypes, outcome: Outcome
) -> Iterator[Dict[str, Any]]:
    """The points of a chunked answer, chunk by chunk; an error ends them and is kept in ``outcome``."""
    for chunk in chunks:
        results = [chunk] if isinstance(chunk.get("error"), str) else chunk.get("results", [])
        for result in results:
            if isinstance(result.get("error"), str):
                outcome.error = result["error"]
                return
            for series in result.get("series", []):
                for point in rows_to_points(series, statement, types):
                    outcome.written += 1
                    yield point


def written_result(written: int, epoch: Optional[str]) -> Dict[str, Any]:
    """1.x's answer to SELECT ... INTO (without ``statement_id``)."""
    time: Any = 0 if epoch else "1970-01-01T00:00:00Z"
    return {"series": [{"name": "result", "columns": ["time", "written"], "values": [[time, written]]}]}
