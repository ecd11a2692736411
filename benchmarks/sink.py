"""A loopback HTTP sink: counts what writers send, answers what a server would.

It counts requests, body bytes (as sent, gzip included), lines (after
decompression) and new TCP connections, and keeps the bodies when asked so a
benchmark can check that every point arrived unchanged.  ``/write`` and
``/api/v2/write`` answer 204, ``/ping`` 204 with a version header,
``/api/v2/dbrps`` one default mapping for any database, ``/query`` the answer
the benchmark set (bytes, or an iterable of chunks streamed as they come).
"""

from __future__ import annotations

import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, List, Optional, Union
from urllib.parse import parse_qs, urlsplit

Answer = Union[bytes, Callable[[], Iterable[bytes]]]


class Sink:
    def __init__(self, keep_bodies: bool = True) -> None:
        self.keep_bodies = keep_bodies
        self.lock = threading.Lock()
        self.query_answer: Answer = b'{"results":[{"statement_id":0}]}\n'
        self.msgpack_answer: Optional[bytes] = None
        self.reset()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        with self.lock:
            self.requests = 0
            self.bytes = 0
            self.lines = 0
            self.connections = 0
            self.bodies: List[bytes] = []

    def received_text(self) -> str:
        return b"".join(b if b.endswith(b"\n") else b + b"\n" for b in self.bodies).decode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> Any:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            counted = False

            def _count_connection(self) -> None:
                # Connections that carried benchmark traffic (not the control calls).
                if not self.counted:
                    self.counted = True
                    with sink.lock:
                        sink.connections += 1

            def log_message(self, *args: Any) -> None:
                pass

            def _body(self) -> bytes:
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            def _send(
                self,
                status: int,
                body: bytes = b"",
                ctype: str = "application/json",
                headers: Optional[dict] = None,
            ) -> None:
                self.send_response(status)
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if status != 204:
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(body)

            def do_POST(self) -> None:
                path = urlsplit(self.path).path
                raw = self._body()
                if path.startswith("/_"):
                    self._control(path, raw)
                    return
                self._count_connection()
                if path in ("/write", "/api/v2/write"):
                    data = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                    with sink.lock:
                        sink.requests += 1
                        sink.bytes += len(raw)
                        sink.lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
                        if sink.keep_bodies:
                            sink.bodies.append(data)
                    self._send(204)
                    return
                if path == "/query":
                    self._query()
                    return
                self._send(404, b'{"code":"not found","message":"not found"}')

            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                if parts.path.startswith("/_"):
                    self._control(parts.path, b"")
                    return
                self._count_connection()
                if parts.path == "/ping":
                    self._send(204, headers={"X-Influxdb-Version": "v2.7.10"})
                elif parts.path == "/query":
                    self._query()
                elif parts.path == "/api/v2/dbrps":
                    db = parse_qs(parts.query).get("db", ["bench"])[0]
                    mapping = {
                        "id": "0000000000000002",
                        "database": db,
                        "retention_policy": "autogen",
                        "default": True,
                        "virtual": False,
                        "orgID": "0000000000000003",
                        "bucketID": "0000000000000001",
                    }
                    self._send(200, json.dumps({"content": [mapping]}).encode())
                else:
                    self._send(404, b'{"code":"not found","message":"not found"}')

            def _control(self, path: str, raw: bytes) -> None:
                if path == "/_stats":
                    with sink.lock:
                        stats = {
                            "requests": sink.requests,
                            "bytes": sink.bytes,
                            "lines": sink.lines,
                            "connections": sink.connections,
                        }
                    self._send(200, json.dumps(stats).encode())
                elif path == "/_reset":
                    sink.reset()
                    self._send(204)
                elif path == "/_received":
                    self._send(200, sink.received_text().encode(), "text/plain")
                elif path == "/_answer":
                    spec = json.loads(raw)
                    from benchmarks.workload import chunked_answer, query_answer

                    if spec.get("chunk"):
                        sink.query_answer = lambda: chunked_answer(spec["rows"], spec["chunk"])
                        sink.msgpack_answer = None
                    else:
                        from benchmarks.workload import query_answer_msgpack

                        sink.query_answer = query_answer(spec["rows"])
                        sink.msgpack_answer = query_answer_msgpack(spec["rows"])
                    self._send(204)
                elif path == "/_keep":
                    sink.keep_bodies = bool(json.loads(raw))
                    self._send(204)
                else:
                    self._send(404)

            def _query(self) -> None:
                answer = sink.query_answer
                with sink.lock:
                    sink.requests += 1
                if sink.msgpack_answer is not None and self.headers.get("Accept") == "application/x-msgpack":
                    self._send(200, sink.msgpack_answer, "application/x-msgpack")  # as 2.x answers it
                    return
                if isinstance(answer, bytes):
                    self._send(200, answer)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in answer():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")

        return Handler


def main() -> None:
    """Serve a sink in this process (the benchmarks start it as a child) until stdin closes."""
    import sys

    sink = Sink()
    print(sink.port, flush=True)
    sys.stdin.read()
    sink.close()


class RemoteSink:
    """A :class:`Sink` in a child process, so its work is not charged to the clients measured."""

    def __init__(self) -> None:
        import subprocess
        import sys

        import requests

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sink"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"
        self.control = requests.Session()

    def stats(self) -> dict:
        return dict(self.control.get(self.url + "/_stats").json())

    def reset(self) -> None:
        self.control.post(self.url + "/_reset")

    def received_text(self) -> str:
        return str(self.control.get(self.url + "/_received").text)

    def keep_bodies(self, keep: bool) -> None:
        self.control.post(self.url + "/_keep", data=json.dumps(keep))

    def answer(self, rows: int, chunk: int = 0) -> None:
        self.control.post(self.url + "/_answer", data=json.dumps({"rows": rows, "chunk": chunk}))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


if __name__ == "__main__":
    main()
