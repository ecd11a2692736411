"""A loopback HTTP proxy that injects faults in front of the v2 test server.

Each request whose path is in ``paths`` gets the next fault of ``script`` (a
list; ``None`` forwards normally).  Faults:

``reset``      read the request, forward nothing, reset the connection (RST)
``reset_after`` forward the request, then reset instead of answering
``delay``      wait ``delay`` seconds (past the client's timeout), then forward and answer
``429`` / ``503``  answer that status with ``Retry-After: 1``, forward nothing
``500``        answer 500 with a 2.x error body, forward nothing

``every=(k, fault)`` gives every k-th request on those paths (the k-th, 2k-th, ...) that fault
instead of a script.
``truncate``   forward, then send half a status line and close
``413``        (a ``max_body`` limit instead of a script entry) answer 413 to larger bodies
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

import requests


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        script: Optional[List[Optional[str]]] = None,
        paths: tuple = ("/api/v2/write",),
        delay: float = 3.0,
        max_body: Optional[int] = None,
        every: Optional[Tuple[int, str]] = None,
    ) -> None:
        self.upstream = upstream.rstrip("/")
        self.script = list(script or [])
        self.paths = paths
        self.delay = delay
        self.max_body = max_body
        self.every = every
        self.lock = threading.Lock()
        self.seen = 0  # requests on the faulted paths
        self.faults: Dict[str, int] = {}
        self.forwarded_lines = 0
        self.session = requests.Session()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _next_fault(self, path: str, size: int) -> Optional[str]:
        if path not in self.paths:
            return None
        with self.lock:
            if self.max_body is not None and size > self.max_body:
                fault: Optional[str] = "413"
            else:
                fault = self.script[self.seen] if self.seen < len(self.script) else None
                self.seen += 1
                if self.every is not None and self.seen % self.every[0] == 0:
                    fault = self.every[1]
            if fault:
                self.faults[fault] = self.faults.get(fault, 0) + 1
        return fault

    def _handler(self) -> Any:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self, method: str, body: bytes) -> requests.Response:
                headers = {
                    k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")
                }
                response = proxy.session.request(
                    method,
                    proxy.upstream + self.path,
                    data=body or None,
                    headers=headers,
                    allow_redirects=False,
                )
                if response.status_code == 204 and "write" in self.path:
                    with proxy.lock:
                        proxy.forwarded_lines += body.count(b"\n")
                return response

            def _answer(self, response: requests.Response) -> None:
                self.send_response(response.status_code)
                for k, v in response.headers.items():
                    if k.lower() not in (
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "content-encoding",
                    ):
                        self.send_header(k, v)
                content = response.content
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)

            def _reset(self) -> None:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                self.connection.close()
                self.close_connection = True

            def _status(self, code: int, message: str, headers: Optional[Dict[str, str]] = None) -> None:
                body = ('{"code":"internal error","message":"%s"}' % message).encode()
                self.send_response(code)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _handle(self, method: str) -> None:
                try:
                    self._handle_faults(method)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout): expected here

            def _handle_faults(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                path = self.path.split("?", 1)[0]
                fault = proxy._next_fault(path, len(body))
                if fault == "reset":
                    self._reset()
                elif fault == "reset_after":
                    self._forward(method, body)
                    self._reset()
                elif fault == "delay":
                    time.sleep(proxy.delay)
                    self._answer(self._forward(method, body))
                elif fault in ("429", "503"):
                    self._status(int(fault), "try again later", {"Retry-After": "1"})
                elif fault == "500":
                    self._status(500, "unexpected error writing points to database: timeout")
                elif fault == "413":
                    self._status(413, "request too large")
                elif fault == "truncate":
                    self._forward(method, body)
                    self.wfile.write(b"HTTP/1.1 20")
                    self.wfile.flush()
                    self._reset()
                else:
                    self._answer(self._forward(method, body))

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

        return Handler
