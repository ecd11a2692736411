"""DataFrameClient: 5.3.2's line protocol for DataFrames, and a round trip through the v2 test server."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from influxdb import DataFrameClient as LegacyDataFrameClient

from influx_compat import DataFrameClient
from influx_compat.exceptions import InvalidPointError

# Nanosecond indexes: 5.3.2 reads the index's raw values, which pandas 3 may keep in microseconds.
IDX = pd.date_range("2020-01-01", periods=4, freq="h", tz="UTC", unit="ns")
FRAMES = {
    "numbers": pd.DataFrame(
        {
            "a": [1.5, 2.0, np.nan, 1e-5],
            "b": [1, 2, 3, 4],
            "c": ["x", "y z", "", "w,q"],
            "d": [True, False, True, False],
        },
        index=IDX,
    ),
    "tags": pd.DataFrame(
        {
            "t1": ["a", "b c", None, "d=e"],
            "t2": [1, 2, 3, 4],
            "v": [0.1, 7.0, 3.0, -1.25],
            "w": [np.inf, np.nan, 1.0, 2.0],
        },
        index=IDX,
    ),
    "period": pd.DataFrame({"v": [1.0, 2.0]}, index=pd.period_range("2020-01", periods=2, freq="M")),
    "odd columns": pd.DataFrame({"a b": [1.0, 2.0], "c,d": [3, 4], 5: [1.5, 2.5]}, index=IDX[:2]),
}
CASES = [
    ("numbers", {}),
    ("numbers", {"tag_columns": ["c"]}),
    ("numbers", {"field_columns": ["a", "b"]}),
    ("numbers", {"global_tags": {"host": "h 1", "empty": ""}}),
    ("tags", {"tag_columns": ["t1", "t2"]}),
    ("tags", {"tag_columns": ["t1"], "global_tags": {"g": "x"}}),
    ("numbers", {"numeric_precision": 2}),
    ("odd columns", {}),
    *[("numbers", {"time_precision": p}) for p in ("n", "u", "ms", "s", "m", "h")],
]


@pytest.mark.parametrize("name, kwargs", CASES)
def test_lines_are_5_3_2s(name, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # influxdb-python's own pandas deprecations
        expected = LegacyDataFrameClient()._convert_dataframe_to_lines(FRAMES[name].copy(), "me as", **kwargs)
    got = DataFrameClient(token=None)._convert_dataframe_to_lines(FRAMES[name].copy(), "me as", **kwargs)
    assert got == expected


def test_period_index_in_nanoseconds():
    # (5.3.2 on pandas 3 writes microseconds here: it reads the index's raw values, now in us.)
    lines = DataFrameClient(token=None)._convert_dataframe_to_lines(FRAMES["period"].copy(), "m")
    assert lines == ["m v=1.0 1577836800000000000", "m v=2.0 1580515200000000000"]


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_any_index_resolution_gives_nanoseconds(unit):
    frame = pd.DataFrame({"v": [1.0]}, index=pd.DatetimeIndex(["2020-01-01T00:00:01"]).as_unit(unit))
    lines = DataFrameClient(token=None)._convert_dataframe_to_lines(frame, "m")
    assert lines == ["m v=1.0 1577836801000000000"]


def test_full_precision_where_5_3_2_no_longer_runs():
    frame = pd.DataFrame({"v": [0.1 + 0.2], "n": [3]}, index=IDX[:1])
    lines = DataFrameClient(token=None)._convert_dataframe_to_lines(frame, "m", numeric_precision="full")
    assert lines == ["m v=0.30000000000000004,n=3i 1577836800000000000"]


@pytest.mark.parametrize("value", ['say "hi"', "back\\slash", "two\nlines"])
def test_strings_5_3_2_left_unescaped_are_refused(value):
    frame = pd.DataFrame({"s": ["fine", value]}, index=IDX[:2])
    with pytest.raises(InvalidPointError, match="row 1 .*'s'"):
        DataFrameClient(token=None)._convert_dataframe_to_lines(frame, "m")


def test_a_row_without_any_field_is_refused():
    frame = pd.DataFrame({"t": ["a", "b"], "v": [1.0, np.inf]}, index=IDX[:2])
    with pytest.raises(InvalidPointError, match="row 1 .*no field"):
        DataFrameClient(token=None)._convert_dataframe_to_lines(frame, "m", tag_columns=["t"])


def test_round_trip_through_the_v2_server(v2_server):
    client = DataFrameClient(url=v2_server.url, token=v2_server.token, org=v2_server.org, database="frames")
    client.create_database("frames")
    frame = pd.DataFrame(
        {"host": ["a", "b", "a"], "load": [0.5, 1.5, 2.5], "count": [1, 2, 3]},
        index=pd.date_range("2021-03-01", periods=3, freq="min", tz="UTC"),
    )
    assert client.write_points(frame, "cpu", tag_columns=["host"], batch_size=2, time_precision="s")
    result = client.query('SELECT * FROM "cpu"')
    got = result["cpu"]
    assert list(got.index) == list(frame.index)
    assert list(got["load"]) == [0.5, 1.5, 2.5] and list(got["count"]) == [1, 2, 3]
    assert list(got["host"]) == ["a", "b", "a"]
    grouped = client.query('SELECT sum("count") FROM "cpu" GROUP BY "host"')
    assert {k: list(v["sum"]) for k, v in grouped.items()} == {
        ("cpu", (("host", "a"),)): [4],
        ("cpu", (("host", "b"),)): [2],
    }
    assert client.query('SELECT * FROM "cpu" WHERE "host" = \'none\'') == {}
    assert client.query("SHOW MEASUREMENTS").raw["series"][0]["values"] == [["cpu"]]


def test_a_bad_row_in_a_later_slice_says_what_was_written():
    import requests_mock

    from influx_compat.exceptions import InvalidBatchError

    frame = pd.DataFrame(
        {"s": ["ok"] * 12}, index=pd.date_range("2020-01-01", periods=12, freq="s", tz="UTC")
    )
    frame.iloc[7, 0] = 'a "quoted" value'  # 5.3.2 wrote it unescaped; refused before its batch is sent
    with requests_mock.Mocker() as mock:
        mock.post("http://localhost:8086/api/v2/write", status_code=204)
        client = DataFrameClient(token="t", org="o", database="d", bucket_map={"d": "b"})
        with pytest.raises(InvalidBatchError) as info:
            client.write_points(frame, "m", batch_size=5)
    assert len(mock.request_history) == 1  # the first slice landed, the second was never sent
    assert (info.value.batch_index, info.value.points_written) == (1, 5)
