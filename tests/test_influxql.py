"""Statement splitting and recognition (influx_compat._influxql)."""

import pytest

from influx_compat._influxql import (
    ROUTED_KINDS,
    InfluxQLSyntaxError,
    check_handlers,
    parse_query,
    parse_statement,
    qualified_sources,
    quote_ident,
    quote_literal,
    split_statements,
    unquote_ident,
)
from influx_compat._statements import STATEMENTS


@pytest.mark.parametrize(
    "text, expected",
    [
        ("SELECT 1", ["SELECT 1"]),
        ("a; b;;  ;c;", ["a", "b", "c"]),
        ('SELECT * FROM "a;b"; SHOW DATABASES', ['SELECT * FROM "a;b"', "SHOW DATABASES"]),
        ("SELECT * FROM m WHERE t = 'x;y'", ["SELECT * FROM m WHERE t = 'x;y'"]),
        ("SELECT * FROM m WHERE t = 'it\\'s;'", ["SELECT * FROM m WHERE t = 'it\\'s;'"]),
        ("SELECT * FROM m WHERE t =~ /a;b/", ["SELECT * FROM m WHERE t =~ /a;b/"]),
        ("SELECT a / b FROM m; SELECT c FROM n", ["SELECT a / b FROM m", "SELECT c FROM n"]),
        ("-- comment; still comment\nSHOW DATABASES", ["-- comment; still comment\nSHOW DATABASES"]),
        ("/* a; b */ SHOW DATABASES; -- only a comment", ["/* a; b */ SHOW DATABASES"]),
    ],
)
def test_split_statements(text, expected):
    assert split_statements(text) == expected


def test_quoting_round_trips_hostile_names():
    for name in ['a"b', "x; DROP DATABASE y", "back\\slash", "new\nline", "it's"]:
        assert unquote_ident(quote_ident(name)) == name
        stmt = parse_statement("CREATE DATABASE " + quote_ident(name))
        assert stmt.kind == "create_database"
        assert stmt.args == {"name": name}
        assert len(split_statements("DROP DATABASE " + quote_ident(name))) == 1
    assert quote_literal("it's") == "'it\\'s'"


@pytest.mark.parametrize(
    "text, kind, args",
    [
        ("create database foo", "create_database", {"name": "foo"}),
        ('DROP DATABASE "my db"', "drop_database", {"name": "my db"}),
        ("SHOW DATABASES", "show_databases", {}),
        (
            'CREATE RETENTION POLICY "rp" ON "db" DURATION 1d REPLICATION 1 SHARD DURATION 1h DEFAULT',
            "create_retention_policy",
            {
                "name": "rp",
                "database": "db",
                "duration": "1d",
                "replication": "1",
                "shard_duration": "1h",
                "default": True,
            },
        ),
        (
            "ALTER RETENTION POLICY rp ON db DURATION INF",
            "alter_retention_policy",
            {"name": "rp", "database": "db", "duration": "INF"},
        ),
        ("DROP RETENTION POLICY rp ON db", "drop_retention_policy", {"name": "rp", "database": "db"}),
        ("SHOW RETENTION POLICIES ON db", "show_retention_policies", {"database": "db"}),
        ("SHOW RETENTION POLICIES", "show_retention_policies", {}),
        (
            "CREATE USER bob WITH PASSWORD 'pw' WITH ALL PRIVILEGES",
            "create_user",
            {"username": "bob", "password": "pw", "admin": True},
        ),
        ("SET PASSWORD FOR bob = 'x'", "set_password", {"username": "bob", "password": "x"}),
        ("GRANT ALL PRIVILEGES TO bob", "grant_admin", {"username": "bob"}),
        ("GRANT ALL ON db TO bob", "grant", {"privilege": "ALL", "database": "db", "username": "bob"}),
        (
            "REVOKE write ON db FROM bob",
            "revoke",
            {"privilege": "WRITE", "database": "db", "username": "bob"},
        ),
        ("REVOKE ALL PRIVILEGES FROM bob", "revoke_admin", {"username": "bob"}),
        ("SHOW GRANTS FOR bob", "show_grants", {"username": "bob"}),
        ('DROP MEASUREMENT "cpu"', "drop_measurement", {"measurement": "cpu"}),
        (
            "DROP SERIES FROM cpu WHERE host = 'a'",
            "drop_series",
            {"measurement": "cpu", "measurements": ["cpu"], "where": "host = 'a'"},
        ),
        (
            'DROP SERIES FROM a, "b c", /re/',
            "drop_series",
            {"measurement": "a", "measurements": ["a", "b c", "/re/"]},
        ),
        ("DELETE WHERE time < 0", "delete", {"where": "time < 0"}),
        ("SHOW CONTINUOUS QUERIES", "show_continuous_queries", {}),
        ("DROP CONTINUOUS QUERY cq ON db", "drop_continuous_query", {"name": "cq", "database": "db"}),
        ("SELECT * FROM cpu", "passthrough", {}),
        ("SHOW MEASUREMENTS", "show_measurements", {"rest": "", "limited": False}),
        ("SHOW SERIES FROM cpu LIMIT 2", "show_series", {"rest": "FROM cpu LIMIT 2", "limited": True}),
        (
            'SHOW SERIES ON "d"."r"',
            "show_series",
            {"database": "d", "retention_policy": "r", "rest": "", "limited": False},
        ),
        ("SHOW SERIES CARDINALITY", "passthrough", {}),
        ("SHOW TAG KEYS", "passthrough", {}),
    ],
)
def test_parse_statement(text, kind, args):
    stmt = parse_statement(text)
    assert stmt.kind == kind
    assert stmt.args == args


def test_continuous_query_body():
    stmt = parse_statement(
        'CREATE CONTINUOUS QUERY "cq" ON "db" RESAMPLE EVERY 10s FOR 1m BEGIN '
        'SELECT mean("v") INTO "db"."rp"."m" FROM "cpu" GROUP BY time(1m) END'
    )
    assert stmt.args["select"] == 'SELECT mean("v") INTO "db"."rp"."m" FROM "cpu" GROUP BY time(1m)'
    assert stmt.args["resample"] == "EVERY 10s FOR 1m"


def test_syntax_errors_in_routed_statements():
    with pytest.raises(InfluxQLSyntaxError):
        parse_statement("CREATE DATABASE")
    with pytest.raises(InfluxQLSyntaxError):
        parse_statement("CREATE DATABASE a b")


def test_parse_query_mixes_kinds():
    kinds = [s.kind for s in parse_query('CREATE DATABASE "x"; SELECT 1; DROP DATABASE x')]
    assert kinds == ["create_database", "passthrough", "drop_database"]


def test_qualified_sources():
    text = 'SELECT * FROM "db"."rp"."m", db2..m2, rp3.m3, plain WHERE a = 1'
    assert list(qualified_sources(text)) == [("db", "rp"), ("db2", None), (None, "rp3")]


# -- the statement table (influx_compat._statements) --------------------------------------

ALL_ROUTED = {
    "create_database", "drop_database", "show_databases",
    "create_retention_policy", "alter_retention_policy", "drop_retention_policy", "show_retention_policies",
    "show_users", "create_user", "drop_user", "set_password",
    "grant", "grant_admin", "revoke", "revoke_admin", "show_grants",
    "drop_series", "drop_measurement", "delete",
    "show_continuous_queries", "create_continuous_query", "drop_continuous_query",
    "show_measurements", "show_series",
}  # fmt: skip


def test_routed_kinds_derive_from_the_table():
    assert ROUTED_KINDS == ALL_ROUTED
    assert ROUTED_KINDS == {k for entry in STATEMENTS for k in (entry.kind, *entry.also)}
    assert len({entry.kind for entry in STATEMENTS}) == len(STATEMENTS)


def test_no_keywords_begin_another_statements():
    # what lets the parser take the first entry whose keywords come next
    for a in STATEMENTS:
        for b in STATEMENTS:
            if a is not b:
                assert a.keywords != b.keywords[: len(a.keywords)], (a.keywords, b.keywords)


EXAMPLES = {
    "create_database": "CREATE DATABASE d",
    "drop_database": "DROP DATABASE d",
    "show_databases": "SHOW DATABASES",
    "create_retention_policy": "CREATE RETENTION POLICY r ON d DURATION 1d",
    "alter_retention_policy": "ALTER RETENTION POLICY r ON d DEFAULT",
    "drop_retention_policy": "DROP RETENTION POLICY r ON d",
    "show_retention_policies": "SHOW RETENTION POLICIES",
    "show_users": "SHOW USERS",
    "create_user": "CREATE USER u WITH PASSWORD 'p'",
    "drop_user": "DROP USER u",
    "set_password": "SET PASSWORD FOR u = 'p'",
    "grant": "GRANT READ ON d TO u",
    "grant_admin": "GRANT ALL TO u",
    "revoke": "REVOKE WRITE ON d FROM u",
    "revoke_admin": "REVOKE ALL PRIVILEGES FROM u",
    "show_grants": "SHOW GRANTS FOR u",
    "drop_series": "DROP SERIES FROM m",
    "drop_measurement": "DROP MEASUREMENT m",
    "delete": "DELETE FROM m",
    "show_continuous_queries": "SHOW CONTINUOUS QUERIES",
    "create_continuous_query": "CREATE CONTINUOUS QUERY c ON d BEGIN SELECT 1 END",
    "drop_continuous_query": "DROP CONTINUOUS QUERY c ON d",
    "show_measurements": "SHOW MEASUREMENTS",
    "show_series": "SHOW SERIES",
}


@pytest.mark.parametrize("kind", sorted(ALL_ROUTED))
def test_every_routed_kind_is_recognised(kind):
    stmt = parse_statement(EXAMPLES[kind])
    assert (stmt.kind, stmt.routed) == (kind, True)
    assert parse_statement(EXAMPLES[kind].lower()).kind == kind  # keywords in any case


@pytest.mark.parametrize(
    "text",
    [
        "CREATE RETENTION POLICY rp ON db DURATION 1h REPLICATION 1 SHARD DURATION 30m DEFAULT",
        "ALTER RETENTION POLICY rp ON db DURATION 1h REPLICATION 1 SHARD DURATION 30m DEFAULT",
        "ALTER RETENTION POLICY rp ON db DEFAULT SHARD DURATION 30m REPLICATION 1 DURATION 1h",
    ],
)
def test_create_and_alter_retention_policy_share_one_grammar(text):
    assert parse_statement(text).args == {
        "name": "rp",
        "database": "db",
        "duration": "1h",
        "replication": "1",
        "shard_duration": "30m",
        "default": True,
    }


def test_create_database_with_options():
    stmt = parse_statement('CREATE DATABASE "d" WITH DURATION 1d REPLICATION 1 SHARD DURATION 1h NAME "r"')
    assert stmt.args == {
        "name": "d",
        "retention_policy": {"duration": "1d", "replication": "1", "shard_duration": "1h", "name": "r"},
    }
    with pytest.raises(InfluxQLSyntaxError, match="found DEFAULT, expected ;"):
        parse_statement("CREATE DATABASE d WITH DEFAULT")


def test_continuous_queries():
    stmt = parse_statement(
        "CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1h FOR 2h BEGIN SELECT mean(v) INTO x FROM m "
        "GROUP BY time(1h) END"
    )
    assert stmt.kind == "create_continuous_query"
    assert stmt.args == {
        "name": "cq",
        "database": "db",
        "resample": "EVERY 1h FOR 2h",
        "select": "SELECT mean(v) INTO x FROM m GROUP BY time(1h)",
    }
    with pytest.raises(InfluxQLSyntaxError, match="expected END"):
        parse_statement("CREATE CONTINUOUS QUERY cq ON db BEGIN SELECT 1")
    with pytest.raises(InfluxQLSyntaxError, match="found EOF, expected BEGIN"):
        parse_statement("CREATE CONTINUOUS QUERY cq ON db RESAMPLE EVERY 1h")
    assert parse_statement("DROP CONTINUOUS QUERY cq ON db").args == {"name": "cq", "database": "db"}


@pytest.mark.parametrize(
    "text, message",
    [
        ("DROP DATABASE", "found EOF, expected identifier"),
        ("DROP DATABASE a b", "found b, expected ;"),
        ("CREATE USER u WITH PASSWORD pw", "found pw, expected string"),
        ("CREATE USER u PASSWORD 'pw'", "found PASSWORD, expected WITH PASSWORD"),
        ("GRANT SOME ON db TO u", "expected READ, WRITE or ALL"),
        ("DELETE", "found EOF, expected FROM, WHERE"),
        ("CREATE RETENTION POLICY rp ON db DURATION", "found EOF, expected a value"),
        ("DROP RETENTION POLICY rp db", "found db, expected ON"),
    ],
)
def test_syntax_errors_of_routed_statements(text, message):
    with pytest.raises(InfluxQLSyntaxError) as info:
        parse_statement(text)
    assert str(info.value) == message


def test_partial_keywords_pass_through():
    for text in ["SHOW GRANTS bob", "CREATE RETENTION x", "SHOW SERIES EXACT CARDINALITY", "SELECT 1", ""]:
        stmt = parse_statement(text)
        assert (stmt.kind, stmt.args, stmt.routed) == ("passthrough", {}, False)


# -- handler tables held to the table -------------------------------------------------


def test_check_handlers_accepts_a_complete_table():
    check_handlers(dict.fromkeys(ROUTED_KINDS), "t")
    check_handlers(dict.fromkeys(ROUTED_KINDS - {"grant"}), "t", exempt={"grant"})


def test_check_handlers_names_missing_and_unknown_kinds():
    table = dict.fromkeys(ROUTED_KINDS - {"show_users", "grant"})
    table["create_databse"] = None
    with pytest.raises(RuntimeError) as info:
        check_handlers(table, "My.handlers()")
    assert str(info.value) == (
        "My.handlers(): handlers for kinds that are not routed: create_databse; "
        "no handler for the routed kinds grant, show_users"
    )
    with pytest.raises(RuntimeError, match="exempt kinds that are not routed: nope"):
        check_handlers(dict.fromkeys(ROUTED_KINDS), "t", exempt={"nope"})


def test_management_handlers_cover_every_routed_kind(monkeypatch):
    from influx_compat import _management

    management = _management.Management.__new__(_management.Management)
    management.users = None
    assert set(management.handlers()) == ROUTED_KINDS
    monkeypatch.setattr(_management, "check_handlers", _raise)
    with pytest.raises(LookupError, match="Management.handlers()"):
        management.handlers()


def _raise(handlers, where, **kwargs):
    raise LookupError(where)
