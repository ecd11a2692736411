"""The engine's keeper: starts ``influxd``, and stops it and removes its files when the test server goes.

Run as a script by :class:`~influx_compat.testing._engine.Engine` (never imported by the package, so
it needs nothing but the standard library, whatever the parent's ``sys.path``)::

    python -I _watchdog.py ROOT LOG -- influxd run -config ROOT/influxd.conf

Its standard input is a pipe from the test server's Python, which never writes to it: end of file
there means that Python stopped the server, or died in any way (``SIGKILL`` included, since the
kernel closes the pipe of a dead process). The keeper then stops the engine (``SIGTERM``, then
``SIGKILL`` after 5 seconds), removes ``ROOT`` and exits. Its standard output tells the parent
``pid N`` once the engine runs, and ``exited RC`` if the engine dies on its own.

The keeper runs in its own session and the engine in another, so a Ctrl-C at the terminal, or a
signal to the test server's process group, reaches neither: the test server's Python stops them in
order. On Linux the engine also gets ``PR_SET_PDEATHSIG`` (``SIGKILL``), set from the keeper's only
thread, so even a keeper killed with ``SIGKILL`` does not leave the engine running.
"""

from __future__ import annotations

import os
import select
import shutil
import signal
import subprocess
import sys
from types import FrameType
from typing import Callable, List, Optional

__all__ = ["main"]

_STOP_GRACE = 5.0  # seconds between SIGTERM and SIGKILL
_PR_SET_PDEATHSIG = 1


def _death_signal() -> Optional[Callable[[], None]]:
    """A preexec function asking Linux to SIGKILL the child when the keeper dies (None elsewhere)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        prctl = libc.prctl
    except (OSError, AttributeError):
        return None
    keeper = os.getpid()

    def die_with_keeper() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() != keeper:  # the keeper died before prctl took effect
            os._exit(1)

    return die_with_keeper


def _say(line: str) -> None:
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except OSError:  # the test server's Python is gone; keep going, the cleanup is what matters
        pass


def _stop(engine: subprocess.Popen[bytes]) -> None:
    """Stop the engine's process group; the engine is our child, so its pid cannot have been reused."""
    if engine.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, _STOP_GRACE), (signal.SIGKILL, None)):
        try:
            os.killpg(engine.pid, sig)
        except (ProcessLookupError, PermissionError):
            engine.kill()
        try:
            engine.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def main(argv: List[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: _watchdog.py ROOT LOG -- COMMAND...\n")
        return 2
    root, log_path, command = argv[0], argv[1], argv[3:]
    stopping = False

    def on_signal(signum: int, frame: Optional[FrameType]) -> None:
        nonlocal stopping
        stopping = True

    for name in ("SIGTERM", "SIGINT", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), on_signal)
    try:
        with open(log_path, "ab") as log:
            engine = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_death_signal(),
            )
    except (OSError, subprocess.SubprocessError) as exc:
        _say(f"error {exc}")
        shutil.rmtree(root, ignore_errors=True)
        return 1
    _say(f"pid {engine.pid}")
    reported = False
    try:
        while not stopping:
            ready, _, _ = select.select([sys.stdin.fileno()], [], [], 0.2)
            if ready and not os.read(sys.stdin.fileno(), 4096):
                break  # end of file: the test server stopped, or its Python died
            if not reported and engine.poll() is not None:
                _say(f"exited {engine.returncode}")
                reported = True
    finally:
        _stop(engine)
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
