"""A v1 proxy: programs that speak InfluxDB 1.x HTTP reach InfluxDB 2.x or 3 unchanged.

It serves 1.x's ``/ping``, ``/query`` and ``/write`` and translates them with
the same core as :class:`~influx_compat.client.InfluxDBClient`: management
statements (``CREATE DATABASE``, retention policies, users, grants,
``DROP SERIES``, ...) go to the server's management API (2.x's v2 API, 3.x's
configure API), writes go through the same write pipeline (the bucket or
database of (db, rp), the precisions the server understands), and the token
is the proxy's, never the caller's.  It is a WSGI application, served by waitress
(``pip install influx_compat[proxy]``)::

    INFLUX_HOST=https://influx2:8086 INFLUX_TOKEN=... INFLUX_ORG=my-org \\
        python -m influx_compat proxy --listen 127.0.0.1:8086

For the operator (docs/proxy.md has the whole page):

* it prints one start-up line (listening address, upstream, org, flavour,
  who may call it, the limits) and refuses to start without a token, or open
  to callers on a non-loopback address without ``--user``;
* one access-log line per request, 1.x's own format, without any secret;
* 1.x's limits, with 1.x's answers: ``max-body-size`` (25 MB, measured after
  decompression: 413 ``{"error":"Request Entity Too Large"}``) and
  ``max-concurrent-write-limit`` (503 ``request throttled, ...``);
* a large ``/write`` body is streamed: gzip inflated in bounded steps, cut
  into batches of whole lines, each sent as it comes; an error says how many
  lines of the body were stored before it.

Callers are not authenticated unless ``--user NAME:PASSWORD`` is given (then
1.x credentials, as ``u``/``p`` parameters, HTTP Basic or ``Token user:pass``,
must match).
"""

from __future__ import annotations

import argparse
import base64
import hmac
import ipaddress
import json
import logging
import logging.handlers
import os
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs

import requests

from influx_compat import _writer
from influx_compat._core import Core
from influx_compat._proxy_body import BodyError, BodyTooLarge, RequestBody, line_batches
from influx_compat._proxy_log import ACCESS_LOGGER, LoggedBody, access_line
from influx_compat._proxy_throttle import Throttler
from influx_compat._writer import WIRE_PRECISION
from influx_compat.exceptions import (
    AuthenticationError,
    DatabaseNotFoundError,
    InfluxDBClientError,
    InfluxDBError,
    InfluxDBServerError,
    PartialWriteError,
    WriteProgress,
)

__all__ = ["ProxyApp", "Limits", "ProxyConfigError", "build", "serve", "main", "startup_line"]

log = logging.getLogger("influx_compat.proxy")

StartResponse = Callable[..., Any]
Headers = List[Tuple[str, str]]
_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Request Entity Too Large",
    422: "Unprocessable Entity",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
BUILD = "influx_compat proxy"
TOO_LARGE = "Request Entity Too Large"  # 1.x's text: http.StatusText(413), services/httpd/handler.go
LINES_HEADER = "X-Influx-Compat-Lines-Stored"
_CONSISTENCIES = ("any", "one", "quorum", "all")
_USER_ENV = "INFLUX_COMPAT_PROXY_USER"


class ProxyConfigError(ValueError):
    """The proxy cannot start as configured; the message says what to give it."""


@dataclass(frozen=True)
class Limits:
    """The proxy's request limits (1.x's ``[http]`` settings of the same names).

    :ivar max_body_size: the largest ``/write`` (or form ``/query``) body, in
        bytes after decompression; 0 for no limit.  1.x's default, 25,000,000.
    :ivar max_concurrent_write_limit: writes running at once; 0 for no limit
        (the server's threads are then the only bound)
    :ivar max_enqueued_write_limit: writes waiting for a turn beyond those; 0
        for no limit on the waiting ones (each still waits at most the timeout)
    :ivar enqueued_write_timeout: seconds a write waits for its turn; 0 to wait
        as long as it takes (1.x's default, 30)
    :ivar batch_lines: lines per batch sent upstream, cut from the streamed body
    :ivar batch_bytes: bytes after which a batch is cut even with fewer lines
    """

    max_body_size: int = 25_000_000
    max_concurrent_write_limit: int = 8
    max_enqueued_write_limit: int = 4
    enqueued_write_timeout: float = 30.0
    batch_lines: int = 10_000
    batch_bytes: int = 8 * 1024 * 1024


class _Exchange:
    """What one request leaves for its access-log line."""

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        self.user: Optional[str] = None
        self.status = "500 Internal Server Error"


class ProxyApp:
    """The WSGI application.

    :param user: ``(name, password)`` callers must give, or None to accept every caller
    :param limits: body size, concurrent writes and batch size (:class:`Limits`)
    :param access_log: False for no access-log lines (they go to the
        ``influx_compat.proxy.access`` logger, at INFO)
    :param allow_no_token: True to run without a token for the upstream (an
        InfluxDB 3 started with ``--without-auth``); else no token raises
        :class:`ProxyConfigError`
    :param client_kwargs: how to reach the server: ``url``, ``token``, ``org``,
        ``flavour``, ``bucket_map``, ``timeout``, ``verify_ssl``, ``retries``,
        ``pool_size``, ... (else the environment, as for the client)
    """

    def __init__(
        self,
        user: Optional[Tuple[str, str]] = None,
        *,
        limits: Optional[Limits] = None,
        access_log: bool = True,
        allow_no_token: bool = False,
        **client_kwargs: Any,
    ) -> None:
        self.core = Core.from_options(**client_kwargs)
        self.user = user
        self.limits = limits or Limits()
        self.access_log = access_log
        self.throttle = Throttler(
            self.limits.max_concurrent_write_limit,
            self.limits.max_enqueued_write_limit,
            self.limits.enqueued_write_timeout,
        )
        self.version = ""
        credentials = self.core.credentials
        if not allow_no_token and credentials.token is None and not credentials.has_legacy:
            raise ProxyConfigError(
                f"influx_compat proxy: no token for the upstream {self.core.settings.base_url}: set "
                "INFLUX_TOKEN (and INFLUX_ORG for InfluxDB 2.x) or run 'influx config create'; without one "
                "every request would be answered 401. (Only for an InfluxDB 3 started with --without-auth: "
                "--without-token.)"
            )

    @property
    def upstream(self) -> str:
        return self.core.settings.base_url

    # -- WSGI --------------------------------------------------------------

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.monotonic()
        exchange = _Exchange(
            environ.get("HTTP_X_REQUEST_ID") or environ.get("HTTP_REQUEST_ID") or str(uuid.uuid4())
        )

        def respond(status: str, headers: Headers, exc_info: Any = None) -> Any:
            exchange.status = status
            names = {name.lower() for name, _ in headers}
            extra = [("X-Influxdb-Build", BUILD), ("X-Influxdb-Version", self.version)]
            extra += [("Request-Id", exchange.request_id), ("X-Request-Id", exchange.request_id)]
            headers = headers + [(k, v) for k, v in extra if k.lower() not in names]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = self._handle(environ, respond, exchange)
        if not self.access_log:
            return body

        def done(sent: int) -> None:
            ACCESS_LOGGER.info(
                access_line(environ, exchange.status, sent, started, exchange.user, exchange.request_id)
            )

        return LoggedBody(body, done)

    def _handle(
        self, environ: Dict[str, Any], start_response: StartResponse, exchange: _Exchange
    ) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        params = _params(environ.get("QUERY_STRING", ""))
        database = params.get("db")
        try:
            if path == "/ping":
                return self._ping(params, start_response)
            if path not in ("/query", "/write"):
                return _json(
                    start_response, 404, {"error": f"{path} is not served by the influx_compat proxy"}
                )
            if path == "/query" and method == "POST":
                if environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
                    form = self._read_form(environ)
                    if form is None:
                        return _json(start_response, 413, {"error": TOO_LARGE})
                    params.update(_params(form))
            refused = self._authenticate(environ, params, exchange)
            if refused is not None:
                return _json(
                    start_response,
                    401,
                    {"error": refused},
                    [("WWW-Authenticate", 'Basic realm="InfluxDB"')],
                )
            if path == "/query":
                return self._query(params, method, start_response)
            if method != "POST":
                return _json(start_response, 405, {"error": "use POST to write"})
            return self._write(params, environ, start_response)
        except (InfluxDBError, requests.exceptions.RequestException) as exc:
            status, message = self._caller_error(exc, database, params.get("rp"))
            return _json(start_response, status, {"error": message})
        except Exception:  # noqa: BLE001 - the caller gets an answer, the operator the traceback
            log.exception("%s %s failed", method, path)
            return _json(start_response, 500, {"error": "influx_compat proxy: internal error (see its log)"})

    # -- callers -------------------------------------------------------------

    def _authenticate(
        self, environ: Dict[str, Any], params: Dict[str, str], exchange: _Exchange
    ) -> Optional[str]:
        """None when the caller may go on, else 1.x's 401 text (services/httpd/handler.go)."""
        if self.user is None:
            return None
        name, password = params.get("u"), params.get("p")
        if not (name and password):
            name = password = None
            scheme, _, value = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
            if scheme == "Basic":
                try:
                    name, _, password = base64.b64decode(value).decode("utf-8").partition(":")
                except ValueError:
                    return "unable to parse authentication credentials"
            elif scheme == "Token" and ":" in value:
                name, _, password = value.partition(":")
        if name is None or password is None:
            return "unable to parse authentication credentials"
        if not name:
            return "username required"
        if hmac.compare_digest(name.encode(), self.user[0].encode()) and hmac.compare_digest(
            password.encode(), self.user[1].encode()
        ):
            exchange.user = name
            return None
        return "authorization failed"

    def _read_form(self, environ: Dict[str, Any]) -> Optional[str]:
        """A form body (``POST /query``), None when larger than ``max_body_size``."""
        body = RequestBody(environ, self.limits.max_body_size)
        try:
            body.check()
            return b"".join(body.chunks()).decode("utf-8", errors="replace")
        except BodyTooLarge:
            return None
        finally:
            body.close()

    # -- endpoints -----------------------------------------------------------

    def _ping(self, params: Dict[str, str], start_response: StartResponse) -> Iterable[bytes]:
        self.version = str(self.core.ping())
        verbose = params.get("verbose", "")
        if verbose and verbose not in ("0", "false"):
            return _json(start_response, 200, {"version": self.version})
        start_response("204 No Content", [("X-Influxdb-Version", self.version)])
        return [b""]

    def _query(self, params: Dict[str, str], method: str, start_response: StartResponse) -> Iterable[bytes]:
        if not params.get("q", "").strip():
            return _json(start_response, 400, {"error": 'missing required parameter "q"'})
        query_params: Dict[str, Any] = {"q": params["q"]}
        for key in ("db", "rp", "epoch", "params"):
            if params.get(key):
                query_params[key] = params[key]
        chunked = params.get("chunked") == "true"
        if chunked:
            query_params["chunked"] = "true"
            if params.get("chunk_size"):
                query_params["chunk_size"] = params["chunk_size"]
        answer = self.core.query(
            query_params, method=method if method in ("GET", "POST") else "GET", chunked=chunked
        )
        if chunked:
            start_response("200 OK", [("Content-Type", "application/json")])
            return self._chunks(answer, params.get("db"), params.get("rp"))
        return _json(start_response, 200, answer)

    def _chunks(self, answer: Iterable[Any], database: Optional[str], rp: Optional[str]) -> Iterator[bytes]:
        try:
            for chunk in answer:
                yield json.dumps(chunk, separators=(",", ":")).encode() + b"\n"
        except (InfluxDBError, requests.exceptions.RequestException) as exc:  # the status is already sent
            _, message = self._caller_error(exc, database, rp)
            yield json.dumps({"results": [{"statement_id": 0, "error": message}]}).encode() + b"\n"

    def _write(
        self, params: Dict[str, str], environ: Dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        database = params.get("db")
        if not database:
            return _json(start_response, 400, {"error": "database is required"})
        precision = params.get("precision") or None
        if precision not in WIRE_PRECISION:
            return _json(start_response, 400, {"error": f"invalid precision {precision!r}"})
        consistency = params.get("consistency") or None
        if consistency is not None and consistency not in _CONSISTENCIES:
            return _json(start_response, 400, {"error": "invalid consistency level"})
        with self.throttle.turn() as refused:
            if refused is not None:
                log.warning("write throttled (%s): %s", refused, _limits_text(self.limits))
                return _text(start_response, 503, refused, [("Retry-After", "1")])
            body = RequestBody(environ, self.limits.max_body_size)
            try:
                body.check()
                return self._stream(
                    body, database, params.get("rp") or None, precision, consistency, start_response
                )
            except BodyTooLarge:
                return _json(start_response, 413, {"error": TOO_LARGE})
            except BodyError as exc:
                return _json(start_response, 400, {"error": str(exc)})
            finally:
                body.close()

    def _stream(
        self,
        body: RequestBody,
        database: str,
        rp: Optional[str],
        precision: Optional[str],
        consistency: Optional[str],
        start_response: StartResponse,
    ) -> Iterable[bytes]:
        """Send the body in batches of lines as it is read; answer 1.x's way, with the lines stored.

        While batch k is sent (one background thread, one request at a time,
        in order), batch k+1 is read and inflated here; a body of one batch
        is sent from this thread.
        """
        stored = 0
        partials: List[Tuple[int, PartialWriteError]] = []
        batches = line_batches(body.chunks(), self.limits.batch_lines, self.limits.batch_bytes)
        sender: Optional[_writer.Sender] = None
        flight = 0  # lines of the batch being sent

        def failed(exc: Exception, lines: int) -> Iterable[bytes]:
            status, message = self._caller_error(exc, database, rp)
            done = stored + (exc.points_written if isinstance(exc, WriteProgress) else 0)
            sure = isinstance(exc, InfluxDBClientError)
            note = _stored_note(done, None if sure else stored + lines)
            return _json(start_response, status, {"error": message + note}, _lines(done))

        def settle() -> Optional[Iterable[bytes]]:
            """Wait for the batch being sent: None when it was stored, else the answer to give."""
            nonlocal stored, flight
            lines, flight = flight, 0
            if sender is None or not lines:
                return None
            try:
                sender.wait()
            except PartialWriteError as exc:
                partials.append((stored, exc))  # 1.x wrote the other points, and so do we
            except (InfluxDBError, requests.exceptions.RequestException) as exc:
                return failed(exc, lines)
            stored += lines
            return None

        def send(batch: bytes) -> None:
            _writer.write_body(self.core.send_batch, batch, database, rp, precision, consistency)

        def take() -> Tuple[Optional[bytes], Optional[Exception]]:
            try:
                return next(batches, None), None
            except (BodyError, BodyTooLarge) as exc:  # only without a limit: the check read nothing
                return None, exc

        ready = [take()]
        if ready[0][0] is not None and ready[0][1] is None:
            ready.append(take())  # is there a second batch? (a body of one is sent from this thread)
        single = ready[-1] == (None, None) and len(ready) == 2
        try:
            while True:
                # batch k+1 is read here while batch k is on the wire, then k is waited for
                batch, problem = ready.pop(0) if ready else take()
                if problem is not None:
                    answer = settle()
                    if answer is not None:
                        return answer
                    too_large = isinstance(problem, BodyTooLarge)
                    status, text = (413, TOO_LARGE) if too_large else (400, str(problem))
                    error = {"error": text + _stored_note(stored)}
                    return _json(start_response, status, error, _lines(stored))
                if batch is None:
                    break
                lines = _writer.line_count(batch)
                answer = settle()
                if answer is not None:
                    return answer
                if not batch.strip():
                    stored += lines
                elif single:
                    try:
                        send(batch)
                    except PartialWriteError as exc:
                        partials.append((stored, exc))
                    except (InfluxDBError, requests.exceptions.RequestException) as exc:
                        return failed(exc, lines)
                    stored += lines
                else:
                    if sender is None:
                        sender = _writer.Sender(self.core.send_batch)
                    sender.run(lambda b=batch: send(b), lines)  # type: ignore[misc]
                    flight = lines
            answer = settle()
            if answer is not None:
                return answer
        finally:
            if sender is not None:
                sender.close()
        if partials:
            return _json(start_response, 400, {"error": _partial_text(partials, stored)}, _lines(stored))
        start_response("204 No Content", _lines(stored))
        return [b""]

    # -- errors, for the proxy's caller ---------------------------------------

    def _caller_error(self, exc: Exception, database: Optional[str], rp: Optional[str]) -> Tuple[int, str]:
        """The status and 1.x-style text for the caller; the operator's side goes to the log."""
        if isinstance(exc, DatabaseNotFoundError):
            name = exc.database or database or ""
            return 404, f"database not found: {json.dumps(name)}" + self._create_hint(name, rp)
        if isinstance(exc, AuthenticationError):
            log.warning("%s refused the proxy's credentials: %s", self.upstream, _cause_text(exc))
            return 502, (
                f"influx_compat proxy: {self.upstream} refused the proxy's credentials "
                f"({self.core.credentials.describe()}): {_cause_text(exc)}; the proxy's operator must "
                "give it a valid token (INFLUX_TOKEN)"
            )
        if isinstance(exc, InfluxDBClientError):
            code = exc.code if isinstance(exc.code, int) and 400 <= exc.code < 500 else 400
            return (400 if code == 422 else code), _cause_text(exc)
        if isinstance(exc, InfluxDBServerError):
            log.warning("%s answered a server error: %s", self.upstream, _cause_text(exc))
            return 502, f"influx_compat proxy: {self.upstream} answered: {_cause_text(exc)}"
        cause = exc.__cause__ if isinstance(exc, WriteProgress) and exc.__cause__ is not None else exc
        kind = type(cause).__name__
        log.warning("%s unreachable: %s", self.upstream, kind)
        timeout = isinstance(exc, requests.exceptions.Timeout)
        return (504 if timeout else 502), (
            f"influx_compat proxy: the upstream {self.upstream} "
            + ("did not answer in time" if timeout else "is unreachable")
            + f" ({kind})"
        )

    def _create_hint(self, database: str, rp: Optional[str]) -> str:
        flavour = self.core.flavour
        where = f"on {self.upstream}" + (f" ({flavour.product})" if flavour else "")
        if flavour is not None and flavour.iox and not self.core.settings.management.token:
            return (
                f" ({where}: create it with 'influxctl database create {database}', or give the proxy the "
                "Management API settings, INFLUX_MANAGEMENT_TOKEN and the rest, so that CREATE DATABASE "
                "through the proxy works)"
            )
        quoted = json.dumps(database)
        statement = f"CREATE DATABASE {quoted}"
        if rp:
            statement = f"CREATE RETENTION POLICY {json.dumps(rp)} ON {quoted} DURATION 0s REPLICATION 1"
        return f" ({where}: create it through this proxy: POST /query with q={statement})"


# -- helpers ---------------------------------------------------------------------


def _params(text: str) -> Dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _lines(stored: int) -> Headers:
    return [(LINES_HEADER, str(stored))]


def _stored_note(stored: int, unsure_until: Optional[int] = None) -> str:
    """What of the body is stored, for the caller who resends the rest."""
    if unsure_until is not None and unsure_until > stored:
        return (
            f" (influx_compat proxy: {_first(stored)} of this request were stored; lines {stored + 1}-"
            f"{unsure_until} may have been, nothing after line {unsure_until} was sent; resending from line "
            f"{stored + 1} is safe: a point written twice is stored once)"
        )
    if stored == 0:
        return " (influx_compat proxy: nothing of this request was stored)"
    return (
        f" (influx_compat proxy: {_first(stored)} of this request were stored, nothing after them; "
        f"resend from line {stored + 1})"
    )


def _first(stored: int) -> str:
    return "no lines" if stored == 0 else "line 1" if stored == 1 else f"lines 1-{stored}"


def _partial_text(partials: List[Tuple[int, PartialWriteError]], total: int) -> str:
    dropped = [exc.dropped for _, exc in partials]
    count = str(sum(d for d in dropped if d is not None)) if all(d is not None for d in dropped) else "some"
    reasons = "; ".join(_cause_text(exc) for _, exc in partials[:3])
    rejected = [
        f"line {offset + r.line_number}: {r.message}" for offset, exc in partials for r in exc.rejected
    ]
    detail = (
        (" [" + "; ".join(rejected[:10]) + (" ..." if len(rejected) > 10 else "") + "]") if rejected else ""
    )
    text = reasons if reasons.startswith("partial write") else f"partial write: {reasons}"
    return (
        f"{text}{detail} (influx_compat proxy: {count} of the {total} lines of this request were rejected, "
        "every other line was stored)"
    )


def _cause_text(exc: Exception) -> str:
    """The server's own words for an error, without the client-facing advice the write pipeline adds."""
    cause: BaseException = exc
    if isinstance(exc, WriteProgress) and exc.__cause__ is not None:
        cause = exc.__cause__
    content = getattr(cause, "content", None)
    text = str(cause) if content is None else content if isinstance(content, str) else str(content)
    try:  # 1.x-style bodies ({"error": ...}) stay as they are
        decoded = json.loads(text)
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
            text = decoded["error"]
    except ValueError:
        pass
    if cause is exc and isinstance(exc, WriteProgress):
        text = text.split(" -- ", 1)[0]
    return text


def _header_value(text: str) -> str:
    return text.replace("\r", " ").replace("\n", " ")[:1024].encode("latin-1", "replace").decode("latin-1")


def _json(
    start_response: StartResponse, status: int, body: Any, headers: Optional[Headers] = None
) -> Iterable[bytes]:
    data = json.dumps(body, separators=(",", ":")).encode("utf-8") + b"\n"
    extra = list(headers or [])
    if status >= 300 and isinstance(body, dict) and isinstance(body.get("error"), str):
        extra.append(("X-Influxdb-Error", _header_value(body["error"])))
    start_response(
        f"{status} {_REASONS.get(status, '')}".strip(),
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))] + extra,
    )
    return [data]


def _text(start_response: StartResponse, status: int, text: str, headers: Headers) -> Iterable[bytes]:
    """A plain-text answer as Go's http.Error wrote it (1.x's throttle answers)."""
    data = (text + "\n").encode("utf-8")
    start_response(
        f"{status} {_REASONS.get(status, '')}".strip(),
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("X-Content-Type-Options", "nosniff"),
            ("Content-Length", str(len(data))),
        ]
        + headers,
    )
    return [data]


# -- serving -----------------------------------------------------------------------


def _split_listen(listen: str) -> Tuple[str, int]:
    host, _, port = listen.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    try:
        return host, int(port)
    except ValueError:
        raise ProxyConfigError(f"influx_compat proxy: --listen {listen!r} is not HOST:PORT") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _limits_text(limits: Limits) -> str:
    body = f"{limits.max_body_size:,} bytes" if limits.max_body_size else "no limit"
    if limits.max_concurrent_write_limit:
        waiting = str(limits.max_enqueued_write_limit) if limits.max_enqueued_write_limit else "any number"
        wait = f"{limits.enqueued_write_timeout:g} s" if limits.enqueued_write_timeout else "no time limit"
        writes = f"{limits.max_concurrent_write_limit} at once, {waiting} waiting ({wait})"
    else:
        writes = "no limit"
    return (
        f"max-body-size {body} after decompression; writes {writes}; batches of {limits.batch_lines:,} lines"
    )


def startup_line(app: ProxyApp, address: str, threads: int, access_log: str) -> str:
    """The proxy's one start-up line: where it listens, what it fronts, who may call it, its limits."""
    settings = app.core.settings
    flavour = app.core.flavour
    what = (flavour.product if flavour else "a server of unknown kind") + (
        f" {app.version}" if app.version else ""
    )
    why = f" (from {app.core.evidence})" if app.core.evidence else ""
    org = f"org {settings.org!r} (from {settings.org_source})" if settings.org else "no org given"
    creds = app.core.credentials
    token = f"token from {creds.token_source}" if creds.token else creds.describe()
    if app.user is None:
        callers = "open to every caller (no --user)"
    else:
        callers = f"callers must give user {app.user[0]!r} (u/p, HTTP Basic or Token user:password)"
    return (
        f"influx_compat proxy listening on {address} -> upstream {settings.base_url} (from "
        f"{settings.base_url_source}), {what}{why}, {org}, {token}; {callers}; {_limits_text(app.limits)}; "
        f"{threads} threads; access log: {access_log}"
    )


def _configure_logs(access_log: str) -> None:
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s influx_compat proxy %(levelname)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    if access_log == "off":
        return
    target: logging.Handler = (
        logging.StreamHandler(sys.stderr)
        if access_log in ("-", "stderr")
        else logging.handlers.WatchedFileHandler(access_log)  # reopened after logrotate moves it
    )
    target.setFormatter(logging.Formatter("%(message)s"))
    ACCESS_LOGGER.addHandler(target)
    ACCESS_LOGGER.setLevel(logging.INFO)
    ACCESS_LOGGER.propagate = False


def build(
    listen: str = "127.0.0.1:8086",
    user: Optional[Tuple[str, str]] = None,
    *,
    limits: Optional[Limits] = None,
    threads: int = 16,
    access_log: str = "-",
    allow_no_token: bool = False,
    open_network: bool = False,
    **client_kwargs: Any,
) -> Tuple[Any, ProxyApp, str]:
    """The waitress server (bound, not yet running), its app and the start-up line.

    :raises ProxyConfigError: no token, an open proxy on a non-loopback address, a bad address
    """
    try:
        import waitress
    except ImportError:
        raise ProxyConfigError("the proxy runs on waitress: pip install 'influx_compat[proxy]'") from None
    host, port = _split_listen(listen)
    if user is None and not open_network and not _is_loopback(host):
        raise ProxyConfigError(
            f"influx_compat proxy: refusing to serve {listen} without --user: every caller that reaches it "
            "would act with the proxy's token (write anywhere, drop databases). Give --user NAME:PASSWORD "
            f"(or {_USER_ENV}), listen on 127.0.0.1, or pass --open when the network in front of it is the "
            "access control (a container network, a firewall)."
        )
    client_kwargs.setdefault("pool_size", threads)
    app = ProxyApp(
        user=user,
        limits=limits,
        access_log=access_log != "off",
        allow_no_token=allow_no_token,
        **client_kwargs,
    )
    try:
        app.version = str(app.core.ping())  # the flavour and version for the start-up line
    except (InfluxDBError, requests.exceptions.RequestException) as exc:
        log.warning(
            "%s does not answer /ping now (%s): serving anyway, callers get 502 until it does",
            app.upstream,
            type(exc).__name__,
        )
    sockets: Dict[int, Any] = {}
    try:
        server = waitress.create_server(
            app, map=sockets, host=host, port=port, threads=threads, ident="influx_compat"
        )
    except OSError as exc:
        for leftover in list(sockets.values()):  # waitress leaves its socket open when the bind fails
            leftover.close()
        raise ProxyConfigError(
            f"influx_compat proxy: cannot listen on {listen}: {exc.strerror or exc}"
        ) from None
    shown = f"[{host}]" if ":" in host else host
    address = f"http://{shown}:{getattr(server, 'effective_port', port)}"
    return server, app, startup_line(app, address, threads, "stderr" if access_log == "-" else access_log)


def serve(
    listen: str = "127.0.0.1:8086",
    user: Optional[Tuple[str, str]] = None,
    *,
    limits: Optional[Limits] = None,
    threads: int = 16,
    access_log: str = "-",
    allow_no_token: bool = False,
    open_network: bool = False,
    **client_kwargs: Any,
) -> None:
    """Serve the proxy with waitress until interrupted; a configuration it cannot serve exits non-zero.

    :param listen: ``HOST:PORT`` (``[::1]:8086`` for IPv6); port 0 takes a free one
    :param user: ``(name, password)`` callers must give; None serves every caller,
        which only a loopback address (or ``open_network``) allows
    :param limits: :class:`Limits` (1.x's defaults where 1.x had one)
    :param threads: waitress's worker threads: requests served at once
    :param access_log: ``-`` for stderr, a file path, or ``off``
    :param allow_no_token: run without a token (an InfluxDB 3 with ``--without-auth``)
    :param open_network: serve every caller on a non-loopback address
    """
    _configure_logs(access_log)
    try:
        server, _, line = build(
            listen,
            user,
            limits=limits,
            threads=threads,
            access_log=access_log,
            allow_no_token=allow_no_token,
            open_network=open_network,
            **client_kwargs,
        )
    except ProxyConfigError as exc:
        raise SystemExit(str(exc)) from None
    print(line, file=sys.stderr, flush=True)
    try:
        server.run()
    except KeyboardInterrupt:
        log.info("stopped")
    finally:
        server.close()


def _parser() -> argparse.ArgumentParser:
    defaults = Limits()
    parser = argparse.ArgumentParser(
        prog="python -m influx_compat proxy",
        description="Serve InfluxDB 1.x's HTTP API (/ping, /query, /write) in front of InfluxDB 2.x or 3. "
        "The upstream comes from INFLUX_HOST, INFLUX_TOKEN and INFLUX_ORG (or the influx CLI's config).",
    )
    parser.add_argument(
        "--listen", default="127.0.0.1:8086", help="HOST:PORT to serve (default 127.0.0.1:8086)"
    )
    parser.add_argument(
        "--user",
        default=os.environ.get(_USER_ENV),
        help=f"NAME:PASSWORD callers must give (1.x u/p, HTTP Basic or Token); default ${_USER_ENV}",
    )
    parser.add_argument(
        "--flavour",
        help="the server's kind: v2, serverless, core, enterprise, dedicated, clustered "
        "(default: read from its answers)",
    )
    parser.add_argument(
        "--max-body-size",
        type=int,
        default=defaults.max_body_size,
        help="largest /write body in bytes, after decompression; 0 for no limit (default 25000000, as 1.x)",
    )
    parser.add_argument(
        "--max-concurrent-write-limit",
        type=int,
        default=defaults.max_concurrent_write_limit,
        help=f"writes at once; 0 for no limit (default {defaults.max_concurrent_write_limit})",
    )
    parser.add_argument(
        "--max-enqueued-write-limit",
        type=int,
        default=defaults.max_enqueued_write_limit,
        help=f"writes waiting beyond those, then 503 (default {defaults.max_enqueued_write_limit}; 0: any)",
    )
    parser.add_argument(
        "--enqueued-write-timeout",
        type=float,
        default=defaults.enqueued_write_timeout,
        help="seconds a write waits for its turn, then 503; 0 waits forever (default 30, as 1.x)",
    )
    parser.add_argument(
        "--batch-lines",
        type=int,
        default=defaults.batch_lines,
        help=f"lines per batch sent upstream (default {defaults.batch_lines})",
    )
    parser.add_argument("--threads", type=int, default=16, help="requests served at once (default 16)")
    parser.add_argument("--access-log", default="-", help="'-' for stderr (default), a file path, or 'off'")
    parser.add_argument(
        "--without-token",
        action="store_true",
        help="start without a token (only for an InfluxDB 3 started with --without-auth)",
    )
    parser.add_argument(
        "--open",
        action="store_true",
        help="serve every caller on a non-loopback address without --user (a container network, a firewall)",
    )
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m influx_compat proxy [options]``: parse the options and serve."""
    args = _parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    user = None
    if args.user:
        name, sep, password = args.user.partition(":")
        if not sep or not name:
            print("influx_compat proxy: --user takes NAME:PASSWORD", file=sys.stderr)
            return 2
        user = (name, password)
    limits = Limits(
        max_body_size=max(0, args.max_body_size),
        max_concurrent_write_limit=max(0, args.max_concurrent_write_limit),
        max_enqueued_write_limit=max(0, args.max_enqueued_write_limit),
        enqueued_write_timeout=max(0.0, args.enqueued_write_timeout),
        batch_lines=max(1, args.batch_lines),
    )
    serve(
        args.listen,
        user=user,
        limits=limits,
        threads=max(1, args.threads),
        access_log=args.access_log,
        allow_no_token=args.without_token,
        open_network=args.open,
        **({"flavour": args.flavour} if args.flavour else {}),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
