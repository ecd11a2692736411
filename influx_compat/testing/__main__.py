"""``python -m influx_compat.testing``: serve a v2 test server, or run a command against one.

    python -m influx_compat.testing [--port 8086] [--version 2.7.10]
    python -m influx_compat.testing run [--port N] -- python legacy_script.py
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from typing import List, Optional

from influx_compat.testing import EngineNotFoundError, V2TestServer

__all__ = ["main"]


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    run = bool(argv) and argv[0] == "run"
    if run:
        argv = argv[1:]
    command: List[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, command = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(prog="python -m influx_compat.testing")
    parser.add_argument("--port", type=int, default=None, help="HTTP port (default 8086 if free)")
    parser.add_argument("--version", default="2.7.10", help="InfluxDB 2.x version to impersonate")
    args = parser.parse_args(argv)
    if run and not command:
        parser.error("run needs a command after --")
    port = args.port if args.port is not None else (8086 if _port_free(8086) else 0)
    try:
        server = V2TestServer(version=args.version, port=port).start()
    except EngineNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    try:
        if run:
            env = dict(os.environ)
            env.update(server.env())
            print(f"v2 test server on {server.url} (org {server.org})", file=sys.stderr)
            return subprocess.call(command, env=env)
        print(f"InfluxDB 2.x test server (v{server.version}) on {server.url}")
        print(f"org:   {server.org}\nbucket: {server.bucket}\ntoken: {server.token}")
        print("Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
