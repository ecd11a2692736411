"""1.x management operations on InfluxDB 3: databases, retention policies, measurements, series.

3 Core and Enterprise manage databases over REST (``/api/v3/configure/...``,
influxdb3_server/src/http.rs); their InfluxQL has no management statements.
A 1.x retention policy ``rp`` of database ``db`` is the database ``db/rp``
with a retention period.  Cloud Dedicated and Clustered manage databases in
a separate Management API; without its settings those calls raise.

Users, grants, continuous queries and point deletes have no InfluxDB 3
counterpart: they raise :class:`UnsupportedOperationError` naming what 3.x
offers instead.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Callable, Dict, List, Optional, Set

from influx_compat._databases_v3 import Catalog
from influx_compat._flavour import Flavour
from influx_compat._influxql import (
    InfluxQLSyntaxError,
    Statement,
    format_duration,
    parse_retention,
    quote_ident,
)
from influx_compat._management import default_shard, empty, policy_statement, retention_durations
from influx_compat._names_v3 import check_database_name, database_for
from influx_compat._serializer import _escape_tag
from influx_compat._statements import check_handlers
from influx_compat.exceptions import (
    DatabaseNotFoundError,
    InfluxDBClientError,
    UnsupportedOperationError,
)

#: Runs one InfluxQL statement on a 3.x database: (text, database) -> its result, errors raised.
Run = Callable[[str, Optional[str]], Dict[str, Any]]

__all__ = ["ManagementV3"]

log = logging.getLogger("influx_compat")
INTERNAL = "_internal"
Handler = Callable[[Statement, Dict[str, Any]], Dict[str, Any]]

_USERS = (
    "InfluxDB 3 has no InfluxQL users or privileges: authenticate with a token (token=..., or the "
    "token as password=...); create and scope tokens with 'influxdb3 create token' (Enterprise: "
    "resource tokens per database)"
)
_CQS = (
    "InfluxDB 3 has no continuous queries: use a processing engine trigger (a Python plugin run on "
    "a schedule, 'influxdb3 create trigger'), or downsample client-side with a SELECT ... GROUP BY "
    "time() and write_points"
)
_DELETE = (
    "InfluxDB 3 cannot delete points or series: drop the whole measurement (drop_measurement), "
    "or give the database a retention period (create_retention_policy / alter_retention_policy) "
    "and let old points expire"
)


def _series_key(name: str, tags: Dict[str, Any]) -> str:
    """A 1.x series key: ``m,t1=v1,t2=v2`` (tags sorted, empty ones left out, escaped)."""

    parts = [name.replace(",", "\\,").replace(" ", "\\ ")]
    parts += [
        f"{_escape_tag(k)}={_escape_tag(str(v))}" for k, v in sorted(tags.items()) if v not in (None, "")
    ]
    return ",".join(parts)


class ManagementV3:
    """The translations of 1.x management operations for one InfluxDB 3 client.

    :param run: runs InfluxQL on the server (the backend's :meth:`V3Backend.run`)
    :param flavour: CORE/ENTERPRISE (configure API) or DEDICATED/CLUSTERED
    :param catalog: where the databases are (configure API, Management API)
    """

    def __init__(self, run: Run, flavour: Flavour, catalog: Catalog) -> None:
        self.run = run
        self.flavour = flavour
        self.catalog = catalog
        self._defaults: Dict[str, str] = {}
        self._handlers = self.handlers()

    # -- the catalog ------------------------------------------------------------

    def create_help(self, target: str) -> str:
        if self.flavour.iox:
            return (
                f"Create it with 'influxctl database create {target}' (or client.create_database with "
                "the Management API configured: INFLUX_MANAGEMENT_TOKEN, ...)"
            )
        return f"Create it with client.create_database({target.split('/')[0]!r})"

    def raw_databases(self) -> List[str]:
        """Every 3.x database name (``db`` and ``db/rp``), ``_internal`` included."""
        return self.catalog.names()

    # -- databases -----------------------------------------------------------

    def create_database(self, name: str) -> None:
        """Database ``name``; nothing if it exists (1.x's CREATE DATABASE is idempotent)."""
        if "/" in name:
            raise InfluxDBClientError(
                f"database name {name!r}: on InfluxDB 3 a '/' separates a database from a retention "
                "policy ('db/rp'); use create_retention_policy for a policy",
                400,
            )
        self.catalog.create(check_database_name(name), 0)

    def drop_database(self, name: str) -> None:
        """Database ``name`` and the databases of its retention policies; silent if none."""
        for existing in self.raw_databases():
            if existing == name or existing.startswith(name + "/"):
                self.catalog.delete(existing)
        self._defaults.pop(name, None)

    def list_databases(self) -> List[Dict[str, str]]:
        names: Dict[str, None] = {}
        for name in self.raw_databases():
            if name != INTERNAL:
                names.setdefault(name.split("/", 1)[0], None)
        return [{"name": n} for n in names]

    def _policies(self, database: str) -> List[str]:
        """The 3.x databases of a 1.x database: ``db`` and each ``db/rp``; database not found if none."""
        found = [n for n in self.raw_databases() if n == database or n.startswith(database + "/")]
        if not found:
            raise DatabaseNotFoundError(f"database not found: {database}", database=database)
        return sorted(found, key=lambda n: n != database)  # the database first, then in creation order

    # -- retention policies --------------------------------------------------

    def default_policy(self, database: str) -> Optional[str]:
        """The policy this client made the default of a database (3.x has none of its own)."""
        return self._defaults.get(database)

    def _make_default(self, database: str, name: str) -> None:
        if name.lower() in ("autogen", "default"):
            self._defaults.pop(database, None)
            return
        self._defaults[database] = name
        log.warning(
            "InfluxDB 3 has no default retention policy: this client now writes and queries points of "
            "%r without a retention policy in the database %r; other clients still use %r",
            database,
            f"{database}/{name.lower()}",
            database,
        )

    def create_retention_policy(
        self,
        name: str,
        database: str,
        duration: Any,
        replication: Any = None,
        default: bool = False,
        shard_duration: Any = None,
    ) -> None:
        """Database ``db/name`` with that retention period (replication and shard duration ignored)."""
        seconds = retention_durations(duration, None)[0] or 0
        self._policies(database)
        target = database_for(database, name)
        if target == database:
            self.catalog.set_retention(database, seconds)
        elif not self.catalog.create(target, seconds):
            self.catalog.set_retention(target, seconds)
        if default:
            self._make_default(database, name)

    def alter_retention_policy(
        self,
        name: str,
        database: str,
        duration: Any = None,
        replication: Any = None,
        default: bool = False,
        shard_duration: Any = None,
    ) -> None:
        target = database_for(database, name)
        if target not in self._policies(database):
            raise InfluxDBClientError(f"retention policy not found: {name}")
        if duration not in (None, ""):
            self.catalog.set_retention(target, retention_durations(duration, None)[0] or 0)
        if default:
            self._make_default(database, name)

    def drop_retention_policy(self, name: str, database: str) -> None:
        target = database_for(database, name)
        if target == database:
            raise UnsupportedOperationError(
                f"DROP RETENTION POLICY {name}: on InfluxDB 3 the default policy is the database "
                f"{database!r} itself; drop it with drop_database({database!r})"
            )
        self.catalog.delete(target)
        if self._defaults.get(database, "").lower() == name.lower():
            self._defaults.pop(database, None)

    def list_retention_policies(self, database: str) -> List[Dict[str, Any]]:
        """1.x's rows: ``autogen`` for ``db``, one per ``db/rp``, durations from the server."""
        default = (self._defaults.get(database) or "autogen").lower()
        rows = []
        for name in self._policies(database):
            rp = "autogen" if name == database else name.split("/", 1)[1]
            seconds = self._retention_of(name)
            rows.append(
                {
                    "name": rp,
                    "duration": format_duration(seconds),
                    "shardGroupDuration": format_duration(default_shard(seconds)),
                    "replicaN": 1,
                    "default": rp == default,
                }
            )
        return rows

    def _retention_of(self, database: str) -> int:
        result = self.run("SHOW RETENTION POLICIES", database)
        for series in result.get("series", []):
            columns = series.get("columns", [])
            for row in series.get("values", []):
                value = dict(zip(columns, row)).get("duration")
                if isinstance(value, str):
                    try:
                        return parse_retention(value)
                    except InfluxQLSyntaxError:
                        return 0
        return 0

    # -- measurements and series ---------------------------------------------

    def drop_measurement(self, measurement: str, database: Optional[str]) -> None:
        """Delete the table in ``db`` and in every ``db/rp`` that has it."""
        if not database:
            raise InfluxDBClientError("database name required")
        for name in self._policies(database):
            self.catalog.delete_table(name, measurement)

    def _databases_of(self, statement: Statement, params: Dict[str, Any]) -> List[str]:
        database = statement.args.get("database") or params.get("db")
        if not database:
            raise InfluxDBClientError("database name required")
        rp = statement.args.get("retention_policy") or params.get("rp")
        if rp and rp != "*":
            return [database_for(database, rp)]
        return self._policies(database)

    def show_measurements(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        """SHOW MEASUREMENTS over every retention policy (database) of a 1.x database."""
        rest = statement.args.get("rest", "")
        names: Set[str] = set()
        for database in self._databases_of(statement, params):
            result = self.run(("SHOW MEASUREMENTS " + rest).strip(), database)
            for series in result.get("series", []):
                names.update(str(v[0]) for v in series.get("values", []))
        if not names:
            return {}
        return {
            "series": [{"name": "measurements", "columns": ["name"], "values": [[n] for n in sorted(names)]}]
        }

    def show_series(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        """SHOW SERIES, which 3.x lacks: one ``SELECT * ... GROUP BY * LIMIT 1`` per measurement."""
        rest = statement.args.get("rest", "")
        match = re.match(
            r"^\s*(?:FROM\s+(?P<src>.*?))?\s*(?:WHERE\s+(?P<where>.*?))?\s*$", rest, re.IGNORECASE | re.DOTALL
        )
        if match is None or statement.args.get("limited"):
            raise UnsupportedOperationError(
                f"{statement.text}: InfluxDB 3 has no SHOW SERIES; influx_compat emulates it for "
                "[FROM m] [WHERE tag = 'v'] only",
                statement=statement.text,
            )
        where = f" WHERE {match.group('where')}" if match.group("where") else ""
        keys: Set[str] = set()
        for database in self._databases_of(statement, params):
            sources = (
                [match.group("src")]
                if match.group("src")
                else [
                    quote_ident(str(v[0]))
                    for s in self.run("SHOW MEASUREMENTS", database).get("series", [])
                    for v in s.get("values", [])
                ]
            )
            for source in sources:
                result = self.run(f"SELECT * FROM {source}{where} GROUP BY * LIMIT 1", database)
                for series in result.get("series", []):
                    keys.add(_series_key(str(series.get("name", "")), series.get("tags") or {}))
        if not keys:
            return {}
        return {"series": [{"columns": ["key"], "values": [[k] for k in sorted(keys)]}]}

    # -- routed statements -----------------------------------------------------

    def _refuse(self, text: str) -> Handler:
        def refuse(statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
            raise UnsupportedOperationError(f"{statement.text}: {text}", statement=statement.text)

        return refuse

    def handlers(self) -> Dict[str, Handler]:
        table = self._table()
        check_handlers(table, "ManagementV3.handlers()")
        return table

    def _table(self) -> Dict[str, Handler]:
        return {
            "create_database": self._create_database,
            "drop_database": lambda s, p: empty(self.drop_database, s.args["name"]),
            "show_databases": lambda s, p: {
                "series": [
                    {
                        "name": "databases",
                        "columns": ["name"],
                        "values": [[d["name"]] for d in self.list_databases()],
                    }
                ]
            },
            "create_retention_policy": lambda s, p: policy_statement(self.create_retention_policy, s),
            "alter_retention_policy": lambda s, p: policy_statement(self.alter_retention_policy, s),
            "drop_retention_policy": lambda s, p: empty(
                self.drop_retention_policy, s.args["name"], s.args["database"]
            ),
            "show_retention_policies": self._show_retention_policies,
            "show_users": lambda s, p: {"series": [{"columns": ["user", "admin"]}]},
            "create_user": self._refuse(_USERS),
            "drop_user": self._refuse(_USERS),
            "set_password": self._refuse(_USERS),
            "grant": self._refuse(_USERS),
            "grant_admin": self._refuse(_USERS),
            "revoke": self._refuse(_USERS),
            "revoke_admin": self._refuse(_USERS),
            "show_grants": self._refuse(_USERS),
            "drop_series": self._refuse(_DELETE),
            "delete": self._refuse(_DELETE),
            "drop_measurement": lambda s, p: empty(self.drop_measurement, s.args["measurement"], p.get("db")),
            "show_measurements": self.show_measurements,
            "show_series": self.show_series,
            "show_continuous_queries": lambda s, p: {
                "series": [
                    {"name": d["name"], "columns": ["name", "query"], "values": []}
                    for d in self.list_databases()
                ]
            },
            "create_continuous_query": self._refuse(_CQS),
            "drop_continuous_query": self._refuse(_CQS),
        }

    def _create_database(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        name = statement.args["name"]
        self.create_database(name)
        policy = statement.args.get("retention_policy")
        if policy:  # CREATE DATABASE x WITH DURATION d [NAME rp]
            rp = policy.get("name") or "autogen"
            if rp.lower() == "autogen":
                self.catalog.set_retention(name, retention_durations(policy.get("duration"), None)[0] or 0)
            else:
                self.create_retention_policy(rp, name, policy.get("duration") or "INF", default=True)
        return {}

    def _show_retention_policies(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        database = statement.args.get("database") or params.get("db")
        if not database:
            raise InfluxDBClientError("database name required")
        columns = ["name", "duration", "shardGroupDuration", "replicaN", "default"]
        rows = self.list_retention_policies(database)
        return {"series": [{"columns": columns, "values": [[r[c] for c in columns] for r in rows]}]}

    def routes(self, statement: Statement) -> bool:
        # SELECT ... INTO is the core's (influx_compat._select_into): 3.x's InfluxQL has no INTO.
        return statement.kind in self._handlers

    def execute(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        return self._handlers[statement.kind](statement, params)
