"""The v2 test server's application: dispatch, 1.x and 2.x credentials, writes and ``/query``.

The management routes live in one module per resource (see :mod:`._routes_v2`);
the values and the socket server in :mod:`._http` and :mod:`._httpd`.
"""

from __future__ import annotations

import base64
import re
import struct
import threading
import time
from typing import Any, Dict, List, Tuple

from influx_compat.testing import _influxql_engine as iql
from influx_compat.testing._engine import Engine
from influx_compat.testing._http import Request, RequestRecord, Response, Route, error_response, json_response
from influx_compat.testing._lineproto import check_body
from influx_compat.testing._msgpack import Ext, packb
from influx_compat.testing._partial_writes import BARE_CONFLICT, PER_POINT_FIELDS, write_in_order
from influx_compat.testing._rfc3339 import parse_rfc3339
from influx_compat.testing._routes_common import V2Context, v2_auth
from influx_compat.testing._routes_v2 import v2_routes
from influx_compat.testing._state import ApiError, State, allowed, engine_db, now, version_tuple

__all__ = ["App"]


class App:
    """InfluxDB 2.x's HTTP API over one engine and one in-memory state."""

    def __init__(self, engine: Engine, version: str, virtual_dbrps: bool) -> None:
        self.engine = engine
        self.version = version if version.startswith("v") else "v" + version
        self.vtuple = version_tuple(version)
        self.state = State(virtual_dbrps)
        self.ctx = V2Context(self.state, engine, self.vtuple)
        self.base_headers = {"X-Influxdb-Build": "OSS", "X-Influxdb-Version": self.version}
        self.records: List[RequestRecord] = []
        self.records_lock = threading.Lock()
        self.routes: List[Tuple[str, re.Pattern[str], Route]] = []
        for method, pattern, func in self._route_table():
            self.routes.append((method, re.compile("^" + pattern + "$"), func))

    # -- dispatch ------------------------------------------------------------

    def _route_table(self) -> List[Tuple[str, str, Route]]:
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
        return table + v2_routes(self.ctx)

    def handle(self, req: Request) -> Response:
        with self.records_lock:
            self.records.append(
                RequestRecord(req.method, req.path, req.query, dict(req.headers), req.raw_body)
            )
        try:
            methods: List[str] = []
            for method, pattern, func in self.routes:
                match = pattern.match(req.path)
                if match is None:
                    continue
                methods.append(method)
                if method == req.method:
                    req.match = match
                    return func(req)
            if methods:
                raise ApiError("method not allowed", "allow: " + ", ".join(sorted(set(methods))))
            raise ApiError("not found", "path not found")
        except ApiError as err:
            return error_response(err)

    # -- auth ----------------------------------------------------------------

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
        auth = v2_auth(self.ctx, req)
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
        db = engine_db(bucket["id"])
        status, message = self._engine_write(body, db, engine_precision)
        if status == 204:
            return Response(204)
        if message == BARE_CONFLICT and self.vtuple >= PER_POINT_FIELDS:
            # 2.7.12+: the later points with the field's other type dropped, the rest stored (see the module)
            dropped, reason = write_in_order(
                lambda part: self._engine_write(part, db, engine_precision), text, time.time_ns() // factor
            )
            if not dropped:
                return Response(204)
            message = f"partial write: {reason} dropped={dropped}"
        if "partial write" in message:
            raise ApiError("unprocessable entity", f"failure writing points to database: {message}")
        if status == 400 and "unable to parse" in message:
            raise ApiError("invalid", message)
        raise ApiError("internal error", f"unexpected error writing points to database: {message}")

    def _engine_write(self, body: bytes, db: str, precision: str) -> Tuple[int, str]:
        """The engine's status and error message (empty on 204) for a write."""
        resp = self.engine.write(body, db, precision)
        if resp.status_code == 204:
            return 204, ""
        try:
            return resp.status_code, str(resp.json().get("error", resp.text))
        except ValueError:
            return resp.status_code, resp.text

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
        runner = iql.QueryRunner(self.ctx, auth, form)
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


def _msgpack_results(results: List[Dict[str, Any]], timestamps: bool) -> bytes:
    """A /query answer as 2.x encodes it in MessagePack.

    Like JSON but without ``omitempty``: every result has ``series`` (an empty
    list when there is none) and every series ``values``; without ``epoch``
    the times are MessagePack timestamps (extension type 5), not strings.
    """

    def stamp(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        ns = parse_rfc3339(value)
        return Ext(5, struct.pack(">QI", ns // 10**9, ns % 10**9))

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
    return packb({"results": out})
