"""Make ``import influxdb`` (and its submodules) resolve to influx_compat.

:func:`install` puts a finder at the front of ``sys.meta_path``: from then on
``import influxdb``, ``from influxdb import InfluxDBClient`` and
``from influxdb.exceptions import InfluxDBClientError`` give influx_compat's
modules, even when influxdb-python itself is installed.  ``influxdb.influxdb08``
(the 0.8 client) imports, and using its classes raises an error saying to use
the 1.x client; other submodules that have no influx_compat counterpart fail
with an ImportError that says so.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import warnings
from types import ModuleType
from typing import Optional, Sequence

__all__ = ["install", "uninstall", "installed", "ALIASED"]

ALIAS = "influxdb"
# influxdb-python's public modules and their influx_compat counterparts.
ALIASED = {
    "influxdb": "influx_compat",
    "influxdb.client": "influx_compat.client",
    "influxdb.exceptions": "influx_compat.exceptions",
    "influxdb.resultset": "influx_compat.resultset",
    "influxdb.line_protocol": "influx_compat.line_protocol",
    "influxdb.chunked_json": "influx_compat.chunked_json",
    "influxdb.helper": "influx_compat.helper",
    "influxdb.dataframe_client": "influx_compat.dataframe_client",
    "influxdb._dataframe_client": "influx_compat.dataframe_client",
    # The 0.8 client: its names import (programs import it beside the 1.x client), using them raises.
    "influxdb.influxdb08": "influx_compat.influxdb08",
    "influxdb.influxdb08.client": "influx_compat.influxdb08.client",
    "influxdb.influxdb08.dataframe_client": "influx_compat.influxdb08.dataframe_client",
    "influxdb.influxdb08.helper": "influx_compat.influxdb08.helper",
    "influxdb.influxdb08.chunked_json": "influx_compat.influxdb08.chunked_json",
}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, target: str) -> None:
        self.target = target

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(self.target)

    def exec_module(self, module: ModuleType) -> None:
        return None  # the influx_compat module is already initialised


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(
        self, fullname: str, path: Optional[Sequence[str]] = None, target: Optional[ModuleType] = None
    ) -> Optional[importlib.machinery.ModuleSpec]:
        if fullname != ALIAS and not fullname.startswith(ALIAS + "."):
            return None
        real = ALIASED.get(fullname)
        if real is None:
            raise ImportError(
                f"{fullname} has no counterpart in influx_compat (it covers influxdb-python's "
                f"{', '.join(sorted(ALIASED))})",
                name=fullname,
            )
        return importlib.machinery.ModuleSpec(fullname, _AliasLoader(real))


_finder = _AliasFinder()


def installed() -> bool:
    return _finder in sys.meta_path


def install() -> None:
    """Route ``influxdb`` imports to influx_compat (idempotent)."""
    if installed():
        return
    already = sorted(name for name in sys.modules if name == ALIAS or name.startswith(ALIAS + "."))
    if already and sys.modules.get(ALIAS) is not importlib.import_module("influx_compat"):
        warnings.warn(
            f"{', '.join(already)} imported before influx_compat.install(): code holding those modules "
            "keeps influxdb-python's classes",
            RuntimeWarning,
            stacklevel=2,
        )
        for name in already:
            del sys.modules[name]
    sys.meta_path.insert(0, _finder)


def uninstall() -> None:
    """Undo :func:`install` (for tests and embedding)."""
    if installed():
        sys.meta_path.remove(_finder)
    for name in list(sys.modules):
        aliased = name == ALIAS or name.startswith(ALIAS + ".")
        if aliased and getattr(sys.modules[name], "__name__", "").startswith("influx_compat"):
            del sys.modules[name]
