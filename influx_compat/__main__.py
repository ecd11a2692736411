"""``python -m influx_compat run``: run an unchanged influxdb-python 1.x program on InfluxDB 2.x or 3.

    python -m influx_compat run legacy_script.py [args ...]
    python -m influx_compat run -m legacy_package.module [args ...]
    python -m influx_compat doctor [DATABASE ...]
    python -m influx_compat proxy [--listen HOST:PORT]

Inside the program, ``import influxdb`` and every ``influxdb.*`` submodule
resolve to influx_compat (see :mod:`influx_compat._launcher`).  The token and
org come from the environment (``INFLUX_TOKEN``, ``INFLUX_ORG``, ``INFLUX_HOST``),
the ``influx`` CLI's active profile, or the program's own arguments.
"""

from __future__ import annotations

import runpy
import sys
from typing import List, Optional

from influx_compat._launcher import install

__all__ = ["main"]

USAGE = """usage: python -m influx_compat run SCRIPT [ARGS ...]
       python -m influx_compat run -m MODULE [ARGS ...]
       python -m influx_compat doctor [--url URL] [--org ORG] [--flavour F] [DATABASE ...]
       python -m influx_compat proxy [--listen HOST:PORT] [--user NAME:PASSWORD] [--flavour F]
       (every proxy option: python -m influx_compat proxy --help)

run:    runs an influxdb-python 1.x program with `import influxdb` resolving to influx_compat.
doctor: checks the configuration (settings and their sources, server, version, token, org, databases,
        the 1.x endpoints, the launcher), each check with its fix; exit status 1 when one fails.
proxy:  serves InfluxDB 1.x's HTTP API (/ping, /query, /write) in front of InfluxDB 2.x or 3 (needs waitress).
Give the server with INFLUX_HOST and INFLUX_TOKEN (and INFLUX_ORG for 2.x), or the influx CLI's config;
the server's kind (2.x, 3 Core, ...) is read from its answers, or set with INFLUX_COMPAT_FLAVOUR."""


def main(argv: Optional[List[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if args else 2
    if args[0] == "proxy":
        return _proxy(args[1:])
    if args[0] == "doctor":
        from influx_compat._doctor import main as doctor

        return doctor(args[1:])
    if args[0] != "run" or len(args) < 2:
        print(USAGE, file=sys.stderr)
        return 2
    args = args[1:]
    if args[0] in ("-h", "--help"):
        print(USAGE)
        return 0
    install()
    if args[0] == "-m":
        if len(args) < 2:
            print(USAGE, file=sys.stderr)
            return 2
        sys.argv = [args[1]] + args[2:]
        runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        return 0
    sys.argv = list(args)
    sys.path.insert(0, _script_dir(args[0]))
    runpy.run_path(args[0], run_name="__main__")
    return 0


def _proxy(argv: List[str]) -> int:
    from influx_compat.proxy import main as proxy_main

    return proxy_main(argv)


def _script_dir(path: str) -> str:
    import os

    return os.path.dirname(os.path.abspath(path))


if __name__ == "__main__":
    sys.exit(main())
