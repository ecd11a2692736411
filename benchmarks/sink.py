"""A loopback HTTP sink: counts what writers send, answers what a server would.

It counts requests (also per write endpoint, and on the core sink per
``/query`` Accept header), body bytes (as sent, gzip included), lines (after
decompression) and new TCP connections, and keeps the bodies when asked so a
benchmark can check that every point arrived unchanged.

Two flavours:

* ``v2`` (InfluxDB 2.x, the default): ``/write`` and ``/api/v2/write``
  answer 204, ``/ping`` 204 with a version header, ``/api/v2/dbrps`` one
  default mapping for any database, ``/query`` the answer the benchmark set
  (bytes, or an iterable of chunks streamed as they come), MessagePack when
  asked for it (unless told to answer JSON only); writes can be made to wait
  a fixed ingest time per 10,000 lines before their answer;
* ``core`` (InfluxDB 3 Core 3.10, as shared/notes/influxdb3-behaviour.md
  describes it): a ``cluster-uuid`` header on every answer; ``/ping`` 200 with
  a JSON body and ``X-Influxdb-Build: Core``; ``/api/v3/write_lp``,
  ``/write`` and ``/api/v2/write`` answer 204 (their parameters, encodings
  and empty bodies checked as 3.x checks them); tokens checked (``Token``,
  ``Bearer``, Basic with the token as password, ``p=`` on ``/write`` and
  ``/query``); ``/query`` answers JSON only, times RFC3339 with 0, 3, 6 or 9
  fraction digits, chunks back to back without newlines; any other path 404
  ``Not found``.
"""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable, List, Optional, Union
from urllib.parse import parse_qs, urlsplit

Answer = Union[bytes, Callable[[], Iterable[bytes]]]

FLAVOURS = ("v2", "core")
TOKEN = "bench-token"  # the token the core sink accepts
CORE_VERSION = "3.10.0"
# influxdb3_types/src/write.rs and core/iox_http/src/write/params.rs: write_lp takes "auto" and full names
# besides the short forms; the legacy endpoints take no "auto" and, like write_lp, no "m" or "h".
_PRECISIONS = {"s", "second", "ms", "millisecond", "us", "u", "microsecond", "ns", "n", "nanosecond"}
_WRITE_LP_PRECISIONS = _PRECISIONS | {"auto"}
_WRITE_PATHS = ("/write", "/api/v2/write", "/api/v3/write_lp")
# core/iox_v1_query_api/src/handler.rs: a POST /query body of another type (application/json, which
# influxdb-python sends by default) is refused with 400 "invalid mime type (...)".
_QUERY_BODY_TYPES = ("application/vnd.influxql", "application/x-www-form-urlencoded", "multipart/form-data")


class Sink:
    def __init__(self, keep_bodies: bool = True, flavour: str = "v2") -> None:
        if flavour not in FLAVOURS:
            raise ValueError(f"unknown sink flavour {flavour!r}: use one of {FLAVOURS}")
        self.flavour = flavour
        self.core = flavour == "core"
        self.cluster_uuid = str(uuid.uuid4())
        self.last_accept = ""  # the Accept header of the last /query (core)
        self.keep_bodies = keep_bodies
        self.ingest = 0.0  # seconds a write of 10,000 lines waits before its answer
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
            self.paths: dict = {}
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
                if sink.core:
                    self.send_header("cluster-uuid", sink.cluster_uuid)  # on every 3 Core answer
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                if status != 204:
                    self.send_header("Content-Type", ctype)
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 204:
                    self.wfile.write(body)

            def do_POST(self) -> None:
                parts = urlsplit(self.path)
                path = parts.path
                raw = self._body()
                if path.startswith("/_"):
                    self._control(path, raw)
                    return
                self._count_connection()
                if sink.core:
                    self._core("POST", parts, raw)
                    return
                if path in ("/write", "/api/v2/write"):
                    data = gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                    with sink.lock:
                        sink.requests += 1
                        sink.bytes += len(raw)
                        sink.lines += data.count(b"\n") + (0 if data.endswith(b"\n") or not data else 1)
                        sink.paths[path] = sink.paths.get(path, 0) + 1
                        if sink.keep_bodies:
                            sink.bodies.append(data)
                    if sink.ingest:  # the server's ingest time: seconds per 10,000 lines
                        time.sleep(sink.ingest * data.count(b"\n") / 10_000)
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
                if sink.core:
                    self._core("GET", parts, b"")
                    return
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
                            "paths": dict(sink.paths),
                            "last_accept": sink.last_accept,
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

                    if sink.core:
                        from benchmarks.workload import chunked_answer_v3, query_answer_v3

                        if spec.get("chunk"):
                            sink.query_answer = lambda: chunked_answer_v3(spec["rows"], spec["chunk"])
                        else:
                            sink.query_answer = query_answer_v3(spec["rows"])
                        sink.msgpack_answer = None
                    elif spec.get("chunk"):
                        sink.query_answer = lambda: chunked_answer(spec["rows"], spec["chunk"])
                        sink.msgpack_answer = None
                    elif spec.get("json"):  # JSON to every Accept, as a server without MessagePack
                        sink.query_answer = query_answer(spec["rows"])
                        sink.msgpack_answer = None
                    else:
                        from benchmarks.workload import query_answer_msgpack

                        sink.query_answer = query_answer(spec["rows"])
                        sink.msgpack_answer = query_answer_msgpack(spec["rows"])
                    self._send(204)
                elif path == "/_ingest":
                    sink.ingest = float(json.loads(raw))
                    self._send(204)
                elif path == "/_keep":
                    sink.keep_bodies = bool(json.loads(raw))
                    self._send(204)
                else:
                    self._send(404)

            # -- InfluxDB 3 Core ----------------------------------------------------

            def _core(self, method: str, parts: Any, raw: bytes) -> None:
                """One request as 3 Core answers it: authentication first, then routing."""
                path = parts.path
                query = parse_qs(parts.query, keep_blank_values=True)
                # The p= parameter counts on the 1.x endpoints only, and wins over the header.
                legacy = path in ("/write", "/query")
                if not self._core_authorized(query if legacy else {}):
                    self._send(401, b'{"error": "the request was not authenticated"}')
                    return
                if path == "/ping" and method == "GET":
                    body = {
                        "product_name": "InfluxDB 3 Core",
                        "version": CORE_VERSION,
                        "revision": "bench000000",
                        "process_id": sink.cluster_uuid,
                    }
                    request_id = str(uuid.uuid4())
                    headers = {
                        "X-Influxdb-Build": "Core",
                        "X-Influxdb-Version": CORE_VERSION,
                        "Request-Id": request_id,
                        "X-Request-Id": request_id,
                    }
                    self._send(200, json.dumps(body).encode(), headers=headers)
                elif path in _WRITE_PATHS and method == "POST":
                    self._core_write(path, query, raw)
                elif path == "/query" and method in ("GET", "POST"):
                    self._core_query(method, query)
                else:
                    self._send(404, b"Not found", "text/plain; charset=utf-8")

            def _core_authorized(self, query: dict) -> bool:
                if "p" in query:
                    return query["p"][-1] == TOKEN
                scheme, _, credential = (self.headers.get("Authorization") or "").partition(" ")
                if scheme in ("Token", "Bearer"):
                    return credential == TOKEN
                if scheme == "Basic":
                    try:
                        decoded = base64.b64decode(credential).decode()
                    except ValueError:
                        return False
                    return decoded.partition(":")[2] == TOKEN  # the user name is ignored
                return False

            def _core_write(self, path: str, query: dict, raw: bytes) -> None:
                def one(name: str, default: str = "") -> str:
                    return str(query.get(name, [default])[-1])

                # Error texts from the notes where they give them ("no db destination provided" is
                # /write's; the precision and accept_partial texts are the sink's own wording).
                database = one("bucket") if path == "/api/v2/write" else one("db")
                precision = one("precision", "auto" if path == "/api/v3/write_lp" else "ns")
                allowed = _WRITE_LP_PRECISIONS if path == "/api/v3/write_lp" else _PRECISIONS
                if not database:
                    self._send(400, b'{"error":"no db destination provided"}')
                    return
                if precision not in allowed:
                    message = (
                        f"failed to deserialize db/rp/precision in request: invalid precision {precision!r}"
                    )
                    self._send(400, json.dumps({"error": message}).encode())
                    return
                if path == "/api/v3/write_lp" and one("accept_partial", "true") not in ("true", "false"):
                    self._send(400, b'{"error":"invalid accept_partial: expected true or false"}')
                    return
                encoding = self.headers.get("Content-Encoding")
                if encoding not in (None, "gzip", "identity"):
                    self._send(400, f"unacceptable content-encoding: {encoding}".encode(), "text/plain")
                    return
                data = gzip.decompress(raw) if encoding == "gzip" else raw
                if not data.strip():
                    self._send(400, b"incoming write was empty", "text/plain; charset=utf-8")
                    return
                with sink.lock:
                    sink.requests += 1
                    sink.bytes += len(raw)
                    sink.lines += data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
                    sink.paths[path] = sink.paths.get(path, 0) + 1
                    if sink.keep_bodies:
                        sink.bodies.append(data)
                self._send(204)

            def _core_query(self, method: str, query: dict) -> None:
                accept = self.headers.get("Accept")
                ctype = self.headers.get("Content-Type")
                if method == "POST" and ctype is not None and ctype.split(";")[0] not in _QUERY_BODY_TYPES:
                    self._send(400, f"invalid mime type ({ctype})".encode(), "text/plain")
                    return
                if accept not in (None, "application/json", "*/*", "application/x-msgpack"):
                    # 3.x also answers CSV; the benchmarks never ask for it.
                    self._send(400, f"invalid mime type ({accept})".encode(), "text/plain")
                    return
                if method == "GET" and not query.get("q"):
                    missing = b'{"error":"expected a query to be provided in the query string or body"}'
                    self._send(400, missing)
                    return
                with sink.lock:
                    key = f"/query Accept: {accept or '-'}"
                    sink.paths[key] = sink.paths.get(key, 0) + 1
                    sink.last_accept = accept or "-"
                # For Accept: application/x-msgpack a real 3.x server answers MessagePack whose
                # structs are positional arrays (no "results" key), which influxdb-python 5.3.2
                # cannot read; the sink answers JSON to every Accept, as 3.x answers
                # Accept: application/json, so that 5.3.2 has a 3.x answer it can parse.
                self._query()

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
                if sink.core:
                    self.send_header("cluster-uuid", sink.cluster_uuid)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                for piece in answer():
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                self.wfile.write(b"0\r\n\r\n")

        return Handler


def main() -> None:
    """Serve a sink in this process (the benchmarks start it as a child) until stdin closes.

    ``python -m benchmarks.sink [v2|core]``
    """
    import sys

    sink = Sink(flavour=sys.argv[1] if len(sys.argv) > 1 else "v2")
    print(sink.port, flush=True)
    sys.stdin.read()
    sink.close()


class RemoteSink:
    """A :class:`Sink` in a child process, so its work is not charged to the clients measured."""

    def __init__(self, flavour: str = "v2") -> None:
        import subprocess
        import sys

        import requests

        if flavour not in FLAVOURS:
            raise ValueError(f"unknown sink flavour {flavour!r}: use one of {FLAVOURS}")
        self.flavour = flavour
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.sink", flavour],
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

    def answer(self, rows: int, chunk: int = 0, json_only: bool = False) -> None:
        """Set the /query answer; ``json_only``: JSON also to clients asking for MessagePack."""
        spec = {"rows": rows, "chunk": chunk, "json": json_only}
        self.control.post(self.url + "/_answer", data=json.dumps(spec))

    def ingest(self, seconds_per_10k: float) -> None:
        """Make every write wait ``seconds_per_10k`` per 10,000 lines before its answer (2.x sink)."""
        self.control.post(self.url + "/_ingest", data=json.dumps(seconds_per_10k))

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=30)


if __name__ == "__main__":
    main()
