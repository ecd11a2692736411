"""The HTTP front end of the 3.x test server: routing, authentication, ping.

Core and Enterprise follow ``influxdb3_server/src/http.rs`` route_request and
perform_routing: CORS preflight first, then authentication of every path
(``/ping`` and unknown paths included), exact path and method matches, a
``Not found`` text otherwise, ``Access-Control-Allow-Origin`` on answers
that did not fail and ``cluster-uuid`` on all of them.  Dedicated serves the
IOx data API (``core/iox_v1_query_api/src/handler.rs`` ping and query, the
shared write parsing) without ``/api/v3`` and without a catalog UUID.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Callable, Dict, List, Tuple

from influx_compat.testing._http import Request, RequestRecord, Response
from influx_compat.testing._v3_auth import MalformedHeader, core_token, header_token_iox, param_token
from influx_compat.testing._v3_configure import ConfigureRoutes, ManagementRoutes
from influx_compat.testing._v3_http import Fail, V3Context, json_answer, text
from influx_compat.testing._v3_query import QueryRequestError, answer_query
from influx_compat.testing._v3_write import WriteRoutes

__all__ = ["V3App", "PRODUCTS"]

# influxdb3_server/src/lib.rs PRODUCT_NAME and INFLUXDB3_BUILD, per build
PRODUCTS = {"core": ("InfluxDB 3 Core", "Core"), "enterprise": ("InfluxDB 3 Enterprise", "Enterprise")}
_REVISION = "d783411"  # the commit the project's notes were read from
_UNAUTHENTICATED = '{"error": "the request was not authenticated"}'  # http.rs AuthenticationError (format!)
_MALFORMED = (
    '{"error": "Authorization header was malformed, the request was not in the form of '
    "'Authorization: <auth-scheme> <token>', supported auth-schemes are Bearer, Token and Basic\"}"
)
Route = Callable[[Request], Response]


class V3App:
    """One 3.x server: flavour, token, catalog and engine behind :class:`V3Context`."""

    def __init__(self, ctx: V3Context, token: str, management: Tuple[str, str, str]) -> None:
        self.ctx = ctx
        self.token = token
        self.base_headers: Dict[str, str] = {}
        self.records: List[RequestRecord] = []
        self.records_lock = threading.Lock()
        self.process_id = str(uuid.uuid4())
        self.writes = WriteRoutes(ctx)
        self.configure = ConfigureRoutes(ctx)
        self.management = ManagementRoutes(ctx, *management)
        self.routes: Dict[Tuple[str, str], Route] = self._route_table()

    def _route_table(self) -> Dict[Tuple[str, str], Route]:
        if self.ctx.dedicated:
            return {
                ("GET", "/ping"): self.ping_iox,
                ("HEAD", "/ping"): self.ping_iox,
                ("POST", "/write"): lambda r: self.writes.legacy(r, False, self.token),
                ("POST", "/api/v2/write"): lambda r: self.writes.legacy(r, True, self.token),
                ("GET", "/query"): self.query,
                ("POST", "/query"): self.query,
            }
        c = self.configure
        db, table, rp = (
            "/api/v3/configure/database",
            "/api/v3/configure/table",
            "/api/v3/configure/database/retention_period",
        )
        return {
            ("POST", "/write"): lambda r: self.writes.legacy(r, False, self.token),
            ("POST", "/api/v2/write"): lambda r: self.writes.legacy(r, True, self.token),
            ("POST", "/api/v3/write_lp"): self.writes.write_lp,
            ("GET", "/query"): self.query,
            ("POST", "/query"): self.query,
            ("GET", "/health"): self.health,
            ("GET", "/api/v1/health"): self.health,
            ("GET", "/ping"): self.ping,
            ("POST", "/ping"): self.ping,
            ("GET", "/metrics"): lambda r: text(200, "# EOF\n", "text/plain; version=0.0.4; charset=utf-8"),
            ("GET", db): c.list_databases,
            ("POST", db): c.create_database,
            ("PUT", db): c.update_database,
            ("DELETE", db): c.delete_database,
            ("POST", rp): c.set_retention,
            ("DELETE", rp): c.clear_retention,
            ("POST", table): c.create_table,
            ("DELETE", table): c.delete_table,
            ("POST", "/api/v3/query_sql"): self.not_emulated,
            ("GET", "/api/v3/query_sql"): self.not_emulated,
            ("POST", "/api/v3/query_influxql"): self.not_emulated,
            ("GET", "/api/v3/query_influxql"): self.not_emulated,
        }

    # -- dispatch ------------------------------------------------------------------

    def handle(self, req: Request) -> Response:
        with self.records_lock:
            self.records.append(
                RequestRecord(req.method, req.path, req.query, dict(req.headers), req.raw_body)
            )
        try:
            resp = self._dedicated(req) if self.ctx.dedicated else self._core(req)
        except Fail as failure:
            resp = failure.response
        except Exception as exc:  # an emulator bug: a 500 that says so, and keep serving
            resp = text(500, f"test server error: {exc!r}")
        if not self.ctx.dedicated:  # http.rs route_request: on every answer, failures included
            resp.headers["cluster-uuid"] = self.ctx.catalog.uuid
        return resp

    def _core(self, req: Request) -> Response:
        if req.method == "OPTIONS":  # CORS preflight, before any token check
            return Response(
                204,
                headers={
                    "Access-Control-Allow-Origin": "*",
                    "Access-Control-Allow-Methods": "*",
                    "Access-Control-Allow-Headers": "*",
                    "Access-Control-Max-Age": "86400",
                },
            )
        if req.path == "/api/v3/configure/token/admin":  # never authenticated; the admin token exists already
            if req.method == "POST":
                raise Fail(text(409, "token name already exists, _admin"))
        else:
            try:
                token = core_token(req)
            except MalformedHeader:
                raise Fail(text(400, _MALFORMED)) from None
            if token != self.token:
                raise Fail(text(401, _UNAUTHENTICATED))
        route = self.routes.get((req.method, req.path))
        if route is None:
            raise Fail(text(404, "Not found"))
        resp = route(req)
        resp.headers.setdefault("Access-Control-Allow-Origin", "*")
        return resp

    def _dedicated(self, req: Request) -> Response:
        if req.path.startswith(ManagementRoutes.PREFIX):
            return self.management.handle(req)
        route = self.routes.get((req.method, req.path))
        if route is None:
            raise Fail(text(404, "Not found"))
        return route(req)

    # -- small routes --------------------------------------------------------------------

    def ping(self, req: Request) -> Response:
        """http.rs ping: 200 JSON and the build headers."""
        product, build = PRODUCTS[self.ctx.flavour]
        body = {
            "product_name": product,
            "version": self.ctx.version,
            "revision": _REVISION,
            "process_id": self.process_id,
        }
        request_id = str(uuid.uuid4())
        headers = {
            "Request-Id": request_id,
            "X-Influxdb-Build": build,
            "X-Influxdb-Version": self.ctx.version,
            "X-Request-Id": request_id,
        }
        return Response(200, json.dumps(body, separators=(",", ":")).encode(), "application/json", headers)

    def ping_iox(self, req: Request) -> Response:
        """handler.rs ping: 204, build ``cloud2`` ("for backwards compat with one of the clients")."""
        return Response(204, headers={"X-Influxdb-Build": "cloud2", "X-Influxdb-Version": self.ctx.version})

    def health(self, req: Request) -> Response:
        return text(200, "OK", "text/plain; charset=utf-8")

    def not_emulated(self, req: Request) -> Response:
        raise Fail(text(501, f"test server: {req.path} is not emulated (SQL and single-statement InfluxQL)"))

    def query(self, req: Request) -> Response:
        def authorize() -> bool:
            if not self.ctx.dedicated:
                return True  # authenticated before routing
            token = param_token(req, ("/query",)) or header_token_iox(req.header("Authorization"))
            return token == self.token

        try:
            return answer_query(req, self.ctx.catalog, self.ctx.engine, self.ctx.dedicated, authorize)
        except QueryRequestError as err:
            # http.rs IntoResponse for iox_v1_query_api::HttpError: {"error": ...}, and an Ok route
            resp = json_answer(err.status, {"error": err.message})
            if not self.ctx.dedicated:
                resp.headers["Access-Control-Allow-Origin"] = "*"
            return resp
