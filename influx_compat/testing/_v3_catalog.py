"""The catalog of the 3.x test server: databases, tables, column types, limits.

InfluxDB 3 keeps one catalog (``influxdb3_catalog``) that every write is
validated against before it is stored: a column's type is fixed when it is
first written, a name is a tag or a field but never both, ``time`` is
reserved, and databases, tables and columns are counted against limits.
The 1.x engine under the test server knows none of this, so the rules live
here, with the catalog's error texts (``influxdb3_catalog/src/error.rs``).
Each 3.x database is backed by one engine database named ``v3_<id>``, so no
``/`` of a ``db/rp`` name ever reaches the engine.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence, Tuple

from influx_compat.testing._v3_lines import Line

__all__ = [
    "CatalogError",
    "Catalog",
    "Database",
    "Limits",
    "WriteTxn",
    "INTERNAL_DB",
    "db_name_error",
    "namespace_error",
    "format_v1_duration",
]

INTERNAL_DB = "_internal"  # influxdb3_catalog/src/catalog.rs: INTERNAL_DB_NAME, 7 days retention
_INTERNAL_RETENTION = 7 * 86400
_RESERVED = ("time", "__chunk_order")  # catalog.rs: RESERVED_COLUMN_NAMES
_TAG_LIMIT = 4096  # catalog/versions/v3.rs: NUM_TAG_COLUMNS_LIMIT
_TYPE_NAMES = {
    "tag": "iox::column_type::tag",
    "timestamp": "iox::column_type::timestamp",
    "float": "iox::column_type::field::float",
    "integer": "iox::column_type::field::integer",
    "uinteger": "iox::column_type::field::uinteger",
    "string": "iox::column_type::field::string",
    "boolean": "iox::column_type::field::boolean",
}  # core/schema/src/lib.rs: InfluxColumnType's Display


class CatalogError(Exception):
    """A catalog refusal; ``kind`` picks the status (``http.rs`` ``IntoResponse for CatalogError``)."""

    STATUS = {"not_found": 404, "already_exists": 409, "invalid": 400, "limit": 422, "internal": 500}

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = self.STATUS[kind]


@dataclass(frozen=True)
class Limits:
    """Databases (``_internal`` and deleted ones not counted), tables in all, tag+field columns per table.

    ``influxdb3/src/commands/serve.rs``: Core 5 / 2000 / 500; Enterprise 100 / 10000 / 500.
    """

    databases: int
    tables: int
    columns: int
    per_database: bool = False  # Dedicated counts tables per database, each database may set its own

    @classmethod
    def for_flavour(cls, flavour: str) -> Limits:
        if flavour == "core":
            return cls(5, 2000, 500)
        if flavour == "dedicated":  # Cloud Dedicated's defaults (admin/databases/create.md): 500 / 250
            return cls(10**9, 500, 250, per_database=True)
        return cls(100, 10000, 500)


@dataclass
class Table:
    name: str
    columns: Dict[str, str] = field(default_factory=dict)  # name -> tag | timestamp | <field type>

    def counted_columns(self) -> int:
        return sum(1 for kind in self.columns.values() if kind != "timestamp")


@dataclass
class Database:
    id: int
    name: str
    retention_seconds: Optional[int] = None
    tables: Dict[str, Table] = field(default_factory=dict)
    deleted: bool = False
    max_tables: Optional[int] = None  # Dedicated: set per database
    max_columns: Optional[int] = None

    @property
    def engine_name(self) -> str:
        return f"v3_{self.id}"


def namespace_error(name: str) -> Optional[str]:
    """core/data_types/src/namespace_name.rs: the /write and /api/v2/write name check, or None."""
    if not 1 <= len(name.encode("utf-8")) <= 64:
        return f"namespace name {name} length must be between 1 and 64 characters"
    for index, char in enumerate(name):
        if not (char.isalnum() or char in "/_-"):
            return (
                f"namespace name '{name}' contains invalid character, character number {index} is not allowed"
            )
    return None


def db_name_error(name: str) -> Optional[str]:
    """influxdb3_server/src/http.rs validate_db_name: ASCII, first char alphanumeric, one ``/``; or None."""
    if not name:
        return "db name cannot be empty"
    if len(name.encode("utf-8")) > 511:
        return "db name too long: max 511"
    invalid_char = (
        "invalid character in database or rp name: must be ASCII, containing only letters, "
        "numbers, underscores, or hyphens"
    )
    bad_rp = (
        "db name with invalid retention policy, if providing a retention policy name, must be of "
        "form '<db_name>/<rp_name>'"
    )
    slash = False
    for index, char in enumerate(name):
        if ord(char) > 127:
            return invalid_char
        if index == 0:
            if not char.isalnum():
                return "db name did not start with a number or letter"
        elif char == "/":
            if slash:
                return bad_rp
            slash = True
        elif not (char.isalnum() or char in "_-"):
            return invalid_char
    if name.endswith("/"):
        return bad_rp
    return None


def format_v1_duration(seconds: Optional[int]) -> str:
    """catalog/versions/v3/schema/retention.rs format_v1: ``720h0m0s``, ``0s`` for none."""
    if not seconds:
        return "0s"
    hours, minutes, secs = seconds // 3600, seconds % 3600 // 60, seconds % 60
    if hours:
        return f"{hours}h{minutes}m{secs}s"
    if minutes:
        return f"{minutes}m{secs}s"
    return f"{secs}s"


class Catalog:
    """All databases of one server; callers hold :attr:`lock` around reads and changes."""

    def __init__(self, limits: Limits, internal: bool = True) -> None:
        self.lock = threading.RLock()
        self.limits = limits
        self.uuid = str(uuid.uuid4())
        self._next_id = 0
        self.databases: Dict[str, Database] = {}  # live databases by name, in creation order
        self.deleted: List[Database] = []
        if internal:  # the monolith's own database; the IOx products have none
            self._new_database(INTERNAL_DB, _INTERNAL_RETENTION)

    def _new_database(self, name: str, retention: Optional[int]) -> Database:
        db = Database(self._next_id, name, retention)
        self._next_id += 1
        self.databases[name] = db
        return db

    # -- reads ------------------------------------------------------------------

    def get(self, name: str) -> Optional[Database]:
        return self.databases.get(name)

    def require(self, name: str) -> Database:
        db = self.databases.get(name)
        if db is None:
            raise CatalogError("not_found", f"the requested resource was not found: {name}")
        return db

    def names(self, show_deleted: bool = False) -> List[str]:
        names = list(self.databases)
        return names + [d.name for d in self.deleted] if show_deleted else names

    def user_database_count(self) -> int:
        return sum(1 for name in self.databases if name != INTERNAL_DB)

    def table_count(self) -> int:
        return sum(len(db.tables) for db in self.databases.values())

    # -- databases ----------------------------------------------------------------

    def _check_database_limit(self) -> None:
        if self.user_database_count() >= self.limits.databases:
            raise CatalogError(
                "limit", f"Adding a new database would exceed limit of {self.limits.databases} databases"
            )

    def create_database(self, name: str, retention: Optional[int] = None) -> Database:
        """catalog create_database_opts: 409 when it exists, 422 over the limit."""
        if name in self.databases:
            raise CatalogError("already_exists", "attempted to create a resource that already exists")
        self._check_database_limit()
        return self._new_database(name, retention)

    def soft_delete_database(self, name: str) -> Database:
        """The name is freed at once: the database is renamed ``name-<time>`` and kept as deleted."""
        if name == INTERNAL_DB:
            raise CatalogError("internal", "cannot delete internal db")
        db = self.require(name)
        del self.databases[name]
        db.deleted = True
        # catalog.rs SOFT_DELETION_TIME_FORMAT
        db.name = f"{name}-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S')}"
        self.deleted.append(db)
        return db

    def set_retention(self, name: str, seconds: Optional[int]) -> None:
        self.require(name).retention_seconds = seconds

    # -- tables ---------------------------------------------------------------------

    def create_table(
        self, db_name: str, table: str, tags: Sequence[str], fields: Sequence[Tuple[str, str]]
    ) -> None:
        """catalog create_table: the database is created when missing; 409 for an existing table."""
        txn = self.begin(db_name)
        if table in txn.db.tables or table in txn.new_tables:
            raise CatalogError("already_exists", "attempted to create a resource that already exists")
        txn.table(table)
        for tag in tags:
            txn.column(table, tag, "tag")
        for name, kind in fields:
            txn.column(table, name, kind)
        txn.column(table, "time", "timestamp")
        txn.commit()

    def soft_delete_table(self, db_name: str, table: str) -> Database:
        db = self.require(db_name)
        if table not in db.tables:
            raise CatalogError("not_found", f"Table {table} not in DB schema for {db_name}")
        del db.tables[table]
        return db

    # -- writes -------------------------------------------------------------------------

    def begin(self, db_name: str) -> WriteTxn:
        """A transaction on ``db_name``; a missing database is created on commit (422 over the limit)."""
        db = self.databases.get(db_name)
        if db is None:
            self._check_database_limit()
            return WriteTxn(self, Database(-1, db_name), new=True)
        return WriteTxn(self, db, new=False)


class WriteTxn:
    """Schema changes of one write, applied to the catalog on :meth:`commit` only.

    Like ``DatabaseCatalogTransaction``, a line refused half-way keeps the
    tables and columns it created before the refusal.
    """

    def __init__(self, catalog: Catalog, db: Database, new: bool) -> None:
        self.catalog = catalog
        self.db = db
        self.new = new
        self.new_tables: Dict[str, Table] = {}
        self.new_columns: Dict[Tuple[str, str], str] = {}
        limits = catalog.limits
        self._table_count = len(db.tables) if limits.per_database else catalog.table_count()
        self._table_limit = db.max_tables or limits.tables
        self._column_limit = db.max_columns or limits.columns

    def _columns(self, table: str) -> Dict[str, str]:
        existing = self.db.tables.get(table)
        columns = dict(existing.columns) if existing else {}
        columns.update({c: k for (t, c), k in self.new_columns.items() if t == table})
        return columns

    def table(self, name: str) -> None:
        if name in self.db.tables or name in self.new_tables:
            return
        limit = self._table_limit
        if self._table_count >= limit:
            raise CatalogError(
                "limit",
                "Update to schema would exceed number of tables limit: attempted to "
                f"create table but already have {self._table_count} table(s) (limit: {limit})",
            )
        self._table_count += 1
        self.new_tables[name] = Table(name)

    def column(self, table: str, name: str, kind: str) -> None:
        """transaction.rs column_or_create: type fixed, reserved names, limits."""
        self.table(table)
        columns = self._columns(table)
        existing = columns.get(name)
        if existing is not None:
            if existing != kind:
                raise CatalogError(
                    "invalid",
                    f"invalid column type for column '{name}', expected "
                    f"{_TYPE_NAMES[existing]}, got {_TYPE_NAMES[kind]}",
                )
            return
        if kind != "timestamp":
            if name in _RESERVED:
                raise CatalogError("invalid", f"'{name}' is a reserved column")
            if kind == "tag" and sum(1 for k in columns.values() if k == "tag") >= _TAG_LIMIT:
                raise CatalogError(
                    "limit",
                    "Update to schema would exceed number of tag columns per table limit "
                    f"of {_TAG_LIMIT} columns",
                )
            counted = sum(1 for k in columns.values() if k != "timestamp")
            if counted >= self._column_limit:
                raise CatalogError(
                    "limit",
                    "Update to schema would exceed number of columns per table limit of "
                    f"{self._column_limit} columns",
                )
        self.new_columns[(table, name)] = kind

    def validate(self, line: Line) -> None:
        """validator.rs validate_and_qualify_v1_line: table, tags, fields (each once), then time."""
        self.table(line.measurement)
        for key, _value in line.tags:
            self.column(line.measurement, key, "tag")
        seen = set()
        for name, kind in line.fields:
            self.column(line.measurement, name, kind)
            if name in seen:
                raise CatalogError(
                    "invalid", f"invalid line protocol - multiple instances of '{name}' field found"
                )
            seen.add(name)
        self.column(line.measurement, "time", "timestamp")

    def commit(self) -> Database:
        catalog = self.catalog
        db = self.db
        if self.new:
            db = catalog._new_database(db.name, None)
            self.db = db
        for name, table in self.new_tables.items():
            db.tables.setdefault(name, table)
        for (table_name, column), kind in self.new_columns.items():
            db.tables[table_name].columns.setdefault(column, kind)
        return db
