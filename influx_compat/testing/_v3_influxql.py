"""InfluxQL as InfluxDB 3's ``/query`` parses it, for the 3.x test server.

InfluxDB 3 parses InfluxQL with its own parser
(``core/influxdb_influxql_parser``), which knows only SELECT, EXPLAIN, SHOW
{DATABASES, MEASUREMENTS, TAG KEYS, TAG VALUES, FIELD KEYS, RETENTION
POLICIES}, CREATE DATABASE, DELETE and DROP MEASUREMENT, and fails the whole
query when one statement does not parse.  Then
``core/iox_query_influxql_rewrite`` takes the database and retention policy
out of each statement.  This module reproduces both steps on its own lexer
(independent of influx_compat's) and rewrites each statement for the 1.x
engine: sources point at the engine database, ``SHOW`` gets an ``ON``.
"""

from __future__ import annotations

import re
from typing import Dict, List, NamedTuple, Optional, Set, Tuple

__all__ = ["Statement", "ParseFailure", "MultiDatabase", "parse_query", "rewrite_for_engine", "resolve_dbrp"]

_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>--[^\n]*|/\*.*?\*/)
  | (?P<badcomment>/\*)
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
# parser/show.rs INVALID_SHOW_STATEMENT_ERROR
_INVALID_SHOW = (
    "invalid SHOW statement, expected DATABASES, FIELD KEYS, MEASUREMENTS, TAG KEYS, TAG VALUES, "
    "or RETENTION POLICIES following SHOW"
)
_SHOW_KINDS = {"MEASUREMENTS": "show_measurements", "DATABASES": "show_databases"}


class Tok(NamedTuple):
    kind: str
    text: str
    pos: int  # offset in the whole query

    @property
    def end(self) -> int:
        return self.pos + len(self.text)

    def word(self) -> str:
        return self.text.upper() if self.kind == "ident" else ""


class ParseFailure(Exception):
    """influxdb_influxql_parser ParseError: ``<message> at pos N[. details]`` (fails the whole query)."""

    def __init__(self, message: str, pos: int, details: Optional[str] = None) -> None:
        text = f"{message} at pos {pos}" + (f". {details}" if details else "")
        super().__init__(text)
        self.text = text


class MultiDatabase(Exception):
    """iox_query_influxql_rewrite Error::MultiDatabase."""


class Source(NamedTuple):
    start: int  # token indexes (in Statement.tokens) of the qualified name
    stop: int
    db: Optional[str]
    rp: Optional[str]
    measurement: str  # text as written (quoted identifier or regex kept)


class Statement(NamedTuple):
    """One parsed statement: ``kind``, the database and rp it names, where its sources are."""

    kind: str
    pos: int  # where the statement starts in the query
    text: str  # the statement as written
    tokens: List[Tok]  # every token, positions relative to ``text``
    db: Optional[str]
    rp: Optional[str]
    sources: List[Source]
    on_clause: Optional[Tuple[int, int]]  # token span of ``ON ...`` in SHOW statements
    keywords_end: int  # token index after the leading keywords (where SHOW gets its ON)


def _tokenize(text: str) -> List[Tok]:
    tokens: List[Tok] = []
    pos, prev, in_from = 0, "", False
    while pos < len(text):
        if text[pos] == "/" and (prev in ("=~", "!~", "FROM") or (prev == "," and in_from)):
            m = _REGEX_RE.match(text, pos)
            if m:
                tokens.append(Tok("regex", m.group(), pos))
                pos, prev = m.end(), "regex"
                continue
        m = _TOKEN_RE.match(text, pos)
        assert m is not None  # `other` matches any character
        tok = Tok(m.lastgroup or "other", m.group(), pos)
        if tok.kind == "badcomment":  # parser/common.rs: an unclosed /* comment
            raise ParseFailure("invalid inline comment, missing closing */", pos)
        tokens.append(tok)
        pos = m.end()
        if tok.kind not in ("ws", "comment"):
            prev = tok.word() or tok.text
            if prev == "FROM":
                in_from = True
            elif prev in _AFTER_SOURCES:
                in_from = False
    return tokens


# Words (and a closing parenthesis) that end the FROM clause, after which '/' is a division again.
_AFTER_SOURCES = frozenset("WHERE GROUP ORDER LIMIT OFFSET SLIMIT SOFFSET FILL TZ )".split())


def _rust_debug(text: str) -> str:
    """A Rust ``{:?}`` of a str: quoted, with Rust's escapes."""
    out = []
    for c in text:
        if c in '"\\':
            out.append("\\" + c)
        elif c == "\n":
            out.append("\\n")
        elif c == "\r":
            out.append("\\r")
        elif c == "\t":
            out.append("\\t")
        elif ord(c) < 32 or ord(c) == 127:
            out.append(f"\\u{{{ord(c):x}}}")
        else:
            out.append(c)
    return '"' + "".join(out) + '"'


def _unquote(tok: Tok) -> str:
    if tok.kind == "qident":
        return re.sub(r"\\(.)", r"\1", tok.text[1:-1])
    return tok.text


def resolve_dbrp(db: Optional[str], rp: Optional[str]) -> Optional[str]:
    """iox_query_influxql_rewrite resolve_dbrp: no database, none; autogen/default mean the database."""
    if db is None:
        return None
    if rp is None or rp in ("autogen", "default"):
        return db
    return f"{db}/{rp}"


def parse_query(query: str) -> List[Statement]:
    """Every statement of ``query``; raises ParseFailure or MultiDatabase for the whole query."""
    tokens = _tokenize(query)
    statements: List[Statement] = []
    current: List[Tok] = []
    for tok in tokens + [Tok("op", ";", len(query))]:
        if tok.kind == "op" and tok.text == ";":
            if any(t.kind not in ("ws", "comment") for t in current):
                statements.append(_classify(current, query))
            current = []
        else:
            current.append(tok)
    return statements


def _classify(all_tokens: List[Tok], query: str) -> Statement:
    sig = [i for i, t in enumerate(all_tokens) if t.kind not in ("ws", "comment")]
    words = [all_tokens[i].word() for i in sig] + ["", "", ""]
    first = all_tokens[sig[0]]

    def pos_of(n: int) -> int:  # where the n-th significant token starts (or the end)
        return start + rebased[sig[n]].pos if n < len(sig) else all_tokens[-1].end

    def nom_error() -> ParseFailure:  # every alternative failed: the last one (SHOW) reports a Tag error
        return ParseFailure(
            "invalid InfluxQL statement",
            first.pos,
            f"Parsing Error: Nom({_rust_debug(query[first.pos :])}, Tag)",
        )

    start = first.pos
    rebased = [Tok(t.kind, t.text, t.pos - start) for t in all_tokens if t.pos >= start]
    offset = len(all_tokens) - len(rebased)
    sig = [i - offset for i in sig]
    text = query[start : all_tokens[-1].end]

    def make(
        kind: str,
        db: Optional[str] = None,
        rp: Optional[str] = None,
        sources: Optional[List[Source]] = None,
        on: Optional[Tuple[int, int]] = None,
        kw_end: int = 0,
    ) -> Statement:
        return Statement(kind, start, text, rebased, db, rp, sources or [], on, kw_end)

    head = words[0]
    if head == "DELETE":  # parser/delete.rs
        if words[1] not in ("FROM", "WHERE"):
            raise ParseFailure("invalid DELETE statement, expected FROM or WHERE", first.end)
        return make("delete")
    if head == "DROP":  # parser/drop.rs
        if words[1] != "MEASUREMENT":
            raise ParseFailure("invalid DROP statement, expected MEASUREMENT", pos_of(1))
        if len(sig) < 3 or rebased[sig[2]].kind not in ("ident", "qident"):
            raise ParseFailure("invalid DROP MEASUREMENT statement, expected identifier", pos_of(2))
        return make("drop_measurement")
    if head == "CREATE":  # parser/create.rs
        if words[1] != "DATABASE" or len(sig) < 3:
            raise ParseFailure("Invalid CREATE statement, expected DATABASE following CREATE", pos_of(1))
        return make("create_database")
    if head in ("SELECT", "EXPLAIN"):
        n = 1
        if head == "EXPLAIN":
            while words[n] in ("ANALYZE", "VERBOSE"):
                n += 1
            if words[n] not in ("SELECT", "SHOW", "DELETE", "DROP", "CREATE"):
                raise ParseFailure("invalid EXPLAIN statement, expected InfluxQL statement", pos_of(n))
            if words[n] != "SELECT":
                inner = _classify(all_tokens[sig[n] + offset :], query)
                return make("explain", inner.db, inner.rp)
        sources, into, has_from = _sources(rebased, sig[n:])
        if into or not has_from:  # parser/select.rs has no INTO; FROM is required
            raise nom_error()
        if any(s.stop < 0 for s in sources):
            raise ParseFailure(
                "invalid FROM clause, expected identifier, regular expression or subquery", start + len(text)
            )
        pairs: Set[Tuple[Optional[str], Optional[str]]] = {(s.db, s.rp) for s in sources}
        if len(pairs) > 1:
            raise MultiDatabase()
        db, rp = next(iter(pairs)) if pairs else (None, None)
        return make("explain" if head == "EXPLAIN" else "select", db, rp, sources)
    if head == "SHOW":  # parser/show.rs
        w1, w2 = words[1], words[2]
        if w1 == "DATABASES":
            return make("show_databases")
        if w1 == "TAG":
            if w2 not in ("KEYS", "VALUES"):
                raise ParseFailure("invalid SHOW TAG statement, expected KEYS or VALUES", pos_of(2))
            kind, kw_end = f"show_tag_{w2.lower()}", 3
        elif w1 == "FIELD" and w2 == "KEYS":
            kind, kw_end = "show_field_keys", 3
        elif w1 == "RETENTION":
            if w2 != "POLICIES":
                raise ParseFailure("invalid SHOW RETENTION POLICIES statement, expected POLICIES", pos_of(2))
            kind, kw_end = "show_retention_policies", 3
        elif w1 == "MEASUREMENTS":
            kind, kw_end = "show_measurements", 2
        else:
            raise ParseFailure(_INVALID_SHOW, pos_of(1))
        db = rp = None
        on: Optional[Tuple[int, int]] = None
        if words[kw_end] == "ON":
            names = _dotted(rebased, sig, kw_end + 1)
            if not names:
                raise ParseFailure("invalid ON clause, expected identifier", pos_of(kw_end + 1))
            parts, stop = names
            if parts[0] == "*":  # show_measurements.rs ExtendedOnClause::AllDatabases[AndRetentionPolicies]
                raise MultiDatabase()
            db = parts[0]
            rp = parts[1] if len(parts) > 1 and parts[1] != "*" else None
            on = (sig[kw_end], stop)
        sources, _into, _from = _sources(rebased, sig[kw_end:])
        return make(kind, db, rp, sources, on, sig[kw_end - 1] + 1)
    raise nom_error()


def _dotted(tokens: List[Tok], sig: List[int], n: int) -> Optional[Tuple[List[str], int]]:
    """Names joined by dots from significant token ``n``: (names, index after the last token)."""
    parts: List[str] = []
    stop = -1
    while n < len(sig):
        tok = tokens[sig[n]]
        if tok.kind not in ("ident", "qident") and tok.text != "*":
            break
        parts.append(_unquote(tok))
        stop = sig[n] + 1
        if n + 1 < len(sig) and tokens[sig[n + 1]].text == ".":
            n += 2
            continue
        break
    return (parts, stop) if parts else None


def _sources(tokens: List[Tok], sig: List[int]) -> Tuple[List[Source], bool, bool]:
    """The qualified names of every FROM (subqueries included), whether an INTO is there, and a FROM."""
    sources: List[Source] = []
    depth, into, has_from = 0, False, False
    n = 0
    while n < len(sig):
        tok = tokens[sig[n]]
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif tok.word() == "INTO" and depth == 0 and not has_from:
            into = True
        elif tok.word() == "FROM":
            has_from = True
            n += 1
            while True:
                source, n = _source(tokens, sig, n)
                if source is None:
                    break
                sources.append(source)
                if n < len(sig) and tokens[sig[n]].text == ",":
                    n += 1
                    continue
                break
            continue
        n += 1
    return sources, into, has_from


def _source(tokens: List[Tok], sig: List[int], n: int) -> Tuple[Optional[Source], int]:
    if n >= len(sig):
        return Source(-1, -1, None, None, ""), n
    if tokens[sig[n]].text == "(":
        return None, n
    parts: List[Optional[Tok]] = []
    first = n
    while n < len(sig):
        tok = tokens[sig[n]]
        if tok.kind in ("ident", "qident", "regex"):
            parts.append(tok)
            n += 1
            if n < len(sig) and tokens[sig[n]].text == "." and tok.kind != "regex":
                n += 1
                if n < len(sig) and tokens[sig[n]].text == ".":
                    parts.append(None)  # db..m
                continue
            break
        if tok.text == "." and parts and parts[-1] is None:
            n += 1
            continue
        break
    if not parts or parts[-1] is None:
        return Source(-1, -1, None, None, ""), n
    measurement = parts[-1]
    qualifiers = parts[:-1]
    db_tok: Optional[Tok] = None
    rp_tok: Optional[Tok] = None
    if len(qualifiers) == 2:
        db_tok, rp_tok = qualifiers
    elif len(qualifiers) == 1:
        rp_tok = qualifiers[0]
    db = _unquote(db_tok) if db_tok is not None else None
    rp = _unquote(rp_tok) if rp_tok is not None else None
    return Source(sig[first], sig[n - 1] + 1, db, rp, measurement.text), n


def rewrite_for_engine(stmt: Statement, engine_db: str) -> str:
    """The statement for the 1.x engine: sources in ``engine_db``, SHOW statements ``ON`` it."""
    target = '"' + engine_db.replace('"', '\\"') + '"'
    pieces: Dict[int, Tuple[int, str]] = {}
    is_show = stmt.kind.startswith("show_")
    for source in stmt.sources:
        text = source.measurement if is_show else f'{target}."autogen".{source.measurement}'
        pieces[source.start] = (source.stop, text)
    if is_show:
        if stmt.on_clause is not None:
            start, stop = stmt.on_clause
            pieces[start] = (stop, f"ON {target}")
        else:
            pieces[stmt.keywords_end] = (stmt.keywords_end, f" ON {target}")
    out: List[str] = []
    i = 0
    tokens = stmt.tokens
    while i <= len(tokens):
        if i in pieces:
            stop, text = pieces[i]
            out.append(text)
            if stop > i:
                i = stop
                continue
        if i < len(tokens):
            out.append(tokens[i].text)
        i += 1
    return "".join(out)
