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

Callers are not authenticated unless ``--user NAME:PASSWORD`` is given (then
1.x credentials, as ``u``/``p`` parameters or HTTP Basic, must match); the
default listen address is loopback only.
"""

from __future__ import annotations

import base64
import gzip
import hmac
import json
import logging
from typing import Any, Callable, Dict, Iterable, List, Optional, Tuple
from urllib.parse import parse_qs

import requests

from influx_compat import _writer
from influx_compat._core import Core
from influx_compat._writer import WIRE_PRECISION
from influx_compat.exceptions import InfluxDBClientError, InfluxDBServerError

__all__ = ["ProxyApp", "serve"]

log = logging.getLogger("influx_compat.proxy")

StartResponse = Callable[[str, List[Tuple[str, str]]], Any]
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
}


class ProxyApp:
    """The WSGI application.

    :param client_kwargs: how to reach the server: ``url``, ``token``, ``org``,
        ``flavour``, ``bucket_map``, ``timeout``, ``verify_ssl``, ... (else the
        environment, as for the client)
    :param user: ``(name, password)`` callers must give, or None to accept every caller
    """

    def __init__(self, user: Optional[Tuple[str, str]] = None, **client_kwargs: Any) -> None:
        self.core = Core.from_options(**client_kwargs)
        self.user = user

    # -- WSGI --------------------------------------------------------------

    def __call__(self, environ: Dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        params = _params(environ.get("QUERY_STRING", ""))
        try:
            if path == "/ping":
                return self._ping(start_response)
            body = _read_body(environ)
            if (
                method == "POST"
                and path == "/query"
                and environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded")
            ):
                params.update(_params(body.decode("utf-8", errors="replace")))
                body = b""
            if not self._allowed(environ, params):
                return _json(start_response, 401, {"error": "authorization failed"})
            if path == "/query":
                return self._query(params, method, start_response)
            if path == "/write":
                if method != "POST":
                    return _json(start_response, 405, {"error": "use POST to write"})
                return self._write(params, body, environ, start_response)
            return _json(start_response, 404, {"error": f"{path} is not served by the influx_compat proxy"})
        except InfluxDBClientError as exc:
            status = exc.code if isinstance(exc.code, int) and 400 <= exc.code < 500 else 400
            return _json(start_response, status, {"error": _message(exc)})
        except InfluxDBServerError as exc:
            return _json(start_response, 502, {"error": _message(exc)})
        except requests.exceptions.RequestException as exc:
            log.warning("%s unreachable: %s", self.core.settings.base_url, type(exc).__name__)
            return _json(
                start_response,
                502,
                {"error": f"{self.core.settings.base_url} unreachable: {type(exc).__name__}"},
            )

    # -- endpoints -----------------------------------------------------------

    def _allowed(self, environ: Dict[str, Any], params: Dict[str, str]) -> bool:
        if self.user is None:
            return True
        name, password = params.get("u"), params.get("p")
        header = environ.get("HTTP_AUTHORIZATION", "")
        if header.startswith("Basic "):
            try:
                name, _, password = base64.b64decode(header[6:]).decode("utf-8").partition(":")
            except ValueError:
                return False
        return (
            name is not None
            and password is not None
            and hmac.compare_digest(name, self.user[0])
            and hmac.compare_digest(password, self.user[1])
        )

    def _ping(self, start_response: StartResponse) -> Iterable[bytes]:
        version = self.core.ping()
        start_response(
            "204 No Content",
            [("X-Influxdb-Version", str(version)), ("X-Influxdb-Build", "influx_compat proxy")],
        )
        return [b""]

    def _query(self, params: Dict[str, str], method: str, start_response: StartResponse) -> Iterable[bytes]:
        query_params: Dict[str, Any] = {"q": params.get("q", "")}
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
            return (json.dumps(chunk, separators=(",", ":")).encode() + b"\n" for chunk in answer)
        return _json(start_response, 200, answer)

    def _write(
        self, params: Dict[str, str], body: bytes, environ: Dict[str, Any], start_response: StartResponse
    ) -> Iterable[bytes]:
        database = params.get("db")
        if not database:
            return _json(start_response, 400, {"error": "database is required"})
        if environ.get("HTTP_CONTENT_ENCODING", "") == "gzip":
            body = gzip.decompress(body)
        precision = params.get("precision") or None
        if precision not in WIRE_PRECISION:
            return _json(start_response, 400, {"error": f"invalid precision {precision!r}"})
        _writer.write_body(
            self.core.send_batch,
            body,
            database,
            params.get("rp") or None,
            precision,
            params.get("consistency"),
        )
        start_response("204 No Content", [])
        return [b""]


def _params(text: str) -> Dict[str, str]:
    return {k: v[-1] for k, v in parse_qs(text, keep_blank_values=True).items()}


def _read_body(environ: Dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    stream = environ.get("wsgi.input")
    if stream is None or length <= 0:
        return b""
    data: bytes = stream.read(length)
    return data


def _message(exc: Exception) -> str:
    content = getattr(exc, "content", str(exc))
    try:  # 1.x-style bodies our core produced ({"error": ...}) stay as they are
        decoded = json.loads(content)
        if isinstance(decoded, dict) and isinstance(decoded.get("error"), str):
            return str(decoded["error"])
    except (TypeError, ValueError):
        pass
    return str(content)


def _json(start_response: StartResponse, status: int, body: Any) -> Iterable[bytes]:
    data = json.dumps(body, separators=(",", ":")).encode("utf-8") + b"\n"
    start_response(
        f"{status} {_REASONS.get(status, '')}".strip(),
        [("Content-Type", "application/json"), ("Content-Length", str(len(data)))],
    )
    return [data]


def serve(
    listen: str = "127.0.0.1:8086", user: Optional[Tuple[str, str]] = None, **client_kwargs: Any
) -> None:
    """Serve the proxy with waitress until interrupted."""
    try:
        import waitress
    except ImportError:
        raise SystemExit("the proxy runs on waitress: pip install 'influx_compat[proxy]'") from None
    host, _, port = listen.rpartition(":")
    app = ProxyApp(user=user, **client_kwargs)
    waitress.serve(app, host=host or "127.0.0.1", port=int(port), ident="influx_compat")
