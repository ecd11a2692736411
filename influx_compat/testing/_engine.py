"""The InfluxQL engine under the v2 test server: Debian's ``influxd`` 1.x.

Started with a temporary configuration (data, meta and WAL in a temporary
directory; HTTP and RPC bound to free loopback ports; no reporting, no
monitoring database, no continuous queries) and stopped by its PID.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import Any, Dict, Optional

import requests

__all__ = ["Engine", "EngineNotFoundError", "free_port"]

INSTALL_HINT = (
    "The test servers need the InfluxQL engine `influxd` (InfluxDB 1.x) on PATH: "
    "install it with `apt-get install -y influxdb` (Debian/Ubuntu), or set INFLUXD_PATH."
)

_CONFIG = """\
reporting-disabled = true
bind-address = "127.0.0.1:{rpc_port}"

[meta]
  dir = "{root}/meta"
  logging-enabled = false

[data]
  dir = "{root}/data"
  wal-dir = "{root}/wal"
  query-log-enabled = false
  trace-logging-enabled = false

[coordinator]
  log-queries-after = "0s"

[retention]
  enabled = true
  check-interval = "30m0s"

[shard-precreation]
  enabled = false

[monitor]
  store-enabled = false

[subscriber]
  enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:{http_port}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = false
  max-body-size = 0
  max-row-limit = 0
  max-connection-limit = 0

[logging]
  level = "warn"
  suppress-logo = true

[continuous_queries]
  enabled = false
  log-enabled = false
"""


class EngineNotFoundError(RuntimeError):
    """``influxd`` is not installed; the message says how to install it."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def find_influxd() -> str:
    given = os.environ.get("INFLUXD_PATH")
    if given:
        if not os.path.isfile(given) or not os.access(given, os.X_OK):
            raise EngineNotFoundError(
                f"INFLUXD_PATH={given!r} is not an executable file: point it at Debian's influxd 1.x "
                f"(e.g. /usr/bin/influxd), or unset it to use the influxd on PATH. {INSTALL_HINT}"
            )
        return given
    path = shutil.which("influxd")
    if not path:
        raise EngineNotFoundError(INSTALL_HINT)
    return path


class Engine:
    """One ``influxd`` 1.x process on loopback.

    :param startup_timeout: seconds to wait for the engine to answer /ping
    """

    def __init__(self, startup_timeout: float = 30.0) -> None:
        self.startup_timeout = startup_timeout
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.root: Optional[str] = None
        self.http_port = 0
        self.session = requests.Session()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> Engine:
        binary = find_influxd()
        self.root = tempfile.mkdtemp(prefix="influx_compat_engine_")
        for _attempt in range(3):
            self.http_port, rpc_port = free_port(), free_port()
            config = os.path.join(self.root, "influxd.conf")
            with open(config, "w", encoding="utf-8") as fh:
                fh.write(_CONFIG.format(root=self.root, http_port=self.http_port, rpc_port=rpc_port))
            log = open(os.path.join(self.root, "influxd.log"), "ab")
            self.process = subprocess.Popen(
                [binary, "run", "-config", config],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            if self._wait_ready():
                return self
            self._kill()
        raise RuntimeError(f"influxd did not start; see {self.root}/influxd.log")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                if self.session.get(self.url + "/ping", timeout=1).status_code == 204:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False

    def _kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            try:
                os.kill(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (OSError, subprocess.TimeoutExpired):
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.process = None

    def stop(self) -> None:
        self._kill()
        self.session.close()
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    # -- HTTP to the engine ------------------------------------------------

    def query(self, q: str, db: Optional[str] = None, **params: Any) -> Dict[str, Any]:
        """Run InfluxQL; the decoded JSON answer (raises on HTTP errors other than 400)."""
        data = {"q": q}
        if db:
            data["db"] = db
        data.update({k: v for k, v in params.items() if v is not None})
        resp = self.session.post(self.url + "/query", data=data, timeout=120)
        if resp.status_code not in (200, 400):
            raise RuntimeError(f"engine answered {resp.status_code}: {resp.text}")
        answer: Dict[str, Any] = resp.json()
        return answer

    def query_stream(self, q: str, db: Optional[str], params: Dict[str, Any]) -> requests.Response:
        data = dict(params, q=q)
        if db:
            data["db"] = db
        return self.session.post(self.url + "/query", data=data, stream=True, timeout=120)

    def execute(self, q: str, db: Optional[str] = None) -> None:
        """Run a statement that must succeed."""
        answer = self.query(q, db)
        for result in answer.get("results", []):
            if "error" in result:
                raise RuntimeError(f"engine refused {q!r}: {result['error']}")
        if "error" in answer:
            raise RuntimeError(f"engine refused {q!r}: {answer['error']}")

    def write(self, body: bytes, db: str, precision: str) -> requests.Response:
        return self.session.post(
            self.url + "/write",
            params={"db": db, "rp": "autogen", "precision": precision},
            data=body,
            timeout=120,
        )
