"""Pipelined writes (influx_compat._writer.write_batches): batch k+1 is serialized while batch k is sent.

Every test drives the pipeline with a recording ``send`` (or a mocked server)
and checks what influxdb-python 5.3.2's callers rely on: batches sent in
order, one at a time (from one background thread while the caller's thread
serializes the next); the input read and serialized in the caller's thread
at most one batch ahead; a bad point or a failed batch stops the write with
the exact progress; and no thread left behind, whatever happens.
"""

from __future__ import annotations

import math
import threading
import time
import warnings
from typing import Any, Dict, Iterator, List, Optional

import numpy as np
import pandas as pd
import pytest
import requests_mock
from influxdb import DataFrameClient as LegacyDataFrameClient

from influx_compat import DataFrameClient, InfluxDBClient, _writer
from influx_compat.exceptions import (
    InfluxDBClientError,
    InfluxDBServerError,
    InvalidBatchError,
    PartialWriteError,
    Progress,
    WriteClientError,
    WriteServerError,
)

WAIT = 10.0  # seconds an event may take; a pipeline that does not overlap fails the test after this
THREAD = "influx_compat-sender"


def serializer_threads() -> List[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD]


@pytest.fixture(autouse=True)
def no_thread_left_behind():
    before = set(threading.enumerate())
    yield
    assert serializer_threads() == []
    assert set(threading.enumerate()) - before == set()  # threads of earlier tests may end meanwhile


def point(i: int, value: Any = None) -> Dict[str, Any]:
    return {"measurement": "m", "tags": {"t": "x"}, "fields": {"v": i if value is None else value}, "time": i}


def first_time(body: bytes) -> int:
    return int(body.split(b"\n", 1)[0].rsplit(b" ", 1)[1])


class Recorder:
    """A :data:`~influx_compat._writer.Send` that records each batch, its thread, and how many ran at once."""

    def __init__(self, batch_size: int, sleep: float = 0.0, fail: Optional[Dict[int, BaseException]] = None):
        self.batch_size = batch_size
        self.sleep = sleep
        self.fail = fail or {}
        self.sent: List[int] = []  # batch index of each send, by its first timestamp
        self.lines: List[int] = []
        self.threads: List[int] = []
        self.lock = threading.Lock()
        self.running = 0
        self.most = 0
        self.before_return: Any = None  # called with the batch index before a send returns

    def __call__(self, body: bytes, destination: _writer.Destination) -> None:
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            batch = first_time(body) // self.batch_size
            self.sent.append(batch)
            self.lines.append(body.count(b"\n"))
            self.threads.append(threading.get_ident())
            time.sleep(self.sleep)
            if self.before_return is not None:
                self.before_return(batch)
            if batch in self.fail:
                raise self.fail.pop(batch)
        finally:
            with self.lock:
                self.running -= 1


class Encodes:
    """``_writer.encode_json`` wrapped: for each batch, the thread that serialized it and when it began."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, batch_size: int, slow: Optional[Dict[int, float]] = None
    ):
        self.batch_size = batch_size
        self.slow = slow or {}
        self.threads: Dict[int, int] = {}
        self.started: Dict[int, threading.Event] = {}
        self.lock = threading.Lock()
        real = _writer.encode_json

        def encode_json(points: Any, *args: Any, **kwargs: Any) -> bytes:
            points = list(points)  # a generator's batch comes as an iterator
            batch = points[0]["time"] // batch_size
            self.threads[batch] = threading.get_ident()
            self.event(batch).set()
            time.sleep(self.slow.get(batch, 0.0))
            return real(points, *args, **kwargs)

        monkeypatch.setattr(_writer, "encode_json", encode_json)

    def event(self, batch: int) -> threading.Event:
        with self.lock:
            return self.started.setdefault(batch, threading.Event())


class Source:
    """A generator of points that records how far it was read, and from which thread."""

    def __init__(self, n: int, bad: Optional[int] = None, raises: Optional[Dict[int, BaseException]] = None):
        self.n = n
        self.bad = bad
        self.raises = raises or {}
        self.pulled = 0
        self.threads: set = set()

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        for i in range(self.n):
            self.threads.add(threading.get_ident())
            if i in self.raises:
                raise self.raises[i]
            self.pulled = i + 1
            yield point(i, math.nan if i == self.bad else None)


def write(send: Any, points: Any, batch_size: Optional[int]) -> None:
    _writer.write_points(send, points, None, "db", batch_size=batch_size)


# -- order, one send at a time, overlap ------------------------------------------------


def test_batches_go_in_order_one_at_a_time_from_one_background_thread(monkeypatch):
    encodes = Encodes(monkeypatch, 10)
    send = Recorder(10, sleep=0.01)
    write(send, [point(i) for i in range(55)], 10)
    caller = threading.get_ident()
    assert send.sent == [0, 1, 2, 3, 4, 5]
    assert send.lines == [10, 10, 10, 10, 10, 5]
    assert send.most == 1
    assert len(set(send.threads)) == 1 and caller not in send.threads  # one sender thread
    assert set(encodes.threads.values()) == {caller}  # every batch serialized in the caller's thread


def test_batch_k_plus_1_is_serialized_while_batch_k_is_on_the_wire(monkeypatch):
    encodes = Encodes(monkeypatch, 10)
    send = Recorder(10)
    overlapped: List[int] = []

    def before_return(batch: int) -> None:
        if batch < 3:  # the last batch has no next one
            # Batch k's send waits for batch k+1's serialization to begin: with a sequential
            # write it never would, and this wait would time out.
            assert encodes.event(batch + 1).wait(WAIT), (
                f"batch {batch + 1} not serialized during send {batch}"
            )
            overlapped.append(batch)

    send.before_return = before_return
    write(send, [point(i) for i in range(40)], 10)
    assert overlapped == [0, 1, 2]
    assert send.sent == [0, 1, 2, 3]


def test_the_overlap_saves_time(monkeypatch):
    """Serializing (slowed to 0.1 s a batch) and sending (0.1 s) overlap: 6 batches in well under 1.2 s."""
    Encodes(monkeypatch, 10, slow={k: 0.1 for k in range(6)})
    send = Recorder(10, sleep=0.1)
    started = time.perf_counter()
    write(send, [point(i) for i in range(60)], 10)
    elapsed = time.perf_counter() - started
    assert send.sent == [0, 1, 2, 3, 4, 5]
    # Sequential: 6 x (0.1 + 0.1) = 1.2 s; pipelined: 0.1 + 6 x 0.1 = 0.7 s (sleeps hold no CPU).
    assert elapsed < 1.05, elapsed


def test_a_generator_is_read_in_the_callers_thread_at_most_one_batch_ahead():
    source = Source(45)
    pulled: List[int] = []
    send = Recorder(10, sleep=0.05)
    send.before_return = lambda batch: pulled.append(source.pulled)
    write(send, iter(source), 10)
    assert send.sent == [0, 1, 2, 3, 4]
    # While batch k is sent, batch k+1 is read (and the first point of k+2, to know there is one).
    assert all(seen <= min(45, 10 * (k + 2) + 1) for k, seen in enumerate(pulled)), pulled
    assert pulled[0] >= 11  # the look-ahead happened: batch 1 was being read during send 0
    assert source.threads == {threading.get_ident()}


# -- errors: nothing after them is sent, progress exact -------------------------------------


def test_a_bad_point_in_batch_3_is_refused_after_batches_1_and_2_were_stored():
    source = Source(60, bad=23)
    send = Recorder(10)
    with pytest.raises(InvalidBatchError) as info:
        write(send, iter(source), 10)
    assert send.sent == [0, 1]
    assert info.value.progress == Progress(2, 20, 4, 4)  # a lazy batch: read up to its bad point
    assert "23" in str(info.value) and "the 20 points before them" in str(info.value)
    assert source.pulled == 24  # nothing after the bad point was read


def test_a_bad_point_in_the_first_batch_sends_nothing_and_starts_no_thread():
    source = Source(60, bad=3)
    send = Recorder(10)
    with pytest.raises(InvalidBatchError) as info:
        write(send, iter(source), 10)
    assert send.sent == []
    assert info.value.progress == Progress(0, 0, 4, 4)
    assert source.pulled == 4
    with pytest.raises(InvalidBatchError) as info:
        write(send, [point(i, math.nan if i == 3 else None) for i in range(60)], 10)
    assert info.value.progress == Progress(0, 0, 10, 10)  # a list's batch: its size is known


def test_a_server_error_on_batch_2_sends_nothing_later(monkeypatch):
    encodes = Encodes(monkeypatch, 10)
    source = Source(60)
    send = Recorder(10, fail={1: InfluxDBServerError("boom")})
    with pytest.raises(WriteServerError) as info:
        write(send, iter(source), 10)
    assert send.sent == [0, 1]  # batch 3, serialized during batch 2's send, was never sent
    assert info.value.progress == Progress(1, 10, 10, None)
    assert sorted(encodes.threads) == [0, 1, 2]  # batch 4 was never serialized
    assert source.pulled == 31  # nor read, but for its first point (which says there is a batch 4)


def test_a_refused_batch_sends_nothing_later():
    send = Recorder(10, fail={2: InfluxDBClientError("unable to parse", 400)})
    with pytest.raises(WriteClientError) as info:
        write(send, [point(i) for i in range(60)], 10)
    assert send.sent == [0, 1, 2]
    assert info.value.progress == Progress(2, 20, 10, 10)


def test_a_partial_write_stops_after_its_batch():
    partial = PartialWriteError("partial write dropped=1", 422, Progress(0, 0, 10, 1))
    send = Recorder(10, fail={1: partial})
    with pytest.raises(PartialWriteError) as info:
        write(send, [point(i) for i in range(60)], 10)
    assert send.sent == [0, 1]
    assert info.value.progress == Progress(1, 10, 10, 1)
    assert "resume with points[20:]" in str(info.value)


def test_a_413_still_splits_the_batch_and_the_write_goes_on():
    send = Recorder(8)

    def too_large(batch: int) -> None:
        if batch == 1 and send.lines[-1] == 8:
            raise InfluxDBClientError("request too large", 413)

    send.before_return = too_large
    write(send, [point(i) for i in range(32)], 8)
    assert send.sent == [0, 1, 1, 1, 2, 3]
    assert send.lines == [8, 8, 4, 4, 8, 8]


def test_an_error_reading_batch_k_plus_1_is_raised_after_batch_k_was_stored():
    class Broken(Exception):
        pass

    source = Source(60, raises={25: Broken("the source failed")})
    send = Recorder(10)
    with pytest.raises(Broken):
        write(send, iter(source), 10)
    assert send.sent == [0, 1]  # as without the look-ahead: batches 1 and 2 came before the failure


def test_an_error_serializing_batch_k_plus_1_is_raised_after_batch_k_was_stored():
    def encode(batch: List[int], start: int) -> Any:
        if batch[0] == 20:
            raise TypeError("cannot serialize")
        return b"".join(b"m v=1 %d\n" % i for i in batch), len(batch)

    send = Recorder(10)
    with pytest.raises(TypeError, match="cannot serialize"):
        _writer.write_batches(
            send, _writer.batched(list(range(60)), 10), encode, _writer.destination(None, "db")
        )
    assert send.sent == [0, 1]


# -- no thread left behind ---------------------------------------------------------------


def test_keyboard_interrupt_in_send_leaves_no_thread(monkeypatch):
    encodes = Encodes(monkeypatch, 10, slow={2: 0.3})
    send = Recorder(10, fail={1: KeyboardInterrupt()})
    # The interrupt comes while the thread is busy with batch 3: it is joined once that is done.
    send.before_return = lambda batch: batch != 1 or encodes.event(2).wait(WAIT)
    with pytest.raises(KeyboardInterrupt):
        write(send, [point(i) for i in range(60)], 10)
    assert send.sent == [0, 1]
    assert sorted(encodes.threads) == [0, 1, 2]
    # no_thread_left_behind checks threading.enumerate()


def test_batches_queued_behind_an_interrupt_are_not_serialized(monkeypatch):
    encodes = Encodes(monkeypatch, 10)
    send = Recorder(10, fail={0: KeyboardInterrupt()})
    with pytest.raises(KeyboardInterrupt):
        write(send, [point(i) for i in range(60)], 10)
    assert send.sent == [0]
    assert set(encodes.threads) <= {0, 1}  # batch 2 was never read, batch 1 at most serialized


def test_keyboard_interrupt_in_the_generator_leaves_no_thread():
    source = Source(60, raises={25: KeyboardInterrupt()})
    send = Recorder(10)
    with pytest.raises(KeyboardInterrupt):
        write(send, iter(source), 10)
    assert send.sent == [0, 1]  # batch 1 was on the wire: its request finishes; nothing after it
    assert source.pulled == 25


def test_any_exception_in_send_leaves_no_thread():
    send = Recorder(10, fail={0: RuntimeError("the caller's own send failed")})
    with pytest.raises(RuntimeError):
        write(send, [point(i) for i in range(60)], 10)
    assert send.sent == [0]


@pytest.mark.parametrize(
    "points, batch_size",
    [
        ([point(i) for i in range(30)], None),
        ([point(i) for i in range(30)], 100),
        (Source(30), 100),
        (Source(30), 30),  # one full batch: the look-ahead finds nothing after it
        ([], 10),
    ],
    ids=["no batch_size", "list smaller than a batch", "generator smaller", "exactly one batch", "empty"],
)
def test_a_single_batch_starts_no_thread(monkeypatch, points, batch_size):
    started: List[Any] = []

    class Counted(_writer.Sender):
        def __init__(self, *args: Any) -> None:
            started.append(self)
            super().__init__(*args)

    monkeypatch.setattr(_writer, "Sender", Counted)
    alive: List[List[threading.Thread]] = []
    send = Recorder(1000)
    send.before_return = lambda batch: alive.append(serializer_threads())
    write(send, iter(points) if isinstance(points, Source) else points, batch_size)
    assert started == []
    assert alive == ([[]] if points != [] else [])


@pytest.mark.parametrize(
    "lines, precision, pipelined",
    [
        ([f"m v={i}i {i}" for i in range(30)], None, False),
        ([f"m v={i}i {i}".encode() for i in range(30)], "s", False),
        ([f"m v={i}i {i}" for i in range(30)], "m", True),  # rescaled: the next batch while one is sent
        (iter([f"m v={i}i {i}" for i in range(30)]), None, True),  # read lazily, as it is sent
    ],
    ids=["list of strings", "list of bytes", "list rescaled from minutes", "generator"],
)
def test_line_protocol_in_a_list_is_sent_from_the_callers_thread(lines, precision, pipelined):
    """A list of lines is only joined: batches go from the caller's thread, in order, all of them."""
    send = Recorder(10 if precision != "m" else 600)
    _writer.write_points(send, lines, precision, "db", batch_size=10, protocol="line")
    caller = threading.get_ident()
    assert send.sent == [0, 1, 2] and send.lines == [10, 10, 10]
    assert (caller not in send.threads) is pipelined and len(set(send.threads)) == 1


def test_a_mocked_server_sees_the_same_requests_in_order():
    threads: List[int] = []
    bodies: List[bytes] = []

    def answer(request: Any, context: Any) -> str:
        threads.append(threading.get_ident())
        bodies.append(request.body)
        time.sleep(0.02)
        context.status_code = 204
        return ""

    with requests_mock.Mocker() as mock:
        mock.post("http://localhost:8086/api/v2/write", text=answer)
        client = InfluxDBClient(token="t", org="o", database="d", bucket_map={"d": "b"})
        assert client.write_points(iter(Source(45)), batch_size=10, time_precision="s") is True
        assert client.write_points([point(i) for i in range(45)], time_precision="s") is True
    assert len(set(threads[:5])) == 1 and threads[0] != threading.get_ident()  # one sender thread
    assert threads[5] == threading.get_ident()  # one batch: sent from the caller's thread
    assert [first_time(b) for b in bodies[:5]] == [0, 10, 20, 30, 40]
    assert b"".join(bodies[:5]) == bodies[5]  # the batches, joined, are the single request's body


# -- write_body (the proxy's bodies) ---------------------------------------------------------


def test_write_body_in_batches_of_lines_rescales_the_next_batch_while_one_is_sent():
    body = b"".join(b"m,t=x v=%di %d\n" % (i, i) for i in range(25))
    single: List[bytes] = []
    _writer.write_body(lambda b, d: single.append(b), body, "db", None, "m")
    bodies: List[bytes] = []
    threads: List[str] = []

    def send(chunk: bytes, destination: _writer.Destination) -> None:
        assert destination.precision == "s"
        bodies.append(chunk)
        threads.append(",".join(t.name for t in serializer_threads()))

    _writer.write_body(send, body, "db", None, "m", batch_size=10)
    assert [b.count(b"\n") for b in bodies] == [10, 10, 5]
    assert b"".join(bodies) == single[0]
    assert first_time(bodies[1]) == 600  # minutes as seconds
    assert threads == [THREAD] * 3
    plain: List[str] = []
    _writer.write_body(
        lambda b, d: plain.append(",".join(t.name for t in serializer_threads())),
        body,
        "db",
        None,
        "s",
        batch_size=10,
    )
    assert plain == ["", "", ""]  # no thread: nothing to serialize without m or h


def test_write_body_in_batches_counts_the_lines_stored_before_an_error():
    body = b"".join(b"m v=%di %d\n" % (i, i) for i in range(25))
    sent: List[int] = []

    def send(chunk: bytes, destination: _writer.Destination) -> None:
        sent.append(chunk.count(b"\n"))
        if len(sent) == 2:
            raise InfluxDBServerError("unavailable")

    with pytest.raises(WriteServerError) as info:
        _writer.write_body(send, body, "db", None, "h", batch_size=10)
    assert sent == [10, 10]
    assert info.value.progress == Progress(1, 10, 10, None)


# -- DataFrameClient ---------------------------------------------------------------------------


def frame(rows: int = 12) -> pd.DataFrame:
    index = pd.date_range("1970-01-01", periods=rows, freq="s", tz="UTC", unit="ns")  # time i s
    return pd.DataFrame(
        {
            "host": [f"h{i % 3}" for i in range(rows)],
            "v": [float(i) for i in range(rows)],
            "n": list(range(rows)),
        },
        index=index,
    )


def frame_client(monkeypatch: pytest.MonkeyPatch, send: Any) -> DataFrameClient:
    client = DataFrameClient(token="t", org="o", database="d", bucket_map={"d": "b"})
    monkeypatch.setattr(client._core, "send_batch", send)
    return client


class Conversions:
    """``DataFrameClient._convert_dataframe_to_lines`` wrapped: for each slice, its thread and start."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch):
        self.threads: Dict[int, int] = {}
        self.started: Dict[int, threading.Event] = {k: threading.Event() for k in range(10)}
        real = DataFrameClient._convert_dataframe_to_lines

        def convert(client: DataFrameClient, frame: pd.DataFrame, *args: Any, **kwargs: Any) -> Any:
            first = int(frame.index[0].timestamp()) // 5
            self.threads[first] = threading.get_ident()
            self.started[first].set()
            return real(client, frame, *args, **kwargs)

        monkeypatch.setattr(DataFrameClient, "_convert_dataframe_to_lines", convert)


def test_dataframe_slices_are_converted_while_the_slice_before_is_sent(monkeypatch):
    conversions = Conversions(monkeypatch)
    send = Recorder(5)
    overlapped: List[int] = []

    def before_return(batch: int) -> None:
        if batch < 2:
            assert conversions.started[batch + 1].wait(WAIT), (
                f"slice {batch + 1} not converted during send {batch}"
            )
            overlapped.append(batch)

    send.before_return = before_return
    client = frame_client(monkeypatch, send)
    assert client.write_points(frame(), "m", tag_columns=["host"], batch_size=5, time_precision="s") is True
    caller = threading.get_ident()
    assert overlapped == [0, 1]
    assert send.sent == [0, 1, 2] and send.lines == [5, 5, 2]
    assert send.most == 1 and len(set(send.threads)) == 1 and caller not in send.threads
    assert set(conversions.threads.values()) == {caller}


def test_dataframe_requests_are_5_3_2s_one_per_slice(monkeypatch):
    data = frame(12)
    data.iloc[3] = np.nan  # a row without values is not a point: its slice holds 4
    with requests_mock.Mocker() as mock:
        mock.post("http://localhost:8086/write", status_code=204)
        with warnings.catch_warnings():  # 5.3.2 reads the index with calls pandas deprecates
            warnings.simplefilter("ignore")
            LegacyDataFrameClient(database="d").write_points(data, "m", tag_columns=["host"], batch_size=5)
        legacy = [r.body for r in mock.request_history]
    ours: List[bytes] = []
    client = frame_client(monkeypatch, lambda body, destination: ours.append(body))
    client.write_points(data, "m", tag_columns=["host"], batch_size=5)
    assert [b.count(b"\n") for b in ours] == [4, 5, 2]
    assert ours == [b if isinstance(b, bytes) else b.encode() for b in legacy]


def test_a_bad_row_in_the_third_slice_is_refused_after_two_slices_were_stored(monkeypatch):
    data = frame(12)
    data["s"] = "ok"
    data.iloc[1, :] = np.nan  # slice 1 holds 4 points
    data.iloc[11, 3] = 'a "quoted" value'  # 5.3.2 wrote it unescaped: refused before its slice is sent
    send = Recorder(5)
    client = frame_client(monkeypatch, send)
    with pytest.raises(InvalidBatchError) as info:
        client.write_points(data, "m", tag_columns=["host"], batch_size=5, time_precision="s")
    assert send.sent == [0, 1] and send.lines == [4, 5]
    assert info.value.progress == Progress(2, 9, 2, 2)
    assert "resume with points[9:]" in str(info.value)


def test_a_dataframe_json_write_refuses_a_row_without_fields_with_its_progress(monkeypatch):
    data = frame(12)[["v"]]
    data.iloc[11, 0] = np.nan  # json: a point without fields (the line protocol drops the row)
    send = Recorder(5)
    client = frame_client(monkeypatch, send)
    with pytest.raises(InvalidBatchError) as info:
        client.write_points(data, "m", batch_size=5, protocol="json", time_precision="s")
    assert send.sent == [0, 1]
    assert info.value.progress == Progress(2, 10, 2, 2)
    lines = Recorder(5)
    frame_client(monkeypatch, lines).write_points(data, "m", batch_size=5, time_precision="s")
    assert lines.lines == [5, 5, 1]


def test_a_server_error_on_the_second_slice_stops_the_dataframe_write(monkeypatch):
    conversions = Conversions(monkeypatch)
    send = Recorder(5, fail={1: InfluxDBServerError("boom")})
    client = frame_client(monkeypatch, send)
    with pytest.raises(WriteServerError) as info:
        client.write_points(frame(30), "m", batch_size=5, time_precision="s")
    assert send.sent == [0, 1]
    assert info.value.progress == Progress(1, 5, 5, None)
    assert sorted(conversions.threads) == [0, 1, 2]  # slice 4 was never converted


def test_keyboard_interrupt_in_a_dataframe_write_leaves_no_thread(monkeypatch):
    send = Recorder(5, fail={1: KeyboardInterrupt()})
    client = frame_client(monkeypatch, send)
    with pytest.raises(KeyboardInterrupt):
        client.write_points(frame(30), "m", batch_size=5, time_precision="s")
    assert send.sent == [0, 1]


def test_a_dataframe_in_one_slice_starts_no_thread_and_keeps_the_callers_frame(monkeypatch):
    alive: List[List[threading.Thread]] = []
    send = Recorder(1000)
    send.before_return = lambda batch: alive.append(serializer_threads())
    client = frame_client(monkeypatch, send)
    data = frame(12)
    naive = data.tz_localize(None)
    client.write_points(data, "m", batch_size=50, time_precision="s")
    client.write_points(naive, "m", protocol="json", time_precision="s")
    assert alive == [[], []]
    assert naive.index.tz is None  # the json conversion localized a copy's index, not the caller's
