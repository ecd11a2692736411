"""The translation core: 1.x writes, queries and statements onto InfluxDB 2.x.

One :class:`Core` serves the :class:`~influx_compat.client.InfluxDBClient`, the
launcher and the v1-to-v2 proxy.  It speaks in bytes and 1.x JSON
(``{"results": [...]}``); the client wraps answers into ``ResultSet`` objects.

Writes go to ``POST /api/v2/write?org=..&bucket=..&precision=ns|us|ms|s`` with
the token in the ``Authorization`` header.  Without a token (legacy user and
password only) they go to 2.x's 1.x-compatible ``/write``, which accepts HTTP
Basic credentials.  Queries go to the 1.x-compatible ``/query``; statements
2.x rejects are routed to :class:`~influx_compat._management.Management`.
"""

from __future__ import annotations

import json
import re
import struct
from datetime import datetime, timedelta
from typing import Any, Dict, Iterator, List, Optional, Tuple

from influx_compat._config import TOKEN_HELP, Settings
from influx_compat._influxql import (
    InfluxQLSyntaxError,
    Statement,
    parse_error,
    parse_query,
    qualified_sources,
)
from influx_compat._management import Management
from influx_compat._mapping import DEFAULT_RP, BucketResolver, Target
from influx_compat._transport import Transport, error_message
from influx_compat._v2api import V2Api
from influx_compat.exceptions import (
    AuthenticationError,
    DatabaseNotFoundError,
    InfluxDBClientError,
    UnsupportedOperationError,
)

try:  # influxdb-python 5.3.2 required msgpack and asked for MessagePack answers; so do we when it is there
    import msgpack as _msgpack
except ImportError:  # pragma: no cover - JSON then
    _msgpack = None

__all__ = ["Core", "WIRE_PRECISION"]

# 1.x precision -> (2.x precision, factor applied to the timestamps).
# 2.x knows ns, us, ms and s only; it silently reads anything else as ns.
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

_DB_NOT_FOUND = re.compile(r"^database not found: (.*)$")
_RP_NOT_FOUND = re.compile(r"^retention policy not found: (.*)$")
_TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}


class Core:
    """Translation of one client's operations.

    :param settings: resolved settings
    :param transport: the HTTP transport
    """

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self.transport = transport
        self.api = V2Api(transport, settings.org)
        self.resolver = BucketResolver(self.api, settings.bucket_map)
        self.management = Management(self.api, self.resolver, remote=self._remote_json)

    # -- writing -----------------------------------------------------------

    def write(self, body: bytes, database: str, retention_policy: Optional[str],
              precision: Optional[str], consistency: Optional[str] = None) -> None:
        """Send one batch of line protocol.

        :param body: the line protocol, UTF-8
        :param precision: the 2.x precision (``ns``, ``us``, ``ms`` or ``s``);
            None for line protocol in nanoseconds
        :param consistency: passed on to 1.x-compatible /write (2.x ignores it)
        :raises InfluxDBClientError: with the server's readable message
        """
        self._write_split(body, database, retention_policy, precision, consistency)

    def _write_split(self, body: bytes, database: str, retention_policy: Optional[str],
                     precision: Optional[str], consistency: Optional[str]) -> None:
        """Send a batch; on 413 (too large) send its halves, down to single lines.

        An error raised here carries ``lines_written``: the lines of this
        batch that were stored before it.
        """
        try:
            self._write_one(body, database, retention_policy, precision, consistency)
            return
        except InfluxDBClientError as exc:
            if exc.code != 413:
                raise
            cut = _middle_newline(body)
            if cut is None:
                raise InfluxDBClientError(
                    f"{exc.content} -- a single line of {len(body):,} bytes is larger than the "
                    "server accepts", 413) from None
        first, second = body[:cut], body[cut:]
        self._write_split(first, database, retention_policy, precision, consistency)
        try:
            self._write_split(second, database, retention_policy, precision, consistency)
        except Exception as exc:
            done = first.count(b"\n") + (0 if first.endswith(b"\n") else 1)
            exc.lines_written = done + getattr(exc, "lines_written", 0)  # type: ignore[attr-defined]
            raise

    def _write_one(self, body: bytes, database: str, retention_policy: Optional[str],
                   precision: Optional[str], consistency: Optional[str]) -> None:
        if not self.transport.has_token:
            self._write_v1(body, database, retention_policy, precision, consistency)
            return
        precision = precision or "ns"
        try:
            target = self.resolver.resolve(database, retention_policy)
        except AuthenticationError:
            # A write-only token cannot list mappings; 2.x's /write resolves them itself.
            self._write_v1(body, database, retention_policy, precision, consistency)
            return
        for attempt in (1, 2):
            response = self.transport.request(
                "POST", "api/v2/write",
                params={"org": self.api.org_name_or_id, "bucket": target.bucket,
                        "precision": precision},
                data=body, headers=_TEXT_PLAIN, raw=True,
            )
            if response.status_code == 204:
                return
            if response.status_code == 404 and "bucket" in error_message(response):
                if attempt == 1 and target.source == "dbrp":
                    self.resolver.forget(database)  # the mapped bucket went away
                    target = self.resolver.resolve(database, retention_policy)
                    continue
                raise self._missing_database(database, retention_policy, target, 404)
            raise self.transport.error_for(response)

    def _write_v1(self, body: bytes, database: str, retention_policy: Optional[str],
                  precision: Optional[str], consistency: Optional[str]) -> None:
        # The parameters influxdb-python sent, in its order, with a precision 2.x understands.
        params: Dict[str, str] = {"db": database}
        if consistency is not None:
            params["consistency"] = consistency
        if precision is not None:
            params["precision"] = precision
        if retention_policy is not None:
            params["rp"] = retention_policy
        response = self.transport.request(
            "POST", "write", params=params, data=body, headers=_TEXT_PLAIN, raw=True, v1=True
        )
        if response.status_code == 204:
            return
        if response.status_code == 404 and "dbrp" in error_message(response):
            raise self._missing_database(database, retention_policy, None, 404)
        raise self.transport.error_for(response)

    def _missing_database(self, database: str, retention_policy: Optional[str],
                          target: Optional[Target], code: Optional[int]) -> DatabaseNotFoundError:
        where = f"database {database!r}"
        if retention_policy:
            where += f" (retention policy {retention_policy!r})"
        bucket = f" and no bucket named {target.bucket_name!r}" if target and target.bucket_name else ""
        return DatabaseNotFoundError(
            f"database not found: {database}: InfluxDB 2.x has no DBRP mapping for {where}{bucket}. "
            f"Create it with client.create_database({database!r})"
            + (f" / client.create_retention_policy({retention_policy!r}, ...)"
               if retention_policy else "")
            + ", or map it to an existing bucket with bucket_map=",
            database=database, code=code,
        )

    # -- querying ----------------------------------------------------------

    def query(self, params: Dict[str, Any], method: str = "GET", chunked: bool = False,
              expected: int = 200) -> Any:
        """Run InfluxQL; return 1.x JSON, or an iterator of JSON chunks when chunked.

        :param params: the /query parameters (``q``, ``db``, ``rp``, ``epoch``, ...)
        """
        text = params.get("q") or ""
        try:
            statements = parse_query(text)
        except InfluxQLSyntaxError as exc:
            raise parse_error(exc) from None
        if not self.transport.has_token:
            # Without a token the v2 API is out of reach: send the InfluxQL as 1.x did.
            answer = self._remote(text, params, method, chunked, expected)
            return answer if chunked else _explain_not_implemented(answer)
        if not any(s.routed for s in statements):
            return self._remote(text, params, method, chunked, expected)
        results = self._mixed(statements, params, method, expected)
        if chunked:
            return iter([{"results": [r]} for r in results])
        return {"results": results}

    def _mixed(self, statements: List[Statement], params: Dict[str, Any], method: str,
               expected: int) -> List[Dict[str, Any]]:
        results: List[Dict[str, Any]] = []
        pending: List[Statement] = []

        def flush() -> bool:
            if not pending:
                return True
            text = ";\n".join(s.text for s in pending)
            offset = len(results)
            pending.clear()
            answer = self._remote(text, params, method, False, expected)
            for r in answer.get("results", []):
                r = dict(r)
                r["statement_id"] = r.get("statement_id", 0) + offset
                results.append(r)
                if "error" in r:
                    return False
            return True

        for statement in statements:
            if not statement.routed:
                pending.append(statement)
                continue
            if not flush():
                break
            try:
                result = self.management.execute(statement, params)
            except UnsupportedOperationError:
                raise
            except InfluxDBClientError as exc:
                if exc.code in (400, 401, 403):
                    raise
                result = {"error": str(exc.content)}
            result = dict(result, statement_id=len(results))
            results.append(result)
            if "error" in result:
                break
        else:
            flush()
        # Like 1.x: the statements after a failed one are reported as not executed.
        for _ in range(len(statements) - len(results)):
            results.append({"statement_id": len(results), "error": "not executed"})
        return results

    def _remote(self, text: str, params: Dict[str, Any], method: str, chunked: bool,
                expected: int) -> Any:
        params = dict(params, q=text)
        if not params.get("rp"):
            # 2.x ignores the policy written in FROM "db"."rp"."m": pass it as a parameter.
            qualified = {(db, rp) for db, rp in qualified_sources(text) if rp}
            if len(qualified) == 1:
                db, rp = qualified.pop()
                params["rp"] = rp
                if db and not params.get("db"):
                    params["db"] = db
        accept = "application/x-msgpack" if _msgpack is not None and not chunked else "application/json"
        for attempt in (1, 2):
            response = self.transport.request(
                method, "query", params=params, stream=True, expected=expected, v1=True,
                headers={"Accept": accept},
            )
            if chunked:
                return _chunks(response)
            answer = _decode(_read_all(response), response.headers.get("Content-Type", ""))
            if attempt == 1 and self._repair_mapping(answer, params):
                continue
            return answer
        return answer

    def _remote_json(self, text: str, params: Dict[str, Any]) -> Dict[str, Any]:
        answer: Dict[str, Any] = self._remote(text, params, "GET", False, 200)
        return answer

    def _repair_mapping(self, answer: Dict[str, Any], params: Dict[str, Any]) -> bool:
        """Create the DBRP mapping a failed query lacked when its bucket exists.

        :returns: True when a mapping was created and the query should run again
        """
        if not self.transport.has_token:
            return False
        for result in answer.get("results", []):
            error = result.get("error")
            if not isinstance(error, str):
                continue
            m = _DB_NOT_FOUND.match(error)
            if m:
                return self._ensure_mapping(m.group(1), params.get("rp") or None)
            m = _RP_NOT_FOUND.match(error)
            if m and params.get("db"):
                return self._ensure_mapping(params["db"], m.group(1))
        return False

    def _ensure_mapping(self, database: str, retention_policy: Optional[str]) -> bool:
        target = self.resolver.resolve(database, retention_policy)
        if target.source == "dbrp":
            return False
        try:
            if target.source == "user":
                bucket = self.api.find_bucket(target.bucket) or self.api.get_bucket(target.bucket)
            else:
                bucket = self.api.find_bucket(target.bucket)
        except AuthenticationError:
            return False
        if bucket is None:
            return False
        existing = self.resolver.mappings(database)
        self.api.create_dbrp(database, retention_policy or DEFAULT_RP, bucket["id"],
                             default=not existing and retention_policy in (None, DEFAULT_RP))
        self.resolver.forget(database)
        return True

    def ping(self) -> Any:
        return self.transport.request("GET", "ping", expected=204)


def _explain_not_implemented(answer: Dict[str, Any]) -> Dict[str, Any]:
    """Add what to do to 2.x's ``not implemented: X`` statement errors."""
    for result in answer.get("results", []):
        error = result.get("error")
        if isinstance(error, str) and error.startswith("not implemented: "):
            result["error"] = (
                f"{error} (InfluxDB 2.x rejects this InfluxQL statement; influx_compat "
                f"translates it onto the v2 API when it has a token. {TOKEN_HELP})"
            )
    return answer


def _middle_newline(body: bytes) -> Optional[int]:
    """Where to split a batch in two halves of whole lines (None for a single line)."""
    text = body.rstrip(b"\n")
    middle = len(text) // 2
    cut = text.rfind(b"\n", 0, middle + 1)
    if cut <= 0:
        cut = text.find(b"\n", middle)
    return None if cut <= 0 else cut + 1


def _decode(body: bytes, content_type: str) -> Any:
    """A /query answer: MessagePack when the server sent it (as influxdb-python asked), else JSON."""
    if content_type.startswith("application/x-msgpack") and _msgpack is not None:
        return _msgpack.unpackb(body, ext_hook=_msgpack_ext, raw=False, strict_map_key=False)
    return json.loads(body)


_SECOND_TEXT: Dict[int, str] = {}
_UNPACK_TIME = struct.Struct(">QI").unpack


def _msgpack_ext(code: int, data: bytes) -> Any:
    """Times in MessagePack answers (extension 5) as influxdb-python 5.3.2 showed them.

    That is ``datetime.isoformat()`` of the time rounded to the microsecond
    (half to even, as ``timedelta`` rounds) plus ``Z``; the text of each second
    is cached, since the rows of an answer share few of them.
    """
    if code != 5 or len(data) != 12:
        assert _msgpack is not None
        return _msgpack.ExtType(code, data)
    seconds, nanos = _UNPACK_TIME(data)
    micros = round(nanos / 1000)
    if micros >= 1_000_000:
        seconds, micros = seconds + 1, micros - 1_000_000
    text = _SECOND_TEXT.get(seconds)
    if text is None:
        if len(_SECOND_TEXT) > 100_000:
            _SECOND_TEXT.clear()
        text = _SECOND_TEXT[seconds] = (datetime(1970, 1, 1) + timedelta(seconds=seconds)).isoformat()
    return f"{text}.{micros:06d}Z" if micros else text + "Z"


def _read_all(response: Any) -> bytes:
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


def _chunks(response: Any) -> Iterator[Dict[str, Any]]:
    """The JSON documents of a chunked /query answer, one per line, as they arrive."""
    try:
        for line in response.iter_lines():
            if line:
                yield json.loads(line)
    finally:
        response.close()
