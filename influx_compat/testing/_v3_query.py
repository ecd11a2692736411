"""``/query`` on the 3.x test server: InfluxDB 3's v1 query handler over the 1.x engine.

Follows ``core/iox_v1_query_api/src/handler.rs`` (shared by Core,
Enterprise and the IOx products): the accepted parameters, methods and
content types, the ``Accept`` negotiation, statement-by-statement database
resolution (the ``rp`` parameter only counts when the statement names its
database), and the in-band errors.  SHOW DATABASES and SHOW RETENTION
POLICIES come from the catalog on Core/Enterprise; everything else that
reads data runs on the engine after :func:`rewrite_for_engine`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable, Dict, Iterator, List, Tuple, Union
from urllib.parse import parse_qsl

from influx_compat.testing._engine import Engine
from influx_compat.testing._http import Request, Response
from influx_compat.testing._v3_catalog import Catalog, format_v1_duration
from influx_compat.testing._v3_encode import (
    EPOCHS,
    Result,
    Series,
    chunk_results,
    encode_csv,
    encode_json,
    encode_msgpack,
)
from influx_compat.testing._v3_influxql import (
    MultiDatabase,
    ParseFailure,
    Statement,
    _rust_debug,
    parse_query,
    resolve_dbrp,
    rewrite_for_engine,
)

__all__ = ["QueryRequestError", "answer_query"]

_FIELDS = ("chunked", "chunk_size", "db", "rp", "epoch", "pretty", "q", "params")
_CONTENT_TYPES = {"csv": "application/csv", "json": "application/json", "msgpack": "application/x-msgpack"}
_NOT_IMPLEMENTED = {
    "create_database": "CREATE DATABASE",
    "delete": "DELETE",
    "drop_measurement": "DROP MEASUREMENT",
}
_VARIANTS = ", ".join(f"`{e}`" for e in EPOCHS if e != "\u00b5")
Params = Dict[str, Union[str, int, bool]]


class QueryRequestError(Exception):
    """handler.rs HttpError: the status and the ``{"error": ...}`` text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _decode(pairs: List[Tuple[str, str]]) -> Params:
    """serde_urlencoded into lib.rs QueryParams: unknown keys ignored, duplicates and bad values refused."""
    seen: Dict[str, str] = {}
    for key, value in pairs:
        if key in _FIELDS:
            if key in seen:
                raise ValueError(f"duplicate field `{key}`")
            seen[key] = value
    out: Params = {}
    for key, value in seen.items():
        if key in ("chunked", "pretty"):
            if value not in ("true", "false"):
                raise ValueError("provided string was not `true` or `false`")
            out[key] = value == "true"
        elif key == "chunk_size":
            if not value.isdigit():
                raise ValueError(
                    "invalid digit found in string" if value else "cannot parse integer from empty string"
                )
            out[key] = int(value)
        elif key == "epoch":
            if value not in EPOCHS:
                raise ValueError(f"unknown variant `{value}`, expected one of {_VARIANTS}")
            out[key] = value
        else:
            out[key] = value
    return out


def _url_params(text: str) -> Params:
    try:
        return _decode(parse_qsl(text, keep_blank_values=True))
    except ValueError as err:
        raise QueryRequestError(400, f"error decoding params from url: {err}") from None


def _multipart(req: Request, ctype: str) -> Dict[str, str]:
    boundary = ""
    for piece in ctype.split(";")[1:]:
        key, _, value = piece.strip().partition("=")
        if key.lower() == "boundary":
            boundary = value.strip('"')
    if not boundary:
        raise QueryRequestError(400, "A boundary header is required for multipart upload")
    fields: Dict[str, str] = {}
    for part in req.raw_body.split(b"--" + boundary.encode())[1:]:
        if part.startswith(b"--"):
            break
        head, _, body = part.partition(b"\r\n\r\n")
        name = ""
        for line in head.decode("utf-8", "replace").split("\r\n"):
            if line.lower().startswith("content-disposition:") and 'name="' in line:
                name = line.split('name="', 1)[1].split('"', 1)[0]
        if name:
            fields[name] = body[:-2].decode("utf-8") if body.endswith(b"\r\n") else body.decode("utf-8")
    return fields


def _multipart_params(fields: Dict[str, str]) -> Params:
    """lib.rs from_hashmap_multipart: bools and sizes parsed by hand, ``epoch`` as a JSON string."""
    out: Params = {}
    for key in ("chunked", "pretty"):
        if key in fields:
            value = fields[key].strip()
            if value not in ("true", "false"):
                raise QueryRequestError(
                    400, f"error reading field from body: {key} -- provided string was not `true` or `false`"
                )
            out[key] = value == "true"
    if "chunk_size" in fields:
        value = fields["chunk_size"].strip()
        if not value.isdigit():
            raise QueryRequestError(
                400, "error reading field from body: chunk_size -- invalid digit found in string"
            )
        out["chunk_size"] = int(value)
    if "epoch" in fields:
        try:
            epoch = json.loads(fields["epoch"].strip())
        except ValueError:
            raise QueryRequestError(
                400, "error decoding query body: expected value at line 1 column 1"
            ) from None
        if epoch not in EPOCHS:
            raise QueryRequestError(
                400, f"error decoding query body: unknown variant `{epoch}`, expected one of {_VARIANTS}"
            )
        out["epoch"] = epoch
    out.update({k: fields[k] for k in ("db", "rp", "q", "params") if k in fields})
    return out


def extract(req: Request) -> Tuple[Params, str]:
    """handler.rs extract_request: the parameters (by method and Content-Type) and the answer format."""
    if req.method == "GET":
        if req.raw_query is None:
            raise QueryRequestError(400, "missing query parameters 'db' and 'q'")
        params = _url_params(req.raw_query)
    elif req.method == "POST":
        ctype = req.header("Content-Type")
        mime = (ctype or "").split(";")[0].strip().lower()
        if ctype is None or mime == "application/vnd.influxql":
            if req.raw_query is None:
                raise QueryRequestError(400, "missing query parameters 'db' and 'q'")
            params = _url_params(req.raw_query)
            if not params.get("q"):
                try:
                    params["q"] = req.raw_body.decode("utf-8")
                except UnicodeDecodeError:
                    raise QueryRequestError(400, "Error retrieving query from request body") from None
        elif mime in ("application/x-www-form-urlencoded", "multipart/form-data"):
            try:  # the URL's parameters count less, and are dropped when they do not decode
                lower = _url_params(req.raw_query or "")
            except QueryRequestError:
                lower = {}
            if mime == "multipart/form-data":
                params = _multipart_params(_multipart(req, ctype))
            else:
                params = _url_params(req.raw_body.decode("utf-8", "replace"))
            params = dict(lower, **params)
        else:
            raise QueryRequestError(400, f"invalid mime type ({ctype.strip()})")
    else:
        raise QueryRequestError(400, "Invalid request method")
    if req.method == "GET":
        params.setdefault("chunked", False)
        params.setdefault("pretty", False)
    accept = req.header("Accept")
    if accept in ("application/csv", "text/csv"):  # lib.rs QueryFormat::from_bytes: exact values only
        return params, "csv"
    if accept == "application/x-msgpack":
        return params, "msgpack"
    if accept in ("application/json", "*/*", None):
        return params, "json"
    raise QueryRequestError(400, f"invalid mime type ({accept})")


@dataclass
class _Run:
    catalog: Catalog
    engine: Engine
    dedicated: bool
    authorize: Callable[[], bool]
    query: str
    params: Params

    def statement(self, index: int, stmt: Statement) -> Result:
        request_db = str(self.params.get("db") or "") or None
        if stmt.kind == "show_databases" and not self.dedicated:
            with self.catalog.lock:
                names = self.catalog.names()
            return Result(index, [Series("databases", ["name"], [[n] for n in names])] if names else [])
        if stmt.kind == "show_retention_policies" and not self.dedicated:
            # query_executor.rs ShowRetentionPolicies: one row, named after the database
            target = resolve_dbrp(stmt.db, None) or request_db
            if target is None:
                return Result(
                    index,
                    error="must specify a 'db' parameter, or provide the database in the InfluxQL query",
                )
            with self.catalog.lock:
                db = self.catalog.get(target)
                if db is None:
                    return Result(
                        index, error=f"datafusion error: Error during planning: database not found: {target}"
                    )
                row = [db.name, format_v1_duration(db.retention_seconds), True]
            return Result(index, [Series("retention_policies", ["name", "duration", "default"], [row])])
        rp = (
            stmt.rp if stmt.rp is not None else self.params.get("rp")
        )  # handler.rs: the rp parameter fills in
        target = resolve_dbrp(stmt.db, None if rp is None else str(rp)) or request_db
        if target is None:
            return Result(
                index, error="must specify a 'db' parameter, or provide the database in the InfluxQL query"
            )
        if not self.authorize():
            raise QueryRequestError(401, "unauthorized access")
        with self.catalog.lock:
            db = self.catalog.get(target)
            engine_db = db.engine_name if db is not None else ""
        if db is None:
            if self.dedicated:
                return Result(index, error=f"Database {target} not found")
            return Result(
                index, error=f"Cannot retrieve database: External error: database not found: {target}"
            )
        if stmt.kind in _NOT_IMPLEMENTED:  # plan/planner.rs statement_to_plan
            return Result(
                index,
                error=f"datafusion error: This feature is not implemented: {_NOT_IMPLEMENTED[stmt.kind]}",
            )
        if stmt.kind == "show_databases":
            return Result(index, error="datafusion error: This feature is not implemented: SHOW DATABASES")
        if stmt.kind == "show_retention_policies":  # planner.rs show_retention_policies_to_plan
            columns = ["name", "duration", "shardGroupDuration", "replicaN", "default"]
            return Result(
                index, [Series("retention_policies", columns, [["autogen", "0s", "168h0m0s", 1, True]])]
            )
        if stmt.kind == "select" and any(t.word() in ("SLIMIT", "SOFFSET") for t in stmt.tokens):
            # plan/rewriter.rs check_features, under the planner's "rewriting statement" context
            return Result(
                index,
                error="datafusion error: rewriting statement\ncaused by\nThis feature is not "
                "implemented: SLIMIT or SOFFSET",
            )
        return self.engine_statement(index, stmt, engine_db)

    def engine_statement(self, index: int, stmt: Statement, engine_db: str) -> Result:
        extra = {"params": self.params["params"]} if self.params.get("params") else {}
        answer = self.engine.query(rewrite_for_engine(stmt, engine_db), engine_db, epoch="ns", **extra)
        if "error" in answer and "results" not in answer:
            # The engine's parser refused what the statement classifier let through: the whole query fails.
            detail = f"Parsing Error: Nom({_rust_debug(self.query[stmt.pos :])}, Tag)"
            raise ParseFailure("invalid InfluxQL statement", stmt.pos, detail)
        result = (answer.get("results") or [{}])[0]
        if "error" in result:
            return Result(index, error=str(result["error"]))
        timed = stmt.kind in ("select", "explain")
        series = [
            Series(
                s.get("name", ""),
                s.get("columns", []),
                s.get("values", []),
                s.get("tags") or {},
                timed=timed and s.get("columns", [""])[0] == "time",
            )
            for s in result.get("series", [])
        ]
        return Result(index, series)

    def run(self) -> List[Result]:
        try:
            statements = parse_query(self.query)
        except ParseFailure as err:
            return [Result(0, error=f"error in InfluxQL statement: parsing error: {err.text}")]
        except MultiDatabase:
            return [
                Result(0, error="error in InfluxQL statement: can only perform queries on a single database")
            ]
        try:
            return [self.statement(i, stmt) for i, stmt in enumerate(statements)]
        except ParseFailure as err:
            return [Result(0, error=f"error in InfluxQL statement: parsing error: {err.text}")]


def answer_query(
    req: Request, catalog: Catalog, engine: Engine, dedicated: bool, authorize: Callable[[], bool]
) -> Response:
    """The whole ``/query`` answer; QueryRequestError for the out-of-band failures."""
    params, fmt = extract(req)
    if "q" not in params:
        raise QueryRequestError(400, "expected a query to be provided in the query string or body")
    if params.get("params"):
        try:
            json.loads(str(params["params"]))
        except ValueError as err:
            raise QueryRequestError(400, f"error decoding query body: {err}") from None
    run = _Run(catalog, engine, dedicated, authorize, str(params["q"]), params)
    results = run.run()
    epoch = str(params["epoch"]) if "epoch" in params else None
    pretty = bool(params.get("pretty"))
    chunk_size = int(params.get("chunk_size") or 10_000) if params.get("chunked") else 0

    def encode(part: List[Result]) -> bytes:
        if fmt == "csv":
            return encode_csv(part, epoch)
        if fmt == "msgpack":
            return encode_msgpack(part, epoch)
        return encode_json(part, epoch, pretty)

    def body() -> Iterator[bytes]:
        if fmt == "csv":  # csv.rs streams every statement the same way, chunked or not
            yield encode_csv(results, epoch)
        elif chunk_size:
            for part in chunk_results(results, chunk_size):
                yield encode(part)
        elif results:
            yield encode(results)

    return Response(200, body(), _CONTENT_TYPES[fmt])
