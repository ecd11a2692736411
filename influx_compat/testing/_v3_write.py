"""Writes on the 3.x test server: ``/write``, ``/api/v2/write`` and ``/api/v3/write_lp``.

Parameters follow ``core/iox_http/src/write/`` (v1.rs, v2.rs, params.rs,
single_tenant/mod.rs) and ``influxdb3_types/src/http.rs`` WriteParams; the
write itself follows ``influxdb3_server/src/http.rs`` write_lp_inner and
``influxdb3_write/src/write_buffer/validator.rs``: the legacy endpoints
reject the whole batch at the first bad line (``accept_partial=false``),
write_lp keeps the good lines by default and reports the others.  Every
line is checked against the catalog before the engine sees any of it.
"""

from __future__ import annotations

import time
from typing import Any, Dict, List, NoReturn, Optional, Tuple
from urllib.parse import parse_qsl

from influx_compat.testing._http import Request, Response
from influx_compat.testing._v3_auth import header_token_iox
from influx_compat.testing._v3_catalog import CatalogError, WriteTxn, db_name_error, namespace_error
from influx_compat.testing._v3_http import (
    BodyError,
    Fail,
    V3Context,
    decode_utf8,
    json_answer,
    read_body,
    text,
)
from influx_compat.testing._v3_lines import LEGACY_PRECISIONS, V3_PRECISIONS, parse_body, to_nanos

__all__ = ["WriteRoutes"]

_LEGACY_VARIANTS = "`second`, `millisecond`, `microsecond`, `nanosecond`"
_V3_VARIANTS = "`auto`, " + _LEGACY_VARIANTS
_LIMIT_PREFIXES = ("Update to schema would exceed number of", "Adding a new database would exceed limit of")


class _WriteError(Exception):
    """A failed write, not yet shaped for its endpoint (dbname, body, catalog, parse, empty, partial)."""

    def __init__(self, kind: str, message: str, status: int = 400, data: Any = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.data = data


def _query_pairs(req: Request) -> Dict[str, str]:
    """serde_urlencoded into a struct: unknown keys ignored, a repeated known key refused."""
    seen: Dict[str, str] = {}
    for key, value in parse_qsl(req.raw_query or "", keep_blank_values=True):
        if key in seen and key in (
            "db",
            "rp",
            "precision",
            "p",
            "org",
            "bucket",
            "accept_partial",
            "no_sync",
        ):
            raise ValueError(f"duplicate field `{key}`")
        seen.setdefault(key, value)
    return seen


def _precision(value: Optional[str], table: Dict[str, str], variants: str) -> str:
    if value is None:
        return "nanosecond" if table is LEGACY_PRECISIONS else "auto"
    if value not in table:
        raise ValueError(f"unknown variant `{value}`, expected one of {variants}")
    return table[value]


def _truncate20(line: str) -> str:
    # influxdb3_types/src/write.rs WriteLineError: original_line capped at 20 bytes on a char boundary
    return line.encode("utf-8")[:20].decode("utf-8", "ignore")


class WriteRoutes:
    """The three write endpoints of one server."""

    def __init__(self, ctx: V3Context) -> None:
        self.ctx = ctx

    # -- parameters ---------------------------------------------------------------

    def _legacy_params(self, req: Request, v2: bool) -> Tuple[str, str]:
        """single_tenant/mod.rs parse_v1/parse_v2: database name and precision; ValueError with the text."""
        what = "org/bucket/precision" if v2 else "db/rp/precision"
        if req.raw_query is None:
            raise ValueError("no org/bucket destination provided" if v2 else "no db destination provided")
        try:
            pairs = _query_pairs(req)
            precision = _precision(pairs.get("precision"), LEGACY_PRECISIONS, _LEGACY_VARIANTS)
            if not v2 and "db" not in pairs:
                raise ValueError("missing field `db`")
        except ValueError as err:
            raise ValueError(f"failed to deserialize {what} in request: {err}") from None
        if v2:
            name = pairs.get("bucket", "")  # the org is ignored (single tenant)
            if not name:
                raise ValueError("missing bucket value")
        else:
            name = pairs["db"]
            rp = pairs.get("rp", "").lower()  # v1.rs RetentionPolicy: lower-cased; autogen/default mean none
            if rp not in ("", "''", "autogen", "default"):
                name = f"{name}/{rp}"
        problem = namespace_error(name)
        if problem:
            raise ValueError(problem)
        return name, precision

    # -- the write --------------------------------------------------------------------

    def _write(self, req: Request, db_name: str, precision: str, accept_partial: bool) -> None:
        ctx = self.ctx
        problem = db_name_error(db_name)
        if problem:
            raise _WriteError("dbname", problem)
        try:
            body = decode_utf8(read_body(req, ctx.max_request_size))
        except BodyError as err:
            raise _WriteError("body", err.message, err.status) from None
        ingest_ns = time.time_ns()
        catalog = ctx.catalog
        with catalog.lock:
            if ctx.dedicated and catalog.get(db_name) is None:
                raise _WriteError("notfound", f"database not found: {db_name}", 404)
            try:
                txn = catalog.begin(db_name)
            except CatalogError as err:
                raise _WriteError("catalog", err.message, err.status) from None
            lines, errors = self._validate(txn, body, precision, accept_partial, ingest_ns)
            db = txn.commit()
            if txn.new:
                ctx.create_engine_database(db)
            if lines:
                resp = ctx.engine.write("\n".join(lines).encode(), db.engine_name, "n")
                if resp.status_code != 204:
                    raise _WriteError(
                        "engine", f"test server: the engine refused the write: {resp.text}", 500
                    )
        if not lines and not errors:
            raise _WriteError("empty", "incoming write was empty")
        if errors:
            limit_hit = any(e["error_message"].startswith(_LIMIT_PREFIXES) for e in errors)
            raise _WriteError(
                "partial", "partial write of line protocol occurred", 422 if limit_hit else 400, errors
            )

    def _validate(
        self, txn: WriteTxn, body: str, precision: str, accept_partial: bool, ingest_ns: int
    ) -> Tuple[List[str], List[Dict[str, Any]]]:
        lines: List[str] = []
        errors: List[Dict[str, Any]] = []
        for number, original, line, problem in parse_body(body):
            if line is not None:
                try:
                    txn.validate(line)
                    ns = to_nanos(line.timestamp, precision, ingest_ns)
                except (CatalogError, ValueError) as err:
                    problem = err.message if isinstance(err, CatalogError) else str(err)
                    original = line.display  # validator.rs quotes the parsed line for these
                else:
                    lines.append(f"{line.series_text} {','.join(line.field_texts)} {ns}")
                    continue
            error = {"error_message": problem, "line_number": number, "original_line": _truncate20(original)}
            if not accept_partial:
                raise _WriteError("parse", str(problem), 400, error)
            errors.append(error)
        return lines, errors

    # -- shaping per endpoint ----------------------------------------------------------

    @staticmethod
    def _core_failure(err: _WriteError) -> NoReturn:
        """http.rs Error::into_response, as /write and /api/v3/write_lp answer."""
        if err.kind in ("dbname", "catalog"):
            raise Fail(json_answer(err.status, {"error": err.message}))
        if err.kind == "parse":
            raise Fail(json_answer(400, {"error": "line protocol parsing error", "data": err.data}))
        if err.kind == "partial":
            raise Fail(json_answer(err.status, {"error": err.message, "data": err.data}))
        raise Fail(text(err.status, err.message))

    @staticmethod
    def _v2_failure(err: _WriteError) -> NoReturn:
        """http.rs V2WriteApiError: ``{"code", "message"}`` with the error's full text."""
        message = {
            "catalog": f"write buffer error: catalog update error: {err.message}",
            "parse": f"write buffer error: line protocol parse failed: {err.message}",
            "empty": f"write buffer error: {err.message}",
        }.get(err.kind, err.message)
        code = {413: "request too large", 500: "internal error", 404: "not found"}.get(err.status, "invalid")
        raise Fail(json_answer(400 if code == "invalid" else err.status, {"code": code, "message": message}))

    @staticmethod
    def _dedicated_failure(err: _WriteError) -> NoReturn:
        """Cloud Dedicated's write errors (its API reference): v2 codes, the first rejected line."""
        if err.kind == "parse" and isinstance(err.data, dict):
            line = err.data["line_number"]
            body = {
                "code": "invalid",
                "line": line,
                "message": f"no data written, errors encountered on line(s): line {line}: {err.message}",
            }
            raise Fail(json_answer(400, body))
        WriteRoutes._v2_failure(err)

    def _dedicated_auth(self, req: Request, param_token: Optional[str], token: str) -> None:
        given = header_token_iox(req.header("Authorization")) or param_token
        if not given:
            raise Fail(json_answer(401, {"code": "unauthorized", "message": "unauthorized access"}))
        if given != token:
            raise Fail(
                json_answer(403, {"code": "forbidden", "message": "insufficient permissions for write"})
            )

    # -- endpoints --------------------------------------------------------------------------

    def legacy(self, req: Request, v2: bool, token: str) -> Response:
        """POST /write (v2=False) and POST /api/v2/write."""
        ctx = self.ctx
        try:
            db_name, precision = self._legacy_params(req, v2)
        except ValueError as err:
            if ctx.dedicated or v2:
                raise Fail(json_answer(400, {"code": "invalid", "message": str(err)})) from None
            raise Fail(json_answer(400, {"error": str(err)})) from None
        if ctx.dedicated:
            self._dedicated_auth(req, None if v2 else _query_pairs(req).get("p"), token)
        try:
            self._write(req, db_name, precision, accept_partial=False)
        except _WriteError as err:
            if ctx.dedicated:
                self._dedicated_failure(err)
            if v2:
                self._v2_failure(err)
            self._core_failure(err)
        return Response(204)

    def write_lp(self, req: Request) -> Response:
        """POST /api/v3/write_lp?db&precision&accept_partial&no_sync (Core and Enterprise)."""
        if req.raw_query is None:
            raise Fail(text(400, "missing query parameter 'db'"))
        try:
            pairs = _query_pairs(req)
            precision = _precision(pairs.get("precision"), V3_PRECISIONS, _V3_VARIANTS)
            flags = {}
            for key in ("accept_partial", "no_sync"):
                if key in pairs:
                    if pairs[key] not in ("true", "false"):
                        raise ValueError("provided string was not `true` or `false`")
                    flags[key] = pairs[key] == "true"
            if "db" not in pairs:
                raise ValueError("missing field `db`")
        except ValueError as err:
            raise Fail(text(400, f"serde error: {err}")) from None
        try:
            self._write(req, pairs["db"], precision, accept_partial=flags.get("accept_partial", True))
        except _WriteError as err:
            self._core_failure(err)
        return Response(204)
