"""Database and table management on the 3.x test server.

Core and Enterprise: the ``/api/v3/configure/database|table`` endpoints of
``influxdb3_server/src/http.rs`` (show_databases, create_database,
update_database, delete_database, set/clear_retention_period_for_database,
create_table, delete_table), with the catalog's status codes.  Cloud
Dedicated: a small emulation of the console's Management API
(``/api/v0/accounts/{account}/clusters/{cluster}/databases``, Bearer
management token), shaped after its API reference; real deployments serve it
on console.influxdata.com, the test server on its own port.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, NoReturn, Optional, Tuple
from urllib.parse import parse_qsl, unquote

from influx_compat.testing._http import Request, Response
from influx_compat.testing._rfc3339 import parse_rfc3339
from influx_compat.testing._v3_catalog import CatalogError, Database, db_name_error
from influx_compat.testing._v3_http import Fail, V3Context, json_answer, json_request, parse_humantime, text

__all__ = ["ConfigureRoutes", "ManagementRoutes"]

_FORMATS = {
    "json": "application/json",
    "jsonl": "application/jsonl",
    "json_lines": "application/jsonl",
    "csv": "text/csv",
    "pretty": "text/plain; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
_FIELD_TYPES = {
    "utf8": "string",
    "int64": "integer",
    "uint64": "uinteger",
    "float64": "float",
    "bool": "boolean",
}


def _catalog_failure(err: CatalogError) -> NoReturn:
    """http.rs IntoResponse for CatalogError: text bodies, JSON for the limits (422)."""
    if err.kind == "limit":
        raise Fail(json_answer(422, {"error": err.message}))
    raise Fail(text(err.status, err.message))


def _query(req: Request, *required: str) -> Dict[str, str]:
    pairs = dict(parse_qsl(req.raw_query or "", keep_blank_values=True))
    for name in required:
        if name not in pairs:
            raise Fail(text(400, f"serde error: missing field `{name}`"))
    return pairs


def _retention(value: Any) -> Optional[int]:
    """humantime_serde: a duration string such as ``30d``, or null."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise Fail(text(400, f"serde json error: invalid type: {type(value).__name__}, expected a duration"))
    try:
        return parse_humantime(value)
    except ValueError as err:
        raise Fail(text(400, f"serde json error: {err}")) from None


def _check_hard_delete(value: Optional[str]) -> None:
    if value is None or value in ("never", "now", "default"):
        return
    try:
        parse_rfc3339(value)
    except ValueError:
        raise Fail(text(400, "Cannot parse the timestamp: input contains invalid characters")) from None


def _table_text(rows: List[Dict[str, Any]], columns: List[str]) -> str:
    """arrow's pretty_format_batches."""
    cells = [[str(r[c]).lower() if isinstance(r[c], bool) else str(r[c]) for c in columns] for r in rows]
    widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(columns)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(values: List[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths)) + " |"

    return "\n".join([rule, line(columns), rule] + [line(r) for r in cells] + [rule])


class ConfigureRoutes:
    """``/api/v3/configure/database``, ``.../database/retention_period`` and ``.../table``."""

    def __init__(self, ctx: V3Context) -> None:
        self.ctx = ctx

    def list_databases(self, req: Request) -> Response:
        pairs = _query(req, "format")
        fmt = pairs["format"]
        if fmt not in _FORMATS:
            raise Fail(
                text(
                    400,
                    f"serde error: unknown variant `{fmt}`, expected one of `parquet`, `csv`, `pretty`, "
                    "`json`, `json_lines`",
                )
            )
        deleted = pairs.get("show_deleted") == "true"
        catalog = self.ctx.catalog
        with catalog.lock:  # influxdb3_query_executor show_databases: live first, then by name
            dbs = sorted(
                list(catalog.databases.values()) + (catalog.deleted if deleted else []),
                key=lambda d: (d.deleted, d.name),
            )
            rows = [{"iox::database": d.name, **({"deleted": d.deleted} if deleted else {})} for d in dbs]
        columns = ["iox::database"] + (["deleted"] if deleted else [])
        if fmt == "json":
            body = json.dumps(rows, separators=(",", ":"))
        elif fmt in ("jsonl", "json_lines"):
            body = "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in rows)
        elif fmt == "csv":
            body = (
                ",".join(columns)
                + "\n"
                + "".join(
                    ",".join(str(r[c]).lower() if isinstance(r[c], bool) else str(r[c]) for c in columns)
                    + "\n"
                    for r in rows
                )
            )
        elif fmt == "pretty":
            body = _table_text(rows, columns)
        else:
            raise Fail(text(501, "test server: parquet answers are not emulated"))
        return Response(200, body.encode(), _FORMATS[fmt])

    def create_database(self, req: Request) -> Response:
        body = json_request(req)
        if not isinstance(body, dict) or not isinstance(body.get("db"), str):
            raise Fail(text(400, "serde json error: missing field `db`"))
        retention = _retention(body.get("retention_period"))
        problem = db_name_error(body["db"])
        if problem:
            raise Fail(json_answer(400, {"error": problem}))
        with self.ctx.catalog.lock:
            try:
                db = self.ctx.catalog.create_database(body["db"], retention)
            except CatalogError as err:
                _catalog_failure(err)
            self.ctx.create_engine_database(db)
        return Response(200)

    def update_database(self, req: Request) -> Response:
        body = json_request(req)
        if not isinstance(body, dict) or not isinstance(body.get("db"), str):
            raise Fail(text(400, "serde json error: missing field `db`"))
        retention = _retention(body.get("retention_period"))  # omitted: the period is cleared
        with self.ctx.catalog.lock:
            try:
                self.ctx.catalog.set_retention(body["db"], retention)
            except CatalogError as err:
                _catalog_failure(err)
        return Response(200)

    def delete_database(self, req: Request) -> Response:
        pairs = _query(req, "db")
        _check_hard_delete(pairs.get("hard_delete_at"))
        with self.ctx.catalog.lock:
            try:
                db = self.ctx.catalog.soft_delete_database(pairs["db"])
            except CatalogError as err:
                _catalog_failure(err)
            self.ctx.drop_engine_database(db)
        return Response(200)

    def set_retention(self, req: Request) -> Response:
        pairs = _query(req, "db", "duration")
        try:
            seconds = parse_humantime(pairs["duration"])
        except ValueError as err:
            raise Fail(text(400, f"Cannot parse the given human time: {err}")) from None
        with self.ctx.catalog.lock:
            try:
                self.ctx.catalog.set_retention(pairs["db"], seconds)
            except CatalogError as err:
                _catalog_failure(err)
        return Response(204)

    def clear_retention(self, req: Request) -> Response:
        pairs = _query(req, "db")
        with self.ctx.catalog.lock:
            try:
                self.ctx.catalog.set_retention(pairs["db"], None)
            except CatalogError as err:
                _catalog_failure(err)
        return Response(204)

    def create_table(self, req: Request) -> Response:
        body = json_request(req)
        for name in ("db", "table", "tags", "fields"):
            if not isinstance(body, dict) or name not in body:
                raise Fail(text(400, f"serde json error: missing field `{name}`"))
        fields: List[Tuple[str, str]] = []
        for item in body["fields"]:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in _FIELD_TYPES:
                raise Fail(
                    text(
                        400,
                        f"serde json error: unknown variant `{kind}`, expected one of `utf8`, `int64`, "
                        "`uint64`, `float64`, `bool`",
                    )
                )
            fields.append((str(item["name"]), _FIELD_TYPES[kind]))
        problem = db_name_error(body["db"])
        if problem:
            raise Fail(json_answer(400, {"error": problem}))
        catalog = self.ctx.catalog
        with catalog.lock:
            new_db = catalog.get(body["db"]) is None
            try:
                catalog.create_table(body["db"], str(body["table"]), [str(t) for t in body["tags"]], fields)
            except CatalogError as err:
                _catalog_failure(err)
            if new_db:
                self.ctx.create_engine_database(catalog.require(body["db"]))
        return Response(200)

    def delete_table(self, req: Request) -> Response:
        pairs = _query(req, "db", "table")
        _check_hard_delete(pairs.get("hard_delete_at"))
        with self.ctx.catalog.lock:
            try:
                db = self.ctx.catalog.soft_delete_table(pairs["db"], pairs["table"])
            except CatalogError as err:
                _catalog_failure(err)
            self.ctx.drop_engine_measurement(db, pairs["table"])
        return Response(200)


class ManagementRoutes:
    """Cloud Dedicated's Management API, databases only (``{"code": <int>, "message"}`` errors)."""

    PREFIX = "/api/v0/accounts/"

    def __init__(self, ctx: V3Context, account_id: str, cluster_id: str, token: str) -> None:
        self.ctx = ctx
        self.account_id = account_id
        self.cluster_id = cluster_id
        self.token = token

    def _json(self, db: Database) -> Dict[str, Any]:
        return {
            "accountId": self.account_id,
            "clusterId": self.cluster_id,
            "name": db.name,
            "maxTables": db.max_tables or self.ctx.catalog.limits.tables,
            "maxColumnsPerTable": db.max_columns or self.ctx.catalog.limits.columns,
            "retentionPeriod": (db.retention_seconds or 0) * 10**9,
            "partitionTemplate": [],
        }

    @staticmethod
    def _error(status: int, message: str) -> NoReturn:
        raise Fail(json_answer(status, {"code": status, "message": message}))

    def handle(self, req: Request) -> Response:
        if req.header("Authorization") != f"Bearer {self.token}":
            self._error(401, "Unauthorized")
        parts = req.path[len(self.PREFIX) :].split("/")
        if len(parts) < 4 or parts[1] != "clusters" or parts[3] != "databases":
            self._error(404, "Not Found")
        if parts[0] != self.account_id or parts[2] != self.cluster_id:
            self._error(403, "Forbidden")
        name = unquote(parts[4]) if len(parts) > 4 else None
        catalog = self.ctx.catalog
        with catalog.lock:
            if name is None and req.method == "GET":
                return json_answer(
                    200, [self._json(d) for d in catalog.databases.values() if d.name != "_internal"]
                )
            if name is None and req.method == "POST":
                return self._create(req)
            if name is not None and req.method == "DELETE":
                if catalog.get(name) is None or name == "_internal":
                    self._error(404, "database not found")
                self.ctx.drop_engine_database(catalog.soft_delete_database(name))
                return Response(204)
        self._error(405, "Method Not Allowed")

    def _create(self, req: Request) -> Response:
        try:
            body = json.loads(req.raw_body or b"null")
        except ValueError:
            self._error(400, "invalid request body")
        if not isinstance(body, dict) or not isinstance(body.get("name"), str) or db_name_error(body["name"]):
            self._error(400, "invalid database name")
        catalog = self.ctx.catalog
        if catalog.get(body["name"]) is not None:
            self._error(409, "database already exists")
        retention_ns = int(body.get("retentionPeriod") or 0)
        db = catalog.create_database(body["name"], retention_ns // 10**9 or None)
        db.max_tables = body.get("maxTables") or None
        db.max_columns = body.get("maxColumnsPerTable") or None
        self.ctx.create_engine_database(db)
        return json_answer(200, self._json(db))
