"""influx_compat: influxdb-python 5.3.2's API on InfluxDB 2.x and InfluxDB 3.

``import influx_compat as influxdb`` and the rest of a 1.x script runs
unchanged; set ``INFLUX_HOST`` and ``INFLUX_TOKEN`` (and ``INFLUX_ORG`` for
2.x), or pass ``url=``, ``token=`` and ``org=``; the kind of server is read
from its answers (or given with ``flavour=``).
"""

from __future__ import annotations

import importlib
from typing import Any

from influx_compat import chunked_json, client, exceptions, helper, line_protocol, resultset  # noqa: F401
from influx_compat._launcher import install, uninstall
from influx_compat.client import InfluxDBClient
from influx_compat.exceptions import InfluxDBClientError, InfluxDBServerError
from influx_compat.helper import SeriesHelper
from influx_compat.resultset import ResultSet


def __getattr__(name: str) -> Any:
    """``DataFrameClient`` and ``dataframe_client`` on first use: pandas takes a while to import."""
    if name not in ("DataFrameClient", "dataframe_client"):
        raise AttributeError(f"module 'influx_compat' has no attribute {name!r}")
    try:
        dataframe_client = importlib.import_module("influx_compat.dataframe_client")
    except ImportError as err:
        if name == "dataframe_client":
            raise
        value: Any = _needs_pandas(err)
    else:
        value = dataframe_client if name == "dataframe_client" else dataframe_client.DataFrameClient
    globals()[name] = value
    return value


def _needs_pandas(error: ImportError) -> type:
    class DataFrameClient:
        """Stand-in raising ImportError, as influxdb-python does without pandas."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            raise ImportError(
                f"DataFrameClient requires Pandas which couldn't be imported: {error}. "
                "Install it with: pip install 'influx_compat[pandas]'"
            )

    return DataFrameClient


__version__ = "5.3.2"
compat_version = "0.1.0"

__all__ = [
    "InfluxDBClient",
    "DataFrameClient",
    "SeriesHelper",
    "InfluxDBClientError",
    "InfluxDBServerError",
    "ResultSet",
    "install",
    "uninstall",
    "__version__",
]
