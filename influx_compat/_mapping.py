"""Which 2.x bucket a 1.x database and retention policy stand for.

In order:

1. a mapping the user gave (``bucket_map=`` on the client);
2. the DBRP mappings on the server, physical and (from 2.4) virtual: a
   server migrated with ``influxd upgrade`` holds buckets named ``db/rp``
   (``mydb/autogen`` included) with their mappings; without a retention
   policy the database's *default* mapping is used, as 2.x does;
3. the convention 2.x itself uses for virtual mappings: bucket ``db`` for the
   default policy (and ``autogen``), ``db/rp`` for another.

Answers are cached per client (a database's mappings are read in one request)
and dropped when the shim changes them or a write finds the bucket gone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Tuple

from influx_compat._v2api import V2Api

__all__ = ["Target", "BucketResolver", "conventional_bucket"]

DEFAULT_RP = "autogen"


@dataclass(frozen=True)
class Target:
    """Where points of (database, retention_policy) go.

    :ivar bucket: bucket ID when known from a mapping, else its name
    :ivar bucket_name: bucket name when known
    :ivar source: ``user``, ``dbrp`` or ``convention``
    """

    database: str
    retention_policy: Optional[str]
    bucket: str
    bucket_name: Optional[str]
    source: str


def conventional_bucket(database: str, retention_policy: Optional[str]) -> str:
    """2.x's virtual-mapping convention: ``db`` for the default policy, else ``db/rp``."""
    if retention_policy in (None, "", DEFAULT_RP):
        return database
    return f"{database}/{retention_policy}"


class BucketResolver:
    """Resolves (db, rp) to a bucket for one client, with a cache.

    :param api: the client's v2 management API
    :param user_map: ``{(db, rp or None): bucket}`` given by the user
    """

    def __init__(self, api: V2Api, user_map: Mapping[Tuple[str, Optional[str]], str]) -> None:
        self.api = api
        self.user_map = dict(user_map)
        self._cache: Dict[str, List[Dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def mappings(self, database: str) -> List[Dict[str, Any]]:
        """The server's DBRP mappings of a database (cached)."""
        with self._lock:
            cached = self._cache.get(database)
        if cached is not None:
            return cached
        found = [m for m in self.api.dbrps(database) if m.get("database") == database]
        with self._lock:
            self._cache[database] = found
        return found

    def forget(self, database: Optional[str] = None) -> None:
        """Drop cached mappings of one database, or of all."""
        with self._lock:
            if database is None:
                self._cache.clear()
            else:
                self._cache.pop(database, None)

    @staticmethod
    def pick(mappings: List[Dict[str, Any]], retention_policy: Optional[str]) -> Optional[Dict[str, Any]]:
        """The mapping 2.x would use for this retention policy (default one when None)."""
        if retention_policy:
            for m in mappings:
                if m.get("retention_policy") == retention_policy:
                    return m
            return None
        for m in mappings:
            if m.get("default"):
                return m
        return None

    def resolve(self, database: str, retention_policy: Optional[str]) -> Target:
        """The bucket for writing points of (database, retention_policy)."""
        user = self.user_map.get((database, retention_policy or None))
        if user is None and retention_policy in (None, DEFAULT_RP):
            user = self.user_map.get((database, None))
        if user is not None:
            return Target(database, retention_policy, user, user, "user")
        if self.api.transport.has_token:
            mapping = self.pick(self.mappings(database), retention_policy)
            if mapping is not None:
                return Target(database, retention_policy, mapping["bucketID"], None, "dbrp")
        name = conventional_bucket(database, retention_policy)
        return Target(database, retention_policy, name, name, "convention")
