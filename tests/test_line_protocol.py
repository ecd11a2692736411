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
    {"measurement": "m e,a=s", "tags": {"k y": "v,a=l\\e", "e": "", "n": None, "i": 3, "b": True},
     "fields": {"f k": 1, "s": 'q"u\\o\nte', "e": "", "b": False, "n": None}},
    {"measurement": b"bytes", "tags": {b"t": b"v"}, "fields": {b"f": b"x"}, "time": 10},
    {"measurement": 5, "fields": {"big": 2**63 - 1, "small": -(2**63), "neg": -3, "f": 1e300,
                                  "tiny": 5e-324}},
    {"measurement": "m", "fields": {"f": 0.1 + 0.2, "d": decimal.Decimal("0.8289445733333332")}},
    {"measurement": "m", "fields": {"n64": np.int64(3), "f32": np.float32(0.1), "b": np.bool_(True),
                                    "f64": np.float64(2.5)}, "time": np.int64(7)},
    {"measurement": "ünï", "tags": {"ü": "ö"}, "fields": {"é": "ß"}},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10T23:00:00.123456Z"},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10 23:00:00"},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10"},
    {"measurement": "t", "fields": {"v": 1}, "time": "2009-11-10T23:00:00+05:30"},
    {"measurement": "t", "fields": {"v": 1}, "time": datetime.datetime(2009, 11, 10, 23, 0, 0, 123456)},
    {"measurement": "t", "fields": {"v": 1},
     "time": datetime.datetime(2009, 11, 10, 23, 0, 0, 123456, tzinfo=BERLIN)},
    {"measurement": "t", "fields": {"v": 1}, "time": datetime.datetime(1950, 6, 1, 12, 30, 15, 5)},
]


@pytest.mark.parametrize("precision", [None, "n", "u", "ms", "s", "m", "h"])
@pytest.mark.parametrize("point", SAME_AS_5_3_2, ids=range(len(SAME_AS_5_3_2)))
def test_same_bytes_as_5_3_2(point, precision):
    data = {"points": [point]}
    assert lp.make_lines(data, precision) == ref.make_lines(data, precision)


def test_static_tags_and_default_measurement():
    data = {"measurement": "dflt", "tags": {"x": "0", "s": "1"},
            "points": [{"tags": {"x": "1"}, "fields": {"v": 1}}, {"measurement": "m", "fields": {"v": 2}}]}
    assert lp.make_lines(data) == ref.make_lines(data)


def test_empty_points():
    assert lp.make_lines({"points": []}) == ref.make_lines({"points": []}) == "\n"


def test_make_line_quote_functions():
    assert lp.make_line("m", {"t": "v"}, {"f": 1}, 5) == ref.make_line("m", {"t": "v"}, {"f": 1}, 5)
    s = r'\foo \' bar " Örf'
    assert lp.quote_ident(s) == ref.quote_ident(s)
    assert lp.quote_literal(s) == ref.quote_literal(s)


def test_nanosecond_strings_keep_their_nanoseconds():
    line = lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1},
                                      "time": "2020-01-01T00:00:00.123456789Z"}]})
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
    assert lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1}, "time": 9223372036}]}, "s") \
        == "m v=1i 9223372036\n"
    with pytest.raises(InvalidPointError, match="precision s"):
        lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1}, "time": 9223372037}]}, "s")
    assert lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1}, "time": -(2**63) + 2}]}) \
        == "m v=1i -9223372036854775806\n"


def test_unknown_precision_for_datetimes():
    with pytest.raises(ValueError):
        lp.make_lines({"points": [{"measurement": "m", "fields": {"v": 1},
                                   "time": datetime.datetime(2020, 1, 1)}]}, "x")


def test_serialize_points_scale_and_start_index():
    points = [{"measurement": "m", "fields": {"v": 1}, "time": 2},
              {"measurement": "m", "fields": {"v": 1},
               "time": datetime.datetime(2020, 1, 1, 1, 30, tzinfo=datetime.timezone.utc)}]
    assert lp._serialize_points(points, precision="h", scale=3600) == (
        "m v=1i 7200\nm v=1i 1577840400\n"
    )
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
