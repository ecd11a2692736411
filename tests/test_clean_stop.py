"""However a test server is stopped, its engine stops and its files go (issue 11).

Each test starts a server in a child process (the CLI, ``python -m influx_compat.testing``, or a
script using :class:`V2TestServer`), reads the engine's pid and directory from what it prints,
stops it one way, then checks within a few seconds that no ``influxd`` of that run is left (by its
pid, and by scanning ``/proc`` for its directory in a command line) and that the directory is gone.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import IO, Any, Dict, List, Optional, Sequence, Tuple

import pytest

import influx_compat

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc to find the engine's processes (Linux only)"
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(influx_compat.__file__)))
ENGINE_LINE = re.compile(r"engine: influxd pid (\d+), files in (\S+)")
GONE_WITHIN = 15.0  # seconds; the keeper gives influxd 5 s after SIGTERM before SIGKILL


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    return env


class Child:
    """A child process whose merged stdout/stderr is read line by line in a thread."""

    def __init__(self, command: Sequence[str]) -> None:
        self.proc = subprocess.Popen(
            list(command),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=_env(),
            text=True,
        )
        self.lines: queue.Queue[Optional[str]] = queue.Queue()
        self.seen: List[str] = []
        assert self.proc.stdout is not None
        self.pump = threading.Thread(target=self._pump, args=(self.proc.stdout,), daemon=True)
        self.pump.start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, pattern: re.Pattern[str], timeout: float = 60.0) -> re.Match[str]:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"no line matching {pattern.pattern!r} in {timeout}s: {self.seen}")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise AssertionError(f"output ended without {pattern.pattern!r}: {self.seen}")
            self.seen.append(line)
            match = pattern.search(line)
            if match:
                return match

    def engine(self) -> Tuple[int, str]:
        match = self.wait_for(ENGINE_LINE)
        return int(match.group(1)), match.group(2)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=30)
        self.pump.join(timeout=30)  # until the output ends (a grandchild may hold it a little longer)
        # closing the pipe under a reading thread would block for as long as the process holding it lives
        assert not self.pump.is_alive(), f"a process started by the CLI holds its output: {self.seen}"
        assert self.proc.stdout is not None
        self.proc.stdout.close()


def _cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as fh:
            return fh.read().replace(b"\0", b" ").decode("utf-8", "replace")
    except OSError:
        return ""


def _running(pid: int) -> bool:
    """Whether ``pid`` is a live process (a zombie is not)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read()
    except OSError:
        return False
    return stat[stat.rindex(b")") + 2 :][:1] not in (b"Z", b"X")


def _engines_of(root: str) -> List[int]:
    """Live processes whose command line names the engine's directory (influxd -config ROOT/...)."""
    pids = []
    for name in os.listdir("/proc"):
        if name.isdigit() and root in _cmdline(int(name)) and _running(int(name)):
            pids.append(int(name))
    return pids


def assert_cleaned(pid: int, root: str) -> None:
    deadline = time.monotonic() + GONE_WITHIN
    while time.monotonic() < deadline:
        if not _running(pid) and not _engines_of(root) and not os.path.exists(root):
            return
        time.sleep(0.1)
    left = [(p, _cmdline(p)) for p in _engines_of(root)]
    for p in left:  # do not leave them to the next test
        os.kill(p[0], signal.SIGKILL)
    raise AssertionError(
        f"after {GONE_WITHIN}s: engine pid {pid} running={_running(pid)}, processes of {root}: {left}, "
        f"directory exists={os.path.exists(root)}"
    )


def _assert_pid_gone(pid: int) -> None:
    deadline = time.monotonic() + GONE_WITHIN
    while _running(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            raise AssertionError(f"process {pid} ({_cmdline(pid)}) still runs")
        time.sleep(0.1)


CLI = [sys.executable, "-m", "influx_compat.testing"]
SERVE = [*CLI, "--port", "0"]
COMMAND_LINE = re.compile(r"command pid (\d+)")
RUN_COMMAND = ["sh", "-c", 'echo "command pid $$"; exec sleep 600']


# -- the CLI, serving until stopped -------------------------------------------------------------


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_cli_stop_signal_stops_engine(sig: signal.Signals) -> None:
    child = Child(SERVE)
    try:
        pid, root = child.engine()
        child.wait_for(re.compile("Ctrl-C to stop"))
        assert _running(pid) and os.path.isdir(root)
        child.proc.send_signal(sig)
        assert child.proc.wait(timeout=30) == 0
        # the CLI stops the engine itself, before it exits: nothing is left at that moment
        assert not _running(pid) and not os.path.exists(root)
        assert_cleaned(pid, root)
    finally:
        child.close()


def test_cli_in_background_of_a_script_still_stops_on_sigint() -> None:
    """A job a script starts in the background comes with SIGINT ignored; the CLI handles it anyway."""
    child = Child(["sh", "-c", 'trap "" INT; exec "$@"', "sh", *SERVE])
    try:
        pid, root = child.engine()
        child.wait_for(re.compile("Ctrl-C to stop"))
        child.proc.send_signal(signal.SIGINT)
        assert child.proc.wait(timeout=30) == 0
        assert_cleaned(pid, root)
    finally:
        child.close()


def test_cli_v3_flavour_sigterm_stops_engine() -> None:
    child = Child([*SERVE, "--flavour", "core"])
    try:
        pid, root = child.engine()
        child.wait_for(re.compile("Ctrl-C to stop"))
        child.proc.send_signal(signal.SIGTERM)
        assert child.proc.wait(timeout=30) == 0
        assert_cleaned(pid, root)
    finally:
        child.close()


def test_cli_sigkill_still_stops_engine() -> None:
    """SIGKILL runs no handler: the engine's keeper sees the pipe close and cleans up."""
    child = Child(SERVE)
    try:
        pid, root = child.engine()
        child.wait_for(re.compile("Ctrl-C to stop"))
        child.proc.send_signal(signal.SIGKILL)
        assert child.proc.wait(timeout=30) == -signal.SIGKILL
        assert_cleaned(pid, root)
    finally:
        child.close()


def test_cli_stops_when_its_parent_dies() -> None:
    """A parent that started the server and is SIGKILLed takes the server with it."""
    parent_code = textwrap.dedent(
        """
        import subprocess, sys, time
        cli = subprocess.Popen(sys.argv[1:])
        print("cli pid", cli.pid, flush=True)
        time.sleep(600)
        """
    )
    parent = Child([sys.executable, "-c", parent_code, *SERVE])
    try:
        cli_pid = int(parent.wait_for(re.compile(r"cli pid (\d+)")).group(1))
        pid, root = parent.engine()
        parent.wait_for(re.compile("Ctrl-C to stop"))
        parent.proc.send_signal(signal.SIGKILL)
        parent.proc.wait(timeout=30)
        assert_cleaned(pid, root)
        _assert_pid_gone(cli_pid)
    finally:
        parent.close()


# -- the CLI running a command --------------------------------------------------------------------


def test_run_sigterm_stops_command_then_engine() -> None:
    child = Child([*CLI, "run", "--", *RUN_COMMAND])
    try:
        pid, root = child.engine()
        command_pid = int(child.wait_for(COMMAND_LINE).group(1))
        child.proc.send_signal(signal.SIGTERM)
        # the command got the SIGTERM passed on; its status is the CLI's, as a shell reports it
        assert child.proc.wait(timeout=30) == 128 + signal.SIGTERM
        _assert_pid_gone(command_pid)
        assert_cleaned(pid, root)
    finally:
        child.close()


def test_run_signal_while_the_command_starts_reaches_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    """A SIGTERM that comes after Popen forked but before it returned is passed on, not raised there.

    Raised inside Popen it had left the command running with no one to stop it (seen once in CI: the
    CLI exited 0 and ``sleep 600`` kept the output open).  The signal is delivered here at that point.
    """
    from influx_compat.testing import __main__ as cli

    signals = cli._Signals()
    real = subprocess.Popen

    def popen(command: List[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        proc = real(command, **kwargs)
        signals._handle(signal.SIGTERM, None)  # the command runs; Popen has not returned yet
        return proc

    monkeypatch.setattr(cli.subprocess, "Popen", popen)
    child = signals.start(["sleep", "30"], dict(os.environ))
    try:
        assert child.wait(timeout=10) == -signal.SIGTERM
        assert signals.received == signal.SIGTERM and signals.deferred is None
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()


def test_run_under_timeout_stops_engine() -> None:
    """``timeout`` sends SIGTERM to the CLI (and its process group) when time is up."""
    child = Child(["timeout", "-s", "TERM", "8", *CLI, "run", "--", *RUN_COMMAND])
    try:
        pid, root = child.engine()
        command_pid = int(child.wait_for(COMMAND_LINE).group(1))
        assert child.proc.wait(timeout=60) == 124  # timeout's status when it had to stop the command
        _assert_pid_gone(command_pid)
        assert_cleaned(pid, root)
    finally:
        child.close()


def test_run_exit_status_is_the_commands() -> None:
    child = Child([*CLI, "run", "--", "sh", "-c", "exit 7"])
    try:
        pid, root = child.engine()
        assert child.proc.wait(timeout=60) == 7
        assert_cleaned(pid, root)
    finally:
        child.close()


# -- library use --------------------------------------------------------------------------------

LIBRARY_SCRIPT = textwrap.dedent(
    """
    import signal, sys, time
    from influx_compat.testing import V2TestServer

    names = ("SIGTERM", "SIGINT", "SIGHUP")
    before = [signal.getsignal(getattr(signal, n)) for n in names]
    server = V2TestServer().start()
    after = [signal.getsignal(getattr(signal, n)) for n in names]
    print("handlers unchanged", before == after, flush=True)
    print(f"engine: influxd pid {server.engine.pid}, files in {server.engine.root}", flush=True)
    if sys.argv[1] == "sleep":
        time.sleep(600)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=lambda s: s.name)
def test_library_user_killed_leaves_nothing(sig: signal.Signals) -> None:
    """A program using V2TestServer() killed (no handler of ours runs) leaves no engine, no files."""
    child = Child([sys.executable, "-c", LIBRARY_SCRIPT, "sleep"])
    try:
        assert child.wait_for(re.compile("handlers unchanged (.*)")).group(1) == "True"
        pid, root = child.engine()
        child.proc.send_signal(sig)
        assert child.proc.wait(timeout=30) == -sig
        assert_cleaned(pid, root)
    finally:
        child.close()


def test_library_user_exiting_without_stop_cleans_up_at_exit() -> None:
    """A program that never calls stop(): atexit stops the engine before the interpreter is gone."""
    child = Child([sys.executable, "-c", LIBRARY_SCRIPT, "exit"])
    try:
        pid, root = child.engine()
        assert child.proc.wait(timeout=60) == 0
        assert not _running(pid) and not os.path.exists(root)
    finally:
        child.close()


def test_engine_dying_at_start_is_reported_with_its_log_and_leaves_nothing(
    tmp_path: os.PathLike[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from influx_compat.testing import V2TestServer

    fake = os.path.join(os.fspath(tmp_path), "influxd")
    with open(fake, "w", encoding="utf-8") as fh:
        fh.write("#!/bin/sh\necho 'run: open server: bad config'\nexit 1\n")
    os.chmod(fake, 0o755)
    monkeypatch.setenv("INFLUXD_PATH", fake)
    server = V2TestServer()
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="run: open server: bad config"):
        server.start()
    assert time.monotonic() - started < 20  # the engine's exit is seen at once, not after the timeout
    assert server.engine.root is None and server.engine.process is None
