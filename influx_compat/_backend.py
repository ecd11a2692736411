"""The small interface every server generation implements.

The shared half of the core (write pipeline, InfluxQL routing, answer
shaping, errors, retries) talks to a server only through a :class:`Backend`:

* :class:`~influx_compat._backend_v2.V2Backend`: InfluxDB 2.x OSS and Cloud,
  and Cloud Serverless (the v2 API: buckets, DBRP mappings);
* :class:`~influx_compat._backend_v3.V3Backend`: InfluxDB 3 Core and
  Enterprise (``/api/v3``), and with the IOx flavours Cloud Dedicated and
  Clustered (their data API; databases in their Management API).
"""

from __future__ import annotations

from typing import Any, Dict, List, Protocol

from influx_compat._flavour import Flavour
from influx_compat._influxql import Statement
from influx_compat._writer import Destination

__all__ = ["Backend"]


class Backend(Protocol):
    """What the shared core needs from a server generation."""

    flavour: Flavour

    def write(self, body: bytes, destination: Destination) -> None:
        """Store one batch of line protocol.

        :raises InfluxDBClientError: (413 lets the pipeline split the batch;
            :class:`~influx_compat.exceptions.PartialWriteError` for a partial write)
        """

    def query(
        self,
        text: str,
        params: Dict[str, Any],
        method: str,
        chunked: bool,
        expected: int,
        compact: bool = False,
    ) -> Any:
        """Run InfluxQL on the server's ``/query``: 1.x JSON, or an iterator of chunks.

        :param compact: a series' rows may come as :class:`~influx_compat._answers.Rows`
            (for a :class:`~influx_compat.resultset.ResultSet` only)
        """

    def routes(self, statement: Statement) -> bool:
        """Whether the statement is carried out by :meth:`execute` instead of the server's /query."""

    def execute(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        """Carry out a routed statement; its 1.x result (without ``statement_id``)."""

    def create_database(self, name: str) -> None: ...

    def drop_database(self, name: str) -> None: ...

    def list_databases(self) -> List[Dict[str, str]]: ...
