"""The proxy's request bodies: read as a stream, gzip inflated in bounded steps, cut into line batches.

A ``/write`` body is never held whole in memory.  It is read from the WSGI
input in chunks of :data:`READ_SIZE` bytes; a gzip body is inflated with
``zlib.decompressobj`` and ``max_length`` so that no step yields more than
:data:`INFLATE_STEP` bytes, however well the body compresses; the inflated
stream is cut into batches of whole lines (:func:`line_batches`).

1.x's ``max-body-size`` is measured here after decompression
(:class:`RequestBody`): a body larger than the limit is refused before
anything of it is sent, as 1.x refused it, and a gzip body that inflates past
the limit is found out by inflating it once without keeping the output.
"""

from __future__ import annotations

import io
import tempfile
import zlib
from typing import IO, Any, Dict, Iterable, Iterator, Optional

__all__ = [
    "BodyError",
    "BodyTooLarge",
    "RequestBody",
    "inflate",
    "limited",
    "line_batches",
    "READ_SIZE",
    "INFLATE_STEP",
]

READ_SIZE = 256 * 1024
INFLATE_STEP = 256 * 1024
_GZIP = 16 + zlib.MAX_WBITS
_SPOOL_IN_MEMORY = 1024 * 1024


class BodyError(Exception):
    """A body that cannot be read (bad gzip); the message is 1.x's kind of text."""


class BodyTooLarge(Exception):
    """A body larger than ``max-body-size`` (after decompression)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"request body larger than {limit:,} bytes")
        self.limit = limit


def raw_chunks(stream: IO[bytes], length: Optional[int], size: int = READ_SIZE) -> Iterator[bytes]:
    """The body as sent, ``size`` bytes at a time; ``length`` None reads to the end."""
    left = length
    while left is None or left > 0:
        data = stream.read(size if left is None else min(size, left))
        if not data:
            return
        if left is not None:
            left -= len(data)
        yield data


def inflate(chunks: Iterable[bytes], step: int = INFLATE_STEP) -> Iterator[bytes]:
    """Gzip chunks inflated, at most ``step`` bytes per piece; concatenated members are read as one.

    :raises BodyError: on a bad header, corrupt data or a truncated stream
    """
    inflater = zlib.decompressobj(_GZIP)
    started = False  # has the current member had any input
    for data in chunks:
        while data:
            started = True
            try:
                out = inflater.decompress(data, step)
            except zlib.error as exc:
                raise BodyError(_gzip_message(exc)) from None
            if out:
                yield out
            data = inflater.unconsumed_tail
            if inflater.eof:
                rest = inflater.unused_data + data
                if not rest.strip(b"\x00"):  # padding after the last member
                    data = b""
                    continue
                inflater, data, started = zlib.decompressobj(_GZIP), rest, False
                continue
            while not data and len(out) == step:  # the output was cut at ``step``: flush the rest
                try:
                    out = inflater.decompress(b"", step)
                except zlib.error as exc:
                    raise BodyError(_gzip_message(exc)) from None
                if out:
                    yield out
    if started and not inflater.eof:
        raise BodyError("unexpected EOF")


def _gzip_message(exc: zlib.error) -> str:
    text = str(exc)
    if "header" in text:
        return "gzip: invalid header"
    return f"gzip: invalid data ({text})"


def limited(chunks: Iterable[bytes], limit: int) -> Iterator[bytes]:
    """The chunks, raising :class:`BodyTooLarge` once more than ``limit`` bytes came (0: no limit)."""
    total = 0
    for chunk in chunks:
        total += len(chunk)
        if limit and total > limit:
            raise BodyTooLarge(limit)
        yield chunk


def line_batches(chunks: Iterable[bytes], lines: int, max_bytes: int) -> Iterator[bytes]:
    """The stream cut into batches of at most ``lines`` whole lines and about ``max_bytes`` bytes.

    A line is never split: a batch ends after a newline, or at the end of the
    stream; a single line longer than ``max_bytes`` is a batch of its own.
    Every byte is in one batch (blank ones too, so that line numbers add up).
    """
    pending = bytearray()
    newlines = 0
    for chunk in chunks:
        pending += chunk
        newlines += chunk.count(b"\n")
        while newlines >= lines or (newlines and len(pending) >= max_bytes):
            cut = _cut(pending, lines, max_bytes)
            batch = bytes(pending[:cut])
            del pending[:cut]
            newlines -= batch.count(b"\n")
            yield batch
    if pending:
        yield bytes(pending)


def _cut(pending: bytearray, lines: int, max_bytes: int) -> int:
    """Where the next batch ends: after the ``lines``-th newline, or the last one before ``max_bytes``.

    Newlines are counted by ``bytes.count`` from a guess made with the mean
    line length, then the few between the guess and the cut are stepped over.
    """
    limit = min(len(pending), max_bytes)
    found = pending.count(b"\n", 0, limit)
    if found == 0:  # one line longer than max_bytes: a batch of its own
        return pending.find(b"\n") + 1
    if found <= lines:
        return pending.rfind(b"\n", 0, limit) + 1
    guess = max(1, limit * lines // found)
    before = pending.count(b"\n", 0, guess)
    if before < lines:
        end = guess - 1
        for _ in range(lines - before):
            end = pending.find(b"\n", end + 1)
    else:
        end = guess
        for _ in range(before - lines + 1):
            end = pending.rfind(b"\n", 0, end)
    return end + 1


class RequestBody:
    """A WSGI request body: its size checked against ``limit`` first, then read as inflated chunks.

    :param environ: the WSGI environ (``wsgi.input``, ``CONTENT_LENGTH``,
        ``HTTP_CONTENT_ENCODING``)
    :param limit: the largest body accepted, in bytes after decompression; 0 for no limit
    """

    def __init__(self, environ: Dict[str, Any], limit: int) -> None:
        self.stream: IO[bytes] = environ.get("wsgi.input") or io.BytesIO()
        self.length = _content_length(environ)
        self.gzip = environ.get("HTTP_CONTENT_ENCODING", "").strip().lower() == "gzip"
        self.limit = limit
        self._spool: Optional[IO[bytes]] = None

    def check(self) -> None:
        """Refuse a body larger than the limit before any of it is used.

        A plain body with a length is judged by its length.  A gzip body (or a
        body of unknown length) is read once, inflated and counted, keeping
        nothing but the compressed bytes (in a temporary file when the WSGI
        input cannot be read twice), then read again by :meth:`chunks`.

        :raises BodyTooLarge: when it is larger
        :raises BodyError: when a gzip body is not valid gzip
        """
        if not self.limit:
            return
        if self.length is not None and self.length > self.limit:
            raise BodyTooLarge(self.limit)  # larger on the wire: larger inflated too, or not gzip
        if not self.gzip and self.length is not None:
            return
        start = _tell(self.stream)
        source: Iterable[bytes] = raw_chunks(self.stream, self.length)
        if start is None:
            self._spool = tempfile.SpooledTemporaryFile(max_size=_SPOOL_IN_MEMORY)
            source = _copied(source, self._spool)
        for _ in limited(inflate(source) if self.gzip else source, self.limit):
            pass
        if self._spool is not None:
            self._spool.seek(0)
        else:
            assert start is not None
            self.stream.seek(start)

    def chunks(self) -> Iterator[bytes]:
        """The body's bytes, inflated; :class:`BodyTooLarge` past the limit (the check was skipped)."""
        stream = self._spool if self._spool is not None else self.stream
        length = None if self._spool is not None else self.length
        raw = raw_chunks(stream, length)
        return limited(inflate(raw) if self.gzip else raw, self.limit)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def _content_length(environ: Dict[str, Any]) -> Optional[int]:
    try:
        return max(0, int(environ.get("CONTENT_LENGTH") or ""))
    except ValueError:
        return None if environ.get("wsgi.input_terminated") else 0


def _tell(stream: IO[bytes]) -> Optional[int]:
    """The stream's position when it can be read again from there (a file), else None."""
    try:
        if hasattr(stream, "seekable") and not stream.seekable():
            return None
        return stream.tell()
    except (AttributeError, OSError, ValueError):
        return None


def _copied(chunks: Iterable[bytes], into: IO[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        into.write(chunk)
        yield chunk
