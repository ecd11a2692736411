"""influx_compat: influxdb-python 5.3.2's API on InfluxDB 2.x.

``import influx_compat as influxdb`` and the rest of a 1.x script runs
unchanged; set ``INFLUX_TOKEN`` and ``INFLUX_ORG`` (or pass ``token=`` and
``org=``) so the client can speak to InfluxDB 2.x.
"""

from __future__ import annotations

from influx_compat import chunked_json, client, exceptions, helper, line_protocol, resultset  # noqa: F401
from influx_compat._launcher import install, uninstall
from influx_compat.client import InfluxDBClient
from influx_compat.exceptions import InfluxDBClientError, InfluxDBServerError
from influx_compat.helper import SeriesHelper
from influx_compat.resultset import ResultSet

try:
    from influx_compat import dataframe_client  # noqa: F401
    from influx_compat.dataframe_client import DataFrameClient
except ImportError as _err:  # pragma: no cover - exercised when pandas is absent
    _pandas_error = _err

    class DataFrameClient:  # type: ignore[no-redef]
        """Stand-in raising ImportError, as influxdb-python does without pandas."""

        def __init__(self, *args: object, **kwargs: object) -> None:
            raise ImportError(
                "DataFrameClient requires Pandas which couldn't be imported: "
                f"{_pandas_error}"
            )


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
