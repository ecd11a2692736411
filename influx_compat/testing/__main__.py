"""``python -m influx_compat.testing``: serve a test server, or run a command against one.

    python -m influx_compat.testing [--flavour v2|core|enterprise|dedicated] [--port N] [--version V]
    python -m influx_compat.testing run [--flavour ...] [--port N] -- python legacy_script.py

The default flavour is the v2 server (port 8086 if free); ``core`` and
``enterprise`` default to InfluxDB 3's port 8181, ``dedicated`` to 8086.  ``run``
takes a free port unless ``--port`` is given: the command gets the server's
environment (``server.env()``), URL included.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
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
    server: Union[V2TestServer, V3TestServer]
    try:
        if args.flavour == "v2":
            server = V2TestServer(version=args.version or "2.7.10", port=port).start()
        else:
            server = V3TestServer(args.flavour, port=port, version=args.version).start()
    except EngineNotFoundError as exc:
        print(exc, file=sys.stderr)
        return 2
    except OSError as exc:  # the port is taken, most often
        print(
            f"cannot serve on 127.0.0.1:{port}: {exc.strerror or exc}; pick another with --port",
            file=sys.stderr,
        )
        return 2
    try:
        if run:
            env: Dict[str, str] = dict(os.environ)
            env.update(server.env())
            if isinstance(server, V2TestServer):
                print(f"v2 test server on {server.url} (org {server.org})", file=sys.stderr)
            else:
                print(
                    f"InfluxDB 3 {server.flavour} test server on {server.url} (token {server.token})",
                    file=sys.stderr,
                )
            return subprocess.call(command, env=env)
        print(_banner(server))
        print("export " + " ".join(f"{name}={value}" for name, value in server.env().items()))
        print("Ctrl-C to stop.")
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        return 0
    finally:
        server.stop()


if __name__ == "__main__":
    sys.exit(main())
