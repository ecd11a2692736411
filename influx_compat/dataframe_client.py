"""``DataFrameClient``: influxdb-python 5.3.2's pandas client, on InfluxDB 2.x and 3.

Writes turn a DataFrame (with a ``DatetimeIndex`` or ``PeriodIndex``) into
the line protocol 5.3.2 produced for it, column by column with pandas, and
hand them to the same write pipeline as :meth:`InfluxDBClient.write_points`
(:mod:`influx_compat._writer`), so batches, buckets, precisions and errors
behave as they do there.  Queries return
``{measurement: DataFrame}`` (or ``{(measurement, tags): DataFrame}`` for
grouped series) indexed by UTC time.

Where 5.3.2 wrote a line the server rejects, this client refuses the frame
before sending anything: string fields with a double quote, a backslash or a
line break (5.3.2 did not escape them).  Needs pandas (``pip install
influx_compat[pandas]``).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy as np
import pandas as pd

from influx_compat import _writer
from influx_compat.client import InfluxDBClient, _warn_udp
from influx_compat.exceptions import InvalidPointError
from influx_compat.line_protocol import _escape_tag

__all__ = ["DataFrameClient"]

# Nanoseconds per unit of each 1.x precision (floats, as 5.3.2 divided by them).
_PRECISION_FACTOR = {"n": 1, "u": 1e3, "ms": 1e6, "s": 1e9, "m": 1e9 * 60, "h": 1e9 * 3600}


def _pandas_time_unit(time_precision: str) -> str:
    unit = {"m": "ms", "u": "us", "n": "ns"}.get(time_precision, time_precision)
    assert unit in ("s", "ms", "us", "ns")
    return unit


def _escape_pandas_series(s: pd.Series) -> pd.Series:
    return s.apply(_escape_tag)


def _text_columns(frame: pd.DataFrame) -> List[Any]:
    """Columns of Python objects or strings (pandas 3 gives strings their own dtype)."""
    types = pd.api.types
    return [
        c for c, dtype in frame.dtypes.items() if types.is_object_dtype(dtype) or types.is_string_dtype(dtype)
    ]


def _check_frame(dataframe: Any) -> None:
    if not isinstance(dataframe, pd.DataFrame):
        raise TypeError(f"Must be DataFrame, but type was: {type(dataframe)}.")
    if not isinstance(dataframe.index, (pd.PeriodIndex, pd.DatetimeIndex)):
        raise TypeError("Must be DataFrame with DatetimeIndex or PeriodIndex.")


class DataFrameClient(InfluxDBClient):
    """An :class:`InfluxDBClient` that reads and writes pandas DataFrames."""

    EPOCH = pd.Timestamp("1970-01-01 00:00:00.000+00:00")

    def write_points(  # type: ignore[override]  # 5.3.2's DataFrame signature
        self,
        dataframe: pd.DataFrame,
        measurement: str,
        tags: Optional[Dict[str, Any]] = None,
        tag_columns: Optional[List[str]] = None,
        field_columns: Optional[List[str]] = None,
        time_precision: Optional[str] = None,
        database: Optional[str] = None,
        retention_policy: Optional[str] = None,
        batch_size: Optional[int] = None,
        protocol: str = "line",
        numeric_precision: Any = None,
    ) -> bool:
        """Write a DataFrame: each row a point, the index its time.

        :param tag_columns: columns written as tags (default: none, or every
            column not in ``field_columns``)
        :param field_columns: columns written as fields (default: every column
            not in ``tag_columns``)
        :param numeric_precision: None (``str()`` of floats), ``'full'``
            (``repr``) or a number of decimals
        :param batch_size: rows per request
        :param protocol: ``'line'`` or ``'json'``
        """
        tag_columns = tag_columns if tag_columns is not None else []
        field_columns = field_columns if field_columns is not None else []
        _writer.check_options(time_precision, None)
        if self._use_udp:
            _warn_udp()
        target = _writer.destination(
            time_precision,
            self._require_database(database or self._database, "write_points"),
            retention_policy,
        )

        def slices() -> Iterator[pd.DataFrame]:
            # Read in the caller's thread, one slice ahead of the one being sent: 5.3.2's
            # df.iloc[i*b:(i+1)*b], one request each.  The line protocol drops rows without any
            # value (they are not points), so a slice's length is its number of points.
            if not batch_size:
                if protocol == "line":
                    yield dataframe.dropna(how="all")
                else:  # its own axes: the conversion sets them, the caller's frame keeps its own
                    yield dataframe.copy(deep=False) if isinstance(dataframe, pd.DataFrame) else dataframe
                return
            for start in range(0, len(dataframe), batch_size):
                frame = dataframe.iloc[start : start + batch_size]
                yield frame.dropna(how="all") if protocol == "line" else frame.copy()

        def encode(frame: pd.DataFrame, start: int) -> Optional[Tuple[bytes, int]]:
            # Converted on the write pipeline's thread while the slice before is sent; it reads
            # the slice only (a copy).  A bad row raises before its slice is sent, and the
            # pipeline's progress counts the points written across the whole frame.
            if batch_size and len(frame) == 0:
                return None  # a slice of empty rows: nothing to send
            if protocol == "line":
                lines = self._convert_dataframe_to_lines(
                    frame,
                    measurement=measurement,
                    global_tags=tags,
                    time_precision=time_precision,
                    tag_columns=list(tag_columns),
                    field_columns=list(field_columns),
                    numeric_precision=numeric_precision,
                )
                return _writer.encode_lines(lines, time_precision), len(lines)
            points = self._convert_dataframe_to_json(
                frame,
                measurement=measurement,
                tags=tags,
                time_precision=time_precision,
                tag_columns=list(tag_columns),
                field_columns=list(field_columns),
            )
            return _writer.encode_json(points, time_precision, start_index=start), len(points)

        _writer.write_batches(self._core.send_batch, slices(), encode, target)
        return True

    def query(  # 5.3.2 added dropna and data_frame_index (keyword arguments after the base ones)
        self,
        query: str,
        params: Optional[Dict[str, Any]] = None,
        bind_params: Optional[Dict[str, Any]] = None,
        epoch: Optional[str] = None,
        expected_response_code: int = 200,
        database: Optional[str] = None,
        raise_errors: bool = True,
        chunked: bool = False,
        chunk_size: int = 0,
        method: str = "GET",
        dropna: bool = True,
        data_frame_index: Optional[List[str]] = None,
    ) -> Any:
        """Query into DataFrames: ``{measurement: DataFrame}`` for a SELECT, else the ResultSet(s).

        :param dropna: drop the columns in which every value is missing
        :param data_frame_index: columns to index the frames by (default: time)
        """
        results = super().query(
            query,
            params=params,
            bind_params=bind_params,
            epoch=epoch,
            expected_response_code=expected_response_code,
            raise_errors=raise_errors,
            chunked=chunked,
            database=database,
            method=method,
            chunk_size=chunk_size,
        )
        if not query.strip().upper().startswith("SELECT"):
            return results
        if len(results) > 0:  # type: ignore[arg-type]  # as 5.3.2: a ResultSet or a list of them
            return self._to_dataframe(results, dropna, data_frame_index=data_frame_index)
        return {}

    def _to_dataframe(
        self, rs: Any, dropna: bool = True, data_frame_index: Optional[List[str]] = None
    ) -> Any:
        if isinstance(rs, list):
            return map(self._to_dataframe, rs, [dropna] * len(rs))
        frames: Dict[Any, List[pd.DataFrame]] = defaultdict(list)
        for (name, tags), data in rs.items():
            key = name if tags is None else (name, tuple(sorted(tags.items())))
            df = pd.DataFrame(data)
            df.time = pd.to_datetime(df.time)
            if data_frame_index:
                df = df.set_index(data_frame_index)
            else:
                df = df.set_index("time")
                if df.index.tzinfo is None:
                    df.index = df.index.tz_localize("UTC")
                df.index.name = None
            frames[key].append(df)
        result: Dict[Any, Any] = defaultdict(list)
        for key, parts in frames.items():
            df = pd.concat(parts).sort_index()
            if dropna:
                df = df.dropna(how="all", axis=1)
            result[key] = df
        return result

    # -- DataFrame to points ------------------------------------------------

    @staticmethod
    def _convert_dataframe_to_json(
        dataframe: pd.DataFrame,
        measurement: str,
        tags: Optional[Dict[str, Any]] = None,
        tag_columns: Optional[List[str]] = None,
        field_columns: Optional[List[str]] = None,
        time_precision: Optional[str] = None,
    ) -> List[Dict[str, Any]]:
        _check_frame(dataframe)
        tag_columns = list(tag_columns or [])
        tags = dict(tags or {})
        if not field_columns:
            field_columns = list(set(dataframe.columns).difference(set(tag_columns)))
        if not isinstance(dataframe.index, pd.DatetimeIndex):
            dataframe.index = pd.to_datetime(dataframe.index)
        if dataframe.index.tzinfo is None:
            dataframe.index = dataframe.index.tz_localize("UTC")
        dataframe.columns = dataframe.columns.astype("str")
        dataframe = dataframe.astype("object")
        factor = _PRECISION_FACTOR.get(time_precision or "", 1)
        fields = dataframe[field_columns].replace([np.inf, -np.inf], np.nan)
        rows = [row.dropna().to_dict() for _, row in fields.iterrows()]
        times = [np.int64(ts.value / factor) for ts in dataframe.index]
        if not tag_columns:
            return [{"measurement": measurement, "fields": f, "time": t} for f, t in zip(rows, times)]
        tag_rows = dataframe[tag_columns].to_dict("records")
        return [
            {
                "measurement": measurement,
                "tags": dict(list(tr.items()) + list(tags.items())),
                "fields": f,
                "time": t,
            }
            for tr, f, t in zip(tag_rows, rows, times)
        ]

    def _convert_dataframe_to_lines(
        self,
        dataframe: pd.DataFrame,
        measurement: str,
        field_columns: Optional[List[str]] = None,
        tag_columns: Optional[List[str]] = None,
        global_tags: Optional[Dict[str, Any]] = None,
        time_precision: Optional[str] = None,
        numeric_precision: Any = None,
    ) -> List[str]:
        dataframe = dataframe.dropna(how="all").copy()
        if len(dataframe) == 0:
            return []
        _check_frame(dataframe)
        dataframe = dataframe.rename(columns={c: _escape_tag(c) for c in dataframe.columns})
        names = list(dataframe.columns)
        field_columns = list(field_columns) if field_columns is not None and list(field_columns) else []
        tag_columns = list(tag_columns) if tag_columns is not None and list(tag_columns) else []
        global_tags = dict(global_tags or {})
        if field_columns and not tag_columns:
            tag_columns = [c for c in names if c not in field_columns]
        if not field_columns:
            field_columns = [c for c in names if c not in tag_columns]

        times = self._line_times(dataframe.index, time_precision)
        tags = self._line_tags(dataframe, tag_columns, global_tags, numeric_precision)
        fields = self._line_fields(dataframe, field_columns, numeric_precision)
        head = _escape_tag(measurement)
        if isinstance(tags, str):
            return [f"{head}{tags} {f} {t}" for f, t in zip(fields, times)]
        return [f"{head}{g} {f} {t}" for g, f, t in zip(tags, fields, times)]

    @staticmethod
    def _line_times(index: Any, time_precision: Optional[str]) -> List[str]:
        factor = _PRECISION_FACTOR.get(time_precision or "", 1)
        stamps = index.to_timestamp() if isinstance(index, pd.PeriodIndex) else pd.to_datetime(index)
        if hasattr(stamps, "as_unit"):  # pandas 2+ also keeps s, ms and us resolutions
            stamps = stamps.as_unit("ns")
        nanos = np.asarray(stamps.asi8, dtype=np.int64)  # UTC nanoseconds, naive or tz-aware
        return list((nanos // factor).astype(np.int64).astype(str))

    def _line_tags(
        self,
        dataframe: pd.DataFrame,
        tag_columns: List[str],
        global_tags: Dict[str, Any],
        numeric_precision: Any,
    ) -> Any:
        """``,k=v...`` per row (a list), or one string shared by every row."""
        if tag_columns:
            for key, value in global_tags.items():
                dataframe[key] = value
                tag_columns.append(key)
            tag_df = dataframe[tag_columns].fillna("").sort_index(axis=1)
            tag_df = self._stringify_dataframe(tag_df, numeric_precision, datatype="tag")
            columns = list(tag_df.columns)
            return [
                "".join(f",{k}={v}" for k, v in zip(columns, row) if v)
                for row in tag_df.itertuples(index=False, name=None)
            ]
        if global_tags:
            return "".join(
                f",{k}={_escape_tag(v)}" for k, v in sorted(global_tags.items()) if v not in (None, "")
            )
        return ""

    def _line_fields(
        self, dataframe: pd.DataFrame, field_columns: List[str], numeric_precision: Any
    ) -> List[str]:
        field_df = dataframe[field_columns].replace([np.inf, -np.inf], np.nan)
        missing = pd.isnull(field_df).values
        for column in _text_columns(field_df):
            bad = field_df[column].map(lambda v: isinstance(v, str) and any(c in v for c in '"\\\n'))
            if bad.any():
                row = int(np.argmax(bad.values))
                raise InvalidPointError(
                    f"row {row} of the DataFrame: string field {column!r} holds a double quote, a "
                    "backslash or a line break, which influxdb-python's DataFrameClient wrote unescaped "
                    "and the server rejects: remove them, or write these rows with "
                    "InfluxDBClient.write_points"
                )
        text = self._stringify_dataframe(field_df, numeric_precision, datatype="field")
        columns = list(text.columns)
        lines = []
        for number, (row, gaps) in enumerate(zip(text.itertuples(index=False, name=None), missing)):
            line = ",".join(f"{k}={v}" for k, v, gap in zip(columns, row, gaps) if not gap)
            if not line:
                raise InvalidPointError(
                    f"row {number} of the DataFrame has no field value (every field column is NaN): "
                    "InfluxDB cannot store a point without fields; drop the row or give it a field"
                )
            lines.append(line)
        return lines

    @staticmethod
    def _stringify_dataframe(
        dframe: pd.DataFrame, numeric_precision: Any, datatype: str = "field"
    ) -> pd.DataFrame:
        dframe = dframe.copy()
        int_columns = dframe.select_dtypes(include=["integer"]).columns
        string_columns = _text_columns(dframe)
        if numeric_precision is None:
            dframe = dframe.astype(str)
        elif numeric_precision == "full" or isinstance(numeric_precision, int):
            float_columns = dframe.select_dtypes(include=["floating"]).columns
            others = dframe.columns[~dframe.columns.isin(float_columns)]
            if numeric_precision != "full":
                dframe[float_columns] = dframe[float_columns].round(numeric_precision)
            if numeric_precision == "full" or numeric_precision > 10:
                dframe[float_columns] = dframe[float_columns].apply(lambda s: s.map(repr))
                dframe[others] = dframe[others].astype(str)
            else:
                dframe = dframe.astype(str)
        else:
            raise ValueError("Invalid numeric precision.")
        if datatype == "field":
            dframe[int_columns] += "i"
            dframe[string_columns] = '"' + dframe[string_columns] + '"'
        elif datatype == "tag":
            dframe = dframe.apply(_escape_pandas_series)
        dframe.columns = dframe.columns.astype(str)
        return dframe

    def _datetime_to_epoch(self, datetime: pd.Timestamp, time_precision: str = "s") -> Optional[float]:
        seconds: float = (datetime - self.EPOCH).total_seconds()
        # Divided for h and m, multiplied for the others, as 5.3.2 did: the same floats come out.
        divisor = {"h": 3600, "m": 60}.get(time_precision)
        if divisor is not None:
            return seconds / divisor
        factor = {"s": 1, "ms": 1e3, "u": 1e6, "n": 1e9}.get(time_precision)
        return None if factor is None else seconds * factor
