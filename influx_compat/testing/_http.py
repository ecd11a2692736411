"""The HTTP values of the test servers: requests, responses, and 2.x's JSON answers.

Every route module (v2 and 3.x) and the dispatchers import these; nothing here
knows a route.
"""

from __future__ import annotations

import gzip
import json
from typing import Any, Callable, Dict, Iterable, List, Match, NamedTuple, Optional, Union
from urllib.parse import parse_qs

from influx_compat.testing._state import ApiError

__all__ = ["RequestRecord", "Request", "Response", "Route", "json_response", "error_response"]


class RequestRecord(NamedTuple):
    """One request the server received (body as sent, before gunzip)."""

    method: str
    path: str
    query: Dict[str, List[str]]
    headers: Dict[str, str]
    body: bytes


class Request:
    """One HTTP request as the routes see it: method, path, parsed and raw query, headers, body."""

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
        self.match: Optional[Match[str]] = None  # the route pattern's match, set by the dispatcher
        self._body: Optional[bytes] = None

    def path_param(self, name: str) -> str:
        """A named group of the route pattern that matched the path."""
        assert self.match is not None, "path_param outside a routed request"
        return self.match[name]

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
    """An answer: status, body (bytes, or chunks sent with chunked transfer encoding), type, headers."""

    def __init__(
        self,
        status: int,
        body: Union[bytes, Iterable[bytes]] = b"",
        content_type: Optional[str] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> None:
        self.status = status
        self.body = body
        self.content_type = content_type
        self.headers = headers or {}


def json_response(status: int, obj: Any, pretty: bool = True) -> Response:
    """A JSON answer as 2.x writes it (indented unless ``pretty`` is False, newline-terminated)."""
    text = json.dumps(obj, indent=2) if pretty else json.dumps(obj, separators=(",", ":"))
    text += "\n"
    return Response(status, text.encode(), "application/json; charset=utf-8")


def error_response(err: ApiError) -> Response:
    """2.x's error shape: ``{"code", "message"}`` and the ``X-Platform-Error-Code`` header."""
    resp = json_response(err.status, {"code": err.code, "message": err.message}, pretty=False)
    resp.headers["X-Platform-Error-Code"] = err.code
    return resp


Route = Callable[[Request], Response]
