"""The InfluxQL statements 2.x rejects, in one table, and how their arguments are read.

InfluxDB 2.x answers ``not implemented`` to 1.x's management statements; the
core translates them onto the v2 API.  :data:`STATEMENTS` lists each one
once: the keywords that open it, its kind, and the function that reads its
arguments.  Everything else derives from it: :data:`ROUTED_KINDS`, the
recognition of a statement (:func:`read_statement`, called by
``influx_compat._influxql.parse_statement``), and :func:`check_handlers`,
which holds a handler table such as ``Management.handlers()`` to it.

``SELECT ... INTO``, which 2.x and 3.x reject too, is not in the table: it
stays a ``passthrough`` statement here, and the core recognises its INTO clause
and carries it out itself (:mod:`influx_compat._select_into`), on every
backend and even without a token.

The readers work on a :class:`Cursor` over a statement's tokens, which the
tokenizer in ``_influxql`` provides; this module imports nothing of it, so
that ``_influxql`` can re-export what is defined here without an import cycle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AbstractSet, Any, Callable, Dict, List, Mapping, Optional, Protocol, Set, Tuple

__all__ = [
    "Cursor",
    "Statement",
    "StatementKind",
    "STATEMENTS",
    "ROUTED_KINDS",
    "read_statement",
    "check_handlers",
]


class Cursor(Protocol):
    """What the readers use of a statement's significant tokens (no whitespace, no comments)."""

    def next_word(self) -> str:
        """The next token, upper-cased if it is a bare word; ``''`` at the end."""

    def at(self, *words: str) -> bool:
        """Whether the next tokens are these keywords."""

    def accept(self, *words: str) -> bool:
        """Take these keywords if they come next."""

    def expect(self, *words: str) -> None:
        """Take these keywords, or raise the syntax error 1.x gives."""

    def ident(self) -> str:
        """Take an identifier (bare or double-quoted) and return the name it stands for."""

    def at_ident(self) -> bool:
        """Whether an identifier comes next."""

    def string(self) -> str:
        """Take a single-quoted string and return its value."""

    def word(self) -> str:
        """Take a duration, number or bare word (``INF``, ``1h30m``, ``3``) as written."""

    def regex(self) -> Optional[str]:
        """Take a regex literal ``/.../`` if one comes next."""

    def take(self) -> str:
        """Take any token and return its text."""

    def rest(self) -> str:
        """The statement's text from the next token on."""

    def words(self) -> Set[str]:
        """The bare words still to come, upper-cased."""

    def skip(self) -> None:
        """Take every token left."""

    def done(self) -> bool:
        """Whether every token has been taken."""

    def end(self) -> None:
        """Raise the syntax error 1.x gives unless every token has been taken."""

    def error(self, message: str) -> Exception:
        """The syntax error to raise for ``message``."""


# Reads a statement's arguments (after its keywords) into args; returns its kind when that
# is not the table entry's own (GRANT ALL TO u is grant_admin; SHOW SERIES CARDINALITY passes through).
Reader = Callable[[Cursor, Dict[str, Any]], Optional[str]]


@dataclass(frozen=True)
class StatementKind:
    """One statement routed onto the v2 API.

    :ivar keywords: the words that open it (upper case)
    :ivar kind: what it is called in :attr:`Statement.kind` and in handler tables
    :ivar read: reads its arguments
    :ivar also: the other kinds ``read`` may return
    """

    keywords: Tuple[str, ...]
    kind: str
    read: Reader
    also: Tuple[str, ...] = ()


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


# -- argument readers ------------------------------------------------------------


def _nothing(cur: Cursor, args: Dict[str, Any]) -> None:
    cur.end()


def _one(key: str) -> Reader:
    """A reader of statements that take one name: ``DROP DATABASE "x"``, ``DROP USER u``."""

    def read(cur: Cursor, args: Dict[str, Any]) -> None:
        args[key] = cur.ident()
        cur.end()

    return read


def _name_on(cur: Cursor, args: Dict[str, Any]) -> None:
    """``<name> ON <database>`` of retention policies and continuous queries."""
    args["name"] = cur.ident()
    cur.expect("ON")
    args["database"] = cur.ident()


def _name_on_database(cur: Cursor, args: Dict[str, Any]) -> None:
    _name_on(cur, args)
    cur.end()


# Options of CREATE DATABASE ... WITH and of retention policies: keywords, key in args, value reader.
_Option = Tuple[Tuple[str, ...], str, Callable[[Cursor], Any]]
_POLICY_OPTIONS: Tuple[_Option, ...] = (
    (("DURATION",), "duration", lambda cur: cur.word()),
    (("REPLICATION",), "replication", lambda cur: cur.word()),
    (("SHARD", "DURATION"), "shard_duration", lambda cur: cur.word()),
)
_DATABASE_OPTIONS = ((("NAME",), "name", lambda cur: cur.ident()), *_POLICY_OPTIONS)
_RETENTION_POLICY_OPTIONS = (*_POLICY_OPTIONS, (("DEFAULT",), "default", lambda cur: True))


def _options(cur: Cursor, args: Dict[str, Any], options: Tuple[_Option, ...]) -> None:
    """Options in any order up to the end of the statement."""
    while not cur.done():
        for words, key, read in options:
            if cur.accept(*words):
                args[key] = read(cur)
                break
        else:
            cur.end()


def _create_database(cur: Cursor, args: Dict[str, Any]) -> None:
    args["name"] = cur.ident()
    if cur.accept("WITH"):
        policy: Dict[str, Any] = {}
        _options(cur, policy, _DATABASE_OPTIONS)
        args["retention_policy"] = policy
    cur.end()


def _retention_policy(cur: Cursor, args: Dict[str, Any]) -> None:
    """The rest of CREATE and of ALTER RETENTION POLICY (the same grammar)."""
    _name_on(cur, args)
    _options(cur, args, _RETENTION_POLICY_OPTIONS)


def _altered_retention_policy(cur: Cursor, args: Dict[str, Any]) -> None:
    """ALTER RETENTION POLICY: CREATE's grammar, with at least one option (as 1.x's parser wants)."""
    _retention_policy(cur, args)
    if not any(
        args.get(key) not in (None, "", False)
        for key in ("duration", "replication", "shard_duration", "default")
    ):
        raise cur.error("found EOF, expected DURATION, REPLICATION, SHARD, DEFAULT")


def _on_database(cur: Cursor, args: Dict[str, Any]) -> None:
    if cur.accept("ON"):
        args["database"] = cur.ident()
    cur.end()


def _create_user(cur: Cursor, args: Dict[str, Any]) -> None:
    args["username"] = cur.ident()
    cur.expect("WITH", "PASSWORD")
    args["password"] = cur.string()
    args["admin"] = cur.accept("WITH", "ALL", "PRIVILEGES")
    cur.end()


def _set_password(cur: Cursor, args: Dict[str, Any]) -> None:
    args["username"] = cur.ident()
    cur.expect("=")
    args["password"] = cur.string()
    cur.end()


def _privilege(cur: Cursor) -> str:
    for word in ("READ", "WRITE", "ALL"):
        if cur.accept(word):
            if word == "ALL":
                cur.accept("PRIVILEGES")
            return word
    raise cur.error("expected READ, WRITE or ALL")


def _grant_or_revoke(cur: Cursor, args: Dict[str, Any], verb: str, preposition: str) -> str:
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


def _grant(cur: Cursor, args: Dict[str, Any]) -> str:
    return _grant_or_revoke(cur, args, "grant", "TO")


def _revoke(cur: Cursor, args: Dict[str, Any]) -> str:
    return _grant_or_revoke(cur, args, "revoke", "FROM")


def _source_and_where(cur: Cursor, args: Dict[str, Any]) -> None:
    """FROM <measurement>[, ...] [WHERE <condition>] (the condition is kept as text).

    Each source is a name (qualifiers dropped, kept in ``qualifiers``) or a
    regex literal ``/.../``, which the v2 delete API cannot express.
    """
    if cur.accept("FROM"):
        sources: List[str] = []
        qualifiers: List[str] = []
        while True:
            regex = cur.regex()
            if regex is not None:
                sources.append(regex)
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
        cur.skip()
    elif "measurements" not in args:
        raise cur.error("found EOF, expected FROM, WHERE")
    cur.end()


def _show_on(cur: Cursor, args: Dict[str, Any]) -> Optional[str]:
    """ON <db>[.<rp>] of SHOW MEASUREMENTS / SHOW SERIES, and the rest as text."""
    if cur.accept("ON"):
        if cur.at_ident():
            args["database"] = cur.ident()
            if cur.accept("."):
                args["retention_policy"] = "*" if cur.accept("*") else cur.ident()
        else:
            args["wildcard"] = True  # ON *.* and the like: 2.x answers these itself
            cur.skip()
            return None
    args["rest"] = cur.rest()
    args["limited"] = bool(cur.words() & {"LIMIT", "OFFSET", "SLIMIT", "SOFFSET"})
    cur.skip()
    return None


def _show_series(cur: Cursor, args: Dict[str, Any]) -> Optional[str]:
    if cur.at("CARDINALITY") or cur.at("EXACT"):
        return "passthrough"  # 2.x answers SHOW SERIES [EXACT] CARDINALITY itself
    return _show_on(cur, args)


def _create_continuous_query(cur: Cursor, args: Dict[str, Any]) -> None:
    _name_on(cur, args)
    if cur.accept("RESAMPLE"):
        resample = []
        while not cur.at("BEGIN") and not cur.done():
            resample.append(cur.take())
        args["resample"] = " ".join(resample)
    cur.expect("BEGIN")
    body = cur.rest()
    if not body.upper().endswith("END"):
        raise cur.error("expected END")
    args["select"] = body[:-3].strip()
    cur.skip()


# -- the table ------------------------------------------------------------------------

STATEMENTS: Tuple[StatementKind, ...] = (
    StatementKind(("CREATE", "DATABASE"), "create_database", _create_database),
    StatementKind(("DROP", "DATABASE"), "drop_database", _one("name")),
    StatementKind(("SHOW", "DATABASES"), "show_databases", _nothing),
    StatementKind(("CREATE", "RETENTION", "POLICY"), "create_retention_policy", _retention_policy),
    StatementKind(("ALTER", "RETENTION", "POLICY"), "alter_retention_policy", _altered_retention_policy),
    StatementKind(("DROP", "RETENTION", "POLICY"), "drop_retention_policy", _name_on_database),
    StatementKind(("SHOW", "RETENTION", "POLICIES"), "show_retention_policies", _on_database),
    StatementKind(("SHOW", "USERS"), "show_users", _nothing),
    StatementKind(("CREATE", "USER"), "create_user", _create_user),
    StatementKind(("DROP", "USER"), "drop_user", _one("username")),
    StatementKind(("SET", "PASSWORD", "FOR"), "set_password", _set_password),
    StatementKind(("GRANT",), "grant", _grant, also=("grant_admin",)),
    StatementKind(("REVOKE",), "revoke", _revoke, also=("revoke_admin",)),
    StatementKind(("SHOW", "GRANTS", "FOR"), "show_grants", _one("username")),
    StatementKind(("DROP", "MEASUREMENT"), "drop_measurement", _one("measurement")),
    StatementKind(("DROP", "SERIES"), "drop_series", _source_and_where),
    StatementKind(("DELETE",), "delete", _source_and_where),
    StatementKind(("SHOW", "MEASUREMENTS"), "show_measurements", _show_on),
    StatementKind(("SHOW", "SERIES"), "show_series", _show_series),
    StatementKind(("SHOW", "CONTINUOUS", "QUERIES"), "show_continuous_queries", _nothing),
    StatementKind(("CREATE", "CONTINUOUS", "QUERY"), "create_continuous_query", _create_continuous_query),
    StatementKind(("DROP", "CONTINUOUS", "QUERY"), "drop_continuous_query", _name_on_database),
)

# Statement kinds translated onto the v2 API by the core.
ROUTED_KINDS = frozenset(kind for entry in STATEMENTS for kind in (entry.kind, *entry.also))

# No entry's keywords begin another's, so the first entry whose keywords come next is the only one.
_BY_FIRST_WORD: Dict[str, List[StatementKind]] = {}
for _entry in STATEMENTS:
    _BY_FIRST_WORD.setdefault(_entry.keywords[0], []).append(_entry)
del _entry


def read_statement(cur: Cursor, text: str) -> Statement:
    """Recognise the statement ``text`` whose tokens ``cur`` holds; others are ``passthrough``.

    :raises InfluxQLSyntaxError: a routed statement with a syntax error
    """
    args: Dict[str, Any] = {}
    for entry in _BY_FIRST_WORD.get(cur.next_word(), ()):
        if cur.accept(*entry.keywords):
            return Statement(entry.read(cur, args) or entry.kind, text, args)
    return Statement("passthrough", text, args)


def check_handlers(
    handlers: Mapping[str, object], where: str, *, exempt: AbstractSet[str] = frozenset()
) -> None:
    """Raise unless a handler table has exactly one handler per routed statement kind.

    Called where the table is built, so that a kind added to :data:`STATEMENTS`
    without a handler, or a handler for a kind that is never routed (a typo),
    fails at once instead of on the first such query.

    :param handlers: ``{kind: handler}``
    :param where: names the table in the error
    :param exempt: routed kinds the table leaves out on purpose
    :raises RuntimeError: naming the kinds that are missing or unknown
    """
    problems = []
    unknown = sorted(set(handlers) - ROUTED_KINDS)
    if unknown:
        problems.append(f"handlers for kinds that are not routed: {', '.join(unknown)}")
    missing = sorted(ROUTED_KINDS - set(handlers) - set(exempt))
    if missing:
        problems.append(f"no handler for the routed kinds {', '.join(missing)}")
    bad_exempt = sorted(set(exempt) - ROUTED_KINDS)
    if bad_exempt:
        problems.append(f"exempt kinds that are not routed: {', '.join(bad_exempt)}")
    if problems:
        raise RuntimeError(f"{where}: " + "; ".join(problems))
