"""InfluxQL statement routing: split a query, recognise the statements 2.x rejects.

InfluxDB 2.x runs ``SELECT`` and most ``SHOW`` statements on its
1.x-compatible ``/query`` endpoint, but answers ``not implemented`` to the
management statements of 1.x (``CREATE DATABASE``, retention policies, users,
grants, continuous queries, ``DROP SERIES``).  This module splits a query
string into statements (quotes, regexes and comments respected), and parses
the statements that must be translated onto the v2 API into
:class:`Statement` objects.  Everything else is passed through unchanged.

It also builds InfluxQL safely: :func:`quote_ident` and :func:`quote_literal`
escape every character InfluxQL's scanner treats specially, so no user-given
name can end a quoted identifier or start a new statement.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

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
    "InfluxQLSyntaxError",
    "parse_error",
    "parse_duration_ns",
    "parse_retention",
    "format_duration",
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


# Statement kinds translated onto the v2 API by the core.
ROUTED_KINDS = frozenset(
    {
        "create_database",
        "drop_database",
        "show_databases",
        "create_retention_policy",
        "alter_retention_policy",
        "drop_retention_policy",
        "show_retention_policies",
        "show_users",
        "create_user",
        "drop_user",
        "set_password",
        "grant",
        "grant_admin",
        "revoke",
        "revoke_admin",
        "show_grants",
        "drop_series",
        "drop_measurement",
        "delete",
        "show_continuous_queries",
        "create_continuous_query",
        "drop_continuous_query",
        "show_measurements",
        "show_series",
    }
)


@dataclass
class Statement:
    """One statement of a query.

    :ivar kind: ``passthrough`` or one of :data:`ROUTED_KINDS`
    :ivar text: the statement as written
    :ivar args: what the parser read (names unquoted)
    """

    kind: str
    text: str
    args: Dict[str, Any] = field(default_factory=dict)

    @property
    def routed(self) -> bool:
        return self.kind in ROUTED_KINDS


class _Cursor:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = [t for t in tokenize(text) if t.significant]
        self.i = 0

    def peek(self, offset: int = 0) -> Optional[Token]:
        j = self.i + offset
        return self.tokens[j] if j < len(self.tokens) else None

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
            found = self.peek()
            raise InfluxQLSyntaxError(
                f"found {found.text if found else 'EOF'}, expected {' '.join(words)}"
            )

    def ident(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind not in ("ident", "qident"):
            raise InfluxQLSyntaxError(
                f"found {tok.text if tok else 'EOF'}, expected identifier"
            )
        self.i += 1
        return unquote_ident(tok.text)

    def string(self) -> str:
        tok = self.peek()
        if tok is None or tok.kind != "string":
            raise InfluxQLSyntaxError(f"found {tok.text if tok else 'EOF'}, expected string")
        self.i += 1
        return unquote_string(tok.text)

    def word(self) -> str:
        """A duration, number or bare word (``INF``, ``1h30m``, ``3``)."""
        tok = self.peek()
        if tok is None or tok.kind not in ("number", "ident"):
            raise InfluxQLSyntaxError(f"found {tok.text if tok else 'EOF'}, expected a value")
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

    def done(self) -> bool:
        return self.i >= len(self.tokens)

    def end(self) -> None:
        if not self.done():
            tok = self.peek()
            raise InfluxQLSyntaxError(f"found {tok.text if tok else 'EOF'}, expected ;")


def _rp_options(cur: _Cursor, args: Dict[str, Any]) -> None:
    while not cur.done():
        if cur.accept("DURATION"):
            args["duration"] = cur.word()
        elif cur.accept("REPLICATION"):
            args["replication"] = cur.word()
        elif cur.accept("SHARD", "DURATION"):
            args["shard_duration"] = cur.word()
        elif cur.accept("DEFAULT"):
            args["default"] = True
        else:
            cur.end()


def _privilege(cur: _Cursor) -> str:
    for word in ("READ", "WRITE", "ALL"):
        if cur.accept(word):
            if word == "ALL":
                cur.accept("PRIVILEGES")
            return word
    raise InfluxQLSyntaxError("expected READ, WRITE or ALL")


def _grant_or_revoke(cur: _Cursor, args: Dict[str, Any], verb: str, preposition: str) -> str:
    """The rest of ``GRANT .. TO u`` / ``REVOKE .. FROM u``: ``ALL [PRIVILEGES]`` alone is admin."""
    if cur.at("ALL", preposition) or cur.at("ALL", "PRIVILEGES", preposition):
        cur.accept("ALL")
        cur.accept("PRIVILEGES")
        cur.expect(preposition)
        kind = verb + "_admin"
    else:
        args["privilege"] = _privilege(cur)
        cur.expect("ON")
        args["database"] = cur.ident()
        cur.expect(preposition)
        kind = verb
    args["username"] = cur.ident()
    cur.end()
    return kind


def _on_db(cur: _Cursor, args: Dict[str, Any]) -> None:
    if cur.accept("ON"):
        args["database"] = cur.ident()


def _source_and_where(cur: _Cursor, args: Dict[str, Any]) -> None:
    """FROM <measurement>[, ...] [WHERE <condition>] (the condition is kept as text).

    Each source is a name (qualifiers dropped, kept in ``qualifiers``) or a
    regex literal ``/.../``, which the v2 delete API cannot express.
    """
    if cur.accept("FROM"):
        sources: List[str] = []
        qualifiers: List[str] = []
        while True:
            tok = cur.peek()
            if tok is not None and tok.kind == "regex":
                cur.i += 1
                sources.append(tok.text)
            else:
                name = cur.ident()
                while cur.accept("."):
                    qualifiers.append(name)
                    name = cur.ident()
                sources.append(name)
            if not cur.accept(","):
                break
        args["measurements"] = sources
        args["measurement"] = sources[0]
        if qualifiers:
            args["qualifiers"] = qualifiers
    if cur.accept("WHERE"):
        args["where"] = cur.rest()
        cur.i = len(cur.tokens)
    elif "measurements" not in args:
        raise InfluxQLSyntaxError("found EOF, expected FROM, WHERE")
    cur.end()


def _show_on(cur: _Cursor, args: Dict[str, Any]) -> None:
    """ON <db>[.<rp>] of SHOW MEASUREMENTS / SHOW SERIES, and the rest as text."""
    if cur.accept("ON"):
        tok = cur.peek()
        if tok is not None and tok.kind in ("ident", "qident"):
            args["database"] = cur.ident()
            if cur.accept("."):
                args["retention_policy"] = "*" if cur.accept("*") else cur.ident()
        else:
            args["wildcard"] = True  # ON *.* and the like: 2.x answers these itself
            cur.i = len(cur.tokens)
            return
    rest = cur.rest()
    args["rest"] = rest
    words = {t.upper for t in cur.tokens[cur.i:] if t.kind == "ident"}
    args["limited"] = bool(words & {"LIMIT", "OFFSET", "SLIMIT", "SOFFSET"})
    cur.i = len(cur.tokens)


def parse_statement(text: str) -> Statement:
    """Recognise a statement; unknown ones come back as ``passthrough``.

    :raises InfluxQLSyntaxError: a routed statement with a syntax error
    """
    cur = _Cursor(text)
    args: Dict[str, Any] = {}
    kind = "passthrough"
    if cur.accept("CREATE", "DATABASE"):
        kind = "create_database"
        args["name"] = cur.ident()
        if cur.accept("WITH"):
            rp: Dict[str, Any] = {}
            while not cur.done():
                if cur.accept("NAME"):
                    rp["name"] = cur.ident()
                elif cur.accept("DURATION"):
                    rp["duration"] = cur.word()
                elif cur.accept("REPLICATION"):
                    rp["replication"] = cur.word()
                elif cur.accept("SHARD", "DURATION"):
                    rp["shard_duration"] = cur.word()
                else:
                    cur.end()
            args["retention_policy"] = rp
        cur.end()
    elif cur.accept("DROP", "DATABASE"):
        kind = "drop_database"
        args["name"] = cur.ident()
        cur.end()
    elif cur.accept("SHOW", "DATABASES"):
        kind = "show_databases"
        cur.end()
    elif cur.accept("CREATE", "RETENTION", "POLICY"):
        kind = "create_retention_policy"
        args["name"] = cur.ident()
        cur.expect("ON")
        args["database"] = cur.ident()
        _rp_options(cur, args)
    elif cur.accept("ALTER", "RETENTION", "POLICY"):
        kind = "alter_retention_policy"
        args["name"] = cur.ident()
        cur.expect("ON")
        args["database"] = cur.ident()
        _rp_options(cur, args)
    elif cur.accept("DROP", "RETENTION", "POLICY"):
        kind = "drop_retention_policy"
        args["name"] = cur.ident()
        cur.expect("ON")
        args["database"] = cur.ident()
        cur.end()
    elif cur.accept("SHOW", "RETENTION", "POLICIES"):
        kind = "show_retention_policies"
        _on_db(cur, args)
        cur.end()
    elif cur.accept("SHOW", "USERS"):
        kind = "show_users"
        cur.end()
    elif cur.accept("CREATE", "USER"):
        kind = "create_user"
        args["username"] = cur.ident()
        cur.expect("WITH", "PASSWORD")
        args["password"] = cur.string()
        args["admin"] = cur.accept("WITH", "ALL", "PRIVILEGES")
        cur.end()
    elif cur.accept("DROP", "USER"):
        kind = "drop_user"
        args["username"] = cur.ident()
        cur.end()
    elif cur.accept("SET", "PASSWORD", "FOR"):
        kind = "set_password"
        args["username"] = cur.ident()
        cur.expect("=")
        args["password"] = cur.string()
        cur.end()
    elif cur.accept("GRANT"):
        kind = _grant_or_revoke(cur, args, "grant", "TO")
    elif cur.accept("REVOKE"):
        kind = _grant_or_revoke(cur, args, "revoke", "FROM")
    elif cur.accept("SHOW", "GRANTS", "FOR"):
        kind = "show_grants"
        args["username"] = cur.ident()
        cur.end()
    elif cur.accept("DROP", "MEASUREMENT"):
        kind = "drop_measurement"
        args["measurement"] = cur.ident()
        cur.end()
    elif cur.accept("DROP", "SERIES"):
        kind = "drop_series"
        _source_and_where(cur, args)
    elif cur.accept("DELETE"):
        kind = "delete"
        _source_and_where(cur, args)
    elif cur.accept("SHOW", "MEASUREMENTS"):
        kind = "show_measurements"
        _show_on(cur, args)
    elif cur.accept("SHOW", "SERIES"):
        if cur.at("CARDINALITY") or cur.at("EXACT"):
            return Statement(kind, text, args)
        kind = "show_series"
        _show_on(cur, args)
    elif cur.accept("SHOW", "CONTINUOUS", "QUERIES"):
        kind = "show_continuous_queries"
        cur.end()
    elif cur.accept("CREATE", "CONTINUOUS", "QUERY"):
        kind = "create_continuous_query"
        args["name"] = cur.ident()
        cur.expect("ON")
        args["database"] = cur.ident()
        if cur.accept("RESAMPLE"):
            resample = []
            while not cur.at("BEGIN") and not cur.done():
                tok = cur.peek()
                assert tok is not None
                resample.append(tok.text)
                cur.i += 1
            args["resample"] = " ".join(resample)
        cur.expect("BEGIN")
        body = cur.rest()
        if not body.upper().endswith("END"):
            raise InfluxQLSyntaxError("expected END")
        args["select"] = body[:-3].strip()
        cur.i = len(cur.tokens)
    elif cur.accept("DROP", "CONTINUOUS", "QUERY"):
        kind = "drop_continuous_query"
        args["name"] = cur.ident()
        cur.expect("ON")
        args["database"] = cur.ident()
        cur.end()
    return Statement(kind, text, args)


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
        elif word in ("WHERE", "GROUP", "ORDER", "LIMIT", "OFFSET", "SLIMIT", "SOFFSET", "FILL",
                      "TZ", ")") or word == ";":
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

_DURATION_UNITS = {"ns": 1, "u": 10**3, "\u00b5": 10**3, "us": 10**3, "ms": 10**6, "s": 10**9,
                   "m": 60 * 10**9, "h": 3600 * 10**9, "d": 86400 * 10**9, "w": 7 * 86400 * 10**9}
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
