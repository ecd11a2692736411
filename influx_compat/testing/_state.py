"""The v2 control plane's state: orgs, users, buckets, DBRP mappings, tokens.

Plain dicts guarded by one lock; each bucket is backed by one engine database
named ``b_<bucket id>`` with a single retention policy ``autogen``.  Error
texts and status codes follow InfluxDB 2.x's source (see the project's notes).
"""

from __future__ import annotations

import secrets
import threading
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Tuple

__all__ = ["ApiError", "State", "new_id", "now", "engine_db", "version_tuple"]


class ApiError(Exception):
    """An answer in 2.x's error shape: ``{"code": code, "message": message}``."""

    STATUS = {
        "internal error": 500,
        "not implemented": 501,
        "invalid": 400,
        "empty value": 400,
        "unprocessable entity": 422,
        "conflict": 422,
        "not found": 404,
        "unavailable": 503,
        "forbidden": 403,
        "too many requests": 429,
        "unauthorized": 401,
        "method not allowed": 405,
        "request too large": 413,
    }

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = self.STATUS.get(code, 500)


def new_id() -> str:
    """A 2.x ID: 16 lowercase hex characters."""
    return secrets.token_hex(8)


def now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def engine_db(bucket_id: str) -> str:
    return "b_" + bucket_id


def version_tuple(version: str) -> Tuple[int, ...]:
    parts = []
    for piece in version.lstrip("v").split("."):
        digits = "".join(ch for ch in piece if ch.isdigit())
        parts.append(int(digits or 0))
    return tuple(parts)


def shard_group_default(every: int) -> int:
    if every == 0 or every >= 180 * 86400:
        return 7 * 86400
    if every < 2 * 86400:
        return 3600
    return 86400


class State:
    """Everything the control plane knows, in memory."""

    def __init__(self, virtual_dbrps: bool) -> None:
        self.lock = threading.RLock()
        self.virtual_dbrps = virtual_dbrps
        self.orgs: Dict[str, Dict[str, Any]] = {}
        self.users: Dict[str, Dict[str, Any]] = {}
        self.buckets: Dict[str, Dict[str, Any]] = {}
        self.dbrps: Dict[str, Dict[str, Any]] = {}
        self.auths: Dict[str, Dict[str, Any]] = {}
        self.legacy: Dict[str, Dict[str, Any]] = {}
        self.tasks: Dict[str, Dict[str, Any]] = {}

    # -- orgs ----------------------------------------------------------------

    def org_by_name(self, name: str) -> Optional[Dict[str, Any]]:
        for org in self.orgs.values():
            if org["name"] == name:
                return org
        return None

    def find_org(self, org: Optional[str], org_id: Optional[str]) -> Dict[str, Any]:
        """The org of ``orgID``/``org`` parameters, as the write and delete handlers look it up."""
        if org_id:
            if not _is_id(org_id):
                raise ApiError("invalid", "invalid ID")
            if org_id not in self.orgs:
                raise ApiError("not found", "organization not found")
            return self.orgs[org_id]
        if org:
            if _is_id(org) and org in self.orgs:
                return self.orgs[org]
            found = self.org_by_name(org)
            if found is None:
                raise ApiError("not found", f'organization name "{org}" not found')
            return found
        raise ApiError("invalid", "Please provide either orgID or org")

    # -- buckets -------------------------------------------------------------

    def bucket_by_name(self, org_id: str, name: str) -> Optional[Dict[str, Any]]:
        for bucket in self.buckets.values():
            if bucket["orgID"] == org_id and bucket["name"] == name:
                return bucket
        return None

    def find_bucket(self, org_id: str, ref: str) -> Dict[str, Any]:
        """A bucket by ID (within the org) or by name, as /api/v2/write does."""
        bucket = self.buckets.get(ref)
        if bucket is not None and bucket["orgID"] == org_id:
            return bucket
        bucket = self.bucket_by_name(org_id, ref)
        if bucket is None:
            raise ApiError("not found", f'bucket "{ref}" not found')
        return bucket

    @staticmethod
    def check_bucket_name(name: Any) -> None:
        if not isinstance(name, str) or not name:
            raise ApiError("invalid", "bucket name is empty")
        if name.startswith("_"):
            raise ApiError("invalid", f"bucket name {name} is invalid. Buckets may not start with underscore")
        if '"' in name:
            raise ApiError(
                "invalid", f"bucket name {name} is invalid. Bucket names may not include quotation marks"
            )

    @staticmethod
    def retention(rules: Any) -> Tuple[int, int]:
        """(everySeconds, shardGroupDurationSeconds) of a bucket's retention rules."""
        if not rules:
            return 0, shard_group_default(0)
        if not isinstance(rules, list):
            raise ApiError("invalid", "retentionRules must be a list")
        if len(rules) > 1:
            raise ApiError(
                "unprocessable entity", "buckets cannot have more than one retention rule at this time"
            )
        rule = rules[0] or {}
        every = int(rule.get("everySeconds") or 0)
        shard = int(rule.get("shardGroupDurationSeconds") or 0)
        if every < 0:
            raise ApiError("unprocessable entity", "expiration seconds cannot be negative")
        if shard < 0:
            raise ApiError("unprocessable entity", "shard-group duration seconds cannot be negative")
        if 0 < every < 3600:
            raise ApiError("internal error", "retention policy duration must be at least 1h0m0s")
        if shard == 0:
            shard = shard_group_default(every)
        elif shard < 3600:
            shard = 3600
        return every, shard

    # -- DBRP mappings -------------------------------------------------------

    def mappings(self, org_id: str) -> List[Dict[str, Any]]:
        """Physical mappings of an org, then the virtual ones 2.4+ derives from bucket names."""
        physical = [dict(m, virtual=False) for m in self.dbrps.values() if m["orgID"] == org_id]
        if not self.virtual_dbrps:
            return physical
        taken = {(m["database"], m["retention_policy"]) for m in physical}
        has_default = {m["database"] for m in physical if m["default"]}
        virtual = []
        for bucket in self.buckets.values():
            if bucket["orgID"] != org_id:
                continue
            name = bucket["name"]
            if "/" in name:
                db, rp = name.split("/", 1)
                default = False
            else:
                db, rp, default = name, "autogen", True
            if (db, rp) in taken:
                continue
            virtual.append(
                {
                    "id": bucket["id"],
                    "database": db,
                    "retention_policy": rp,
                    "default": default and db not in has_default,
                    "virtual": True,
                    "orgID": org_id,
                    "bucketID": bucket["id"],
                }
            )
        return physical + virtual

    def resolve(
        self,
        org_id: str,
        db: Optional[str],
        rp: Optional[str],
        usable: Optional[Callable[[Dict[str, Any]], bool]] = None,
    ) -> Dict[str, Any]:
        """The mapping 2.x's /query and /write use for (db, rp); in-band error texts.

        :param usable: leaves out the mappings the caller may not use (as if absent)
        """
        if not db:
            raise ApiError("invalid", "database name required")
        candidates = [
            m for m in self.mappings(org_id) if m["database"] == db and (usable is None or usable(m))
        ]
        if not candidates:
            raise ApiError("not found", f"database not found: {db}")
        if rp:
            for m in candidates:
                if m["retention_policy"] == rp:
                    return m
            raise ApiError("not found", f"retention policy not found: {rp}")
        for m in candidates:
            if m["default"]:
                return m
        raise ApiError("not found", f"default retention policy not set for: {db}")

    # -- tokens ----------------------------------------------------------------

    def auth_by_token(self, token: str) -> Optional[Dict[str, Any]]:
        for auth in self.auths.values():
            if auth["token"] == token:
                return auth
        return None

    def legacy_by_name(self, name: str) -> Optional[Dict[str, Any]]:
        for auth in self.legacy.values():
            if auth["token"] == name:
                return auth
        return None


def _is_id(value: str) -> bool:
    return len(value) == 16 and all(c in "0123456789abcdef" for c in value)


def allowed(
    auth: Dict[str, Any], action: str, rtype: str, org_id: Optional[str], rid: Optional[str] = None
) -> bool:
    """Whether an authorization grants ``action`` on a resource (2.x permission rules)."""
    if auth.get("status", "active") != "active":
        return False
    for perm in auth.get("permissions", []):
        if perm.get("action") != action:
            continue
        res = perm.get("resource", {})
        if res.get("type") != rtype:
            continue
        if res.get("orgID") and org_id and res["orgID"] != org_id:
            continue
        if res.get("id") and rid and res["id"] != rid:
            continue
        if res.get("id") and not rid:
            continue
        return True
    return False


OPERATOR_TYPES = [
    "authorizations",
    "buckets",
    "dashboards",
    "orgs",
    "sources",
    "tasks",
    "telegrafs",
    "users",
    "variables",
    "scrapers",
    "secrets",
    "labels",
    "views",
    "documents",
    "notificationRules",
    "notificationEndpoints",
    "checks",
    "dbrp",
    "notebooks",
    "annotations",
    "remotes",
    "replications",
]


def operator_permissions() -> List[Dict[str, Any]]:
    return [{"action": a, "resource": {"type": t}} for t in OPERATOR_TYPES for a in ("read", "write")]
