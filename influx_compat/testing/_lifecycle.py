"""What every test server shares: an engine, an HTTP front end on 127.0.0.1, a record of requests."""

from __future__ import annotations

import threading
from typing import Any, List, Optional, Protocol, TypeVar

from influx_compat.testing._engine import Engine, free_port
from influx_compat.testing._http import RequestRecord
from influx_compat.testing._httpd import HttpApp, HttpServer, serve

__all__ = ["RecordingApp", "ServedEngine"]

S = TypeVar("S", bound="ServedEngine")


class RecordingApp(HttpApp, Protocol):
    """An app that keeps every request it served."""

    records: List[RequestRecord]
    records_lock: threading.Lock


class ServedEngine:
    """A test server's life: the engine started, the app built by :meth:`_build`, served, stopped."""

    host = "127.0.0.1"
    serve_options = False  # route OPTIONS requests too

    def __init__(self, port: int) -> None:
        self.port = port
        self.engine = Engine()
        self._http: Optional[HttpServer] = None

    def _build(self) -> RecordingApp:
        """Make the app over the started engine (and its state)."""
        raise NotImplementedError

    def start(self: S) -> S:
        self.engine.start()
        try:
            app = self._build()
            self._http = serve(app, self.port or free_port(), options=self.serve_options)
            self.port = self._http.server_address[1]
        except BaseException:
            self.engine.stop()
            raise
        return self

    def stop(self) -> None:
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        self.engine.stop()

    def __enter__(self: S) -> S:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _recorder(self) -> RecordingApp:
        raise NotImplementedError

    @property
    def requests(self) -> List[RequestRecord]:
        """Every request served since start or the last reset, in order."""
        app = self._recorder()
        with app.records_lock:
            return list(app.records)
