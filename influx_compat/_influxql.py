"""InfluxQL statement routing: split a query, recognise the statements 2.x rejects.

InfluxDB 2.x runs ``SELECT`` and most ``SHOW`` statements on its
1.x-compatible ``/query`` endpoint, but answers ``not implemented`` to the
management statements of 1.x (``CREATE DATABASE``, retention policies, users,
grants, continuous queries, ``DROP SERIES``).  This module splits a query
string into statements (quotes, regexes and comments respected) and
tokenizes them; :func:`parse_statement` recognises the statements that must
be translated onto the v2 API as :class:`Statement` objects, from the table
in :mod:`influx_compat._statements` (re-exported here: ``Statement``,
``ROUTED_KINDS``, ``check_handlers``).  Everything else is passed through
unchanged.

It also builds InfluxQL safely: :func:`quote_ident` and :func:`quote_literal`
escape every character InfluxQL's scanner treats specially, so no user-given
name can end a quoted identifier or start a new statement; and it reads and
writes durations (:func:`parse_retention`, :func:`format_duration`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Iterator, List, Optional, Set, Tuple

from influx_compat._statements import ROUTED_KINDS, Statement, check_handlers, read_statement
from influx_compat.exceptions import InfluxDBClientError

__all__ = [
    "Token",
    "Statement",
    "tokenize",
    "split_statements",
    "parse_statement",
    "parse_query",
    "quote_ident",
    "quote_literal",
    "ROUTED_KINDS",
    "check_handlers",
    "InfluxQLSyntaxError",
    "parse_error",
    "parse_duration_ns",
    "parse_retention",
    "format_duration",
    "qualified_sources",
    "unquote_ident",
    "unquote_string",
]


class InfluxQLSyntaxError(ValueError):
    """A routed statement that does not parse."""


def parse_error(message: Any) -> InfluxDBClientError:
    """The error 1.x gave for a query that does not parse: HTTP 400 with a JSON body."""
    body = json.dumps({"error": f"error parsing query: {message}"}, separators=(",", ":"))
    return InfluxDBClientError(body, 400)


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<qident>"(?:[^"\\]|\\.)*(?:"|\Z))
  | (?P<string>'(?:[^'\\]|\\.)*(?:'|\Z))
  | (?P<number>\d+(?:\.\d+)?(?:[a-zA-Z\u00b5]+)?|\.\d+)
  | (?P<ident>[^\W\d]\w*)
  | (?P<op>=~|!~|!=|<>|<=|>=|::|[;,.()=<>*+\-/%|&^\[\]:$@])
  | (?P<other>.)
    """,
    re.S | re.X,
)
_REGEX_RE = re.compile(r"/(?:[^/\\\n]|\\.)*/")
# After these tokens a '/' starts a regex literal, not a division.
_REGEX_BEFORE = {"=~", "!~", "FROM", ",", "SELECT", "("}


@dataclass(frozen=True)
class Token:
    kind: str  # ws, comment, qident, string, number, ident, op, regex, other
    text: str

    @property
    def upper(self) -> str:
        return self.text.upper() if self.kind == "ident" else self.text

    @property
    def significant(self) -> bool:
        return self.kind not in ("ws", "comment")


def tokenize(text: str) -> List[Token]:
    """Split InfluxQL into tokens; never fails (unknown characters become ``other``)."""
    tokens: List[Token] = []
    pos = 0
    prev = ""
    n = len(text)
    while pos < n:
        if text[pos] == "/" and prev in _REGEX_BEFORE and not text.startswith("/*", pos):
            m = _REGEX_RE.match(text, pos)
            if m:
                tokens.append(Token("regex", m.group()))
                pos = m.end()
                prev = "regex"
                continue
        m = _TOKEN_RE.match(text, pos)
        assert m is not None  # the 'other' alternative matches any character
        kind = m.lastgroup or "other"
        tok = Token(kind, m.group())
        tokens.append(tok)
        pos = m.end()
        if tok.significant:
            prev = tok.upper
    return tokens


def split_statements(text: str) -> List[str]:
    """The statements of a query, in order, without the ``;`` separators."""
    statements: List[str] = []
    current: List[str] = []
    meaningful = False
    for tok in tokenize(text):
        if tok.kind == "op" and tok.text == ";":
            if meaningful:
                statements.append("".join(current).strip())
            current, meaningful = [], False
            continue
        current.append(tok.text)
        if tok.significant:
            meaningful = True
    if meaningful:
        statements.append("".join(current).strip())
    return statements


def unquote_ident(text: str) -> str:
    """The name a bare or double-quoted identifier stands for."""
    if text.startswith('"'):
        body = text[1:-1] if len(text) >= 2 and text.endswith('"') else text[1:]
        return _unescape(body)
    return text


def _unescape(body: str) -> str:
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def unquote_string(text: str) -> str:
    body = text[1:-1] if len(text) >= 2 and text.endswith("'") else text[1:]
    return _unescape(body)


def quote_ident(name: str) -> str:
    """Quote an identifier for InfluxQL (backslash, double quote and newline escaped)."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def quote_literal(value: str) -> str:
    """Quote a string literal for InfluxQL (backslash, single quote and newline escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


class _Cursor:
    """The significant tokens of one statement, read in order (an ``_statements.Cursor``)."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [t for t in tokenize(text) if t.significant]
        self.i = 0

    def peek(self, offset: int = 0) -> Optional[Token]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

    def next_word(self) -> str:
        tok = self.peek()
        return tok.upper if tok is not None else ""

    def at(self, *words: str) -> bool:
        for k, w in enumerate(words):
            tok = self.peek(k)
            if tok is None or tok.upper != w:
                return False
        return True

    def accept(self, *words: str) -> bool:
        if self.at(*words):
            self.i += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        if not self.accept(*words):
            raise self._unexpected(" ".join(words))

    def ident(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind not in ("ident", "qident"):
            raise self._unexpected("identifier")
        self.i += 1
        return unquote_ident(tok.text)

    def at_ident(self) -> bool:
        tok = self.peek()
        return tok is not None and tok.kind in ("ident", "qident")

    def string(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind != "string":
            raise self._unexpected("string")
        self.i += 1
        return unquote_string(tok.text)

    def word(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind not in ("number", "ident"):
            raise self._unexpected("a value")
        self.i += 1
        return tok.text

    def regex(self) -> Optional[str]:
        tok = self.peek()
        if tok is None or tok.kind != "regex":
            return None
        self.i += 1
        return tok.text

    def take(self) -> str:
        tok = self.peek()
        if tok is None:
            raise self._unexpected("more")
        self.i += 1
        return tok.text

    def rest(self) -> str:
        """The source text from the current token on."""
        if self.i >= len(self.tokens):
            return ""
        # Rebuild from the original text: find the offset of the current token.
        consumed = 0
        count = 0
        for tok in tokenize(self.text):
            if tok.significant:
                if count == self.i:
                    break
                count += 1
            consumed += len(tok.text)
        return self.text[consumed:].strip()

    def words(self) -> Set[str]:
        return {t.upper for t in self.tokens[self.i :] if t.kind == "ident"}

    def skip(self) -> None:
        self.i = len(self.tokens)

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def end(self) -> None:
        if not self.done():
            raise self._unexpected(";")

    def error(self, message: str) -> InfluxQLSyntaxError:
        return InfluxQLSyntaxError(message)

    def _unexpected(self, expected: str) -> InfluxQLSyntaxError:
        tok = self.peek()
        return InfluxQLSyntaxError(f"found {tok.text if tok else 'EOF'}, expected {expected}")


def parse_statement(text: str) -> Statement:
    """Recognise a statement; unknown ones come back as ``passthrough``.

    The statements recognised, and how, are in :data:`influx_compat._statements.STATEMENTS`.

    :raises InfluxQLSyntaxError: a routed statement with a syntax error
    """
    return read_statement(_Cursor(text), text)


def parse_query(text: str) -> List[Statement]:
    """Split and recognise every statement of a query string."""
    return [parse_statement(s) for s in split_statements(text)]


def qualified_sources(text: str) -> Iterator[Tuple[Optional[str], Optional[str]]]:
    """(db, rp) of each ``FROM db.rp.m`` / ``FROM db..m`` / ``FROM rp.m`` source."""
    toks = [t for t in tokenize(text) if t.significant]
    in_from = False
    i = 0
    while i < len(toks):
        tok = toks[i]
        word = tok.upper
        if word == "FROM":
            in_from = True
        elif (
            word in ("WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "SLIMIT", "SOFFSET", "FILL", "TZ", ")")
            or word == ";"
        ):
            in_from = False
        elif in_from and tok.kind in ("ident", "qident"):
            parts: List[Optional[str]] = [unquote_ident(tok.text)]
            j = i + 1
            while j < len(toks) and toks[j].text == ".":
                nxt = toks[j + 1] if j + 1 < len(toks) else None
                if nxt is not None and nxt.text == ".":
                    parts.append(None)
                    j += 1
                    continue
                if nxt is None or nxt.kind not in ("ident", "qident", "regex"):
                    break
                parts.append(unquote_ident(nxt.text) if nxt.kind != "regex" else nxt.text)
                j += 2
            if len(parts) == 3:
                yield parts[0], parts[1]
            elif len(parts) == 2:
                yield None, parts[0]
            i = j
            continue
        i += 1


# -- durations -------------------------------------------------------------

_DURATION_UNITS = {
    "ns": 1,
    "u": 10**3,
    "\u00b5": 10**3,
    "us": 10**3,
    "ms": 10**6,
    "s": 10**9,
    "m": 60 * 10**9,
    "h": 3600 * 10**9,
    "d": 86400 * 10**9,
    "w": 7 * 86400 * 10**9,
}
_DURATION_RE = re.compile(r"(\d+)(ns|us|u|\u00b5|ms|s|m|h|d|w)")


def parse_duration_ns(text: str) -> int:
    """Nanoseconds of an InfluxQL duration literal (``1h30m``, ``7d``, ``4w``)."""
    pos = 0
    total = 0
    text = text.strip()
    while pos < len(text):
        m = _DURATION_RE.match(text, pos)
        if m is None:
            raise InfluxQLSyntaxError(f"found {text}, expected duration")
        total += int(m.group(1)) * _DURATION_UNITS[m.group(2)]
        pos = m.end()
    if not text:
        raise InfluxQLSyntaxError("found EOF, expected duration")
    return total


def parse_retention(text: Any) -> int:
    """Whole seconds of a retention duration; 0 for ``INF``."""
    value = str(text).strip()
    if value.upper() == "INF":
        return 0
    ns = parse_duration_ns(value)
    seconds, rest = divmod(ns, 10**9)
    if rest:
        raise InfluxQLSyntaxError(
            f"duration {value} is not a whole number of seconds, which InfluxDB 2.x needs"
        )
    return seconds


def format_duration(seconds: int) -> str:
    """A duration as 1.x (Go's ``time.Duration``) prints it: ``0s``, ``1m30s``, ``168h0m0s``."""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"
