"""line_protocol against influxdb-python 5.3.2 itself (differential), and its deliberate refusals."""

import datetime
import decimal
import math

import pytest

from influx_compat import line_protocol as lp
from influx_compat.exceptions import InfluxDBClientError, InvalidPointError

try:
    from influxdb import line_protocol as ref  # influxdb-python 5.3.2, a test dependency
except ImportError as exc:  # pragma: no cover
    raise RuntimeError("install influxdb-python: pip install influxdb==5.3.2") from exc

try:
    import numpy as np
except ImportError as exc:  # pragma: no cover
    raise RuntimeError("these tests need numpy: pip install numpy") from exc

BERLIN = datetime.timezone(datetime.timedelta(hours=1))

SAME_AS_5_3_2 = [
    {"measurement": "cpu", "tags": {"host": "a", "region": "us"}, "fields": {"v": 0.5}, "time": 1},
    {
        "measurement": "m e,a=s",
        "tags": {"k y": "v,a=l\\e", "e": "", "n": None, "i": 3, "b": True},
        "fields": {"f k": 1, "s": 'q"u\\o\nte', "e": "", "b": False, "n": None},
    },
    {"measurement": b"bytes", "tags": {b"t": b"v"}, "fields": {b"f": b"x"}, "time": 10},
    {
        "measurement": 5,
        "fields": {"big": 2**63 - 1, "small": -(2**63), "neg": -3, "f": 1e300, "tiny": 5e-324},
    },
    {"measurement": "m", "fields": {"f": 0.1 + 0.2, "d": decimal.Decimal("0.8289445733333332")}},
    {
        "measurement": "m",
        "fields": {"n64": np.int64(3), "f32": np.float32(0.1), "b": np.bool_(True), "f64": np.float64(2.5)},
        "time": np.int64(7),
    },
    {"measurement": "ünï", "tags": {"ü": "ö"}, "fields": {"é": "ß"}},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10T23:00:00.123456Z"},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10 23:00:00"},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10"},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10T23:00:00+05:30"},
    {"measurement": "t", "fields": {"v": 1}, "time": datetime.datetime(2009, 11, 10, 23, 0, 0, 123456)},
    {
        "measurement": "t",
        "fields": {"v": 1},
        "time": datetime.datetime(2009, 11, 10, 23, 0, 0, 123456, tzinfo=BERLIN),
    },
    {"measurement": "t", "fields": {"v": 1}, "time": datetime.datetime(1950, 6, 1, 12, 30, 15, 5)},
]


@pytest.mark.parametrize("precision", [None, "n", "u", "ms", "s", "m", "h"])
@pytest.mark.parametrize("point", SAME_AS_5_3_2, ids=range(len(SAME_AS_5_3_2)))
def test_same_bytes_as_5_3_2(point, precision):
    data = {"points": [point]}
    assert lp.make_lines(data, precision) == ref.make_lines(data, precision)


def test_static_tags_and_default_measurement():
    data = {
        "measurement": "dflt",
        "tags": {"x": "0", "s": "1"},
        "points": [{"tags": {"x": "1"}, "fields": {"v": 1}}, {"measurement": "m", "fields": {"v": 2}}],
    }
    assert lp.make_lines(data) == ref.make_lines(data)


def test_empty_points():
    assert lp.make_lines({"points": []}) == ref.make_lines({"points": []}) == "\n"


def test_make_line_quote_functions():
    assert lp.make_line("m", {"t": "v"}, {"f": 1}, 5) == ref.make_line("m", {"t": "v"}, {"f": 1}, 5)
    s = r'\foo \' bar " Örf'
    assert lp.quote_ident(s) == ref.quote_ident(s)
    assert lp.quote_literal(s) == ref.quote_literal(s)


def test_nanosecond_strings_keep_their_nanoseconds():
    line = lp.make_lines(
        {"points": [{"measurement": "m", "fields": {"v": 1}, "time": "2020-01-01T00:00:00.123456789Z"}]}
    )
    assert line == "m v=1i 1577836800123456789\n"  # 5.3.2 (dateutil) dropped the last 3 digits


@pytest.mark.parametrize(
    "point, words",
    [
        ({"measurement": "m", "fields": {"v": math.nan}}, ["'v'", "nan"]),
        ({"measurement": "m", "fields": {"v": -math.inf}}, ["'v'", "inf"]),
        ({"measurement": "m", "fields": {"v": np.float64("nan")}}, ["'v'"]),
        ({"measurement": "m", "fields": {"v": [1, 2]}}, ["'v'", "list"]),
        ({"measurement": "m", "fields": {"v": 2**63}}, ["'v'", "64-bit integer range"]),
        ({"measurement": "m", "fields": {"v": 1}, "time": datetime.datetime(2300, 1, 1)}, ["2262-04-11"]),
        ({"measurement": "m", "fields": {"v": 1}, "time": datetime.datetime(1600, 1, 1)}, ["1677-09-21"]),
        ({"measurement": "m", "fields": {"v": 1}, "time": 10**19}, ["outside the range"]),
        ({"measurement": "m", "fields": {"v": -(2**63) - 1}}, ["'v'", "64-bit integer range"]),
        ({"measurement": "m", "fields": {"v": {"a": 1}}}, ["dict"]),
        ({"measurement": "m", "fields": {"v": datetime.datetime(2020, 1, 1)}}, ["datetime"]),
        ({"measurement": None, "fields": {"v": 1}}, ["no measurement"]),
        ({"measurement": "", "fields": {"v": 1}}, ["no measurement"]),
        ({"fields": {"v": 1}}, ["no measurement"]),
        ({"measurement": "m", "fields": {"v": None}}, ["no fields"]),
        ({"measurement": "m", "tags": {"t": "x"}}, ["no fields"]),
        ({"measurement": "m", "fields": {"v": 1}, "time": 1.5}, ["float"]),
        ({"measurement": "m", "fields": {"v": 1}, "time": "yesterday-ish"}, ["yesterday-ish"]),
    ],
)
def test_points_the_server_would_refuse_raise_clearly(point, words):
    with pytest.raises(InvalidPointError) as info:
        lp.make_lines({"points": [{"measurement": "ok", "fields": {"v": 1}}, point]})
    err = info.value
    assert isinstance(err, ValueError) and isinstance(err, InfluxDBClientError)
    text = str(err)
    assert ("point 1" in text) or ("point" in text and "no measurement" in text)
    for word in words:
        assert word in text


def test_times_at_the_edges_of_the_range():
    assert (
        lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1}, "time": 9223372036}]}, "s")
        == "m v=1i 9223372036\n"
    )
    with pytest.raises(InvalidPointError, match="precision s"):
        lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1}, "time": 9223372037}]}, "s")
    assert (
        lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1}, "time": -(2**63) + 2}]})
        == "m v=1i -9223372036854775806\n"
    )


def test_unknown_precision_for_datetimes():
    with pytest.raises(ValueError):
        lp.make_lines(
            {"points": [{"measurement": "m", "fields": {"v": 1}, "time": datetime.datetime(2020, 1, 1)}]}, "x"
        )


def test_serialize_points_scale_and_start_index():
    points = [
        {"measurement": "m", "fields": {"v": 1}, "time": 2},
        {
            "measurement": "m",
            "fields": {"v": 1},
            "time": datetime.datetime(2020, 1, 1, 1, 30, tzinfo=datetime.timezone.utc),
        },
    ]
    assert lp._serialize_points(points, precision="h", scale=3600) == ("m v=1i 7200\nm v=1i 1577840400\n")
    with pytest.raises(InvalidPointError, match="point 41"):
        lp._serialize_points([{"measurement": "m", "fields": {"v": math.nan}}], start_index=41)


@pytest.mark.parametrize(
    "line, expected",
    [
        ("m v=1i 5", "m v=1i 300"),
        ("m v=1i -5", "m v=1i -300"),
        ("m v=1i", "m v=1i"),
        ('m s="a b 7"', 'm s="a b 7"'),
        ('m,t=a"b v=1 2', 'm,t=a"b v=1 120'),
        ('m,t=a\\ b s="x \\" y",u=2 3', 'm,t=a\\ b s="x \\" y",u=2 180'),
        ("m\\ n,t=a\\,b v=1 4", "m\\ n,t=a\\,b v=1 240"),
    ],
)
def test_rescale_line_timestamps(line, expected):
    assert lp._rescale_line_timestamps([line], 60) == [expected]


def test_every_module_level_name_of_5_3_2_is_here():
    # programs import 5.3.2's private helpers too (DataFrameClient code imports _escape_tag)
    own = [n for n, v in vars(ref).items() if getattr(v, "__module__", None) == ref.__name__]
    assert len(own) == 11  # _convert_timestamp, _escape_tag, ..., make_lines, quote_literal
    for name in [*own, "EPOCH"]:
        assert hasattr(lp, name), name
    assert lp.EPOCH == ref.EPOCH
    assert lp._escape_tag("a b,c=d\\e\nf") == ref._escape_tag("a b,c=d\\e\nf")
    assert lp._escape_tag_value("x\\") == ref._escape_tag_value("x\\") == "x\\\\ "
    assert lp._escape_value('s"t') == ref._escape_value('s"t')
    assert lp._escape_value(3) == ref._escape_value(3) == "3i"
    assert lp._get_unicode(b"\xc3\xa9") == ref._get_unicode(b"\xc3\xa9") == "é"
    assert lp._get_unicode(None) == ref._get_unicode(None) == ""
    assert lp._is_float("1.5") and not lp._is_float("x") and ref._is_float("1.5")
    stamp = datetime.datetime(2020, 1, 1, 0, 0, 1, tzinfo=datetime.timezone.utc)
    assert lp._to_nanos(stamp) == ref._to_nanos(stamp) == 1577836801 * 10**9
    for precision in (None, "n", "u", "ms", "s", "m", "h"):
        # 5.3.2 returns floats for m and h, which make_line truncates
        assert lp._convert_timestamp(stamp, precision) == int(ref._convert_timestamp(stamp, precision))
    assert lp._convert_timestamp(np.int64(5), "s") == 5


def test_serializer_entry_points_are_reexported():
    from influx_compat import _serializer

    assert lp._serialize_points is _serializer.serialize_points
    assert lp._rescale_line_timestamps is _serializer.rescale_line_timestamps
    assert lp._escape_tag is _serializer._escape_tag


@pytest.mark.parametrize(
    "text, strict, nanos",
    [
        ("2020-01-01T00:00:00Z", True, 1577836800 * 10**9),
        ("2020-01-01", True, 1577836800 * 10**9),
        ("2020-01-01 00:00:00.5", True, 1577836800 * 10**9 + 5 * 10**8),
        ("2020-01-01T01:00:00+01:00", True, 1577836800 * 10**9),
        ("2020-01-01T01:00:00+0100", True, None),
        ("2020-1-1T00:00Z", True, None),
        ("2020-01-01T00:00:00.1234567891Z", True, None),
        ("2020-01-01T01:00:00+0100", False, 1577836800 * 10**9),
        ("2020-1-1T00:00Z", False, 1577836800 * 10**9),
        (" 2020-01-01T00:00:00,5 UTC ", False, 1577836800 * 10**9 + 5 * 10**8),
        ("2020-01-01T00:00:00.1234567891Z", False, 1577836800 * 10**9 + 123456789),
        ("1969-12-31T23:59:59.999999999Z", False, -1),
        ("yesterday", False, None),
    ],
)
def test_one_rfc3339_parser(text, strict, nanos):
    from influx_compat._serializer import parse_rfc3339

    assert parse_rfc3339(text, strict=strict) == nanos


def test_rfc3339_parser_refuses_dates_that_do_not_exist():
    from influx_compat._serializer import parse_rfc3339

    with pytest.raises(ValueError):
        parse_rfc3339("2019-02-29", strict=True)
    with pytest.raises(InvalidPointError, match="'2019-02-29T00:00:00Z' is not a valid date"):
        lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1}, "time": "2019-02-29T00:00:00Z"}]})


def test_make_line_keeps_5_3_2_leniency():
    # make_line checks neither the integer nor the time range (5.3.2 did not); make_lines does
    assert lp.make_line("m", None, {"v": 2**64}, 10**20) == "m v=18446744073709551616i 100000000000000000000"
    assert lp.make_line("m", {"t": None, "u": ""}, {"v": 1.5, "n": None}) == "m v=1.5"
    with pytest.raises(InvalidPointError, match="has no measurement"):
        lp.make_line(None, None, {"v": 1})
    with pytest.raises(InvalidPointError, match="has no fields"):
        lp.make_line("m", {"t": "x"})


# -- runs of one schema: the compiled line builders ---------------------------------
# A point goes through a builder compiled for its schema only from the second point of a run on,
# once its tag values are known, so each case below repeats its points.

_D = datetime.datetime(2009, 11, 10, 23, 0, 0, 123456)


def _run(point, copies=4):
    return [dict(point) for _ in range(copies)]


RUNS = [
    _run({"measurement": "cpu", "tags": {"host": "a", "region": "us"}, "fields": {"v": 0.5}, "time": 1}),
    _run({"measurement": "cpu", "tags": {"region": "us", "host": "a"}, "fields": {"b": True, "a": 2}}),
    _run({"measurement": "m", "fields": {"s": "plain", "t": 'q"uote', "f": -0.0}, "time": -5}),
    _run({"measurement": "m", "tags": {"t": "x y,z=w"}, "fields": {"v": 1e300}, "time": _D}),
    _run({"measurement": "m", "fields": {"v": 1}, "time": _D.replace(tzinfo=BERLIN)}),
    _run({"measurement": "m", "fields": {"v": 1}, "time": datetime.datetime(1950, 6, 1, 12, 30, 15, 5)}),
    _run({"measurement": "m {x}", "tags": {"k{": "}v"}, "fields": {"f'\"": 1.5, "{x0!r}": "{v0}"}}),
    _run({"measurement": "m", "tags": {"e": "", "n": None}, "fields": {"v": 1}}),
    # 1 == 1.0 == True: equal tag values of other types keep their own text
    [
        {"measurement": "m", "tags": {"t": 1}, "fields": {"v": 1}},
        {"measurement": "m", "tags": {"t": 1.0}, "fields": {"v": 1}},
        {"measurement": "m", "tags": {"t": True}, "fields": {"v": 1}},
        {"measurement": "m", "tags": {"t": "1"}, "fields": {"v": 1}},
        {"measurement": "m", "tags": {"t": 1}, "fields": {"v": 1}},
        {"measurement": "m", "tags": {"t": "1"}, "fields": {"v": 1}},
    ],
    # the same keys with other value types, other measurements and tag sets, interleaved
    [
        {"measurement": m, "tags": {"h": h}, "fields": {"v": v}, "time": i}
        for i, (m, h, v) in enumerate(
            [("a", "x", 1), ("a", "x", 1.5), ("b", "x", 1), ("a", "y", "s"), ("a", "x", False)] * 5
        )
    ],
    # a point with tags after points without (and the other way round), the same fields
    [{"measurement": "m", "fields": {"a": 1.0}, "time": 0}] * 3
    + [{"measurement": "m", "tags": {"r": "eu"}, "fields": {"a": 2.0}, "time": 0}] * 3
    + [
        {"measurement": "m", "fields": {"a": 1.0}, "time": 0},
        {"measurement": "m", "tags": {}, "fields": {"a": 1.0}},
    ],
    # extra keys, missing tags, points that are Mappings of other kinds
    [{"measurement": "m", "fields": {"v": i}, "other": 1} for i in range(3)]
    + [
        {"measurement": "m", "tags": {}, "fields": {"v": 2}},
        {"measurement": "m", "fields": {"v": 2, "w": None}},
    ]
    + [{"measurement": "m", "fields": {"v": np.int64(i)}} for i in range(3)],
]


@pytest.mark.parametrize("precision", [None, "n", "u", "ms", "s", "m", "h"])
@pytest.mark.parametrize("points", RUNS, ids=range(len(RUNS)))
def test_runs_of_one_schema_same_bytes_as_5_3_2(points, precision):
    data = {"points": points}
    assert lp.make_lines(data, precision) == ref.make_lines(data, precision)


@pytest.mark.parametrize("static", [{"host": "s", "zone": "z"}, {"host": None, "a": 1}, {"t": "v w"}])
def test_runs_with_static_tags_and_default_measurement(static):
    points = [{"tags": {"host": h}, "fields": {"v": 1.25}, "time": 3} for h in ["a", "b", "a", "a", "b"]]
    points += [{"fields": {"v": 2.5}}, {"fields": {"v": 2.5}}, {"measurement": "m", "fields": {"v": 2.5}}]
    data = {"measurement": "dflt", "tags": static, "points": points}
    assert lp.make_lines(data, "s") == ref.make_lines(data, "s")


@pytest.mark.parametrize(
    "bad, words",
    [
        ({"v": math.nan}, ["point 5", "'v'", "nan"]),
        ({"v": math.inf}, ["point 5", "'v'", "inf"]),
        ({"v": 2**63}, ["point 5", "64-bit integer range"]),
        ({"v": None}, ["point 5", "no fields"]),
    ],
)
def test_a_bad_point_inside_a_run_is_named(bad, words):
    points = [{"measurement": "m", "tags": {"t": "a"}, "fields": {"v": 1.5}, "time": i} for i in range(5)]
    points += [{"measurement": "m", "tags": {"t": "a"}, "fields": bad, "time": 5}]
    if isinstance(bad["v"], int):
        points = [dict(p, fields={"v": 1}) for p in points[:5]] + points[5:]
    with pytest.raises(InvalidPointError) as info:
        lp.make_lines({"points": points})
    for word in words:
        assert word in str(info.value)


def test_a_time_out_of_range_inside_a_run_is_named():
    points = [{"measurement": "m", "fields": {"v": 1}, "time": 9223372036 - i} for i in range(5)]
    points.append({"measurement": "m", "fields": {"v": 1}, "time": 9223372037})
    with pytest.raises(InvalidPointError, match="point 5 .*precision s"):
        lp.make_lines({"points": points}, "s")
    points[-1] = {"measurement": "m", "fields": {"v": 1}, "time": datetime.datetime(2300, 1, 1)}
    with pytest.raises(InvalidPointError, match="point 5 .*2262-04-11"):
        lp._serialize_points(points[:0] + [dict(p, time=_D) for p in points[:5]] + points[5:], "ms")


def test_a_point_that_is_not_a_dict_inside_a_run_is_named():
    points = [{"measurement": "m", "fields": {"v": 1}} for _ in range(4)] + [["m", 1]]
    with pytest.raises(InvalidPointError, match="point 4 is not a dict"):
        lp.make_lines({"points": points})


def test_runs_read_generators_once_and_in_order():
    seen = []

    def gen():
        for i in range(50):
            seen.append(i)
            yield {"measurement": "m", "tags": {"t": str(i % 3)}, "fields": {"v": i}, "time": i}

    assert lp._serialize_points(gen()) == "".join(f"m,t={i % 3} v={i}i {i}\n" for i in range(50))
    assert seen == list(range(50))


def test_runs_go_through_compiled_builders():
    from influx_compat import _serializer

    before = dict(_serializer.STATS)
    points = [{"measurement": "m", "tags": {"t": str(i % 7)}, "fields": {"v": i * 0.5}} for i in range(1000)]
    lp.make_lines({"points": points})
    general = _serializer.STATS["general"] - before["general"]
    assert _serializer.STATS["points"] - before["points"] == 1000
    assert general <= 20, f"{general} of 1000 points took the general rules"


def test_an_error_of_the_input_itself_is_raised_not_taken_for_a_points():
    class Broken(Exception):
        pass

    def gen():
        for i in range(20):
            if i == 12:
                raise Broken("the source failed")
            yield {"measurement": "m", "fields": {"v": i}, "time": i}

    with pytest.raises(Broken):
        lp._serialize_points(gen())
