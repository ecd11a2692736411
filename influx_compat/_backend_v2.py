"""The InfluxDB 2.x backend: OSS, Cloud, and Cloud Serverless (the v2 API).

Writes go to ``POST /api/v2/write?org=..&bucket=..&precision=ns|us|ms|s``
with the token in the ``Authorization`` header.  Without a token (legacy user
and password only) they go to 2.x's 1.x-compatible ``/write``, which accepts
HTTP Basic credentials.  Queries go to the 1.x-compatible ``/query``;
statements 2.x rejects are carried out by
:class:`~influx_compat._management.Management` on the v2 API.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any, Dict, List, Optional

from influx_compat._answers import MSGPACK, decode, line_chunks, read_all
from influx_compat._config import TOKEN_HELP, Settings
from influx_compat._flavour import Flavour
from influx_compat._influxql import Statement, qualified_sources, quote_ident
from influx_compat._management import Management
from influx_compat._mapping import DEFAULT_RP, BucketResolver, Target
from influx_compat._transport import Transport, error_message
from influx_compat._v2api import V2Api, missing_org
from influx_compat._writer import Destination
from influx_compat.exceptions import (
    AuthenticationError,
    DatabaseNotFoundError,
    InfluxDBClientError,
    PartialWriteError,
    Progress,
    UnsupportedOperationError,
)

__all__ = ["V2Backend"]

_DB_NOT_FOUND = re.compile(r"^database not found: (.*)$")
_RP_NOT_FOUND = re.compile(r"^retention policy not found: (.*)$")
_DROPPED = re.compile(r"dropped=(\d+)")
_TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}


class V2Backend:
    """One client's view of an InfluxDB 2.x server.

    :param settings: resolved settings (org, bucket map)
    :param transport: the HTTP transport
    :param flavour: ``V2`` or ``SERVERLESS`` (no delete API, no tasks)
    """

    def __init__(self, settings: Settings, transport: Transport, flavour: Flavour = Flavour.V2) -> None:
        self.flavour = flavour
        self.transport = transport
        self.api = V2Api(transport, settings.org, settings.org_source)
        self.resolver = BucketResolver(self.api, settings.bucket_map)
        self.management = Management(self.api, self.resolver, remote=self._remote_json)

    # -- writing -----------------------------------------------------------

    def write(self, body: bytes, destination: Destination) -> None:
        database, retention_policy = destination.database, destination.retention_policy
        if not self.transport.has_token:
            self._write_v1(body, destination)
            return
        try:
            target = self.resolver.resolve(database, retention_policy)
        except AuthenticationError:
            # A write-only token cannot list mappings; 2.x's /write resolves them itself.
            self._write_v1(body, replace(destination, precision=destination.precision or "ns"))
            return
        for attempt in (1, 2):
            params = {
                "org": self.api.org_name_or_id,
                "bucket": target.bucket,
                "precision": destination.precision or "ns",
            }
            response = self.transport.request(
                "POST", "api/v2/write", params=params, data=body, headers=_TEXT_PLAIN, raw=True, write=True
            )
            if response.status_code == 204:
                return
            message = error_message(response)
            if response.status_code == 404 and missing_org(message) is not None:
                raise self.api.org_not_found(missing_org(message) or str(params["org"]))
            if response.status_code == 404 and "bucket" in message:
                if attempt == 1 and target.source == "dbrp":
                    self.resolver.forget(database)  # the mapped bucket went away
                    target = self.resolver.resolve(database, retention_policy)
                    continue
                raise self._missing_database(database, retention_policy, target, 404)
            raise self._write_error(response)

    def _write_v1(self, body: bytes, destination: Destination) -> None:
        # The parameters influxdb-python sent, in its order, with a precision 2.x understands.
        params: Dict[str, str] = {"db": destination.database}
        if destination.consistency is not None:
            params["consistency"] = destination.consistency
        if destination.precision is not None:
            params["precision"] = destination.precision
        if destination.retention_policy is not None:
            params["rp"] = destination.retention_policy
        response = self.transport.request(
            "POST", "write", params=params, data=body, headers=_TEXT_PLAIN, raw=True, write=True
        )
        if response.status_code == 204:
            return
        if response.status_code == 404 and "dbrp" in error_message(response):
            raise self._missing_database(destination.database, destination.retention_policy, None, 404)
        raise self._write_error(response)

    def _write_error(self, response: Any) -> Exception:
        exc = self.transport.error_for(response)
        if isinstance(exc, InfluxDBClientError) and exc.code == 422 and "partial write" in str(exc.content):
            m = _DROPPED.search(str(exc.content))
            return PartialWriteError(exc.content, exc.code, Progress(dropped=int(m.group(1)) if m else None))
        return exc

    def _missing_database(
        self, database: str, retention_policy: Optional[str], target: Optional[Target], code: Optional[int]
    ) -> DatabaseNotFoundError:
        where = f"database {database!r}"
        if retention_policy:
            where += f" (retention policy {retention_policy!r})"
        bucket = f" and no bucket named {target.bucket_name!r}" if target and target.bucket_name else ""
        return DatabaseNotFoundError(
            f"database not found: {database}: InfluxDB 2.x has no DBRP mapping for {where}{bucket}. "
            f"Create it with client.create_database({database!r})"
            + (f" / client.create_retention_policy({retention_policy!r}, ...)" if retention_policy else "")
            + ", or map it to an existing bucket with bucket_map=",
            database=database,
            code=code,
        )

    # -- querying ----------------------------------------------------------

    def routes(self, statement: Statement) -> bool:
        # Without a token the v2 API is out of reach: everything goes to /query as 1.x sent it.
        return statement.routed and self.transport.has_token

    def execute(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        self.check_serverless(statement)
        return self.management.execute(statement, params)

    def query(
        self,
        text: str,
        params: Dict[str, Any],
        method: str,
        chunked: bool,
        expected: int,
        compact: bool = False,
    ) -> Any:
        params = dict(params, q=text)
        if not params.get("rp"):
            # 2.x ignores the policy written in FROM "db"."rp"."m": pass it as a parameter.
            qualified = {(db, rp) for db, rp in qualified_sources(text) if rp}
            if len(qualified) == 1:
                db, rp = qualified.pop()
                params["rp"] = rp
                if db and not params.get("db"):
                    params["db"] = db
        accept = "application/x-msgpack" if MSGPACK and not chunked else "application/json"
        answer: Any = None
        for attempt in (1, 2):
            response = self.transport.request(
                method, "query", params=params, stream=True, expected=expected, headers={"Accept": accept}
            )
            if chunked:
                return line_chunks(response)
            answer = decode(read_all(response), response.headers.get("Content-Type", ""), compact)
            if not isinstance(answer, dict):
                raise InfluxDBClientError(
                    f"the server answered /query with {type(answer).__name__}, not 1.x's "
                    '{"results": ...}: it is not InfluxDB 2.x',
                    response.status_code,
                )
            if attempt == 1 and self._repair_mapping(answer, params):
                continue
            break
        if not self.transport.has_token:
            _explain_not_implemented(answer)
        return answer

    def _remote_json(self, text: str, params: Dict[str, Any]) -> Dict[str, Any]:
        answer: Dict[str, Any] = self.query(text, params, "GET", False, 200)
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
        self.api.create_dbrp(
            database,
            retention_policy or DEFAULT_RP,
            bucket["id"],
            default=not existing and retention_policy in (None, DEFAULT_RP),
        )
        self.resolver.forget(database)
        return True

    # -- databases and the rest ----------------------------------------------

    def _statement(self, text: str, method: str = "POST") -> Dict[str, Any]:
        answer: Dict[str, Any] = self.query(text, {}, method, False, 200)
        for result in answer.get("results", []):
            if isinstance(result.get("error"), str):
                raise InfluxDBClientError(result["error"])
        return answer

    def create_database(self, name: str) -> None:
        if not self.transport.has_token:
            self._statement(f"CREATE DATABASE {quote_ident(name)}")
            return
        self.management.create_database(name)

    def drop_database(self, name: str) -> None:
        if not self.transport.has_token:
            self._statement(f"DROP DATABASE {quote_ident(name)}")
            return
        self.management.drop_database(name)

    def list_databases(self) -> List[Dict[str, str]]:
        if not self.transport.has_token:
            answer = self._statement("SHOW DATABASES", "GET")  # as 5.3.2 sent it
            rows: List[Dict[str, str]] = []
            for result in answer.get("results", []):
                for series in result.get("series", []):
                    rows.extend({"name": v[0]} for v in series.get("values") or [])
            return rows
        return self.management.list_databases()

    def check_serverless(self, statement: Statement) -> None:
        """Serverless has the v2 API without deletes and tasks (its OpenAPI contract)."""
        if self.flavour is Flavour.SERVERLESS and statement.kind in (
            "delete",
            "drop_series",
            "drop_measurement",
        ):
            raise UnsupportedOperationError(
                f"{statement.text}: InfluxDB Cloud Serverless has no delete API; let the bucket's "
                "retention period expire the points, or write them to a new bucket",
                statement=statement.text,
            )


def _explain_not_implemented(answer: Dict[str, Any]) -> None:
    """Add what to do to 2.x's ``not implemented: X`` statement errors."""
    for result in answer.get("results", []):
        error = result.get("error")
        if isinstance(error, str) and error.startswith("not implemented: "):
            result["error"] = (
                f"{error} (InfluxDB 2.x rejects this InfluxQL statement; influx_compat "
                f"translates it onto the v2 API when it has a token. {TOKEN_HELP})"
            )
