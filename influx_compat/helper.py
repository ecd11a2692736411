"""``SeriesHelper``: influxdb-python 5.3.2's bulk-writing helper."""

from __future__ import annotations

import threading
from collections import defaultdict, namedtuple
from datetime import datetime, timezone
from typing import Any, ClassVar, DefaultDict, Dict, List, Optional
from warnings import warn

__all__ = ["SeriesHelper"]

# Buffers are class attributes shared by every instance (5.3.2's design); one
# lock makes recording and committing safe across threads.
_lock = threading.RLock()


class SeriesHelper:
    """Subclass this helper eases writing data points in bulk.

    All data points are immutable, ensuring they do not get overwritten.
    Each subclass can write to its own database.  The time series names can
    also be based on one or more defined fields.  The field "time" can be
    specified when creating a point, and may be any of the time types
    supported by the client (i.e. str, datetime, int).  If the time is not
    specified, the current system time (utc) will be used.

    Annotated example::

        class MySeriesHelper(SeriesHelper):
            class Meta:
                series_name = 'events.stats.{server_name}'
                fields = ['time', 'server_name']
                tags = ['server_name']
                client = TestSeriesHelper.client   # only used with autocommit
                bulk_size = 5
                autocommit = True
                retention_policy = 'your_retention_policy'
                time_precision = "h"|"m"|s"|"ms"|"u"|"ns"

    On InfluxDB 2.x: ``time_precision = "ns"``, which 5.3.2 accepted here but
    its ``write_points`` refused, is written as nanoseconds.
    """

    __initialized__ = False

    # Set on each subclass by _setup from its Meta (declared only: 5.3.2 sets none on the base class).
    Meta: ClassVar[Any]  # the subclass's options, any class with the attributes above
    _series_name: ClassVar[str]
    _fields: ClassVar[List[str]]
    _tags: ClassVar[List[str]]
    _autocommit: ClassVar[bool]
    _time_precision: ClassVar[Optional[str]]
    _retention_policy: ClassVar[Optional[str]]
    _client: ClassVar[Any]  # an InfluxDBClient, or anything with its write_points
    _bulk_size: ClassVar[int]
    # The namedtuple class of time, tags and fields, made at run time (so its fields are unknown to a
    # type checker), and its points by series name.
    _type: ClassVar[Any]
    _datapoints: ClassVar[DefaultDict[str, List[Any]]]

    def __new__(cls, *args: Any, **kwargs: Any) -> SeriesHelper:
        """Initialize class attributes for subsequent constructor calls."""
        with _lock:
            if not cls.__initialized__:
                cls._setup()
        return super().__new__(cls)

    @classmethod
    def _setup(cls) -> None:
        cls.__initialized__ = True
        try:
            _meta = cls.Meta
        except AttributeError:
            raise AttributeError(f"Missing Meta class in {cls.__name__}.") from None
        for attr in ["series_name", "fields", "tags"]:
            try:
                setattr(cls, "_" + attr, getattr(_meta, attr))
            except AttributeError:
                raise AttributeError(f"Missing {attr} in {cls.__name__} Meta class.") from None
        cls._autocommit = getattr(_meta, "autocommit", False)
        cls._time_precision = getattr(_meta, "time_precision", None)
        allowed_time_precisions = ["h", "m", "s", "ms", "u", "ns", None]
        if cls._time_precision not in allowed_time_precisions:
            raise AttributeError(
                # 5.3.2 joined the list with its None in it and so raised TypeError instead.
                "In {}, time_precision is set, but invalid use any of {}.".format(
                    cls.__name__, ",".join(map(str, allowed_time_precisions))
                )
            )
        cls._retention_policy = getattr(_meta, "retention_policy", None)
        cls._client = getattr(_meta, "client", None)
        if cls._autocommit and not cls._client:
            raise AttributeError(f"In {cls.__name__}, autocommit is set to True, but no client is set.")
        try:
            cls._bulk_size = _meta.bulk_size
            if cls._bulk_size < 1 and cls._autocommit:
                warn(f"Definition of bulk_size in {cls.__name__} forced to 1, was less than 1.", stacklevel=3)
                cls._bulk_size = 1
        except AttributeError:
            cls._bulk_size = -1
        else:
            if not cls._autocommit:
                warn(
                    f"Definition of bulk_size in {cls.__name__} has no affect because autocommit is false.",
                    stacklevel=3,
                )
        cls._datapoints = defaultdict(list)
        if "time" in cls._fields:
            cls._fields.remove("time")
        # mypy reads namedtuple() only as a class definition with literal fields; this one is made
        # per subclass at run time (5.3.2's design), so the check cannot apply.
        cls._type = namedtuple(cls.__name__, ["time"] + cls._tags + cls._fields)  # type: ignore[misc]
        cls._type.__new__.__defaults__ = (None,) * len(cls._fields)

    def __init__(self, **kw: Any) -> None:
        """Call to constructor creates a new data point.

        :note: Data points written when `bulk_size` is reached per Helper.
        :warning: Data points are *immutable* (`namedtuples`).
        """
        cls = self.__class__
        timestamp = kw.pop("time", self._current_timestamp())
        tags = set(cls._tags)
        fields = set(cls._fields)
        keys = set(kw.keys())
        if not (tags <= keys):
            raise NameError(f"Expected arguments to contain all tags {cls._tags}, instead got {kw.keys()}.")
        if not (keys - tags <= fields):
            raise NameError(f"Got arguments not in tags or fields: {keys - tags - fields}")
        with _lock:
            cls._datapoints[cls._series_name.format(**kw)].append(cls._type(time=timestamp, **kw))
            commit = (
                cls._autocommit and sum(len(series) for series in cls._datapoints.values()) >= cls._bulk_size
            )
        if commit:
            cls.commit()

    @classmethod
    def commit(cls, client: Optional[Any] = None) -> Any:
        """Commit everything from datapoints via the client.

        :param client: InfluxDBClient instance for writing points to InfluxDB.
        :attention: any provided client will supersede the class client.
        :return: result of client.write_points.
        """
        if not client:
            client = cls._client
        precision = cls._time_precision
        with _lock:
            rtn = client.write_points(
                cls._json_body_(),
                time_precision="n" if precision == "ns" else precision,
                retention_policy=cls._retention_policy,
            )
            cls._reset_()
        return rtn

    @classmethod
    def _json_body_(cls) -> List[Dict[str, Any]]:
        """Return the JSON body of given datapoints.

        :return: JSON body of these datapoints.
        """
        json = []
        if not cls.__initialized__:
            cls._reset_()
        for series_name, data in cls._datapoints.items():
            for point in data:
                json_point: Dict[str, Any] = {
                    "measurement": series_name,
                    "fields": {},
                    "tags": {},
                    "time": point.time,
                }
                for field in cls._fields:
                    value = getattr(point, field)
                    if value is not None:
                        json_point["fields"][field] = value
                for tag in cls._tags:
                    json_point["tags"][tag] = getattr(point, tag)
                json.append(json_point)
        return json

    @classmethod
    def _reset_(cls) -> None:
        """Reset data storage."""
        cls._datapoints = defaultdict(list)

    @staticmethod
    def _current_timestamp() -> datetime:
        return datetime.now(timezone.utc).replace(tzinfo=None)
