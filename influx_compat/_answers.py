"""Reading ``/query`` answers into 1.x JSON, whatever the server sent.

* MessagePack (2.x, as influxdb-python asked): maps, times as extension 5;
* JSON (InfluxDB 3 always: its MessagePack encodes structs as positional
  arrays, core/iox_v1_query_api/src/response/msgpack.rs);
* chunked answers: one JSON document per line (1.x, 2.x), or documents
  written back to back without newlines (InfluxDB 3,
  core/iox_v1_query_api/src/response/json.rs), parsed as a stream.

Times without ``epoch`` are shown as influxdb-python 5.3.2 showed them:
``datetime.isoformat()`` of the time rounded to the microsecond, plus ``Z``.
"""

from __future__ import annotations

import codecs
import json
import struct
from collections import deque
from datetime import datetime, timedelta
from itertools import repeat
from operator import itemgetter, setitem
from typing import Any, Callable, Dict, Iterator, List, Optional

import requests

try:  # influxdb-python 5.3.2 required msgpack and asked for MessagePack answers; so do we when it is there
    import msgpack as _msgpack
except ImportError:  # pragma: no cover - JSON then
    _msgpack = None

_fast_loads: Optional[Callable[[bytes], Any]] = None
try:  # an optional accelerator for JSON answers (InfluxDB 3 answers JSON only): pip install orjson
    from orjson import JSONDecodeError as _FastJSONError
    from orjson import loads as _orjson_loads

    _fast_loads = _orjson_loads
except ImportError:  # pragma: no cover - the standard library then
    _FastJSONError = ValueError  # type: ignore[misc,assignment]  # never raised: _fast_loads is None

__all__ = ["MSGPACK", "Rows", "decode", "read_all", "json_stream", "line_chunks", "legacy_times"]

MSGPACK = _msgpack is not None
_SECOND_TEXT: Dict[int, str] = {}
_UNPACK_TIME = struct.Struct(">QI").unpack
_decoder = json.JSONDecoder()


class Rows:
    """The rows of one series, read as one flat list: ``width`` values a row, in order.

    Only :class:`~influx_compat.resultset.ResultSet` reads these: its points
    come straight from the flat list, and its ``raw`` turns them back into
    the list of lists a JSON parser gives.
    """

    __slots__ = ("flat", "width")

    def __init__(self, flat: List[Any], width: int) -> None:
        self.flat = flat
        self.width = width

    def __len__(self) -> int:
        return len(self.flat) // self.width

    def tuples(self) -> Iterator[tuple[Any, ...]]:
        """Row after row (one tuple, reused by ``zip`` when the row is let go at once)."""
        return zip(*[iter(self.flat)] * self.width)

    def lists(self) -> List[List[Any]]:
        """The rows as the parser of the whole body would have given them."""
        return list(map(list, self.tuples()))


def decode(body: bytes, content_type: str, compact: bool = False) -> Any:
    """A /query answer: MessagePack when the server sent it, else JSON.

    :param compact: the rows of a JSON answer's series may come as
        :class:`Rows` (for a :class:`~influx_compat.resultset.ResultSet` only)
    """
    if content_type.startswith("application/x-msgpack") and _msgpack is not None:
        return _msgpack.unpackb(body, ext_hook=_msgpack_ext, raw=False, strict_map_key=False)
    if compact:
        answer = _compact(body)
        if answer is not None:
            return answer
    return _loads(body)


def _loads(body: bytes) -> Any:
    if _fast_loads is not None:
        try:
            return _fast_loads(body)
        except _FastJSONError:  # e.g. an integer beyond 64 bits: the standard parser takes it
            pass
    return json.loads(body)


def _compact(body: bytes) -> Optional[Dict[str, Any]]:
    """A JSON answer whose series of several rows hold :class:`Rows`, or None to parse it as it is.

    A parser gives each row its own list: 100,000 lists for 100,000 rows,
    each tracked by the garbage collector until the answer is let go, and
    enough of them to start a full collection over the whole heap while the
    answer is read.  With the ``],[`` between rows taken out, a series'
    values parse as one list (``[[r0v0, ..., r0vN, r1v0, ...]]``).  This is
    only right when every ``],[`` of the body is between two rows: the
    answer is taken only when the rows found (the flat values over the
    number of columns) account for every one of them; any ``],[`` inside a
    string, anything but one list of a series' values, or values that do not
    fill whole rows, and the body is parsed as it is.  InfluxDB writes every
    row with one value a column (1.x and 2.x ``models.Row``, 3.x
    core/iox_v1_query_api/src/response/json.rs); rows of unequal lengths
    whose values add up to whole rows are the one body this would read
    differently, and no server writes one.
    """
    start = body.find(b'"values"')
    end = body.find(b"]", start) if start >= 0 else -1
    if end < 0:
        return None  # no rows
    # What follows the first row says how rows are joined: "],[" (Go's encoding/json and serde_json:
    # 2.x, 3.x) or "], [" (Python's json.dumps: proxies, test servers); a wrong guess only means the
    # body is parsed as it is.
    joint = b"], [" if body.startswith(b", [", end + 1) else b"],["
    flat_body = body.replace(joint, b",")
    joints = (len(body) - len(flat_body)) // (len(joint) - 1)
    if not joints:
        return None  # no series of several rows: nothing to gain
    try:
        answer = _loads(flat_body)
    except ValueError:
        return None
    del flat_body
    if type(answer) is not dict or type(answer.get("results")) is not list:
        return None
    found: List[tuple[Dict[str, Any], List[Any], int]] = []
    rows = 0
    for result in answer["results"]:
        if type(result) is not dict:
            return None
        listed = result.get("series")
        if listed is None:
            continue
        if type(listed) is not list:
            return None
        for series in listed:
            if type(series) is not dict:
                return None
            values = series.get("values")
            if values is None:
                continue
            columns = series.get("columns")
            if type(values) is not list or type(columns) is not list or not columns:
                return None
            if not values:
                continue
            flat = values[0]
            if len(values) != 1 or type(flat) is not list or not flat or len(flat) % len(columns):
                return None
            count = len(flat) // len(columns)
            if count > 1:
                found.append((series, flat, len(columns)))
                rows += count - 1
    if rows != joints:
        return None
    for series, flat, width in found:
        series["values"] = Rows(flat, width)
    return answer


def _second_text(seconds: int) -> str:
    text = _SECOND_TEXT.get(seconds)
    if text is None:
        if len(_SECOND_TEXT) > 100_000:
            _SECOND_TEXT.clear()
        text = _SECOND_TEXT[seconds] = (datetime(1970, 1, 1) + timedelta(seconds=seconds)).isoformat()
    return text


def _legacy_time(seconds: int, nanos: int) -> str:
    """5.3.2's text of a time: microseconds rounded half to even, as ``timedelta`` rounds."""
    micros = round(nanos / 1000)
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    text = _second_text(seconds)
    return f"{text}.{micros:06d}Z" if micros else text + "Z"


def _msgpack_ext(code: int, data: bytes) -> Any:
    """Times in MessagePack answers (extension 5) as influxdb-python 5.3.2 showed them."""
    if code != 5 or len(data) != 12:
        assert _msgpack is not None
        return _msgpack.ExtType(code, data)
    seconds, nanos = _UNPACK_TIME(data)
    return _legacy_time(seconds, nanos)


def _rfc3339_to_legacy(text: Any) -> Any:
    """``2020-01-01T00:00:00.500Z`` (InfluxDB 3's AutoSi) as 5.3.2 showed it: ``...00.500000Z``.

    The second's text is kept as it is (5.3.2's is ``isoformat()`` of the same
    second); only the fraction is rounded to microseconds, and only a
    rounding up into the next second needs the calendar.
    """
    if not isinstance(text, str) or len(text) < 20 or text[-1] != "Z" or text[10] != "T" or text[4] != "-":
        return text
    if len(text) == 20:
        return text  # whole seconds: 5.3.2 wrote no fraction either
    fraction = text[20:-1]
    if text[19] != "." or not fraction.isdigit():
        return text
    if len(fraction) <= 6:
        micros = int(fraction) * 10 ** (6 - len(fraction))
    else:
        micros = round(int(fraction[:9].ljust(9, "0")) / 1000)
        if micros >= 1_000_000:
            return _next_second(text[:19])
    return f"{text[:19]}.{micros:06d}Z" if micros else text[:19] + "Z"


def _next_second(second: str) -> str:
    try:
        whole = datetime.strptime(second, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return second + "Z"
    return (whole + timedelta(seconds=1)).isoformat() + "Z"


def _ns_tails() -> Dict[str, str]:
    """The last four digits of a nanosecond fraction -> the text after its fifth digit, rounded.

    ``d6 d7 d8 d9`` rounds to ``d6`` or ``d6 + 1`` microseconds, half to even
    as ``timedelta`` rounds; the 500 keys with a carry out of ``d6`` are left
    out (those times take the general path).
    """
    tails: Dict[str, str] = {}
    for d6 in range(10):
        for rest in range(1000):
            up = rest > 500 or (rest == 500 and d6 % 2 == 1)
            if not (up and d6 == 9):
                tails[f"{d6}{rest:03d}"] = f"{d6 + up}Z"
    return tails


_NS_TAILS: Dict[str, str] = {}  # filled on the first answer (a missing key only means the general path)
_FIRST = itemgetter(0)


def _legacy_text(text: Any) -> Any:
    """One RFC3339 time of a JSON answer as 5.3.2 showed times: microseconds, whole seconds bare.

    3.x writes 0, 3, 6 or 9 fraction digits: each is a slice and a
    concatenation (nanoseconds: a table lookup for the rounding); anything
    else goes to :func:`_rfc3339_to_legacy`.
    """
    if type(text) is not str:
        return text
    size = len(text)
    if size == 30:  # nanoseconds
        tail = _NS_TAILS.get(text[25:29])
        if tail is not None and text[19] == "." and text[20:25].isdigit():
            if tail == "0Z" and text[20:25] == "00000":
                return text[:19] + "Z"
            return text[:25] + tail
    elif size == 20:  # whole seconds: 5.3.2 wrote no fraction either
        return text
    elif size == 27:  # microseconds: 5.3.2's own form
        if text[19] == ".":
            return text[:19] + "Z" if text[20:26] == "000000" else text
    elif size == 24:  # milliseconds
        if text[19] == ".":
            return text[:19] + "Z" if text[20:23] == "000" else text[:23] + "000Z"
    return _rfc3339_to_legacy(text)


def legacy_times(answer: Dict[str, Any]) -> Dict[str, Any]:
    """Rewrite the RFC3339 ``time`` column of a JSON answer as 5.3.2 showed times (in place).

    One pass over the column, driven by ``map`` (no Python loop a row); the
    rewrite leaves 5.3.2's own form as it is, so a row already rewritten may
    meet it again.
    """
    if not _NS_TAILS:
        _NS_TAILS.update(_ns_tails())
    for result in answer.get("results", ()):
        for series in result.get("series", ()):
            columns = series.get("columns") or ()
            if not columns or columns[0] != "time":
                continue
            values = series.get("values")
            if not values:
                continue
            if type(values) is Rows:  # the time of every row: every width-th value
                flat, width = values.flat, values.width
                flat[::width] = list(map(_legacy_text, flat[::width]))
                continue
            try:
                deque(map(setitem, values, repeat(0), map(_legacy_text, map(_FIRST, values))), maxlen=0)
            except IndexError:  # an empty row (never sent by a server): row by row
                for row in values:
                    if row:
                        row[0] = _legacy_text(row[0])
    return answer


def read_all(response: Any) -> bytes:
    """The whole body in large reads (requests reads 10 KiB at a time), connection kept alive."""
    if not hasattr(response.raw, "release_conn"):  # a response built by hand (tests, adapters)
        content: bytes = response.content
        return content
    try:
        body: bytes = response.raw.read(decode_content=True)
    except Exception:
        response.close()
        raise
    response.raw.release_conn()
    return body


def line_chunks(response: requests.Response) -> Iterator[Dict[str, Any]]:
    """The JSON documents of a chunked /query answer, one per line, as they arrive."""
    try:
        for line in response.iter_lines():
            if line:
                yield json.loads(line)
    finally:
        response.close()


def json_stream(
    response: requests.Response, legacy: bool = False, chunk_size: int = 64 * 1024
) -> Iterator[Dict[str, Any]]:
    """The JSON documents of a chunked answer, back to back or one per line, as they arrive.

    Memory stays bounded by one document plus one read.

    :param legacy: rewrite times as 5.3.2 showed them (answers without ``epoch``)
    """
    buffer = ""
    # A character may be split between two reads; and a document can only end where a '}' is last.
    text_of = codecs.getincrementaldecoder("utf-8")()
    try:
        for piece in response.iter_content(chunk_size=chunk_size, decode_unicode=False):
            buffer += text_of.decode(piece) if isinstance(piece, bytes) else piece
            if not buffer.rstrip().endswith("}"):
                continue
            buffer, documents = _split_documents(buffer)
            for doc in documents:
                yield legacy_times(doc) if legacy else doc
        buffer += text_of.decode(b"", final=True)
        buffer, documents = _split_documents(buffer)
        for doc in documents:
            yield legacy_times(doc) if legacy else doc
        if buffer.strip():
            raise ValueError(f"truncated JSON document at the end of a chunked answer: {buffer[:80]!r}")
    finally:
        response.close()


def _split_documents(buffer: str) -> tuple[str, List[Dict[str, Any]]]:
    """Complete documents at the start of ``buffer``, and what is left of it."""
    documents: List[Dict[str, Any]] = []
    position = 0
    size = len(buffer)
    while True:
        while position < size and buffer[position] in " \t\r\n":
            position += 1
        if position >= size:
            return "", documents
        try:
            doc, end = _decoder.raw_decode(buffer, position)
        except json.JSONDecodeError:
            return buffer[position:], documents  # incomplete: wait for more
        documents.append(doc)
        position = end


def first_error(answer: Dict[str, Any]) -> Optional[str]:
    """The error text of the first failed statement of an answer, if any."""
    for result in answer.get("results", ()):
        error = result.get("error")
        if isinstance(error, str):
            return error
    return None
