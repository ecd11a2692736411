"""``DROP SERIES`` / ``DELETE`` conditions as 2.x delete requests (influx_compat._predicate)."""

import pytest

from influx_compat import _predicate
from influx_compat._influxql import InfluxQLSyntaxError
from influx_compat._predicate import (
    MAX_NS,
    MAX_TIME,
    MIN_NS,
    MIN_TIME,
    DeleteRange,
    UnsupportedCondition,
    quote_value,
    rfc3339,
    translate,
    translate_sources,
)

DAY_2020 = 1577836800 * 10**9  # 2020-01-01T00:00:00Z


# -- what is accepted -----------------------------------------------------------------


def test_measurement_alone_deletes_everything_of_it():
    rng = translate(None, "cpu", allow_time=False)
    assert (rng.start, rng.stop, rng.predicate) == (MIN_NS, MAX_NS, '_measurement="cpu"')
    assert rng.body() == {"start": MIN_TIME, "stop": MAX_TIME, "predicate": '_measurement="cpu"'}


def test_no_measurement_and_no_condition_is_an_empty_predicate():
    assert translate(None, None, allow_time=True) == DeleteRange(MIN_NS, MAX_NS, "")
    assert translate("", None, allow_time=True).predicate == ""


@pytest.mark.parametrize(
    "where, predicate",
    [
        ("host = 'a'", '"host"="a"'),
        ("host != 'a'", '"host"!="a"'),
        ("host <> 'a'", '"host"!="a"'),
        ("\"the host\" = 'it\\'s'", '"the host"="it\'s"'),
        ("host = 'a' AND region = 'eu'", '"host"="a" AND "region"="eu"'),
        ("(host = 'a') and (region = 'eu')", '"host"="a" AND "region"="eu"'),
        ("t = 'say \"hi\"'", '"t"="say \\"hi\\""'),
        ("t = 'back\\\\slash'", '"t"="back\\\\slash"'),
    ],
)
def test_tag_conditions(where, predicate):
    assert translate(where, None, allow_time=False).predicate == predicate


def test_measurement_comes_first_in_the_predicate():
    assert translate("host = 'a'", 'c"p', allow_time=False).predicate == '_measurement="c\\"p" AND "host"="a"'


@pytest.mark.parametrize(
    "where, start, stop",
    [
        ("time >= '2020-01-01T00:00:00Z'", DAY_2020, MAX_NS),
        ("time > '2020-01-01T00:00:00Z'", DAY_2020 + 1, MAX_NS),
        ("time <= '2020-01-01T00:00:00Z'", MIN_NS, DAY_2020),
        ("time < '2020-01-01T00:00:00Z'", MIN_NS, DAY_2020 - 1),
        ("time = '2020-01-01T00:00:00Z'", DAY_2020, DAY_2020),
        ("time >= '2020-01-01'", DAY_2020, MAX_NS),
        ("time >= '2020-01-01 00:00:01'", DAY_2020 + 10**9, MAX_NS),
        ("time >= '2020-01-01T01:00:00.5+01:00'", DAY_2020 + 5 * 10**8, MAX_NS),
        ("time >= '2020-01-01T00:00:00.000000001Z'", DAY_2020 + 1, MAX_NS),
        ("time > 5", 6, MAX_NS),
        ("time < 1h", MIN_NS, 3600 * 10**9 - 1),
        ("time > 10 AND time > 5 AND time < 100", 11, 99),
        ("TIME > 10", 11, MAX_NS),
    ],
)
def test_time_bounds_of_delete(where, start, stop):
    rng = translate(where, None, allow_time=True)
    assert (rng.start, rng.stop, rng.predicate) == (start, stop, "")


def test_time_and_tags_together():
    rng = translate("time >= 0 AND host = 'a' AND time < 10", "m", allow_time=True)
    assert (rng.start, rng.stop, rng.predicate) == (0, 9, '_measurement="m" AND "host"="a"')


def test_now_with_offsets(monkeypatch):
    monkeypatch.setattr(_predicate.time, "time_ns", lambda: 10**18)
    assert translate("time < now()", None, True).stop == 10**18 - 1
    assert translate("time > now() - 1h", None, True).start == 10**18 - 3600 * 10**9 + 1
    assert translate("time < NOW() + 1m", None, True).stop == 10**18 + 60 * 10**9 - 1
    rng = translate("(time > now() - 1d) AND (host = 'a')", "m", True)
    assert (rng.start, rng.predicate) == (10**18 - 86400 * 10**9 + 1, '_measurement="m" AND "host"="a"')


def test_a_quoted_time_is_a_tag():
    assert translate("\"time\" = 'x'", None, allow_time=False).predicate == '"time"="x"'


def test_bounds_stay_in_the_range_2x_deletes_and_an_impossible_range_is_empty():
    rng = translate("time > '1000-01-01' AND time < 99999999999999999999", None, True)
    assert (rng.start, rng.stop) == (MIN_NS, MAX_NS)
    assert translate("time > 10 AND time < 5", None, True).empty
    assert not translate("time >= 5 AND time <= 5", None, True).empty


# -- what is refused, and with which words ---------------------------------------------------


@pytest.mark.parametrize(
    "where, allow_time, words",
    [
        ("host = 'a' OR host = 'b'", False, "OR cannot be used"),
        ("host =~ /a.*/", False, "host =~ /regex/ cannot be used"),
        ("host !~ /a/", False, "host !~ /regex/ cannot be used"),
        ("host > 'a'", False, "host > ...: InfluxDB 2.x deletes only with = and !="),
        ("host = 3", False, "host = 3: compare tags with a single-quoted string"),
        ("host = other", False, "compare tags with a single-quoted string"),
        ("_field = 'v'", False, "InfluxDB 2.x cannot delete by field"),
        ("time > 5", False, "DROP SERIES doesn't support time in WHERE clause"),
        ("time != 5", True, "time != cannot be used in a delete"),
        ("time > 'yesterday'", True, "cannot read 'yesterday' as a time: use RFC3339"),
        ("time > '2020-02-30T00:00:00Z'", True, "cannot read '2020-02-30T00:00:00Z' as a time"),
        ("time > '2020-1-1'", True, "cannot read '2020-1-1' as a time"),
        ("time > 1.5", True, "cannot read 1.5 as a time"),
        ("time > later", True, "cannot read later as a time"),
    ],
)
def test_unsupported_conditions(where, allow_time, words):
    with pytest.raises(UnsupportedCondition) as info:
        translate(where, "m", allow_time)
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    "where, words",
    [
        ("host = 'a' XOR region = 'b'", "found XOR, expected AND"),
        ("'a' = host", "found 'a', expected identifier"),
        ("host =", "found EOF, expected an expression"),
        ("time > now", "found EOF, expected an expression"),
        ("time > now - 1h", "expected now()"),
        ("time > now(1)", "expected now()"),
    ],
)
def test_conditions_that_do_not_parse(where, words):
    with pytest.raises(InfluxQLSyntaxError) as info:
        translate(where, None, allow_time=True)
    assert words in str(info.value)


def test_sources():
    assert translate_sources(None) == [None]
    assert translate_sources([]) == [None]
    assert translate_sources(["a", "b c"]) == ["a", "b c"]
    with pytest.raises(UnsupportedCondition, match="FROM /cpu.*/: InfluxDB 2.x deletes only named"):
        translate_sources(["a", "/cpu.*/"])


# -- the text it writes -------------------------------------------------------------------


@pytest.mark.parametrize(
    "ns, text",
    [
        (0, "1970-01-01T00:00:00Z"),
        (DAY_2020 + 5 * 10**8, "2020-01-01T00:00:00.5Z"),
        (DAY_2020 + 1, "2020-01-01T00:00:00.000000001Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (MIN_NS, MIN_TIME),
        (MAX_NS, MAX_TIME),
    ],
)
def test_rfc3339(ns, text):
    assert rfc3339(ns) == text


def test_quote_value():
    assert quote_value('a"b\\c') == '"a\\"b\\\\c"'
