"""Exceptions raised by influx_compat.

The two classes of influxdb-python 5.3.2 keep their constructors, attributes
and ``str()`` form, so ``except InfluxDBClientError`` in old code still catches
everything it caught before.  The more precise errors of the shim are
subclasses of one of those two::

    InfluxDBError                      common base (new; catches everything below)
    ├── InfluxDBClientError(content, code=None)     4xx answers, statement errors
    │   ├── AuthenticationError        401/403: which credentials were tried
    │   ├── UnsupportedOperationError  a 1.x feature with no 2.x equivalent
    │   │                              (.statement names the InfluxQL, if any)
    │   ├── DatabaseNotFoundError      no bucket and no DBRP mapping for a database
    │   ├── InvalidPointError          also a ValueError: bad point, precision...
    │   └── WriteClientError           a batch the server refused (4xx)
    │       └── PartialWriteError      2.x's 422: some points of the batch dropped
    └── InfluxDBServerError(content)   5xx answers
        └── WriteServerError           a batch that failed with a 5xx

Errors raised by a batched write carry :class:`WriteProgress` attributes
(``batch_index``, ``points_written``, ``points_in_batch``, ``dropped``) so a
caller can resume without losing or duplicating points.  No exception text ever
contains the API token.
"""

from __future__ import annotations

from typing import Any, Optional, Union

__all__ = [
    "InfluxDBError",
    "InfluxDBClientError",
    "InfluxDBServerError",
    "AuthenticationError",
    "UnsupportedOperationError",
    "DatabaseNotFoundError",
    "InvalidPointError",
    "WriteProgress",
    "WriteClientError",
    "PartialWriteError",
    "WriteServerError",
]


class InfluxDBError(Exception):
    """Base of every error raised by influx_compat (not in influxdb-python)."""


class InfluxDBClientError(InfluxDBError):
    """Raised when an error occurs in the request (as in influxdb-python).

    :param content: the error text; bytes are decoded as UTF-8
    :param code: the HTTP status, or None for errors reported inside a
        successful answer (InfluxQL statement errors) or found before sending
    """

    def __init__(self, content: Union[str, bytes, Any], code: Optional[int] = None) -> None:
        if isinstance(content, bytes):
            content = content.decode("UTF-8", errors="replace")
        if code is not None:
            message = f"{code}: {content}"
        else:
            message = content
        super().__init__(message)
        self.content = content
        self.code = code


class InfluxDBServerError(InfluxDBError):
    """Raised when a server error (5xx) occurs (as in influxdb-python).

    :param content: the error text
    """

    def __init__(self, content: Any) -> None:
        super().__init__(content)


class AuthenticationError(InfluxDBClientError):
    """The server refused the credentials (401) or their permissions (403)."""


class UnsupportedOperationError(InfluxDBClientError):
    """A 1.x feature that InfluxDB 2.x does not have.

    The message says what 2.x offers instead.  ``statement`` is the InfluxQL
    statement concerned, when there is one.
    """

    def __init__(self, content: str, code: Optional[int] = None, statement: Optional[str] = None):
        super().__init__(content, code)
        self.statement = statement


class DatabaseNotFoundError(InfluxDBClientError):
    """Neither a DBRP mapping nor a bucket exists for a database."""

    def __init__(self, content: str, database: Optional[str] = None, code: Optional[int] = None):
        super().__init__(content, code)
        self.database = database


class InvalidPointError(InfluxDBClientError, ValueError):
    """A point, timestamp or option that cannot be written; raised before sending.

    Also a ``ValueError``, which is what influxdb-python raised for a bad
    ``time_precision`` or timestamp.
    """


class WriteProgress:
    """Where a batched write stopped.

    :ivar batch_index: 0-based index of the batch that failed
    :ivar points_written: points of the earlier batches, all stored
    :ivar points_in_batch: points in the failed batch
    :ivar dropped: points of the failed batch the server reported as not
        stored (equal to ``points_in_batch`` when the whole batch was refused,
        None when unknown, e.g. a connection error)
    """

    batch_index: int = 0
    points_written: int = 0
    points_in_batch: int = 0
    dropped: Optional[int] = None

    def _set_progress(
        self, batch_index: int, points_written: int, points_in_batch: int, dropped: Optional[int]
    ) -> None:
        self.batch_index = batch_index
        self.points_written = points_written
        self.points_in_batch = points_in_batch
        self.dropped = dropped


class WriteClientError(WriteProgress, InfluxDBClientError):
    """The server refused a batch of points with a 4xx answer."""


class PartialWriteError(WriteClientError):
    """InfluxDB 2.x stored some points of a batch and dropped ``dropped`` of them (422)."""


class WriteServerError(WriteProgress, InfluxDBServerError):
    """A batch of points failed with a 5xx answer; its points may not be stored."""
