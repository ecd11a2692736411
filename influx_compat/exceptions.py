"""Exceptions raised by influx_compat.

The two classes of influxdb-python 5.3.2 keep their constructors, attributes
and ``str()`` form, so ``except InfluxDBClientError`` in old code still catches
everything it caught before.  The more precise errors of the shim are
subclasses of one of those two::

    InfluxDBError                      common base (new; catches everything below)
    ├── InfluxDBClientError(content, code=None)     4xx answers, statement errors
    │   ├── AuthenticationError        401/403: which credentials were tried
    │   │   └── WriteAuthenticationError   ... refusing a batch          [.progress]
    │   ├── UnsupportedOperationError  a 1.x feature the server does not have
    │   │   │                          (.statement names the InfluxQL, if any)
    │   │   └── PasswordRejectedError  a 1.x password 2.x refuses (8 to 72 bytes)  [.username]
    │   ├── DatabaseNotFoundError      no bucket / database for a 1.x database
    │   │   └── WriteDatabaseNotFoundError ... found when writing a batch [.progress]
    │   ├── LimitExceededError         a server limit (databases, tables, columns)
    │   ├── InvalidPointError          also a ValueError: bad point, precision...
    │   │   └── InvalidBatchError      ... found in batch k, before it was sent [.progress]
    │   └── WriteClientError           a batch the server refused (4xx)  [.progress]
    │       ├── PartialWriteError      some points stored, some rejected [.progress, .rejected]
    │       └── WriteLimitError        also a LimitExceededError         [.progress]
    └── InfluxDBServerError(content)   5xx answers
        └── WriteServerError           a batch that failed with a 5xx    [.progress]

    requests.exceptions.RequestException   (a batch that failed in transport, after the retries)
    ├── WriteRequestError              base of the four below and of WriteSSLError, WriteProxyError, ...:
    │                                  each also the exact requests class caught       [.progress]
    ├── ConnectionError
    │   ├── WriteConnectionError       could not be sent                [.progress]
    │   └── ConnectTimeout
    │       └── WriteConnectTimeout    no connection in time            [.progress]
    ├── Timeout
    │   └── ReadTimeout
    │       └── WriteTimeoutError      no answer in time                [.progress]
    └── HTTPError
        └── WriteHTTPError             an HTTP error raised by a session [.progress]

Every class marked ``[.progress]`` is a :class:`WriteProgress`: it is raised
with a frozen :class:`Progress` (``batch_index``, ``points_written``,
``points_in_batch``, ``dropped``), also readable as attributes of the error, so
a caller can resume with ``points[exc.points_written:]`` without losing or
duplicating points.  Each ``requests`` subclass keeps the old ``except requests.exceptions...``
clause that caught the original error working.  No exception text ever
contains the API token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple, Optional, Tuple, Union

import requests

__all__ = [
    "InfluxDBError",
    "InfluxDBClientError",
    "InfluxDBServerError",
    "AuthenticationError",
    "UnsupportedOperationError",
    "PasswordRejectedError",
    "DatabaseNotFoundError",
    "LimitExceededError",
    "InvalidPointError",
    "Progress",
    "RejectedLine",
    "WriteProgress",
    "InvalidBatchError",
    "WriteClientError",
    "PartialWriteError",
    "WriteLimitError",
    "WriteAuthenticationError",
    "WriteDatabaseNotFoundError",
    "WriteServerError",
    "WriteRequestError",
    "WriteConnectionError",
    "WriteConnectTimeout",
    "WriteTimeoutError",
    "WriteHTTPError",
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
    """A 1.x feature that the server (InfluxDB 2.x or 3) does not have.

    The message says what that server offers instead.  ``statement`` is the InfluxQL
    statement concerned, when there is one.
    """

    def __init__(self, content: str, code: Optional[int] = None, statement: Optional[str] = None):
        super().__init__(content, code)
        self.statement = statement


class PasswordRejectedError(UnsupportedOperationError):
    """A password InfluxDB 2.x refuses for a v1 user; raised before anything is created or changed.

    1.x took any password; 2.x wants 8 to 72 bytes for a v1 authorization.
    ``username`` names the user; the password is never part of the error.
    """

    minimum = 8
    maximum = 72

    def __init__(self, content: str, username: str, statement: Optional[str] = None) -> None:
        super().__init__(content, 400, statement)
        self.username = username


class DatabaseNotFoundError(InfluxDBClientError):
    """Neither a DBRP mapping nor a bucket exists for a database."""

    def __init__(self, content: str, database: Optional[str] = None, code: Optional[int] = None):
        super().__init__(content, code)
        self.database = database


class LimitExceededError(InfluxDBClientError):
    """A server limit was reached: ``limit`` names it (databases, tables, columns)."""

    def __init__(self, content: str, code: Optional[int] = None, limit: Optional[str] = None):
        super().__init__(content, code)
        self.limit = limit


class InvalidPointError(InfluxDBClientError, ValueError):
    """A point, timestamp or option that cannot be written; raised before sending.

    Also a ``ValueError``, which is what influxdb-python raised for a bad
    ``time_precision`` or timestamp.
    """


@dataclass(frozen=True)
class Progress:
    """Where a batched write stopped.

    :ivar batch_index: 0-based index of the batch that failed
    :ivar points_written: points stored before the failure: every point of
        the earlier batches, and the halves of this batch stored after a 413
    :ivar points_in_batch: points of the failed batch from ``points_written`` on
    :ivar dropped: points of the failed batch the server reported as not
        stored (``points_in_batch`` when the whole batch was refused, None
        when unknown, e.g. a connection error)
    """

    batch_index: int = 0
    points_written: int = 0
    points_in_batch: int = 0
    dropped: Optional[int] = None


class RejectedLine(NamedTuple):
    """One line of a batch the server rejected (InfluxDB 3 partial writes).

    :ivar point: 0-based index of the point in the whole write
    :ivar line_number: 1-based line number in the batch as the server counted it
    :ivar message: the server's reason
    :ivar original_line: the start of the line, as the server quoted it
    """

    point: int
    line_number: int
    message: str
    original_line: str


class WriteProgress:
    """Base of every error raised by a write: it carries a :class:`Progress`.

    The progress is given when the error is raised (keyword ``progress``)
    and never changes; ``batch_index``, ``points_written``,
    ``points_in_batch`` and ``dropped`` read it.
    """

    progress: Progress = Progress()

    def _init_progress(self, progress: Optional[Progress]) -> None:
        self.progress = progress if progress is not None else Progress()

    @property
    def batch_index(self) -> int:
        return self.progress.batch_index

    @property
    def points_written(self) -> int:
        return self.progress.points_written

    @property
    def points_in_batch(self) -> int:
        return self.progress.points_in_batch

    @property
    def dropped(self) -> Optional[int]:
        return self.progress.dropped


class InvalidBatchError(WriteProgress, InvalidPointError):
    """A bad point in batch ``batch_index``; that batch and the later ones were not sent."""

    def __init__(self, content: str, progress: Optional[Progress] = None) -> None:
        super().__init__(content)
        self._init_progress(progress)


class WriteClientError(WriteProgress, InfluxDBClientError):
    """The server refused a batch of points with a 4xx answer."""

    def __init__(
        self, content: Union[str, bytes, Any], code: Optional[int] = None, progress: Optional[Progress] = None
    ) -> None:
        super().__init__(content, code)
        self._init_progress(progress)


class PartialWriteError(WriteClientError):
    """The server stored some points of a batch and rejected ``dropped`` of them.

    InfluxDB 2.x answers 422 with the count; InfluxDB 3 answers with each
    rejected line, listed in ``rejected`` (:class:`RejectedLine`).
    """

    def __init__(
        self,
        content: Union[str, bytes, Any],
        code: Optional[int] = None,
        progress: Optional[Progress] = None,
        rejected: Tuple[RejectedLine, ...] = (),
    ) -> None:
        super().__init__(content, code, progress)
        self.rejected = rejected


class WriteLimitError(WriteClientError, LimitExceededError):
    """A batch refused because a server limit (databases, tables, columns) was reached."""

    def __init__(
        self,
        content: str,
        code: Optional[int] = None,
        progress: Optional[Progress] = None,
        limit: Optional[str] = None,
    ) -> None:
        WriteClientError.__init__(self, content, code, progress)
        self.limit = limit


class WriteAuthenticationError(WriteProgress, AuthenticationError):
    """The server refused the credentials (401) or permissions (403) for a batch."""

    def __init__(
        self, content: Union[str, bytes, Any], code: Optional[int] = None, progress: Optional[Progress] = None
    ) -> None:
        super().__init__(content, code)
        self._init_progress(progress)


class WriteDatabaseNotFoundError(WriteProgress, DatabaseNotFoundError):
    """A batch whose database (bucket) does not exist."""

    def __init__(
        self,
        content: str,
        database: Optional[str] = None,
        code: Optional[int] = None,
        progress: Optional[Progress] = None,
    ) -> None:
        super().__init__(content, database, code)
        self._init_progress(progress)


class WriteServerError(WriteProgress, InfluxDBServerError):
    """A batch of points failed with a 5xx answer; its points may not be stored."""

    def __init__(self, content: Any, progress: Optional[Progress] = None) -> None:
        super().__init__(content)
        self._init_progress(progress)


class WriteRequestError(WriteProgress, requests.exceptions.RequestException):
    """A batch that failed in transport (a ``requests`` error) after the retries; base of the four below."""

    def __init__(self, message: str, progress: Optional[Progress] = None) -> None:
        super().__init__(message)
        self._init_progress(progress)


class WriteConnectionError(WriteRequestError, requests.exceptions.ConnectionError):
    """A batch could not be sent (connection refused, reset, ...) after the retries."""


class WriteConnectTimeout(WriteRequestError, requests.exceptions.ConnectTimeout):
    """No connection for a batch within the client's timeout, after the retries."""


class WriteTimeoutError(WriteRequestError, requests.exceptions.ReadTimeout):
    """A batch got no answer within the client's timeout, after the retries."""


class WriteHTTPError(WriteRequestError, requests.exceptions.HTTPError):
    """A batch for which the session raised ``requests.exceptions.HTTPError``, after the retries."""
