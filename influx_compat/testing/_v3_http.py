"""What the 3.x test server's routes share: its context, answers, bodies, durations.

``influxdb3_server/src/http.rs`` answers most errors as plain text, some as
``{"error": ...}`` JSON; a handler that fails is not given the CORS header
that successful answers get (``route_request``), so failures travel as
:class:`Fail`.
"""

from __future__ import annotations

import gzip
import io
import json
import re
import zlib
from dataclasses import dataclass
from typing import Any, Dict, Optional

from influx_compat.testing._engine import Engine
from influx_compat.testing._http import Request, Response
from influx_compat.testing._v3_catalog import Catalog, Database

__all__ = [
    "V3Context",
    "BodyError",
    "Fail",
    "text",
    "json_answer",
    "json_request",
    "read_body",
    "decode_utf8",
    "parse_humantime",
    "FLAVOURS",
]

FLAVOURS = ("core", "enterprise", "dedicated")


@dataclass
class V3Context:
    """One server's flavour, catalog and engine; ``max_request_size`` as ``--max-http-request-size``."""

    flavour: str
    catalog: Catalog
    engine: Engine
    max_request_size: int
    version: str

    @property
    def dedicated(self) -> bool:
        return self.flavour == "dedicated"

    def create_engine_database(self, db: Database) -> None:
        self.engine.execute(f'CREATE DATABASE "{db.engine_name}"')

    def drop_engine_database(self, db: Database) -> None:
        self.engine.execute(f'DROP DATABASE "{db.engine_name}"')

    def drop_engine_measurement(self, db: Database, table: str) -> None:
        name = table.replace("\\", "\\\\").replace('"', '\\"')
        self.engine.execute(f'DROP MEASUREMENT "{name}"', db.engine_name)


class BodyError(Exception):
    """A body that cannot be read: the status and text http.rs answers."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Fail(Exception):
    """A failed request: its answer, sent without the success-only headers."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def text(status: int, body: str, content_type: Optional[str] = None) -> Response:
    return Response(status, body.encode(), content_type)


def json_answer(status: int, obj: Any) -> Response:
    """serde_json's compact encoding, as ``ErrorMessage`` and the v2 write errors are written."""
    return Response(status, json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode())


def read_body(req: Request, limit: int) -> bytes:
    """http.rs read_body: gzip or identity only, the size capped before and after decompression.

    Raises BodyError.
    """
    encoding = req.header("Content-Encoding")
    if encoding not in (None, "identity", "gzip"):
        raise BodyError(400, f"unacceptable content-encoding: {encoding}")
    if len(req.raw_body) > limit:
        raise BodyError(413, f"max request size ({limit} bytes) exceeded")
    if encoding != "gzip":
        return req.raw_body
    try:  # MultiGzDecoder reads every member; read one byte past the cap to tell a bomb from a fit
        data = gzip.GzipFile(fileobj=io.BytesIO(req.raw_body)).read(limit + 1)
    except (OSError, EOFError, zlib.error) as exc:
        raise BodyError(400, f"error decoding gzip stream: {exc}") from None
    if len(data) > limit:
        raise BodyError(413, f"max request size ({limit} bytes) exceeded")
    return data


def decode_utf8(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        size = exc.end - exc.start
        raise BodyError(
            400,
            f"body content is not valid utf8: invalid utf-8 sequence of {size} bytes from index {exc.start}",
        ) from None


_HUMANTIME_UNITS: Dict[str, float] = {}
for _names, _seconds in (
    (("nsec", "ns"), 1e-9),
    (("usec", "us"), 1e-6),
    (("msec", "ms"), 1e-3),
    (("seconds", "second", "secs", "sec", "s"), 1),
    (("minutes", "minute", "mins", "min", "m"), 60),
    (("hours", "hour", "hrs", "hr", "h"), 3600),
    (("days", "day", "d"), 86400),
    (("weeks", "week", "w"), 604800),
    (("months", "month", "M"), 2630016),
    (("years", "year", "y"), 31557600),
):  # the humantime crate's units; a month is 30.44 days, a year 365.25
    for _name in _names:
        _HUMANTIME_UNITS[_name] = _seconds
_HUMANTIME_PART = re.compile(r"\s*(\d+)\s*([A-Za-z]+)")


def parse_humantime(value: str) -> int:
    """Seconds of a humantime duration (``30d``, ``1h 30m``); ValueError with humantime's message."""
    pos, total = 0, 0.0
    value = value.strip()
    if not value:
        raise ValueError("value was empty")
    while pos < len(value):
        m = _HUMANTIME_PART.match(value, pos)
        if m is None:
            raise ValueError(f"expected number at {pos}")
        if m.group(2) not in _HUMANTIME_UNITS:
            raise ValueError(
                f'unknown time unit "{m.group(2)}", supported units: ns, us, ms, sec, min, hours, days, '
                "weeks, months, years (and few variations)"
            )
        total += int(m.group(1)) * _HUMANTIME_UNITS[m.group(2)]
        pos = m.end()
    return int(total)


def json_request(req: Request) -> Any:
    """http.rs read_body_json: a JSON content type (else 415), then the parsed body (else 400)."""
    ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
    if not (ctype == "application/json" or (ctype.startswith("application/") and ctype.endswith("+json"))):
        raise Fail(text(415, "unacceptable content-type, expected: application/json"))
    try:
        return json.loads(req.raw_body.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise Fail(text(400, f"serde json error: {exc}")) from None
