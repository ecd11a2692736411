"""1.x management operations translated onto InfluxDB 2.x's v2 API.

Each operation exists once, here, and serves both the client's methods
(``create_database``) and the InfluxQL statements routed out of ``query()``
(``CREATE DATABASE "x"``).  Operations return what influxdb-python returned;
:meth:`Management.execute` turns a parsed statement into the 1.x JSON result
of that statement.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from influx_compat._influxql import Statement
from influx_compat._mapping import DEFAULT_RP, BucketResolver, conventional_bucket
from influx_compat._v2api import V2Api
from influx_compat.exceptions import InfluxDBClientError, UnsupportedOperationError

__all__ = ["Management", "series_result"]

SYSTEM_BUCKET_PREFIX = "_"


def series_result(name: Optional[str], columns: List[str], values: List[List[Any]]) -> Dict[str, Any]:
    """A 1.x statement result holding one series (no ``values`` key when empty)."""
    series: Dict[str, Any] = {"columns": columns}
    if name is not None:
        series = {"name": name, "columns": columns}
    if values:
        series["values"] = values
    return {"series": [series]}


def _check_name(kind: str, name: Any) -> str:
    if not isinstance(name, str) or not name:
        raise InfluxDBClientError(f"{kind} name must be a non-empty string, not {name!r}")
    return name


class Management:
    """The translations of 1.x management operations for one client.

    :param api: v2 management API of the client
    :param resolver: the client's bucket resolver (its cache is kept current)
    """

    def __init__(self, api: V2Api, resolver: BucketResolver) -> None:
        self.api = api
        self.resolver = resolver

    # -- databases ---------------------------------------------------------

    def create_database(self, dbname: str) -> None:
        """Create bucket ``dbname`` and its DBRP mapping; nothing if the database exists."""
        _check_name("database", dbname)
        if "/" in dbname or "\\" in dbname or dbname in (".", ".."):
            raise InfluxDBClientError(
                f"database name {dbname!r} cannot be used on InfluxDB 2.x: DBRP mappings "
                "do not allow '/' or '\\' in a database name, nor '.' or '..'"
            )
        self.resolver.forget(dbname)
        existing = self.resolver.mappings(dbname)
        if existing:
            return None
        bucket = self.api.create_bucket(conventional_bucket(dbname, None))
        self.api.create_dbrp(dbname, DEFAULT_RP, bucket["id"], default=True)
        self.resolver.forget(dbname)
        return None

    def database_buckets(self, dbname: str) -> Dict[str, str]:
        """{bucket ID: name or ''} of every bucket that belongs to a database."""
        found: Dict[str, str] = {}
        for m in self.resolver.mappings(dbname):
            found[m["bucketID"]] = ""
        prefix = dbname + "/"
        for b in self.api.buckets():
            name = b.get("name", "")
            if name == dbname or name.startswith(prefix):
                found[b["id"]] = name
        return found

    def drop_database(self, dbname: str) -> None:
        """Delete every bucket (and so every mapping) of a database; silent if none."""
        _check_name("database", dbname)
        self.resolver.forget(dbname)
        for bucket_id in self.database_buckets(dbname):
            self.api.delete_bucket(bucket_id)
        for m in self.api.dbrps(dbname):
            if not m.get("virtual") and m.get("database") == dbname:
                self.api.delete_dbrp(m["id"])
        self.resolver.forget(dbname)
        return None

    def list_databases(self) -> List[Dict[str, str]]:
        """``[{'name': db}, ...]``: databases of the DBRP mappings and of bucket names."""
        names: Dict[str, None] = {}
        for b in self.api.buckets():
            name = b.get("name", "")
            if b.get("type") == "system" or name.startswith(SYSTEM_BUCKET_PREFIX):
                continue
            names.setdefault(name.split("/", 1)[0], None)
        for m in self.api.dbrps():
            name = m.get("database", "")
            if m.get("virtual") and name.startswith(SYSTEM_BUCKET_PREFIX):
                continue  # derived from the system buckets _monitoring and _tasks
            names.setdefault(name, None)
        return [{"name": n} for n in names if n]

    # -- routed statements -------------------------------------------------

    def handlers(self) -> Dict[str, Callable[[Statement, Optional[str]], Dict[str, Any]]]:
        return {
            "create_database": lambda s, db: self._none(self.create_database, s.args["name"]),
            "drop_database": lambda s, db: self._none(self.drop_database, s.args["name"]),
            "show_databases": lambda s, db: series_result(
                "databases", ["name"], [[d["name"]] for d in self.list_databases()]
            ),
        }

    @staticmethod
    def _none(func: Callable[..., Any], *args: Any) -> Dict[str, Any]:
        func(*args)
        return {}

    def execute(self, statement: Statement, database: Optional[str]) -> Dict[str, Any]:
        """Run a routed statement; return its 1.x result (without ``statement_id``)."""
        handler = self.handlers().get(statement.kind)
        if handler is None:
            raise UnsupportedOperationError(
                f"{statement.text!r} cannot be translated for InfluxDB 2.x yet",
                statement=statement.text,
            )
        if statement.kind == "create_database" and statement.args.get("retention_policy"):
            raise UnsupportedOperationError(
                "CREATE DATABASE ... WITH is not translated: create the database, then "
                "client.create_retention_policy(...)",
                statement=statement.text,
            )
        return handler(statement, database)
