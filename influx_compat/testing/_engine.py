"""The InfluxQL engine under the v2 test server: Debian's ``influxd`` 1.x.

Started with a temporary configuration (data, meta and WAL in a temporary
directory; HTTP and RPC bound to free loopback ports; no reporting, no
monitoring database, no continuous queries), under a keeper process that
stops it and removes the directory when the test server stops or its Python
dies (see ``_watchdog.py``).
"""

from __future__ import annotations

import atexit
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from typing import IO, Any, Dict, List, Optional

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


_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL


class EngineNotFoundError(RuntimeError):
    """``influxd`` is not installed; the message says how to install it."""


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _keeper_command(root: str, log_path: str, command: List[str]) -> Optional[List[str]]:
    """How to run the engine under its keeper, or None where there is none (not POSIX, no script)."""
    script = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_watchdog.py")
    if os.name != "posix" or not sys.executable or not os.path.isfile(script):
        return None
    # -I: the keeper needs only the standard library, whatever the environment says
    return [sys.executable, "-I", script, root, log_path, "--", *command]


def _signal_group(pid: Optional[int], sig: int) -> None:
    """Signal a process group led by ``pid`` (the process alone where there are no groups)."""
    if pid is None:
        return
    try:
        if hasattr(os, "killpg"):
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)
    except OSError:  # gone already
        pass


def _close(stream: Optional[IO[bytes]]) -> None:
    if stream is not None:
        try:
            stream.close()
        except OSError:
            pass


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
    """One ``influxd`` 1.x process on loopback, with its files in a temporary directory.

    However the test server ends (:meth:`stop`, the ``with`` block, interpreter exit through
    :mod:`atexit`, or its Python killed by any signal, ``SIGKILL`` included), the engine is stopped
    and its directory removed: on POSIX a keeper process (:mod:`._watchdog`) starts the engine in
    its own session and cleans up as soon as the pipe from this Python closes.  Where there is no
    keeper (not POSIX, or no script file to run) the engine is started directly and only
    :meth:`stop` and :mod:`atexit` clean up.  No signal handler is installed: the program's own stay.

    :param startup_timeout: seconds to wait for the engine to answer /ping
    """

    def __init__(self, startup_timeout: float = 30.0) -> None:
        self.startup_timeout = startup_timeout
        self.process: Optional[subprocess.Popen[bytes]] = None  # the keeper, or the engine itself
        self.pid: Optional[int] = None  # the influxd process
        self.root: Optional[str] = None
        self.http_port = 0
        self.session = requests.Session()
        self._kept = False  # self.process is the keeper
        self._exited: Optional[str] = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> Engine:
        binary = find_influxd()
        atexit.register(self.stop)
        try:
            tail = ""
            for _attempt in range(3):  # a port taken between free_port() and influxd's bind
                self.root = tempfile.mkdtemp(prefix="influx_compat_engine_")
                self.http_port, rpc_port = free_port(), free_port()
                config = os.path.join(self.root, "influxd.conf")
                with open(config, "w", encoding="utf-8") as fh:
                    fh.write(_CONFIG.format(root=self.root, http_port=self.http_port, rpc_port=rpc_port))
                self._spawn([binary, "run", "-config", config])
                if self._wait_ready():
                    return self
                tail = self._log_tail()
                self._discard()
            raise RuntimeError(f"influxd did not start; the end of its log:\n{tail}")
        except BaseException:
            self.stop()
            raise

    def _spawn(self, command: List[str]) -> None:
        assert self.root is not None
        log_path = os.path.join(self.root, "influxd.log")
        keeper = _keeper_command(self.root, log_path, command)
        self._exited = None
        if keeper is None:
            with open(log_path, "ab") as log:
                self.process = subprocess.Popen(
                    command,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    start_new_session=os.name == "posix",  # a Ctrl-C at the terminal is ours to handle
                )
            self.pid, self._kept = self.process.pid, False
            return
        # unbuffered: a line read must not pull the next one into a buffer select() cannot see
        self.process = subprocess.Popen(
            keeper, stdin=subprocess.PIPE, stdout=subprocess.PIPE, start_new_session=True, bufsize=0
        )
        self._kept = True
        assert self.process.stdout is not None
        first = self.process.stdout.readline().decode("utf-8", "replace").strip()
        if first.startswith("pid "):
            self.pid = int(first[4:])
        else:
            self._exited = first or "the keeper exited"

    def _alive(self) -> bool:
        process = self.process
        if process is None or self._exited is not None:
            return False
        if process.poll() is not None:
            return False
        if self._kept:
            assert process.stdout is not None
            ready, _, _ = select.select([process.stdout], [], [], 0)
            if ready:
                self._exited = process.stdout.readline().decode("utf-8", "replace").strip() or "gone"
                return False
        return True

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self._alive():
                return False
            try:
                if self.session.get(self.url + "/ping", timeout=1).status_code == 204:
                    return True
            except requests.RequestException:
                pass
            time.sleep(0.05)
        return False

    def _log_tail(self) -> str:
        if not self.root:
            return ""
        try:
            with open(os.path.join(self.root, "influxd.log"), "rb") as fh:
                fh.seek(0, os.SEEK_END)
                fh.seek(max(0, fh.tell() - 2000))
                return fh.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def _kill(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if self._kept:
            _close(process.stdin)  # the keeper stops the engine and removes its directory
            try:
                process.wait(timeout=_STOP_GRACE * 3)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
                _signal_group(self.pid, signal.SIGKILL)
            _close(process.stdout)
        elif process.poll() is None:
            _signal_group(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=_STOP_GRACE)
            except subprocess.TimeoutExpired:
                _signal_group(process.pid, signal.SIGKILL)
                process.wait(timeout=_STOP_GRACE)
        self.pid = None

    def _discard(self) -> None:
        self._kill()
        if self.root:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def stop(self) -> None:
        """Stop the engine and remove its files (again: nothing)."""
        atexit.unregister(self.stop)
        self._discard()
        self.session.close()

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
