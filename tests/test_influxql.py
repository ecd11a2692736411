"""Statement splitting and recognition (influx_compat._influxql)."""

import pytest

from influx_compat._influxql import (
    InfluxQLSyntaxError,
    parse_query,
    parse_statement,
    qualified_sources,
    quote_ident,
    quote_literal,
    split_statements,
    unquote_ident,
)


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
        ('CREATE RETENTION POLICY "rp" ON "db" DURATION 1d REPLICATION 1 SHARD DURATION 1h DEFAULT',
         "create_retention_policy",
         {"name": "rp", "database": "db", "duration": "1d", "replication": "1",
          "shard_duration": "1h", "default": True}),
        ("ALTER RETENTION POLICY rp ON db DURATION INF", "alter_retention_policy",
         {"name": "rp", "database": "db", "duration": "INF"}),
        ("DROP RETENTION POLICY rp ON db", "drop_retention_policy", {"name": "rp", "database": "db"}),
        ("SHOW RETENTION POLICIES ON db", "show_retention_policies", {"database": "db"}),
        ("SHOW RETENTION POLICIES", "show_retention_policies", {}),
        ("CREATE USER bob WITH PASSWORD 'pw' WITH ALL PRIVILEGES", "create_user",
         {"username": "bob", "password": "pw", "admin": True}),
        ("SET PASSWORD FOR bob = 'x'", "set_password", {"username": "bob", "password": "x"}),
        ("GRANT ALL PRIVILEGES TO bob", "grant_admin", {"username": "bob"}),
        ("GRANT ALL ON db TO bob", "grant", {"privilege": "ALL", "database": "db", "username": "bob"}),
        ("REVOKE write ON db FROM bob", "revoke",
         {"privilege": "WRITE", "database": "db", "username": "bob"}),
        ("REVOKE ALL PRIVILEGES FROM bob", "revoke_admin", {"username": "bob"}),
        ("SHOW GRANTS FOR bob", "show_grants", {"username": "bob"}),
        ('DROP MEASUREMENT "cpu"', "drop_measurement", {"measurement": "cpu"}),
        ("DROP SERIES FROM cpu WHERE host = 'a'", "drop_series",
         {"measurement": "cpu", "measurements": ["cpu"], "where": "host = 'a'"}),
        ("DROP SERIES FROM a, \"b c\", /re/", "drop_series",
         {"measurement": "a", "measurements": ["a", "b c", "/re/"]}),
        ("DELETE WHERE time < 0", "delete", {"where": "time < 0"}),
        ("SHOW CONTINUOUS QUERIES", "show_continuous_queries", {}),
        ("DROP CONTINUOUS QUERY cq ON db", "drop_continuous_query", {"name": "cq", "database": "db"}),
        ("SELECT * FROM cpu", "passthrough", {}),
        ("SHOW MEASUREMENTS", "show_measurements", {"rest": "", "limited": False}),
        ("SHOW SERIES FROM cpu LIMIT 2", "show_series", {"rest": "FROM cpu LIMIT 2", "limited": True}),
        ('SHOW SERIES ON "d"."r"', "show_series",
         {"database": "d", "retention_policy": "r", "rest": "", "limited": False}),
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
