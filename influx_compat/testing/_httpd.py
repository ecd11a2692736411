"""The socket side of the test servers: a threaded HTTP/1.1 server on loopback.

It turns each request into a :class:`~._http.Request`, hands it to the app,
and writes the :class:`~._http.Response` back (chunked transfer encoding for
iterable bodies, so that each chunk reaches the client as one frame).
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Protocol
from urllib.parse import parse_qs, urlsplit

from influx_compat.testing._http import Request, Response, error_response
from influx_compat.testing._state import ApiError

__all__ = ["HttpApp", "HttpServer", "serve"]


class HttpApp(Protocol):
    """What the HTTP machinery serves: headers sent on every answer, and one handler."""

    base_headers: Dict[str, str]

    def handle(self, req: Request) -> Response: ...


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "influx_compat-testing"
    server: HttpServer

    def _serve(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self.rfile.read(length) if length else b""
        headers = {k: v for k, v in self.headers.items()}
        req = Request(
            self.command,
            parts.path,
            parse_qs(parts.query, keep_blank_values=True),
            headers,
            body,
            parts.query if "?" in self.path else None,
        )
        app = self.server.app
        try:
            resp = app.handle(req)
        except Exception as exc:  # an emulator bug: answer like 2.x, keep serving
            resp = error_response(ApiError("internal error", f"emulator error: {exc!r}"))
        self.send_response(resp.status)
        for k, v in app.base_headers.items():
            self.send_header(k, v)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        if resp.content_type:
            self.send_header("Content-Type", resp.content_type)
        if isinstance(resp.body, bytes):
            if resp.status != 204 and self.command != "HEAD":
                self.send_header("Content-Length", str(len(resp.body)))
            self.end_headers()
            if resp.status != 204 and self.command != "HEAD":
                self.wfile.write(resp.body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for chunk in resp.body:
            if chunk:
                self.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")

    def _read_chunked(self) -> bytes:
        out: List[bytes] = []
        while True:
            size = int(self.rfile.readline().strip().split(b";")[0], 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(out)
            out.append(self.rfile.read(size))
            self.rfile.readline()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib name
        pass


class _HandlerWithOptions(_Handler):
    do_OPTIONS = _Handler._serve


class HttpServer(ThreadingHTTPServer):
    """The running server; ``app`` answers every request."""

    daemon_threads = True
    allow_reuse_address = True
    app: HttpApp


def serve(app: HttpApp, port: int, options: bool = False) -> HttpServer:
    """Start serving ``app`` on 127.0.0.1:port in a background thread (OPTIONS routed too if ``options``)."""
    server = HttpServer(("127.0.0.1", port), _HandlerWithOptions if options else _Handler)
    server.app = app
    thread = threading.Thread(target=server.serve_forever, name="influx-compat-test-server", daemon=True)
    thread.start()
    return server
