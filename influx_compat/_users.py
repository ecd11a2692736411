"""1.x users and privileges as InfluxDB 2.x v1 authorizations.

InfluxDB 2.x keeps 1.x-style users as *v1 authorizations*
(``/private/legacy/authorizations``): a username (the authorization's
``token``), a password, and bucket permissions.  A 1.x privilege on a database
becomes read and/or write permissions on every bucket mapped to that database;
an admin gets read and write on all buckets of the organization.

2.x cannot change the permissions of an authorization, so ``GRANT`` and
``REVOKE`` re-create it, and a re-created authorization needs its password
again.  The client remembers the passwords it set itself (``create_user``,
``set_user_password``) for that purpose, in memory only; for other users the
operation says what to call first.

Every authorization also holds a permission to read its own organization: 2.x
refuses an authorization without permissions, while 1.x users may have none.
"""

from __future__ import annotations

import base64
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from influx_compat._v2api import V2Api, is_conflict
from influx_compat.exceptions import InfluxDBClientError, UnsupportedOperationError

__all__ = ["Users", "PRIVILEGES"]

# 1.x privilege -> the bucket actions it stands for.
PRIVILEGES: Dict[str, Tuple[str, ...]] = {
    "READ": ("read",),
    "WRITE": ("write",),
    "ALL": ("read", "write"),
    "ALL PRIVILEGES": ("read", "write"),
}

Perm = Tuple[str, Optional[str]]  # (action, bucket ID or None for every bucket of the org)


def _user_not_found() -> InfluxDBClientError:
    return InfluxDBClientError("user not found")


def _privilege(privilege: str) -> Tuple[str, ...]:
    actions = PRIVILEGES.get(str(privilege).strip().upper())
    if actions is None:
        raise InfluxDBClientError(f"unknown privilege {privilege!r}: use 'read', 'write' or 'all'", 400)
    return actions


class Users:
    """1.x user management on v1 authorizations.

    :param api: the v2 API of the client
    :param database_buckets: bucket IDs of a database's mappings (raises
        ``database not found`` for a database that does not exist)
    :param databases: {database: bucket IDs} of every database of the org
    """

    def __init__(
        self,
        api: V2Api,
        database_buckets: Callable[[str], Set[str]],
        databases: Callable[[], Dict[str, Set[str]]],
    ) -> None:
        self.api = api
        self.database_buckets = database_buckets
        self.databases = databases
        self._passwords: Dict[str, str] = {}

    # -- reading -------------------------------------------------------------

    def _find(self, username: str) -> Optional[Dict[str, Any]]:
        for auth in self.api.legacy_auths():
            if auth.get("token") == username:
                return auth
        return None

    def _get(self, username: str) -> Dict[str, Any]:
        auth = self._find(username)
        if auth is None:
            raise _user_not_found()
        return auth

    def _perms(self, auth: Dict[str, Any]) -> Set[Perm]:
        org_id = self.api.org_id()
        found: Set[Perm] = set()
        for p in auth.get("permissions") or []:
            resource = p.get("resource") or {}
            if resource.get("type") != "buckets":
                continue
            if resource.get("id"):
                found.add((p.get("action", ""), resource["id"]))
            elif resource.get("orgID") == org_id:
                found.add((p.get("action", ""), None))
        return found

    @staticmethod
    def _is_admin(perms: Set[Perm]) -> bool:
        return ("read", None) in perms and ("write", None) in perms

    def list_users(self) -> List[Dict[str, Any]]:
        """``[{'user': name, 'admin': bool}]``."""
        return [
            {"user": a.get("token"), "admin": self._is_admin(self._perms(a))} for a in self.api.legacy_auths()
        ]

    def list_privileges(self, username: str) -> List[Dict[str, str]]:
        """``[{'database': db, 'privilege': 'READ'|'WRITE'|'ALL PRIVILEGES'}]``."""
        perms = self._perms(self._get(username))
        out = []
        for db, buckets in sorted(self.databases().items()):
            if not buckets:
                continue
            read = all(("read", b) in perms for b in buckets)
            write = all(("write", b) in perms for b in buckets)
            if read and write:
                out.append({"database": db, "privilege": "ALL PRIVILEGES"})
            elif read or write:
                out.append({"database": db, "privilege": "READ" if read else "WRITE"})
        return out

    # -- changing --------------------------------------------------------------

    def _permission_body(self, perms: Iterable[Perm]) -> List[Dict[str, Any]]:
        org_id = self.api.org_id()
        body: List[Dict[str, Any]] = [{"action": "read", "resource": {"type": "orgs", "id": org_id}}]
        for action, bucket_id in sorted(perms, key=lambda p: (p[1] or "", p[0])):
            resource: Dict[str, Any] = {"type": "buckets", "orgID": org_id}
            if bucket_id:
                resource["id"] = bucket_id
            body.append({"action": action, "resource": resource})
        return body

    def _password_works(self, username: str, password: str) -> bool:
        """Whether 2.x accepts these v1 credentials (a read-nothing query)."""
        basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        response = self.api.transport.request(
            "GET",
            "query",
            params={"q": "SHOW DATABASES"},
            raw=True,
            headers={"Authorization": "Basic " + basic},
        )
        return response.status_code == 200

    def create_user(self, username: str, password: str, admin: bool = False) -> None:
        if not isinstance(username, str) or not username:
            raise InfluxDBClientError("username required", 400)
        existing = self._find(username)
        if existing is not None:
            # 1.x: creating the same user again is fine, with another password it is not.
            same = self._passwords.get(username) == password or self._password_works(username, password)
            if not same or self._is_admin(self._perms(existing)) != bool(admin):
                raise InfluxDBClientError("user already exists")
            return
        perms: Set[Perm] = {("read", None), ("write", None)} if admin else set()
        try:
            auth = self.api.create_legacy_auth(
                username, self._permission_body(perms), description="influx_compat v1 user"
            )
        except InfluxDBClientError as exc:
            if is_conflict(exc) or "already exists" in str(exc.content):
                raise InfluxDBClientError("user already exists") from None
            raise
        try:
            self.api.set_legacy_password(auth["id"], password)
        except InfluxDBClientError:
            self.api.delete_legacy_auth(auth["id"])  # no user without the password asked for
            raise
        self._passwords[username] = password

    def drop_user(self, username: str) -> None:
        auth = self._get(username)
        self.api.delete_legacy_auth(auth["id"])
        self._passwords.pop(username, None)

    def set_password(self, username: str, password: str) -> None:
        auth = self._get(username)
        self.api.set_legacy_password(auth["id"], password)
        self._passwords[username] = password

    def _change(self, username: str, change: Callable[[Set[Perm]], Set[Perm]], what: str) -> None:
        auth = self._get(username)
        before = self._perms(auth)
        after = change(set(before))
        if after == before:
            return
        password = self._passwords.get(username)
        if password is None:
            raise UnsupportedOperationError(
                f"{what}: InfluxDB 2.x cannot change the permissions of the existing v1 user "
                f"{username!r}; influx_compat re-creates the user, which needs its password. Call "
                f"client.set_user_password({username!r}, password) on this client first, then "
                f"repeat this call",
                statement=what,
            )
        other = [
            p
            for p in auth.get("permissions") or []
            if (p.get("resource") or {}).get("type") not in ("buckets", "orgs")
        ]
        self.api.delete_legacy_auth(auth["id"])
        try:
            new = self.api.create_legacy_auth(
                username,
                self._permission_body(after) + other,
                description=auth.get("description", ""),
                status=auth.get("status", "active"),
            )
        except InfluxDBClientError:
            # Put the user back as it was before failing.
            new = self.api.create_legacy_auth(
                username,
                self._permission_body(before) + other,
                description=auth.get("description", ""),
                status=auth.get("status", "active"),
            )
            self.api.set_legacy_password(new["id"], password)
            raise
        self.api.set_legacy_password(new["id"], password)

    def grant(self, privilege: str, database: str, username: str) -> None:
        actions = _privilege(privilege)
        buckets = self.database_buckets(database)  # 1.x checks the database before the user
        # 1.x replaces the user's privilege on the database with the one granted.
        self._change(
            username,
            lambda p: {x for x in p if x[1] not in buckets} | {(a, b) for a in actions for b in buckets},
            f"GRANT {privilege} ON {database} TO {username}",
        )

    def revoke(self, privilege: str, database: str, username: str) -> None:
        actions = _privilege(privilege)
        buckets = self.database_buckets(database)
        self._change(
            username,
            lambda p: p - {(a, b) for a in actions for b in buckets},
            f"REVOKE {privilege} ON {database} FROM {username}",
        )

    def grant_admin(self, username: str) -> None:
        self._change(
            username, lambda p: p | {("read", None), ("write", None)}, f"GRANT ALL PRIVILEGES TO {username}"
        )

    def revoke_admin(self, username: str) -> None:
        self._change(
            username,
            lambda p: p - {("read", None), ("write", None)},
            f"REVOKE ALL PRIVILEGES FROM {username}",
        )
