"""The InfluxDB 3 backends: 3 Core and Enterprise, and the IOx data API of Dedicated and Clustered.

What differs from 2.x, with the InfluxDB 3 source it follows:

* names: 1.x database ``db`` is database ``db``; retention policy ``rp`` is
  database ``db/rp`` (lower-cased; ``autogen``/``default`` are ``db``)
  (core/iox_http/src/write/v1.rs, single_tenant/mod.rs);
* auth: the token, or a legacy password that holds one, as ``Authorization:
  Token`` on every request (influxdb3_server/src/http.rs); never ``u``/``p``;
* writes: Core/Enterprise ``/api/v3/write_lp`` with ``accept_partial=true``,
  so one bad line does not cost the batch; IOx ``/api/v2/write?bucket=``;
  empty batches are not sent (the server answers 400 ``incoming write was empty``);
* queries: ``/query`` with JSON answers (3.x MessagePack has no maps), no
  ``application/json`` request content type (refused,
  core/iox_v1_query_api/src/handler.rs), ``db=db/rp`` instead of the
  ignored ``rp``, chunks parsed as concatenated JSON documents.
"""

from __future__ import annotations

import json
import re
from typing import Any, Dict, List, Optional, Tuple

from influx_compat._answers import decode, first_error, json_stream, legacy_times, read_all
from influx_compat._config import Settings
from influx_compat._databases_v3 import catalog_for
from influx_compat._flavour import Flavour
from influx_compat._influxql import Statement
from influx_compat._management_v3 import ManagementV3
from influx_compat._names_v3 import LIMIT_HELP, database_for
from influx_compat._transport import Transport, error_message
from influx_compat._writer import Destination
from influx_compat.exceptions import (
    DatabaseNotFoundError,
    InfluxDBClientError,
    LimitExceededError,
    PartialWriteError,
    Progress,
    RejectedLine,
)

__all__ = ["V3Backend", "V3_TOKEN_HELP"]

_WRITE_LP_PRECISION = {"ns": "nanosecond", "us": "microsecond", "ms": "millisecond", "s": "second"}
_TEXT_PLAIN = {"Content-Type": "text/plain; charset=utf-8"}
V3_TOKEN_HELP = (
    "InfluxDB 3 authenticates with tokens only: pass token=... (or the token as password=..., as "
    "InfluxDB 3's docs tell 1.x users), or set INFLUX_TOKEN; create one with 'influxdb3 create token'."
)
_SCHEMA_HINTS = (
    (
        "iox::column_type::tag",
        "InfluxDB 3 does not allow a tag and a field of the same name in one measurement: rename one",
    ),
    (
        "invalid column type",
        "InfluxDB 3 fixes a column's type at its first write, forever: write this field with the type "
        "it was first written with, or under a new name",
    ),
    (
        "reserved column",
        "InfluxDB 3 reserves the column name 'time' for the timestamp: rename the tag or field",
    ),
)


class V3Backend:
    """One client's view of an InfluxDB 3 server.

    :param settings: resolved settings
    :param transport: the HTTP transport (its auth set by the core)
    :param flavour: CORE, ENTERPRISE, DEDICATED or CLUSTERED
    """

    def __init__(self, settings: Settings, transport: Transport, flavour: Flavour) -> None:
        self.flavour = flavour
        self.transport = transport
        self.management = ManagementV3(
            self.run, flavour, catalog_for(flavour, settings, transport, self.exists, self.show_databases)
        )

    # -- names ---------------------------------------------------------------

    def target(self, database: str, retention_policy: Optional[str]) -> str:
        """The database points of (database, rp) go to; the client-side default policy applies."""
        if not retention_policy:
            retention_policy = self.management.default_policy(database)
        return database_for(database, retention_policy)

    # -- writing -----------------------------------------------------------

    def write(self, body: bytes, destination: Destination) -> None:
        precision = destination.precision
        if not body or body.isspace():  # not body.strip(): no copy of the batch
            return  # 3.x answers an empty write with 400 "incoming write was empty"
        target = self.target(destination.database, destination.retention_policy)
        if self.flavour.iox:
            params = {"bucket": target, "precision": precision or "ns"}
            path = "api/v2/write"
        else:
            params = {
                "db": target,
                "precision": _WRITE_LP_PRECISION[precision or "ns"],
                "accept_partial": "true",
            }
            path = "api/v3/write_lp"
        response = self.transport.request(
            "POST", path, params=params, data=body, headers=_TEXT_PLAIN, raw=True, write=True
        )
        if response.status_code == 204:
            return
        raise self._write_error(response, target)

    def _write_error(self, response: Any, target: str) -> Exception:
        status = response.status_code
        try:
            payload = json.loads(response.content or b"null")
        except ValueError:
            payload = None
        message = error_message(response)
        old = self.transport.old_server(response, message) if status == 404 else None
        if old is not None:
            return old
        data = payload.get("data") if isinstance(payload, dict) else None
        if status == 422 or "limit" in message and status == 400:
            return LimitExceededError(f"{message} ({LIMIT_HELP})", status, limit=_limit_name(message))
        if isinstance(data, list) and data:
            rejected = tuple(_rejected(item) for item in data if isinstance(item, dict))
            return PartialWriteError(
                _hinted(message, rejected), status, Progress(dropped=len(rejected)), rejected
            )
        if isinstance(data, dict):
            rejected = (_rejected(data),)
            return InfluxDBClientError(
                _hinted(f"{message}: nothing of this batch was written", rejected), status
            )
        if self.flavour.iox and "partial write" in message:
            found = re.search(r"(\d+) point", message)
            return PartialWriteError(
                message, status, Progress(dropped=int(found.group(1)) if found else None)
            )
        if status == 404:
            return DatabaseNotFoundError(
                f"database not found: {target}: {message}. " + self.management.create_help(target),
                database=target,
                code=404,
            )
        if status == 405 and not self.flavour.iox:
            return InfluxDBClientError(
                f"{message}: the server has no /api/v3/write_lp, so it is not InfluxDB 3 Core or "
                "Enterprise; for Cloud Dedicated or Clustered pass flavour='dedicated'",
                405,
            )
        return self.transport.error_for(response)

    # -- querying ----------------------------------------------------------

    def routes(self, statement: Statement) -> bool:
        return self.management.routes(statement)

    def execute(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        return self.management.execute(statement, params)

    def query_params(self, text: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """The /query parameters 3.x reads: ``db`` names the policy's database, no ``rp``."""
        out = {k: v for k, v in params.items() if k != "rp" and v is not None}
        out["q"] = text
        database = params.get("db")
        if database:
            out["db"] = self.target(str(database), params.get("rp") or None)
        return out

    def query(
        self,
        text: str,
        params: Dict[str, Any],
        method: str,
        chunked: bool,
        expected: int,
        compact: bool = False,
    ) -> Any:
        wire = self.query_params(text, params)
        legacy = not wire.get("epoch")
        # 3.x answers MessagePack with positional arrays, and refuses a JSON request content type.
        headers: Dict[str, Optional[str]] = {"Accept": "application/json", "Content-Type": None}
        response = self.transport.request(
            method if method in ("GET", "POST") else "GET",
            "query",
            params=wire,
            stream=True,
            expected=expected,
            headers=headers,
        )
        if chunked:
            return json_stream(response, legacy=legacy)
        answer = decode(read_all(response), response.headers.get("Content-Type", ""), compact)
        if not isinstance(answer, dict):
            raise InfluxDBClientError(
                f"unexpected /query answer from {self.flavour.product}: {type(answer).__name__}",
                response.status_code,
            )
        return legacy_times(answer) if legacy else answer

    def run(self, text: str, database: Optional[str]) -> Dict[str, Any]:
        """One statement on a 3.x database (already mapped): its result, errors raised."""
        params: Dict[str, Any] = {"q": text}
        if database:
            params["db"] = database
        headers: Dict[str, Optional[str]] = {"Accept": "application/json", "Content-Type": None}
        response = self.transport.request("GET", "query", params=params, stream=True, headers=headers)
        answer = decode(read_all(response), response.headers.get("Content-Type", ""))
        error = first_error(answer)
        if error is not None:
            raise InfluxDBClientError(error)
        result: Dict[str, Any] = (answer.get("results") or [{}])[0]
        return result

    def show_databases(self) -> List[str]:
        """The database names of ``SHOW DATABASES`` (3 Core/Enterprise), in the catalog's order."""
        result = self.run("SHOW DATABASES", None)
        return [str(v[0]) for series in result.get("series", []) for v in series.get("values", [])]

    def exists(self, database: str) -> bool:
        """Whether a database answers queries (Dedicated/Clustered: no other way without the console)."""
        try:
            self.run("SHOW MEASUREMENTS LIMIT 1", database)
        except InfluxDBClientError as exc:
            if "not found" in str(exc.content):
                return False
            raise
        return True

    # -- databases ---------------------------------------------------------

    def create_database(self, name: str) -> None:
        self.management.create_database(name)

    def drop_database(self, name: str) -> None:
        self.management.drop_database(name)

    def list_databases(self) -> List[Dict[str, str]]:
        return self.management.list_databases()


def _rejected(item: Dict[str, Any]) -> RejectedLine:
    number = int(item.get("line_number") or 0)
    return RejectedLine(
        max(number - 1, 0), number, str(item.get("error_message", "")), str(item.get("original_line", ""))
    )


def _hinted(message: str, rejected: Tuple[RejectedLine, ...]) -> str:
    hints = []
    for line in rejected:
        for needle, hint in _SCHEMA_HINTS:
            if needle in line.message and hint not in hints:
                hints.append(hint)
                break
    return message + "".join(f" ({hint})" for hint in hints)


def _limit_name(message: str) -> Optional[str]:
    lowered = message.lower()
    for name in ("column", "table", "database"):
        if name in lowered:
            return name + "s"
    return None
