"""The HTTP side of the v2 test server: InfluxDB 2.x's routes over the engine."""

from __future__ import annotations

import base64
import gzip
import json
import re
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, NamedTuple, Optional, Protocol, Tuple, Union
from urllib.parse import parse_qs, urlsplit

from influx_compat.testing import _influxql_engine as iql
from influx_compat.testing._engine import Engine
from influx_compat.testing._lineproto import check_body
from influx_compat.testing._state import (
    ApiError,
    State,
    allowed,
    engine_db,
    now,
    version_tuple,
)

__all__ = ["App", "HttpApp", "Request", "Response", "RequestRecord", "serve"]


class RequestRecord(NamedTuple):
    """One request the server received (body as sent, before gunzip)."""

    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes


class Request:
    def __init__(
        self,
        method: str,
        path: str,
        query: Dict[str, List[str]],
        headers: Dict[str, str],
        body: bytes,
        raw_query: Optional[str] = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.raw_body = body
        self.raw_query = raw_query  # the URL's query string as sent; None when the URL has no "?"
        self._body: Optional[bytes] = None

    def header(self, name: str) -> Optional[str]:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None

    @property
    def body(self) -> bytes:
        """The body, gunzipped when the client said so."""
        if self._body is None:
            encoding = (self.header("Content-Encoding") or "").lower()
            if encoding in ("gzip", "x-gzip"):
                try:
                    self._body = gzip.decompress(self.raw_body)
                except (OSError, EOFError):
                    raise ApiError(
                        "internal error", "An internal error has occurred - check server logs"
                    ) from None
            else:
                self._body = self.raw_body
        return self._body

    def param(self, name: str) -> Optional[str]:
        values = self.query.get(name)
        return values[0] if values else None

    def form(self) -> Dict[str, str]:
        """URL parameters and form-encoded body values, as Go's FormValue sees them."""
        merged = {k: v[0] for k, v in self.query.items() if v}
        ctype = (self.header("Content-Type") or "").split(";")[0].strip().lower()
        if self.method == "POST" and ctype == "application/x-www-form-urlencoded":
            for k, v in parse_qs(self.body.decode("utf-8", "replace"), keep_blank_values=True).items():
                merged.setdefault(k, v[0])
        return merged

    def json(self) -> Any:
        try:
            return json.loads(self.body or b"null")
        except ValueError as exc:
            raise ApiError("invalid", f"error decoding json body: {exc}") from None


class Response:
    def __init__(
        self,
        status: int,
        body: Union[bytes, Iterable[bytes]] = b"",
        content_type: Optional[str] = None,
        headers: Optional[Dict[str, str]] = None,
    ):
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_response(status: int, obj: Any, pretty: bool = True) -> Response:
    text = json.dumps(obj, indent=2) if pretty else json.dumps(obj, separators=(",", ":"))
    text += "\n"
    return Response(status, text.encode(), "application/json; charset=utf-8")


def error_response(err: ApiError) -> Response:
    resp = json_response(err.status, {"code": err.code, "message": err.message}, pretty=False)
    resp.headers["X-Platform-Error-Code"] = err.code
    return resp


Route = Callable[[Request], Response]


class App:
    """InfluxDB 2.x's HTTP API over one engine and one in-memory state."""

    def __init__(self, engine: Engine, version: str, virtual_dbrps: bool) -> None:
        self.engine = engine
        self.version = version if version.startswith("v") else "v" + version
        self.vtuple = version_tuple(version)
        self.state = State(virtual_dbrps)
        self.base_headers = {"X-Influxdb-Build": "OSS", "X-Influxdb-Version": self.version}
        self.records: List[RequestRecord] = []
        self.records_lock = threading.Lock()
        self.routes: List[Tuple[str, re.Pattern[str], Route]] = []
        for method, pattern, func in self._route_table():
            self.routes.append((method, re.compile("^" + pattern + "$"), func))

    # -- dispatch ------------------------------------------------------------

    def _route_table(self) -> List[Tuple[str, str, Route]]:
        from influx_compat.testing import _routes_v2 as v2

        api = v2.V2Routes(self)
        table: List[Tuple[str, str, Route]] = [
            ("GET", "/ping", self.ping),
            ("HEAD", "/ping", self.ping),
            ("GET", "/health", self.health),
            ("GET", "/ready", self.ready),
            ("POST", "/write", self.v1_write),
            ("GET", "/query", self.v1_query),
            ("POST", "/query", self.v1_query),
            ("POST", "/api/v2/write", self.v2_write),
        ]
        return table + api.table()

    def handle(self, req: Request) -> Response:
        with self.records_lock:
            self.records.append(
                RequestRecord(req.method, req.path, req.query, dict(req.headers), req.raw_body)
            )
        try:
            methods = []
            for method, pattern, func in self.routes:
                match = pattern.match(req.path)
                if match is None:
                    continue
                methods.append(method)
                if method == req.method:
                    req.match = match  # type: ignore[attr-defined]
                    return func(req)
            if methods:
                raise ApiError("method not allowed", "allow: " + ", ".join(sorted(set(methods))))
            raise ApiError("not found", "path not found")
        except ApiError as err:
            return error_response(err)

    # -- auth ----------------------------------------------------------------

    def v2_auth(self, req: Request) -> Dict[str, Any]:
        """The authorization of a /api/v2 request (Token, or Bearer from 2.1)."""
        header = req.header("Authorization") or ""
        scheme, _, token = header.partition(" ")
        ok_schemes = ("token", "bearer") if self.vtuple >= (2, 1) else ("token",)
        if scheme.lower() in ok_schemes and token:
            with self.state.lock:
                auth = self.state.auth_by_token(token.strip())
            if auth is not None:
                if auth.get("status", "active") != "active":
                    raise ApiError("forbidden", "token is inactive")
                return auth
        raise ApiError("unauthorized", "unauthorized access")

    def v1_auth(self, req: Request) -> Dict[str, Any]:
        """1.x credentials on /write and /query: u/p, ``Token x``, Basic; v1 auths, then tokens."""
        user = req.param("u")
        password = req.param("p")
        header = req.header("Authorization") or ""
        if user and password:
            return self._v1_credentials(user, password)
        parts = header.split(" ")
        if len(parts) == 2 and parts[0] == "Token":
            secret = parts[1].split(":", 1)[-1]
            with self.state.lock:
                auth = self.state.auth_by_token(secret)
            if auth is None or auth.get("status", "active") != "active":
                raise ApiError("unauthorized", "Unauthorized")
            return auth
        if header.startswith("Basic "):
            try:
                decoded = base64.b64decode(header[6:]).decode("utf-8")
            except (ValueError, UnicodeDecodeError):
                raise ApiError("unauthorized", "unauthorized access") from None
            user, _, password = decoded.partition(":")
            return self._v1_credentials(user, password)
        raise ApiError("unauthorized", "unauthorized access")

    def _v1_credentials(self, user: str, password: str) -> Dict[str, Any]:
        with self.state.lock:
            legacy = self.state.legacy_by_name(user)
            if legacy is not None:
                if legacy.get("password") != password or legacy.get("status", "active") != "active":
                    raise ApiError("unauthorized", "Unauthorized")
                return legacy
            auth = self.state.auth_by_token(password)
        if auth is None or auth.get("status", "active") != "active":
            raise ApiError("unauthorized", "Unauthorized")
        return auth

    # -- small routes ----------------------------------------------------------

    def ping(self, req: Request) -> Response:
        return Response(204)

    def health(self, req: Request) -> Response:
        return json_response(
            200,
            {
                "name": "influxdb",
                "message": "ready for queries and writes",
                "status": "pass",
                "checks": [],
                "version": self.version,
                "commit": "0000000000",
            },
        )

    def ready(self, req: Request) -> Response:
        return json_response(200, {"status": "ready", "started": now(), "up": "1s"})

    # -- writes ------------------------------------------------------------------

    def v2_write(self, req: Request) -> Response:
        auth = self.v2_auth(req)
        precision = req.param("precision") or "ns"
        if precision not in ("ns", "us", "ms", "s"):
            raise ApiError("invalid", "invalid precision; valid precision units are ns, us, ms, and s")
        bucket_ref = req.param("bucket")
        if not bucket_ref:
            raise ApiError("not found", "bucket not found")
        with self.state.lock:
            org = self.state.find_org(req.param("org"), req.param("orgID"))
            bucket = self.state.find_bucket(org["id"], bucket_ref)
        if not allowed(auth, "write", "buckets", org["id"], bucket["id"]):
            raise ApiError("forbidden", "insufficient permissions for write")
        return self._store(req.body, bucket, precision)

    def v1_write(self, req: Request) -> Response:
        auth = self.v1_auth(req)
        db = req.param("db")
        if not db:
            raise ApiError("invalid", "missing db")
        # 2.x does not validate precision: only ns, us, ms and s scale; all else is ns.
        precision = req.param("precision") or "ns"
        if precision not in ("ns", "us", "ms", "s"):
            precision = "ns"
        with self.state.lock:
            try:
                mapping = self.state.resolve(auth["orgID"], db, req.param("rp") or None)
            except ApiError:
                raise ApiError("not found", "no dbrp mapping found") from None
            bucket = self.state.buckets[mapping["bucketID"]]
        if not allowed(auth, "write", "buckets", auth["orgID"], bucket["id"]):
            raise ApiError("forbidden", "insufficient permissions for write")
        return self._store(req.body, bucket, precision)

    def _store(self, body: bytes, bucket: Dict[str, Any], precision: str) -> Response:
        factor = {"ns": 1, "us": 1000, "ms": 10**6, "s": 10**9}[precision]
        text = body.decode("utf-8", errors="replace")
        problem = check_body(text, factor)
        if problem:
            raise ApiError("invalid", problem)
        engine_precision = {"ns": "n", "us": "u", "ms": "ms", "s": "s"}[precision]
        resp = self.engine.write(body, engine_db(bucket["id"]), engine_precision)
        if resp.status_code == 204:
            return Response(204)
        try:
            message = resp.json().get("error", resp.text)
        except ValueError:
            message = resp.text
        if "partial write" in message:
            raise ApiError("unprocessable entity", f"failure writing points to database: {message}")
        if resp.status_code == 400 and "unable to parse" in message:
            raise ApiError("invalid", message)
        raise ApiError("internal error", f"unexpected error writing points to database: {message}")

    # -- /query ---------------------------------------------------------------------

    def v1_query(self, req: Request) -> Response:
        form = req.form()
        q = form.get("q")
        ctype = (req.header("Content-Type") or "").split(";")[0].strip().lower()
        if q is None and ctype == "application/vnd.influxql":
            q = req.body.decode("utf-8", "replace")
        if q is None and not ctype:
            raise ApiError("invalid", "mime: no media type")
        auth = self.v1_auth(req)
        if not q:
            return json_response(200, {}, pretty=False)
        runner = iql.QueryRunner(self, auth, form)
        if form.get("chunked") == "true":
            return Response(200, runner.chunked(q), "application/json")
        try:
            results = runner.run(q)
        except iql.ParseError as err:
            raise ApiError("invalid", f"failed to parse query: {err}") from None
        if req.header("Accept") == "application/x-msgpack":  # exactly this value, as 2.x checks it
            return Response(
                200, _msgpack_results(results, timestamps=not form.get("epoch")), "application/x-msgpack"
            )
        return json_response(200, {"results": results}, pretty=False)


def _msgpack_results(results: Any, timestamps: bool) -> bytes:
    """A /query answer as 2.x encodes it in MessagePack.

    Like JSON but without ``omitempty``: every result has ``series`` (an empty
    list when there is none) and every series ``values``; without ``epoch``
    the times are MessagePack timestamps (extension type 5), not strings.
    """
    try:
        import msgpack
    except ImportError as exc:  # pragma: no cover - msgpack comes with the test extra
        raise ApiError("internal error", "the test server needs msgpack to answer MessagePack") from exc
    from influx_compat.testing._routes_v2 import _parse_rfc3339

    def stamp(text: Any) -> Any:
        if not isinstance(text, str):
            return text
        ns = _parse_rfc3339(text, "time")
        return msgpack.ExtType(5, struct.pack(">QI", ns // 10**9, ns % 10**9))

    out = []
    for result in results:
        result = dict(result)
        if "error" not in result:
            series = []
            for row in result.get("series", []):
                row = dict(row, values=row.get("values", []))
                if timestamps and row.get("columns", [None])[0] == "time":
                    row["values"] = [[stamp(v[0]), *v[1:]] for v in row["values"]]
                series.append(row)
            result["series"] = series
        out.append(result)
    return msgpack.packb({"results": out}, use_bin_type=True)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "influx_compat-testing"
    server: _Server

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        req = Request(
            self.command,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            headers,
            body,
            parts.query if "?" in self.path else None,
        )
        app = self.server.app
        try:
            resp = app.handle(req)
        except Exception as exc:  # an emulator bug: answer like 2.x, keep serving
            resp = error_response(ApiError("internal error", f"emulator error: {exc!r}"))
        self.send_response(resp.status)
        for k, v in app.base_headers.items():
            self.send_header(k, v)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        if isinstance(resp.body, bytes):
            if resp.status != 204 and self.command != "HEAD":
                self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if resp.status != 204 and self.command != "HEAD":
                self.wfile.write(resp.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in resp.body:
            if chunk:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _read_chunked(self) -> bytes:
        out = []
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(out)
            out.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass


class _HandlerWithOptions(_Handler):
    do_OPTIONS = _Handler._serve


class HttpApp(Protocol):
    """What the HTTP machinery serves: headers sent on every answer, and one handler."""

    base_headers: Dict[str, str]

    def handle(self, req: Request) -> Response: ...


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: HttpApp


def serve(app: HttpApp, port: int, options: bool = False) -> _Server:
    """Start serving ``app`` on 127.0.0.1:port in a background thread (OPTIONS routed too if ``options``)."""
    server = _Server(("127.0.0.1", port), _HandlerWithOptions if options else _Handler)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name="influx-v2-test-server", daemon=True)
    thread.start()
    return server
