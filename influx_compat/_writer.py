"""The write pipeline: from 1.x points or lines to batches the server stores.

Every write reaches the server through here (``write_points``, ``write``,
``send_packet``, ``DataFrameClient``, ``SeriesHelper``, the proxy):

1. precision: 1.x's ``n u ms s m h`` become a wire precision every server
   knows (``ns us ms s``); ``m`` and ``h`` timestamps are scaled to seconds;
2. batching: ``batch_size`` points per request, read lazily from the input;
3. serialization: one serializer (:mod:`influx_compat.line_protocol`); a bad
   point raises before the batch that holds it is sent;
4. sending: a :data:`Send` function of the server's backend; a batch
   answered 413 is split in halves, down to single lines;
5. pipelining: while one background thread sends batch k, the caller's
   thread serializes batch k+1 (:func:`write_batches`), reading the input as
   it goes (at most one batch ahead, a generator's points never held a batch
   at a time); batches are sent in order, one at a time;
6. progress: an error raised here carries a :class:`~influx_compat.exceptions.Progress`
   saying how many points were stored before it.
"""

from __future__ import annotations

import itertools
import queue
import threading
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple, Type

import requests

from influx_compat import line_protocol
from influx_compat.exceptions import (
    AuthenticationError,
    DatabaseNotFoundError,
    InfluxDBClientError,
    InfluxDBServerError,
    InvalidBatchError,
    InvalidPointError,
    LimitExceededError,
    PartialWriteError,
    Progress,
    RejectedLine,
    WriteAuthenticationError,
    WriteClientError,
    WriteConnectionError,
    WriteConnectTimeout,
    WriteDatabaseNotFoundError,
    WriteHTTPError,
    WriteLimitError,
    WriteRequestError,
    WriteServerError,
    WriteTimeoutError,
)

__all__ = [
    "Destination",
    "WIRE_PRECISION",
    "PRECISIONS",
    "Send",
    "Encode",
    "wire_precision",
    "destination",
    "write_points",
    "write_batches",
    "Sender",
    "line_count",
    "write_body",
    "encode_json",
    "encode_lines",
]

# 1.x precision -> (wire precision, factor applied to the timestamps).
# 2.x knows ns, us, ms and s only and silently reads anything else as ns;
# InfluxDB 3 refuses m and h (core/iox_http/src/write/params.rs).
WIRE_PRECISION: Dict[Optional[str], Tuple[str, int]] = {
    None: ("ns", 1),
    "n": ("ns", 1),
    "ns": ("ns", 1),
    "u": ("us", 1),
    "us": ("us", 1),
    "ms": ("ms", 1),
    "s": ("s", 1),
    "m": ("s", 60),
    "h": ("s", 3600),
}
PRECISIONS = ("n", "u", "ms", "s", "m", "h", None)
CONSISTENCIES = ("any", "one", "quorum", "all", None)


@dataclass(frozen=True)
class Destination:
    """Where a batch goes and how its timestamps read.

    :ivar database: the 1.x database
    :ivar retention_policy: the 1.x retention policy; None for the default
    :ivar precision: the wire precision (``ns``, ``us``, ``ms``, ``s``); None
        for line protocol sent without one (nanoseconds)
    :ivar consistency: 1.x's write consistency (sent where the server takes it)
    """

    database: str
    retention_policy: Optional[str] = None
    precision: Optional[str] = None
    consistency: Optional[str] = None


#: Sends one batch of line protocol to a destination.
Send = Callable[[bytes, Destination], None]

#: Serializes one batch: ``(batch, points before it) -> (body, points in it)``, or None when
#: the batch holds nothing to send.  May run on the pipeline's thread: it must only read the batch.
Encode = Callable[[Any, int], Optional[Tuple[bytes, int]]]


def wire_precision(precision: Optional[str]) -> Tuple[str, int]:
    """(wire precision, timestamp factor) of a 1.x precision.

    :raises InvalidPointError: for a precision 1.x did not know
    """
    try:
        return WIRE_PRECISION[precision]
    except KeyError:
        raise InvalidPointError(
            f"Invalid time precision {precision!r}: use 'n', 'u', 'ms', 's', 'm' or 'h'"
        ) from None


def encode_json(
    points: Iterable[Any],
    precision: Optional[str],
    tags: Optional[Dict[str, Any]] = None,
    measurement: Optional[str] = None,
    start_index: int = 0,
) -> bytes:
    """Dict points as line protocol in the wire precision of ``precision``."""
    _, scale = wire_precision(precision)
    body = line_protocol._serialize_points(
        points, precision=precision, tags=tags, measurement=measurement, scale=scale, start_index=start_index
    )
    return body.encode("utf-8") if isinstance(body, str) else bytes(body)


def encode_lines(lines: List[Any], precision: Optional[str]) -> bytes:
    """Line-protocol strings (or bytes) joined, timestamps scaled for ``m``/``h``."""
    _, scale = wire_precision(precision)
    if lines and isinstance(lines[0], bytes):
        lines = [line.decode("utf-8") for line in lines]
    if scale != 1:
        lines = line_protocol._rescale_line_timestamps(lines, scale)
    return ("\n".join(lines) + "\n").encode("utf-8")


def write_body(
    send: Send,
    body: bytes,
    database: str,
    retention_policy: Optional[str],
    precision: Optional[str],
    consistency: Optional[str] = None,
    rescale: bool = True,
    batch_size: Optional[int] = None,
) -> None:
    """Send one body of line protocol (``write()``, the proxy): one batch, or batches of lines.

    :param precision: the 1.x precision of the body's timestamps (``m``/``h``
        are rescaled to seconds); None for nanoseconds, sent without a precision
    :param rescale: False when the body is already in the wire precision
        (serialized by :func:`encode_json`)
    :param batch_size: lines per request; None or 0 sends the body as one
        request.  With ``m``/``h`` the next batch is rescaled while this one is
        sent; an error's progress counts lines (``points_written`` lines of the
        body were stored)
    """
    wire, scale = wire_precision(precision)
    target = Destination(database, retention_policy, wire if precision is not None else None, consistency)
    if not batch_size or batch_size <= 0:
        if scale != 1 and rescale:
            body = _rescaled(body.decode("utf-8").splitlines(), scale)
        _send_batch(send, body, target, index=0, written=0, in_batch=line_count(body))
        return
    lines = body.split(b"\n")
    if lines[-1] == b"":  # the body's last newline ends its last line; it does not start one
        lines.pop()
    factor = scale if rescale else 1

    def encode(chunk: List[bytes], start: int) -> Tuple[bytes, int]:
        if factor != 1:
            return _rescaled([line.decode("utf-8") for line in chunk], factor), len(chunk)
        return b"\n".join(chunk) + b"\n", len(chunk)

    write_batches(send, batched(lines, batch_size), encode, target, pipelined=factor != 1)


def _rescaled(lines: List[str], scale: int) -> bytes:
    """Lines of line protocol with their timestamps times ``scale`` (``m``/``h`` sent as seconds)."""
    text = line_protocol._rescale_line_timestamps(lines, scale)
    return ("\n".join(text) + "\n").encode("utf-8")


def write_points(
    send: Send,
    points: Any,
    time_precision: Optional[str],
    database: str,
    retention_policy: Optional[str] = None,
    tags: Optional[Dict[str, Any]] = None,
    batch_size: Optional[int] = None,
    protocol: str = "json",
    consistency: Optional[str] = None,
    measurement: Optional[str] = None,
) -> None:
    """influxdb-python's ``write_points``: batches of points, sent in order, progress exact.

    With more than one batch of dict points (or of lines whose timestamps are
    rescaled, or read lazily), batch k is sent on a background thread while
    batch k+1 is serialized (:func:`write_batches`).  A list of line-protocol
    strings is only joined: its batches are sent from the caller's thread,
    which measured faster than handing 0.5 ms joins to a second thread
    (docs/performance.md, "Line passthrough").

    :param measurement: for points without one (``send_packet``'s top-level measurement)
    """
    check_options(time_precision, consistency)
    target = destination(time_precision, database, retention_policy, consistency)
    if protocol == "line" and isinstance(points, (str, bytes)):
        points = [points]
    batches: Iterable[List[Any]] = (
        batched(points, batch_size)
        if batch_size and batch_size > 0
        else (points if isinstance(points, list) else list(points),)
    )

    def encode(batch: Any, start: int) -> Tuple[bytes, int]:
        if protocol == "json":
            body = encode_json(batch, time_precision, tags, measurement, start_index=start)
            # one line a point (newlines inside values are escaped): a lazy batch is counted here
            return body, len(batch) if isinstance(batch, list) else body.count(b"\n")
        lines = batch if isinstance(batch, list) else list(batch)
        return encode_lines(lines, time_precision), len(lines)

    joined_only = protocol == "line" and isinstance(points, list) and wire_precision(time_precision)[1] == 1
    write_batches(send, batches, encode, target, pipelined=not joined_only)


def destination(
    time_precision: Optional[str],
    database: str,
    retention_policy: Optional[str] = None,
    consistency: Optional[str] = None,
) -> Destination:
    """The destination of points whose timestamps are in the 1.x ``time_precision``."""
    wire, _ = wire_precision(time_precision)
    return Destination(database, retention_policy, wire if time_precision is not None else None, consistency)


def write_batches(
    send: Send, batches: Iterable[Any], encode: Encode, target: Destination, pipelined: bool = True
) -> None:
    """Serialize and send batches in order, serializing batch k+1 while batch k is on the wire.

    The caller's thread reads and serializes every batch (``batches`` may be
    lazy: a generator's points are read only as they are serialized, at most
    one batch ahead of the batch on the wire, and never on another thread).
    One background thread sends: batch k while batch k+1 is serialized, one
    request at a time, in order, each after the one before it was
    acknowledged.  It starts only when there is a second batch and is joined
    before this returns or raises.

    Errors are raised as without the pipeline: a bad point in batch k+1
    (:class:`InvalidPointError` from ``encode``) and an error while reading
    batch k+1 are raised after batch k was stored (an error of batch k itself
    wins), and nothing after a failed batch is sent.

    :param encode: batch -> line protocol (:data:`Encode`); a batch it returns
        None for is skipped, but counted in ``batch_index``
    :param pipelined: False to send every batch from the caller's thread
    :raises InvalidBatchError: a bad point (nothing of its batch was sent)
    """
    iterator = iter(batches)
    index = written = 0
    sender: Optional[Sender] = None

    def settle() -> None:
        """Wait for the batch on the wire; its points count as written once it is stored."""
        nonlocal written
        if sender is not None:
            written += sender.wait()

    try:
        batch, failure = _take(iterator)
        while True:
            if failure is not None:  # raised where it would have been without the look-ahead
                settle()
                raise _unreadable(failure, index, written)
            if batch is _END:
                break
            before = written + (sender.in_flight if sender is not None else 0)
            try:
                encoded = encode(batch, before)
            except InvalidPointError as exc:
                settle()
                raise _refused(exc, batch, index, written) from None
            except Exception:  # the input failed while it was read: after the batch before it
                settle()
                raise
            upcoming, failure = _take(iterator)  # lazy batches: reads the next one's first point only
            if encoded is not None:  # a body of no points is still sent, as 5.3.2 sent it (DataFrameClient)
                body, count = encoded
                if sender is None and (upcoming is _END or not pipelined):
                    _send_batch(send, body, target, index, written, count)
                    written += count
                else:
                    if sender is None:
                        sender = Sender(send, target)
                    settle()
                    sender.submit(body, index, written, count)
            index += 1
            batch = upcoming
        settle()
    finally:
        if sender is not None:
            sender.close()


_END: Any = object()  # the end of the batches


def _take(iterator: Iterator[Any]) -> Tuple[Any, Optional[Exception]]:
    """The next batch (or ``_END``), and the error reading it raised, kept until the batch before is sent.

    KeyboardInterrupt and other BaseExceptions are not kept: they stop the write at once.
    """
    try:
        return next(iterator, _END), None
    except Exception as exc:  # noqa: BLE001 - raised again by the caller, after the batch before it
        return _END, exc


def _unreadable(exc: Exception, index: int, written: int) -> Exception:
    """The error raised while reading batch ``index`` (a bad point in a converted batch gets the progress)."""
    if isinstance(exc, InvalidPointError) and not isinstance(exc, InvalidBatchError):
        progress = Progress(index, written, 0, 0)
        return InvalidBatchError(
            f"{exc.content} -- nothing of {_batch(progress)} was sent; {_before(progress)}", progress
        )
    return exc


def _refused(exc: InvalidPointError, batch: Any, index: int, written: int) -> InvalidBatchError:
    """A bad point in batch ``index``: nothing of it was sent, the ``written`` points before were stored.

    A lazy batch was read up to its bad point: that many points are its size.
    """
    if isinstance(exc, InvalidBatchError):
        return exc
    if hasattr(batch, "__len__"):
        size = len(batch)
    else:
        bad = getattr(exc, "point_index", None)
        size = bad - written + 1 if isinstance(bad, int) else 0
    progress = Progress(index, written, size, size)
    return InvalidBatchError(
        f"{exc.content} -- nothing of {_batch(progress)} was sent; {_before(progress)}", progress
    )


class Sender:
    """The one background thread of a pipelined write: it sends batch k while batch k+1 is serialized.

    It holds at most one batch; the caller waits for its answer
    (:meth:`wait`, which raises the batch's error in the caller's thread)
    before it hands over the next, so requests go one at a time and in
    order.  :meth:`close` lets a batch on the wire finish, then joins the
    thread; it is a daemon only so that a thread interrupted in ``close``
    cannot keep the interpreter from exiting.
    """

    def __init__(self, send: Send, target: Optional[Destination] = None) -> None:
        self._send = send
        self._target = target
        self.in_flight = 0  # points of the batch handed over and not yet acknowledged
        self._pending = False  # a batch was handed over and its answer not yet read
        self._jobs: queue.SimpleQueue[Optional[Callable[[], None]]] = queue.SimpleQueue()
        self._answers: queue.SimpleQueue[Optional[BaseException]] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="influx_compat-sender", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            try:
                job()
                self._answers.put(None)
            except BaseException as exc:  # noqa: BLE001 - raised in the caller's thread
                self._answers.put(exc)
            del job  # the body is not kept alive while the thread waits

    def submit(self, body: bytes, index: int, written: int, count: int) -> None:
        """Send batch ``index`` (``count`` points, ``written`` stored before it) in the background."""
        send, target = self._send, self._target
        assert target is not None
        self.run(lambda: _send_batch(send, body, target, index, written, count), count)

    def run(self, job: Callable[[], None], count: int) -> None:
        """Run ``job`` (a send of ``count`` points) in the background; :meth:`wait` for its end."""
        self.in_flight = count
        self._pending = True
        self._jobs.put(job)

    def wait(self) -> int:
        """The points the batch on the wire stored (0 when there is none); its error raised here."""
        count, self.in_flight = self.in_flight, 0
        if not self._pending:
            return 0
        self._pending = False
        error = self._answers.get()
        if error is not None:
            raise error
        return count

    def close(self) -> None:
        """Stop the thread once the batch it may be sending is answered, and join it."""
        self._jobs.put(None)
        self._thread.join()


def check_options(time_precision: Optional[str], consistency: Optional[str]) -> None:
    """5.3.2's checks of ``write_points``' options, made before anything else."""
    if time_precision not in PRECISIONS:
        raise InvalidPointError("Invalid time precision is given. (use 'n', 'u', 'ms', 's', 'm' or 'h')")
    if consistency not in CONSISTENCIES:
        raise InvalidPointError(f"Invalid consistency: {consistency}")


def batched(iterable: Iterable[Any], size: int) -> Iterator[Any]:
    """Batches of ``size`` items, read lazily: slices of a list; of any other iterable, iterators
    over its next ``size`` items (the first of each read when the batch is taken, the others as the
    batch is serialized), so a generator's points are never held a batch at a time."""
    if isinstance(iterable, list):  # slices are cheaper than islice, and the list is already there
        for start in range(0, len(iterable), size):
            yield iterable[start : start + size]
        return
    iterator = iter(iterable)
    for first in iterator:
        yield itertools.chain((first,), itertools.islice(iterator, size - 1))


# -- sending, with the 413 split ----------------------------------------------


class _Stored(Exception):
    """An error of part of a batch, with the lines of that batch stored before it."""

    def __init__(self, cause: Exception, stored: int) -> None:
        super().__init__(str(cause))
        self.cause = cause
        self.stored = stored


def _send_batch(
    send: Send, body: bytes, destination: Destination, index: int, written: int, in_batch: int
) -> None:
    partials: List[Tuple[int, PartialWriteError]] = []
    try:
        _send_split(send, body, destination, partials, count=False)
    except _Stored as failed:
        progress = Progress(index, written + failed.stored, in_batch - failed.stored)
        raise _with_progress(failed.cause, progress, written + failed.stored) from failed.cause
    if partials:  # every part was sent; some lines of some parts were rejected
        raise _partial(partials, Progress(index, written, in_batch), written)


def _send_split(
    send: Send,
    body: bytes,
    destination: Destination,
    partials: List[Tuple[int, PartialWriteError]],
    stored: int = 0,
    count: bool = True,
) -> int:
    """Send a batch; on 413 (too large) send its halves, down to single lines.

    A partial write of one part does not stop the others: it is kept in
    ``partials`` with the number of lines of the batch before that part.

    :param count: count the lines sent (a split's first half only needs it: counting a
        1 MB batch costs about a millisecond)
    :returns: the number of lines sent (0 when not counted)
    :raises _Stored: with the cause and the lines of this batch stored before it
    """
    try:
        send(body, destination)
        return line_count(body) if count else 0
    except PartialWriteError as exc:
        partials.append((stored, exc))
        return line_count(body) if count else 0
    except InfluxDBClientError as exc:
        if exc.code != 413:
            raise _Stored(exc, stored) from None
        cut = _middle_newline(body)
        if cut is None:
            too_large = InfluxDBClientError(
                f"{exc.content} -- a single line of {len(body):,} bytes is larger than the server accepts",
                413,
            )
            raise _Stored(too_large, stored) from None
    except (InfluxDBServerError, requests.exceptions.RequestException) as exc:
        raise _Stored(exc, stored) from None
    first = _send_split(send, body[:cut], destination, partials, stored)
    second = _send_split(send, body[cut:], destination, partials, stored + first, count)
    return first + second


def line_count(body: bytes) -> int:
    """Lines of a body of line protocol (a last line without its newline counts)."""
    return body.count(b"\n") + (0 if body.endswith(b"\n") else 1)


def _middle_newline(body: bytes) -> Optional[int]:
    """Where to split a batch in two halves of whole lines (None for a single line)."""
    text = body.rstrip(b"\n")
    middle = len(text) // 2
    cut = text.rfind(b"\n", 0, middle + 1)
    if cut <= 0:
        cut = text.find(b"\n", middle)
    return None if cut <= 0 else cut + 1


# -- errors with progress -------------------------------------------------------


def _batch(progress: Progress) -> str:
    first = progress.points_written
    return f"batch {progress.batch_index} (points {first}..{first + progress.points_in_batch - 1})"


def _before(progress: Progress) -> str:
    """``points_written``: every point stored before this part of the batch (resume from there)."""
    return (
        f"the {progress.points_written} points before them (earlier batches, and any first part of this "
        f"batch sent after a 413) were stored; resume with points[{progress.points_written}:]"
    )


def _with_progress(exc: Exception, progress: Progress, first_index: int) -> Exception:
    """The public error for a failed batch: the same kind of error, with its progress declared."""
    unsure = f"{_batch(progress)} may not have been stored; {_before(progress)}"
    if isinstance(exc, InfluxDBServerError):
        return WriteServerError(f"{exc} -- {unsure}", progress)
    if isinstance(exc, requests.exceptions.RequestException):
        return _transport_error(type(exc))(f"{exc} -- {unsure}", progress)
    assert isinstance(exc, InfluxDBClientError)
    whole = Progress(
        progress.batch_index, progress.points_written, progress.points_in_batch, progress.points_in_batch
    )
    nothing = f"nothing of {_batch(progress)} was written; {_before(progress)}"
    if isinstance(exc, AuthenticationError):
        return WriteAuthenticationError(exc.content, exc.code, whole)
    if isinstance(exc, DatabaseNotFoundError):
        return WriteDatabaseNotFoundError(str(exc.content), exc.database, exc.code, whole)
    if isinstance(exc, LimitExceededError):
        return WriteLimitError(f"{exc.content} -- {nothing}", exc.code, whole, exc.limit)
    if type(exc) is not InfluxDBClientError or exc.code is None:
        return exc  # statement-level errors (unsupported, ...): nothing was sent
    return WriteClientError(f"{exc.content} -- {nothing}", exc.code, whole)


# The requests classes with a declared write error; any other class caught gets a subclass of its own.
_TRANSPORT_ERRORS: Dict[Type[Exception], Type[WriteRequestError]] = {
    requests.exceptions.ConnectTimeout: WriteConnectTimeout,
    requests.exceptions.ReadTimeout: WriteTimeoutError,
    requests.exceptions.Timeout: WriteTimeoutError,
    requests.exceptions.ConnectionError: WriteConnectionError,
    requests.exceptions.HTTPError: WriteHTTPError,
    requests.exceptions.RequestException: WriteRequestError,
}
_transport_lock = threading.Lock()


def _transport_error(caught: Type[Exception]) -> Type[WriteRequestError]:
    """The write error class for a requests error class: a subclass of both (old ``except`` clauses hold)."""
    with _transport_lock:
        kind = _TRANSPORT_ERRORS.get(caught)
        if kind is None:
            kind = _TRANSPORT_ERRORS[caught] = type(
                "Write" + caught.__name__,
                (WriteRequestError, caught),
                {
                    "__module__": "influx_compat.exceptions",
                    "__doc__": f"A batch that failed with {caught.__name__}.",
                },
            )
        return kind


def _partial(
    partials: List[Tuple[int, PartialWriteError]], progress: Progress, written: int
) -> PartialWriteError:
    """One error for a batch whose parts were all sent and some lines rejected, numbered in the write."""
    rejected = tuple(
        RejectedLine(written + offset + r.point, r.line_number, r.message, r.original_line)
        for offset, exc in partials
        for r in exc.rejected
    )
    counts = [exc.dropped for _, exc in partials]
    dropped = sum(c for c in counts if c is not None) if all(c is not None for c in counts) else None
    if dropped is None and rejected:
        dropped = len(rejected)
    full = Progress(progress.batch_index, progress.points_written, progress.points_in_batch, dropped)
    detail = "".join(f"\n  point {r.point} (line {r.line_number}): {r.message}" for r in rejected)
    stored = f" ({progress.points_in_batch - dropped} points)" if dropped is not None else ""
    after = progress.points_written + progress.points_in_batch
    content = partials[0][1].content
    return PartialWriteError(
        f"{content} -- {dropped if dropped is not None else 'some'} of the {progress.points_in_batch} "
        f"points of {_batch(full)} were rejected and the other points of this batch were written{stored}; "
        f"the {progress.points_written} points before them were stored and nothing after this batch was "
        f"sent: fix the rejected points (.rejected) and resume with points[{after}:]" + detail,
        partials[0][1].code,
        full,
        rejected,
    )
