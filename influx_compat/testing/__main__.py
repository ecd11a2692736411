"""``python -m influx_compat.testing``: serve a test server, or run a command against one.

    python -m influx_compat.testing [--flavour v2|core|enterprise|dedicated] [--port N] [--version V]
    python -m influx_compat.testing run [--flavour ...] [--port N] -- python legacy_script.py

The default flavour is the v2 server (port 8086 if free); ``core`` and
``enterprise`` default to InfluxDB 3's port 8181, ``dedicated`` to 8086.  ``run``
takes a free port unless ``--port`` is given: the command gets the server's
environment (``server.env()``), URL included.

However it is stopped, the engine stops and its files go: Ctrl-C, ``kill``
(SIGTERM), SIGHUP, ``timeout``, the death of the process that started it (the
server stops with its parent), and even ``kill -9`` (the engine's keeper, see
``_watchdog.py``, cleans up).  ``run`` passes a stop signal on to the command and
stops the server once the command has exited; its exit status is the
command's (128 + N for a command ended by signal N).
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Dict, List, Optional, Union

from influx_compat.testing import EngineNotFoundError, V2TestServer, V3TestServer

__all__ = ["main"]

_DEFAULT_PORTS = {"v2": 8086, "core": 8181, "enterprise": 8181, "dedicated": 8086}


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _banner(server: Union[V2TestServer, V3TestServer]) -> str:
    if isinstance(server, V2TestServer):
        return (
            f"InfluxDB 2.x test server (v{server.version}) on {server.url}\n"
            f"org:   {server.org}\nbucket: {server.bucket}\ntoken: {server.token}"
        )
    lines = [
        f"InfluxDB 3 test server, flavour {server.flavour} ({server.version}) on {server.url}",
        f"token: {server.token}",
    ]
    if server.flavour == "dedicated":
        lines.append(
            f"management API: {server.url}/api/v0/accounts/{server.account_id}/clusters/"
            f"{server.cluster_id}/databases (Bearer {server.management_token})"
        )
    return "\n".join(lines)


class _Stop(BaseException):  # like KeyboardInterrupt: no ``except Exception`` on the way swallows it
    """A stop signal (SIGTERM, SIGINT, SIGHUP) or the death of the parent, raised in the main thread."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class _Signals:
    """The CLI's handlers: every way a user or a supervisor stops it stops the engine, in order.

    Only the CLI installs them (library use keeps the program's handlers).  SIGINT is handled even
    when it came in ignored, as it does for a job started in the background by a script.  While a
    ``run`` command runs, a signal is passed on to it (not a SIGINT from the terminal, which the
    command's process group got already), and the server stops once the command has exited; a
    second signal kills the command.  Otherwise the first signal raises :class:`_Stop`; the later
    ones, and any signal once the server is stopping, are ignored, so they cannot cut the stop short.
    """

    NAMES = ("SIGTERM", "SIGINT", "SIGHUP")

    def __init__(self) -> None:
        self.child: Optional[subprocess.Popen[bytes]] = None
        self.received: Optional[int] = None
        self.stopping = False  # the server is being stopped: nothing may cut that short
        self.starting = False  # the command is being started: a signal waits until it has its pid
        self.deferred: Optional[int] = None  # the signal that came while the command was started

    def install(self) -> None:
        for name in self.NAMES:
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), self._handle)

    def start(self, command: List[str], env: Dict[str, str]) -> subprocess.Popen[bytes]:
        """Start the ``run`` command; a stop signal that came meanwhile is passed on to it."""
        self.starting = True
        try:
            child = subprocess.Popen(command, env=env)
            self.child = child
        finally:
            self.starting = False
        deferred, self.deferred = self.deferred, None
        if deferred is not None and child.poll() is None:
            child.send_signal(deferred)
        return child

    def _handle(self, signum: int, frame: Optional[FrameType]) -> None:
        first, child = self.received is None, self.child
        if self.stopping:
            return
        if first:
            self.received = signum
        if child is None and self.starting:
            # Popen has forked (the command may be running already) but not returned: raising here
            # would leave the command behind, so the signal is passed on once Popen has returned.
            if first:
                self.deferred = signum
            return
        if child is not None and child.poll() is None:
            if not first:
                child.kill()
            elif not (signum == signal.SIGINT and _terminal_sent_to(child)):
                child.send_signal(signum)
            return
        if first:
            raise _Stop(signum)


def _terminal_sent_to(child: subprocess.Popen[bytes]) -> bool:
    """Whether a SIGINT likely came from the terminal to our foreground process group (the child's too)."""
    for stream in (sys.stdin, sys.stdout, sys.stderr):
        try:
            if stream is not None and stream.isatty():
                return os.tcgetpgrp(stream.fileno()) == os.getpgrp()
        except (OSError, ValueError, AttributeError):
            continue
    return False


def _watch_parent(interval: float = 0.25) -> None:
    """SIGTERM ourselves when our parent dies (we are handed to another process): the server goes with it.

    A thread that reads ``getppid()``, rather than Linux's ``PR_SET_PDEATHSIG``, which fires when the
    parent *thread* that started us ends, and exists on Linux only.
    """
    parent = os.getppid()
    if parent <= 1 or not hasattr(signal, "SIGTERM"):
        return  # started by init, or already orphaned: there is no parent to outlive

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(interval)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="influx_compat-parent-watch", daemon=True).start()


def _exit_status(code: int) -> int:
    """A command's return code as a shell reports it: 128 + N when signal N ended it."""
    return 128 - code if code < 0 else code


def _engine_line(server: Union[V2TestServer, V3TestServer]) -> str:
    return f"engine: influxd pid {server.engine.pid}, files in {server.engine.root}"


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    run = bool(argv) and argv[0] == "run"
    if run:
        argv = argv[1:]
    command: List[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(prog="python -m influx_compat.testing")
    parser.add_argument(
        "--flavour",
        choices=sorted(_DEFAULT_PORTS),
        default="v2",
        help="v2 (default), or InfluxDB 3: core, enterprise, dedicated",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=None,
        help="HTTP port (serving: 8086, 8181 for core/enterprise, if free; run: a free port)",
    )
    parser.add_argument(
        "--version", default=None, help="the version to impersonate (default 2.7.10 / 3.10.0)"
    )
    args = parser.parse_args(argv)
    if run and not command:
        parser.error("run needs a command after --")
    default_port = _DEFAULT_PORTS[args.flavour]
    if args.port is not None:
        port = args.port
    elif run:
        port = 0  # the command gets the URL in its environment; 8086 may be a real server's, about to start
    else:
        port = default_port if _port_free(default_port) else 0
    signals = _Signals()
    signals.install()
    _watch_parent()
    server: Union[V2TestServer, V3TestServer]
    try:
        try:
            if args.flavour == "v2":
                server = V2TestServer(version=args.version or "2.7.10", port=port)
            else:
                server = V3TestServer(args.flavour, port=port, version=args.version)
            server.start()
        except EngineNotFoundError as exc:
            print(exc, file=sys.stderr)
            return 2
        except OSError as exc:  # the port is taken, most often
            print(
                f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}; pick another with --port",
                file=sys.stderr,
            )
            return 2
    except _Stop:
        return 0  # stopped while starting: start() has stopped the engine already
    try:
        if run:
            return _run(server, command, signals)
        print(_banner(server))
        print(_engine_line(server))
        print("export " + " ".join(f"{name}={value}" for name, value in server.env().items()))
        print("Ctrl-C to stop.", flush=True)
        while True:
            time.sleep(3600)
    except (_Stop, KeyboardInterrupt):
        return 0
    finally:
        signals.stopping = True
        server.stop()


def _run(server: Union[V2TestServer, V3TestServer], command: List[str], signals: _Signals) -> int:
    env: Dict[str, str] = dict(os.environ)
    env.update(server.env())
    if isinstance(server, V2TestServer):
        print(f"v2 test server on {server.url} (org {server.org})", file=sys.stderr)
    else:
        print(
            f"InfluxDB 3 {server.flavour} test server on {server.url} (token {server.token})",
            file=sys.stderr,
        )
    print(_engine_line(server), file=sys.stderr, flush=True)
    try:
        child = signals.start(command, env)
    except OSError as exc:
        print(f"cannot run {command[0]!r}: {exc.strerror or exc}", file=sys.stderr)
        return 127
    return _exit_status(child.wait())


if __name__ == "__main__":
    sys.exit(main())
