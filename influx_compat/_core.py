"""The translation core: 1.x writes, queries and statements onto InfluxDB 2.x or 3.

One :class:`Core` serves the :class:`~influx_compat.client.InfluxDBClient`, the
launcher and the v1 proxy.  It speaks in bytes and 1.x JSON
(``{"results": [...]}``); the client wraps answers into ``ResultSet`` objects.

The core decides, once, what the server is (its flavour: given, or read from
its first decisive answer) and how requests authenticate; the server-facing
work is done by one :class:`~influx_compat._backend.Backend` per flavour.
Shared here: :meth:`Core.send_batch`, through which the write pipeline
(:mod:`influx_compat._writer`) of every caller reaches the backend, and the
routing of InfluxQL statements between the server's ``/query`` and the
backend's translations.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Callable, Dict, List, Optional, TypeVar

import requests

from influx_compat import _select_into, _writer
from influx_compat._backend import Backend
from influx_compat._backend_v2 import V2Backend
from influx_compat._backend_v3 import V3_TOKEN_HELP, V3Backend
from influx_compat._config import TOKEN_HELP, Credentials, Settings, resolve_settings, verify_from_env
from influx_compat._flavour import FLAVOUR_HELP, Flavour, classify, flavour_from_url
from influx_compat._influxql import InfluxQLSyntaxError, Statement, parse_error, parse_query, quote_ident
from influx_compat._transport import Auth, Transport
from influx_compat.exceptions import DatabaseNotFoundError, InfluxDBClientError, UnsupportedOperationError

__all__ = ["Core"]

T = TypeVar("T")

# Rows read and written at a time by SELECT ... INTO without a chunk_size of its own.
SELECT_INTO_CHUNK = 10_000
# A SELECT that does not parse, as a chunked answer reports it in band (2.x's and 1.x's words).
_PARSE_FAILURE = re.compile(r"(?:failed to parse query|error parsing query): (.*)\Z", re.S)
_POSITION = re.compile(r" at line \d+, char \d+")


class Core:
    """Translation of one client's operations.

    :param settings: resolved settings
    :param transport: the HTTP transport (its auth and observer are set here)
    """

    def __init__(self, settings: Settings, transport: Transport) -> None:
        self.settings = settings
        self.transport = transport
        self.credentials = settings.credentials
        self.flavour: Optional[Flavour] = settings.flavour
        self.evidence = settings.flavour_source or ""
        if self.flavour is None:
            self.flavour = flavour_from_url(settings.base_url)
            self.evidence = f"the host name of {settings.base_url}" if self.flavour else ""
        self._backends: Dict[Flavour, Backend] = {}
        self._lock = threading.Lock()
        transport.observer = self._observe
        self._apply_auth()

    @classmethod
    def from_options(
        cls,
        *,
        session: Optional[requests.Session] = None,
        verify_ssl: Any = False,
        timeout: Any = None,
        retries: int = 3,
        pool_size: int = 10,
        proxies: Optional[Dict[str, str]] = None,
        headers: Optional[Dict[str, str]] = None,
        socket_options: Any = None,
        gzip: bool = False,
        **settings: Any,
    ) -> Core:
        """A core with its settings resolved and its transport built (the client's and the proxy's way).

        :param settings: the arguments of :func:`~influx_compat._config.resolve_settings`
            (``host``, ``port``, ``url``, ``token``, ``org``, ``flavour``, ...)
        """
        resolved = resolve_settings(**settings)
        transport = Transport(
            resolved,
            session=session,
            verify_ssl=verify_from_env(verify_ssl),
            timeout=timeout,
            retries=retries,
            pool_size=pool_size,
            proxies=proxies,
            headers=headers,
            socket_options=socket_options,
            gzip=gzip,
        )
        return cls(resolved, transport)

    # -- flavour and auth, decided here once ----------------------------------

    def _observe(self, response: requests.Response) -> None:
        if self.flavour is not None:
            return
        headers = getattr(response, "headers", None)
        if headers is None:
            return
        found, evidence = classify(headers)
        if found is not None:
            request = getattr(response, "request", None)
            what = f"{getattr(request, 'method', '')} {_path(str(getattr(response, 'url', '')))}"
            self._set_flavour(found, f"its answer to {what.strip()} ({evidence})")

    def _set_flavour(self, flavour: Flavour, evidence: str) -> None:
        with self._lock:
            if self.flavour is not None:
                return
            self.flavour, self.evidence = flavour, evidence
            self._apply_auth()  # before the lock is released: no request goes out with the old auth

    def _apply_auth(self) -> None:
        creds = self.credentials
        flavour = self.flavour or Flavour.V2
        if flavour.v3:
            token = creds.v3_token
            described = (
                f"the token from {creds.token_source}"
                if creds.token
                else "the password as a token"
                if token
                else "no token"
            )
            self.transport.auth = Auth(
                token=token, described=described, help=V3_TOKEN_HELP, server=flavour.product
            )
            return
        basic = (
            (creds.username, creds.password)
            if creds.username is not None and creds.password is not None and creds.token is None
            else None
        )
        self.transport.auth = Auth(
            token=creds.token,
            basic=basic,
            described=creds.describe(),
            help=TOKEN_HELP,
            server=flavour.product,
        )

    def set_credentials(self, credentials: Credentials) -> None:
        """New 1.x credentials (``switch_user``): a user and password instead of the token."""
        self.credentials = credentials
        self._apply_auth()

    @property
    def backend(self) -> Backend:
        flavour = self.flavour or Flavour.V2
        with self._lock:
            backend = self._backends.get(flavour)
            if backend is None:
                backend = self._backends[flavour] = (
                    V3Backend(self.settings, self.transport, flavour)
                    if flavour.v3
                    else V2Backend(self.settings, self.transport, flavour)
                )
        return backend

    def describe_flavour(self) -> str:
        """Which server the core takes this for, and why (for error messages)."""
        flavour = self.flavour or Flavour.V2
        why = self.evidence or "no answer has said otherwise yet (the default)"
        return (
            f"influx_compat takes {self.settings.base_url} (from {self.settings.base_url_source}) for "
            f"{flavour.product}, from {why}"
        )

    def _call(self, operation: Callable[[Backend], T], redo: bool = False) -> T:
        """Run an operation on the backend; run it again if the server turned out not to be plain 2.x.

        :param redo: run it again even if it succeeded (reads, whose answer
            the wrong backend may have misread)
        """
        backend = self.backend
        unknown = backend.flavour is Flavour.V2 and self.flavour is None
        try:
            try:
                result = operation(backend)
            except (InfluxDBClientError, requests.exceptions.RequestException) as exc:
                if unknown and self._learned_other():
                    return operation(self.backend)
                if (
                    unknown
                    and self.flavour is None
                    and type(exc) is InfluxDBClientError
                    and exc.code in (404, 405)
                    and self._probe()
                ):
                    return operation(self.backend)
                raise
            if redo and unknown and self._learned_other():
                return operation(self.backend)
            return result
        except InfluxDBClientError as exc:
            raise self._explained(exc) from None

    def _learned_v3(self) -> bool:
        return self.flavour is not None and self.flavour.v3

    def _learned_other(self) -> bool:
        """The server turned out to be other than plain 2.x, whose backend ran first."""
        return self.flavour is not None and self.flavour is not Flavour.V2

    def _probe(self) -> bool:
        """After an unexplained 404: ask the server what it is; True when it is not plain 2.x.

        Cloud 2, Serverless and Dedicated all say ``cloud2`` (Serverless may not
        serve /ping at all); Dedicated has no /api/v2/orgs, and an org's
        ``defaultStorageType`` tells Serverless (``iox``) from Cloud 2 (``tsm``).
        """
        try:
            response = self.transport.request("GET", "ping", raw=True)
            cloud = response.headers.get("X-Influxdb-Build", "").lower() == "cloud2"
            if self.flavour is None and (cloud or response.status_code == 404):
                orgs = self.transport.request("GET", "api/v2/orgs", raw=True)
                if orgs.status_code == 404 and cloud:
                    self._set_flavour(Flavour.DEDICATED, "/ping saying cloud2 and no /api/v2/orgs")
                elif orgs.status_code == 200:
                    storage = {o.get("defaultStorageType") for o in orgs.json().get("orgs", [])}
                    if "iox" in storage:
                        self._set_flavour(Flavour.SERVERLESS, "the org's defaultStorageType 'iox'")
        except Exception:  # noqa: BLE001 - a probe that fails proves nothing; the first error stands
            return False
        if self.flavour is None:
            self._set_flavour(Flavour.V2, "no answer saying otherwise (assumed)")
        return self.flavour is not Flavour.V2

    def _explained(self, exc: InfluxDBClientError) -> InfluxDBClientError:
        """A 404 or 405 that may come from a wrong guess of the server, with the guess and its reason."""
        if (
            type(exc) is InfluxDBClientError
            and exc.code in (404, 405)
            and not exc.content.startswith(
                "organization "  # a wrong org, named with the orgs the token can see: not a wrong guess
            )
        ):
            return InfluxDBClientError(f"{exc.content} ({self.describe_flavour()}; {FLAVOUR_HELP})", exc.code)
        return exc

    # -- writing -----------------------------------------------------------

    def send_batch(self, body: bytes, destination: _writer.Destination) -> None:
        """One batch to the backend: the write pipeline's :data:`~influx_compat._writer.Send`."""
        self._call(lambda b: b.write(body, destination))

    # -- querying ----------------------------------------------------------

    def query(
        self,
        params: Dict[str, Any],
        method: str = "GET",
        chunked: bool = False,
        expected: int = 200,
        compact: bool = False,
    ) -> Any:
        """Run InfluxQL; return 1.x JSON, or an iterator of JSON chunks when chunked.

        :param params: the /query parameters (``q``, ``db``, ``rp``, ``epoch``, ...)
        :param compact: a series' rows may come as :class:`~influx_compat._answers.Rows`,
            for a caller that reads the answer through :class:`~influx_compat.resultset.ResultSet`
        """
        text = params.get("q") or ""
        if params.get("epoch") == "us":  # 2.x reads "us" as nanoseconds and 3.x refuses it: 1.x's "u"
            params = dict(params, epoch="u")
        try:
            statements = parse_query(text)
            intos = [_select_into.parse_into(s.text) for s in statements]
        except InfluxQLSyntaxError as exc:
            raise parse_error(exc) from None
        return self._call(
            lambda b: self._query(b, text, statements, intos, params, method, chunked, expected, compact),
            redo=True,
        )

    def _query(
        self,
        backend: Backend,
        text: str,
        statements: List[Statement],
        intos: List[Optional[_select_into.SelectInto]],
        params: Dict[str, Any],
        method: str,
        chunked: bool,
        expected: int,
        compact: bool,
    ) -> Any:
        if not any(intos) and not any(backend.routes(s) for s in statements):
            return backend.query(text, params, method, chunked, expected, compact)
        results = self._mixed(backend, statements, intos, params, method, expected)
        if chunked:
            return iter([{"results": [r]} for r in results])
        return {"results": results}

    def _mixed(
        self,
        backend: Backend,
        statements: List[Statement],
        intos: List[Optional[_select_into.SelectInto]],
        params: Dict[str, Any],
        method: str,
        expected: int,
    ) -> List[Dict[str, Any]]:
        results: List[Dict[str, Any]] = []
        pending: List[Statement] = []
        # The statements between translated ones run unchunked: their answers are merged here.
        plain = {k: v for k, v in params.items() if k not in ("chunked", "chunk_size")}

        def flush() -> bool:
            if not pending:
                return True
            text = ";\n".join(s.text for s in pending)
            offset = len(results)
            pending.clear()
            answer = backend.query(text, plain, method, False, expected)
            for r in answer.get("results", []):
                r = dict(r)
                r["statement_id"] = r.get("statement_id", 0) + offset
                results.append(r)
                if "error" in r:
                    return False
            return True

        for statement, into in zip(statements, intos):
            if into is None and not backend.routes(statement):
                pending.append(statement)
                continue
            if not flush():
                break
            try:
                if into is not None:
                    result = self._run_select_into(backend, into, params, method, expected)
                else:
                    result = backend.execute(statement, params)
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

    def _run_select_into(
        self,
        backend: Backend,
        into: _select_into.SelectInto,
        params: Dict[str, Any],
        method: str,
        expected: int,
    ) -> Dict[str, Any]:
        """SELECT ... INTO: the SELECT read in chunks, each written before the next is read.

        2.x and 3.x have no INTO clause (:mod:`influx_compat._select_into`).
        """
        database = into.database or params.get("db")
        if not database:
            return {"error": "database name required"}
        policy = into.retention_policy if into.database else into.retention_policy or params.get("rp")
        missing = self._missing_target(backend, into, database)
        if missing:
            return {"error": missing}
        size = int(params.get("chunk_size") or 0) or SELECT_INTO_CHUNK
        plain = {k: v for k, v in params.items() if k not in ("chunked", "chunk_size", "epoch")}
        read = dict(plain, chunked="true", chunk_size=size, epoch="ns")

        def source_types() -> Dict[str, str]:  # asked for when a whole number needs its type
            if not into.from_clause:
                return {}
            shown = backend.query(f"SHOW FIELD KEYS FROM {into.from_clause}", plain, "GET", False, 200)
            return _select_into.field_types(shown)

        types = _select_into.ColumnTypes(into, source_types)
        outcome = _select_into.Outcome()
        chunks = backend.query(into.select, read, method, True, expected)
        points = _select_into.points_of(chunks, into, types, outcome)
        try:
            _writer.write_points(self.send_batch, points, "n", database, policy, batch_size=size)
        except DatabaseNotFoundError:
            return {"error": f"database not found: {database}"}
        parsed = _PARSE_FAILURE.match(outcome.error or "")
        if parsed:  # 1.x: a 400; its position would point into the text without INTO, so none
            raise parse_error(_POSITION.sub("", parsed.group(1)))
        if outcome.error is not None:
            return {"error": outcome.error}
        return _select_into.written_result(outcome.written, params.get("epoch"))

    def _missing_target(
        self, backend: Backend, into: _select_into.SelectInto, database: str
    ) -> Optional[str]:
        """1.x's error for an INTO naming a database or policy that does not exist (3.x would create it)."""
        if into.database is None and into.retention_policy is None:
            return None  # the query's own database: the SELECT fails there first
        shown = parse_query(f"SHOW RETENTION POLICIES ON {quote_ident(database)}")
        result = self._mixed(backend, shown, [None], {}, "GET", 200)[0]
        if "error" in result:
            return str(result["error"])
        names = [row[0] for series in result.get("series", []) for row in series.get("values", [])]
        if into.retention_policy and into.retention_policy not in names:
            return f"retention policy not found: {into.retention_policy}"
        return None

    # -- databases and ping ----------------------------------------------------

    def create_database(self, name: str) -> None:
        self._call(lambda b: b.create_database(name))

    def drop_database(self, name: str) -> None:
        self._call(lambda b: b.drop_database(name))

    def list_databases(self) -> List[Dict[str, str]]:
        return self._call(lambda b: b.list_databases())

    def ping(self) -> str:
        """The server's version: 2.x answers 204, 3 Core and Enterprise 200 with JSON."""
        response = self.transport.request("GET", "ping", raw=True)
        if response.status_code == 204 or (response.status_code == 200 and self._learned_v3()):
            if (
                self.flavour is None
                and response.status_code == 204
                and response.headers.get("X-Influxdb-Build", "").lower() != "cloud2"
            ):
                self._set_flavour(Flavour.V2, "/ping answering 204")
            version = response.headers.get("X-Influxdb-Version")
            if not version and response.status_code == 200:
                try:
                    version = response.json().get("version")
                except ValueError:
                    version = None
            return str(version or "")
        raise self.transport.error_for(response)


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
