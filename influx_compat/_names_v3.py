"""InfluxDB 3 names for 1.x databases and retention policies.

A retention policy ``rp`` of database ``db`` is the database ``db/rp``, the
policy's name lower-cased; ``autogen``, ``default`` and no policy are ``db``
itself (core/iox_http/src/write/v1.rs, single_tenant/mod.rs).  Names are
checked against 3.x's rules before anything is sent.
"""

from __future__ import annotations

import re
from typing import Optional

from influx_compat.exceptions import InfluxDBClientError

__all__ = ["DEFAULT_POLICIES", "LIMIT_HELP", "check_database_name", "database_for"]

# influxdb3/src/commands/serve.rs and the product pages: Core's limits, and what to do about them.
LIMIT_HELP = (
    "InfluxDB 3 Core allows 5 databases (each 1.x retention policy other than autogen is a database "
    "'db/rp'), 2000 tables and 500 columns per table; drop what is not needed (drop_database, "
    "drop_retention_policy, drop_measurement), or use InfluxDB 3 Enterprise, whose limits are higher "
    "and can be raised at start-up"
)

DEFAULT_POLICIES = ("", "autogen", "default")
# core/data_types/src/namespace_name.rs: at most 64 characters of [A-Za-z0-9_-/];
# influxdb3_server/src/http.rs: the first one alphanumeric, at most one '/'.
_NAME_CHARS = re.compile(r"^[A-Za-z0-9_\-/]+$")


def check_database_name(name: str) -> str:
    """A 3.x database name, or an InfluxDBClientError naming 3.x's rules, raised before sending."""
    problem = None
    if not name or len(name) > 64:
        problem = "it must have 1 to 64 characters"
    elif not _NAME_CHARS.match(name):
        problem = "it may hold only letters, digits, '_', '-' and one '/'"
    elif not name[0].isalnum():
        problem = "it must start with a letter or a digit"
    elif name.count("/") > 1:
        problem = "it may hold one '/' only, between the database and the retention policy"
    if problem:
        raise InfluxDBClientError(
            f"database name {name!r} cannot be used on InfluxDB 3: {problem} (a 1.x retention policy "
            "'rp' of database 'db' is the database 'db/rp')",
            400,
        )
    return name


def database_for(database: str, retention_policy: Optional[str]) -> str:
    """The 3.x database of a 1.x database and retention policy, validated."""
    rp = (retention_policy or "").lower()
    if rp in DEFAULT_POLICIES:
        return check_database_name(database)
    if "/" in database or "/" in rp:
        raise InfluxDBClientError(
            f"database {database!r} with retention policy {retention_policy!r}: InfluxDB 3 names a "
            "retention policy's database 'db/rp', so neither may hold '/'",
            400,
        )
    return check_database_name(f"{database}/{rp}")
