"""1.x management operations translated onto InfluxDB 2.x's v2 API.

Each operation exists once, here, and serves both the client's methods
(``create_database``) and the InfluxQL statements routed out of ``query()``
(``CREATE DATABASE "x"``).  Operations return what influxdb-python returned;
:meth:`Management.execute` turns a parsed statement into the 1.x JSON result
of that statement.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Set, Tuple

from influx_compat._influxql import (
    InfluxQLSyntaxError,
    Statement,
    check_handlers,
    format_duration,
    parse_error,
    parse_retention,
    quote_ident,
)
from influx_compat._mapping import DEFAULT_RP, BucketResolver, conventional_bucket
from influx_compat._predicate import UnsupportedCondition, translate, translate_sources
from influx_compat._users import Users
from influx_compat._v2api import V2Api
from influx_compat.exceptions import (
    DatabaseNotFoundError,
    InfluxDBClientError,
    UnsupportedOperationError,
)

Remote = Callable[[str, Dict[str, Any]], Dict[str, Any]]

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
    :param remote: runs InfluxQL on the server's /query: (text, params) -> 1.x JSON
    """

    def __init__(self, api: V2Api, resolver: BucketResolver, remote: Optional[Remote] = None) -> None:
        self.api = api
        self.resolver = resolver
        self.remote = remote
        self.users = Users(api, self.database_bucket_ids, self.all_databases)
        self._handlers = self.handlers()

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

    # -- retention policies ------------------------------------------------

    def _fresh(self, database: str) -> List[Dict[str, Any]]:
        self.resolver.forget(database)
        return self.resolver.mappings(database)

    def _existing_mappings(self, database: str) -> List[Dict[str, Any]]:
        """Mappings of a database; ``database not found`` (1.x's words) when it has none."""
        _check_name("database", database)
        mappings = self._fresh(database)
        if not mappings:
            bucket = self.api.find_bucket(database)
            if bucket is None:
                raise DatabaseNotFoundError(f"database not found: {database}", database=database)
            # A bucket named like the database but no mapping (2.x before 2.4): map it.
            self.api.create_dbrp(database, DEFAULT_RP, bucket["id"], default=True)
            mappings = self._fresh(database)
        return mappings

    def database_bucket_ids(self, database: str) -> Set[str]:
        return {m["bucketID"] for m in self._existing_mappings(database)}

    def all_databases(self) -> Dict[str, Set[str]]:
        found: Dict[str, Set[str]] = {}
        for m in self.api.dbrps():
            name = m.get("database", "")
            if m.get("virtual") and name.startswith(SYSTEM_BUCKET_PREFIX):
                continue
            found.setdefault(name, set()).add(m["bucketID"])
        return found

    @staticmethod
    def _rp_name(name: Any) -> str:
        _check_name("retention policy", name)
        if "/" in name or "\\" in name or name in (".", ".."):
            raise InfluxDBClientError(
                f"retention policy name {name!r} cannot be used on InfluxDB 2.x: DBRP mappings "
                "do not allow '/' or '\\' in it, nor '.' or '..'"
            )
        return str(name)

    def create_retention_policy(
        self,
        name: str,
        database: str,
        duration: Any,
        replication: Any = None,
        default: bool = False,
        shard_duration: Any = None,
    ) -> None:
        """Bucket ``db/name`` (``db`` for autogen) with the expiry, plus its DBRP mapping."""
        name = self._rp_name(name)
        every, shard = retention_durations(duration, shard_duration)
        if every is None:
            raise parse_error("found EOF, expected DURATION")
        mappings = self._existing_mappings(database)
        current = BucketResolver.pick(mappings, name)
        if current is not None:
            bucket = self.api.get_bucket(current["bucketID"]) or {}
            have_every, have_shard = _bucket_retention(bucket)
            if have_every != every or (shard and have_shard != shard):
                raise InfluxDBClientError("retention policy already exists")
            if default and not current.get("default"):
                self._make_default(database, current)
            return None
        bucket = self.api.create_bucket(conventional_bucket(database, name), every, shard or 0)
        have_every, have_shard = _bucket_retention(bucket)
        if have_every != every or (shard and have_shard != shard):
            # The bucket already existed (without a mapping): give it the policy asked for.
            bucket = self.api.update_bucket(bucket["id"], every, shard or have_shard)
        self.api.create_dbrp(database, name, bucket["id"], default=bool(default))
        self.resolver.forget(database)
        return None

    def _make_default(self, database: str, mapping: Dict[str, Any]) -> None:
        if mapping.get("virtual"):
            self.api.create_dbrp(database, mapping["retention_policy"], mapping["bucketID"], default=True)
        else:
            self.api.update_dbrp(mapping["id"], default=True)
        self.resolver.forget(database)

    def alter_retention_policy(
        self,
        name: str,
        database: str,
        duration: Any = None,
        replication: Any = None,
        default: bool = False,
        shard_duration: Any = None,
    ) -> None:
        """Change a policy's bucket expiry / shard duration and its mapping's default flag."""
        every, shard = retention_durations(duration, shard_duration)
        mapping = BucketResolver.pick(self._existing_mappings(database), name)
        if mapping is None:
            raise InfluxDBClientError(f"retention policy not found: {name}")
        if every is not None or shard is not None:
            bucket = self.api.get_bucket(mapping["bucketID"]) or {}
            have_every, have_shard = _bucket_retention(bucket)
            new_every = have_every if every is None else every
            new_shard = have_shard if not shard else shard
            if new_every and new_shard > new_every:
                raise InfluxDBClientError("retention policy duration must be greater than the shard duration")
            self.api.update_bucket(mapping["bucketID"], new_every, new_shard)
        if default and not mapping.get("default"):
            self._make_default(database, mapping)
        return None

    def drop_retention_policy(self, name: str, database: str) -> None:
        """Delete a policy's mapping and its bucket (unless other mappings still use it)."""
        _check_name("database", database)
        mapping = BucketResolver.pick(self._fresh(database), name)
        if mapping is None:
            return None  # 1.x: dropping a missing policy (or one of a missing database) is fine
        if not mapping.get("virtual"):
            self.api.delete_dbrp(mapping["id"])
        users = [
            m
            for m in self.api.dbrps(bucketID=mapping["bucketID"])
            if (m.get("database"), m.get("retention_policy")) != (database, name)
        ]
        if not users:
            self.api.delete_bucket(mapping["bucketID"])
        self.resolver.forget(database)
        return None

    def list_retention_policies(self, database: str) -> List[Dict[str, Any]]:
        """1.x's ``SHOW RETENTION POLICIES`` rows, from the buckets' real retention."""
        rows = []
        seen: Set[str] = set()
        for m in self._existing_mappings(database):
            rp = m.get("retention_policy", "")
            if rp in seen:
                continue
            seen.add(rp)
            bucket = self.api.get_bucket(m["bucketID"]) or {}
            every, shard = _bucket_retention(bucket)
            rows.append(
                {
                    "name": rp,
                    "duration": format_duration(every),
                    "shardGroupDuration": format_duration(shard or default_shard(every)),
                    "replicaN": 1,
                    "default": bool(m.get("default")),
                }
            )
        return rows

    # -- measurements and series -------------------------------------------

    def _delete(
        self, database: Optional[str], sources: Optional[List[str]], where: Optional[str], allow_time: bool
    ) -> None:
        if not database:
            raise InfluxDBClientError("database name required")
        try:
            names = translate_sources(sources)
            ranges = [translate(where, name, allow_time) for name in names]
        except UnsupportedCondition as exc:
            raise InfluxDBClientError(f"cannot delete on InfluxDB 2.x: {exc}", 400) from None
        except InfluxQLSyntaxError as exc:
            raise parse_error(exc) from None
        buckets = sorted(self.database_bucket_ids(database))
        for bucket_id in buckets:  # 1.x deletes across every retention policy of the database
            for rng in ranges:
                if not rng.empty:
                    self.api.delete_points(bucket_id, rng.body())

    def drop_measurement(self, measurement: str, database: Optional[str]) -> None:
        self._delete(database, [measurement], None, allow_time=False)

    def drop_series(
        self, database: Optional[str], sources: Optional[List[str]], where: Optional[str]
    ) -> None:
        self._delete(database, sources, where, allow_time=False)

    def delete_points(
        self, database: Optional[str], sources: Optional[List[str]], where: Optional[str]
    ) -> None:
        self._delete(database, sources, where, allow_time=True)

    def _show_across_policies(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        """SHOW MEASUREMENTS / SHOW SERIES over every retention policy, as 1.x answers them.

        2.x answers these from the database's default mapping only.
        """
        args = statement.args
        database: str = args.get("database") or params.get("db") or ""
        simple = (
            not args.get("wildcard")
            and not args.get("retention_policy")
            and not params.get("rp")
            and not args.get("limited")
            and database
            and self.remote is not None
        )
        if statement.kind == "show_measurements" and args.get("rest"):
            simple = False  # WITH MEASUREMENT / WHERE: left to 2.x
        mappings = self.resolver.mappings(database) if simple else []
        if len({m["bucketID"] for m in mappings}) <= 1:
            return self._passthrough(statement, params)
        default = BucketResolver.pick(mappings, None)
        found: Set[str] = set()
        base = ("SHOW SERIES " + args.get("rest", "")).strip()  # database and policy as parameters
        for rp in sorted({m["retention_policy"] for m in mappings}):
            answer = self._run(base, database, rp)
            for series in answer.get("series", []):
                found.update(str(v[0]) for v in series.get("values", []))
        if statement.kind == "show_series":
            return series_result(None, ["key"], [[k] for k in sorted(found)])
        names = {_measurement_of(key) for key in found}
        if default is not None:
            answer = self._run("SHOW MEASUREMENTS ON " + quote_ident(database), database, None)
            for series in answer.get("series", []):
                names.update(str(v[0]) for v in series.get("values", []))
        if not names:
            return {}
        return series_result("measurements", ["name"], [[n] for n in sorted(names)])

    def _run(self, text: str, database: str, rp: Optional[str]) -> Dict[str, Any]:
        assert self.remote is not None
        params = {"db": database}
        if rp:
            params["rp"] = rp
        answer = self.remote(text, params)
        result: Dict[str, Any] = (answer.get("results") or [{}])[0]
        if "error" in result:
            raise InfluxDBClientError(result["error"])
        return result

    def _passthrough(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        if self.remote is None:
            raise UnsupportedOperationError(
                f"{statement.text!r} needs a query path", statement=statement.text
            )
        answer = self.remote(statement.text, params)
        result: Dict[str, Any] = dict((answer.get("results") or [{}])[0])
        result.pop("statement_id", None)
        return result

    # -- continuous queries ------------------------------------------------

    def list_continuous_queries(self) -> Dict[str, Any]:
        """1.x's answer for a server without continuous queries: one empty series per database."""
        return {
            "series": [
                {"name": db, "columns": ["name", "query"], "values": []}
                for db in (d["name"] for d in self.list_databases())
            ]
        }

    def create_continuous_query(self, statement: Statement) -> Dict[str, Any]:
        raise UnsupportedOperationError(
            "CREATE CONTINUOUS QUERY: InfluxDB 2.x has no continuous queries; it runs Flux tasks "
            "instead. Create a task that does the same aggregation (`influx task create`, or "
            "POST /api/v2/tasks); docs/management.md#continuous-queries shows the translation "
            "of a continuous query into a task.",
            statement=statement.text,
        )

    def drop_continuous_query(self, name: str, database: str) -> None:
        """Nothing to drop on 2.x; 1.x also succeeds for a missing continuous query."""
        self._existing_mappings(database)
        return None

    # -- routed statements -------------------------------------------------

    def handlers(self) -> Dict[str, Callable[[Statement, Dict[str, Any]], Dict[str, Any]]]:
        u = self.users
        table: Dict[str, Callable[[Statement, Dict[str, Any]], Dict[str, Any]]] = {
            "create_database": lambda s, p: empty(self.create_database, s.args["name"]),
            "drop_database": lambda s, p: empty(self.drop_database, s.args["name"]),
            "show_databases": lambda s, p: series_result(
                "databases", ["name"], [[d["name"]] for d in self.list_databases()]
            ),
            "create_retention_policy": lambda s, p: policy_statement(self.create_retention_policy, s),
            "alter_retention_policy": lambda s, p: policy_statement(self.alter_retention_policy, s),
            "drop_retention_policy": lambda s, p: empty(
                self.drop_retention_policy, s.args["name"], s.args["database"]
            ),
            "show_retention_policies": self._show_retention_policies,
            "show_users": lambda s, p: _rows(None, ["user", "admin"], u.list_users()),
            "create_user": lambda s, p: empty(
                u.create_user, s.args["username"], s.args["password"], s.args.get("admin", False)
            ),
            "drop_user": lambda s, p: empty(u.drop_user, s.args["username"]),
            "set_password": lambda s, p: empty(u.set_password, s.args["username"], s.args["password"]),
            "grant": lambda s, p: empty(u.grant, s.args["privilege"], s.args["database"], s.args["username"]),
            "revoke": lambda s, p: empty(
                u.revoke, s.args["privilege"], s.args["database"], s.args["username"]
            ),
            "grant_admin": lambda s, p: empty(u.grant_admin, s.args["username"]),
            "revoke_admin": lambda s, p: empty(u.revoke_admin, s.args["username"]),
            "show_grants": lambda s, p: _rows(
                None, ["database", "privilege"], u.list_privileges(s.args["username"])
            ),
            "drop_measurement": lambda s, p: empty(self.drop_measurement, s.args["measurement"], p.get("db")),
            "drop_series": lambda s, p: empty(
                self.drop_series, p.get("db"), s.args.get("measurements"), s.args.get("where")
            ),
            "delete": lambda s, p: empty(
                self.delete_points, p.get("db"), s.args.get("measurements"), s.args.get("where")
            ),
            "show_measurements": self._show_across_policies,
            "show_series": self._show_across_policies,
            "show_continuous_queries": lambda s, p: self.list_continuous_queries(),
            "create_continuous_query": lambda s, p: self.create_continuous_query(s),
            "drop_continuous_query": lambda s, p: empty(
                self.drop_continuous_query, s.args["name"], s.args["database"]
            ),
        }
        check_handlers(table, "Management.handlers()")
        return table

    def _show_retention_policies(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        database = statement.args.get("database") or params.get("db")
        if not database:
            raise InfluxDBClientError("database name required")
        rows = self.list_retention_policies(database)
        return _rows(None, ["name", "duration", "shardGroupDuration", "replicaN", "default"], rows)

    def execute(self, statement: Statement, params: Dict[str, Any]) -> Dict[str, Any]:
        """Run a routed statement; return its 1.x result (without ``statement_id``)."""
        handler = self._handlers.get(statement.kind)
        if handler is None:
            raise UnsupportedOperationError(
                f"{statement.text!r} cannot be translated for InfluxDB 2.x",
                statement=statement.text,
            )
        if statement.kind == "create_database" and statement.args.get("retention_policy"):
            raise UnsupportedOperationError(
                "CREATE DATABASE ... WITH is not translated: create the database, then "
                "client.create_retention_policy(...)",
                statement=statement.text,
            )
        return handler(statement, params)


def _rows(name: Optional[str], columns: List[str], rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    return series_result(name, columns, [[row[c] for c in columns] for row in rows])


def _bucket_retention(bucket: Dict[str, Any]) -> Tuple[int, int]:
    """(everySeconds, shardGroupDurationSeconds) of a bucket; 0 for infinite / unset."""
    for rule in bucket.get("retentionRules") or []:
        if rule.get("type", "expire") == "expire":
            return int(rule.get("everySeconds") or 0), int(rule.get("shardGroupDurationSeconds") or 0)
    return 0, 0


def retention_durations(duration: Any, shard_duration: Any) -> Tuple[Optional[int], Optional[int]]:
    """(duration, shard duration) in seconds, None where not given, checked as 1.x checks them."""
    try:
        every = None if duration in (None, "") else parse_retention(duration)
        shard = None if shard_duration in (None, "") else parse_retention(shard_duration)
    except InfluxQLSyntaxError as exc:
        raise parse_error(exc) from None
    if every is not None and 0 < every < 3600:
        raise InfluxDBClientError("retention policy duration must be at least 1h0m0s")
    if every and shard and shard > every:
        raise InfluxDBClientError("retention policy duration must be greater than the shard duration")
    return every, shard


def empty(func: Callable[..., Any], *args: Any) -> Dict[str, Any]:
    """Call a management method; the empty result 1.x gives a statement that returns nothing."""
    func(*args)
    return {}


def policy_statement(func: Callable[..., Any], statement: Statement) -> Dict[str, Any]:
    """Run CREATE or ALTER RETENTION POLICY's arguments through a management method; 1.x's empty result."""
    args = statement.args
    func(
        args["name"],
        args["database"],
        args.get("duration"),
        args.get("replication"),
        args.get("default", False),
        args.get("shard_duration"),
    )
    return {}


def default_shard(every: int) -> int:
    """The shard-group duration 1.x and 2.x pick for a retention period."""
    if every and every < 2 * 86400:
        return 3600
    if every and every < 180 * 86400:
        return 86400
    return 7 * 86400


def _measurement_of(series_key: str) -> str:
    """The measurement of a series key (``m,tag=v``; ``\\,`` and ``\\ `` are escapes)."""
    i = 0
    while i < len(series_key):
        c = series_key[i]
        if c == "\\":
            i += 2
            continue
        if c == ",":
            break
        i += 1
    return series_key[:i].replace("\\,", ",").replace("\\ ", " ")
