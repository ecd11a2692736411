"""``ResultSet``: one statement's result of a query, as in influxdb-python 5.3.2."""

from __future__ import annotations

import warnings
from itertools import repeat
from typing import Any, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from influx_compat._answers import Rows
from influx_compat.exceptions import InfluxDBClientError

__all__ = ["ResultSet"]

_sentinel = object()


class ResultSet:
    """A wrapper around a single InfluxDB query result.

    :param series: one element of the answer's ``results`` list
    :param raise_errors: raise :class:`InfluxDBClientError` when the result
        holds an error (only when it is ``True`` itself, as in 5.3.2)
    """

    def __init__(self, series: Dict[str, Any], raise_errors: bool = True) -> None:
        self._raw = series
        self._error = self._raw.get("error", None)
        if self.error is not None and raise_errors is True:
            raise InfluxDBClientError(self.error)

    @property
    def raw(self) -> Dict[str, Any]:
        """Raw JSON from InfluxDB."""
        for series in self._series():
            values = series.get("values")
            if type(values) is Rows:  # read flat by the client's query(): a list of lists from now on
                series["values"] = values.lists()
        return self._raw

    @raw.setter
    def raw(self, value: Dict[str, Any]) -> None:
        self._raw = value

    @property
    def error(self) -> Optional[str]:
        """Error returned by InfluxDB."""
        return self._error

    def __getitem__(self, key: Any) -> Iterator[Dict[str, Any]]:
        """Retrieve the series name or specific set based on key (deprecated).

        :param key: either a series name, or a tags_dict, or a 2-tuple
            (series_name, tags_dict)
        :return: a generator yielding points matching the given key
        """
        warnings.warn(
            "ResultSet's ``__getitem__`` method will be deprecated. Use``get_points`` instead.",
            DeprecationWarning,
            stacklevel=2,
        )
        if isinstance(key, tuple):
            if len(key) != 2:
                raise TypeError("only 2-tuples allowed")
            name, tags = key
            if not isinstance(tags, dict) and tags is not None:
                raise TypeError("tags should be a dict")
        elif isinstance(key, dict):
            name, tags = None, key
        else:
            name, tags = key, None
        return self.get_points(name, tags)

    def get_points(
        self, measurement: Optional[str] = None, tags: Optional[Dict[str, Any]] = None
    ) -> Iterator[Dict[str, Any]]:
        """Return a generator for all the points that match the given filters.

        :param measurement: the measurement name
        :param tags: tags to look for
        :return: points generator
        """
        if not isinstance(measurement, (bytes, str, type(None))):
            raise TypeError("measurement must be an str or None")
        for series in self._series():
            series_name = series.get("measurement", series.get("name", "results"))
            if tags is None:
                if series_name is None or measurement is None or measurement == series_name:
                    # The common case, one C-level iterator per series (no Python frame per row).
                    values = series.get("values")
                    if values:
                        yield from _rows_as_dicts(series["columns"], values)
                continue
            if series_name is None:
                continue  # a "system" query without a name, like 'show retention policies'
            if measurement is None or measurement == series_name:
                series_tags = series.get("tags", {})
                matches = self._tag_matches
                for item in self._get_points_for_series(series):
                    if matches(item, tags) or matches(series_tags, tags):
                        yield item

    def __repr__(self) -> str:
        """Representation of ResultSet object."""
        items = []
        for item in self.items():
            items.append("'%s': %s" % (item[0], list(item[1])))
        return "ResultSet({%s})" % ", ".join(items)

    def __iter__(self) -> Iterator[List[Dict[str, Any]]]:
        """Yield one list of points per series."""
        for key in self.keys():
            yield list(self.__getitem__(key))

    @staticmethod
    def _tag_matches(tags: Dict[str, Any], filter: Dict[str, Any]) -> bool:
        """Check if all key/values in filter match in tags."""
        for tag_name, tag_value in filter.items():
            if tags.get(tag_name, _sentinel) != tag_value:
                return False
        return True

    def _get_series(self) -> List[Dict[str, Any]]:
        """Return all series."""
        series: List[Dict[str, Any]] = self.raw.get("series", [])
        return series

    def _series(self) -> List[Dict[str, Any]]:
        """All series, their rows as read (:meth:`raw` turns flat ones into lists)."""
        series: List[Dict[str, Any]] = self._raw.get("series", [])
        return series

    def __len__(self) -> int:
        """Return the len of the keys in the ResultSet."""
        return len(self.keys())

    def keys(self) -> List[Tuple[Any, Optional[Dict[str, Any]]]]:
        """Return the list of keys in the ResultSet: (series_name, tags) tuples."""
        return [
            (series.get("measurement", series.get("name", "results")), series.get("tags", None))
            for series in self._series()
        ]

    def items(self) -> List[Tuple[Tuple[Any, Optional[Dict[str, Any]]], Iterator[Dict[str, Any]]]]:
        """Return the set of items from the ResultSet: (key, generator) tuples."""
        return [
            (
                (series.get("measurement", series.get("name", "results")), series.get("tags", None)),
                self._get_points_for_series(series),
            )
            for series in self._series()
        ]

    def _get_points_for_series(self, series: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
        """Return generator of dict from columns and values of a series."""
        values = series.get("values")
        if values:
            yield from _rows_as_dicts(series["columns"], values)

    @staticmethod
    def point_from_cols_vals(cols: List[str], vals: Sequence[Any]) -> Dict[str, Any]:
        """Create a dict from columns and values lists."""
        point = {}
        for col_index, col_name in enumerate(cols):
            point[col_name] = vals[col_index]
        return point


_ROW_BUILDERS: Dict[Tuple[Any, ...], Any] = {}


def _rows_as_dicts(columns: List[str], values: Union[List[List[Any]], Rows]) -> Iterator[Dict[str, Any]]:
    """5.3.2's ``point_from_cols_vals(columns, row)`` for every row, with a builder compiled per column set.

    A dict display with the column names bound as constants builds each point
    about twice as fast as a loop or ``dict(zip(...))``, and ``map`` drives it
    (no loop in Python).  It does what 5.3.2's loop does with odd rows: a
    duplicate column keeps its first place and its last value, a longer row
    loses its extra values, a shorter one raises ``IndexError`` when reached.
    Flat rows (:class:`~influx_compat._answers.Rows`) come as tuples.
    """
    rows: Iterable[Sequence[Any]] = values.tuples() if isinstance(values, Rows) else values
    n = len(columns)
    if n > 1024:  # a builder that size is not worth compiling
        return map(ResultSet.point_from_cols_vals, repeat(columns), rows)
    key = tuple(columns)
    build = _ROW_BUILDERS.get(key)
    if build is None:
        if len(_ROW_BUILDERS) > 256:
            _ROW_BUILDERS.clear()
        names = {f"K{i}": column for i, column in enumerate(columns)}
        source = "lambda r: {" + ", ".join(f"K{i}: r[{i}]" for i in range(n)) + "}"
        build = _ROW_BUILDERS[key] = eval(source, names)  # noqa: S307 - constants only, no user text
    return map(build, rows)
