"""1.x users and privileges as InfluxDB 2.x v1 authorizations.

InfluxDB 2.x keeps 1.x-style users as *v1 authorizations*
(``/private/legacy/authorizations``): a username (the authorization's
``token``), a password, and bucket permissions.  A 1.x privilege on a database
becomes read and/or write permissions on every bucket mapped to that database;
an admin gets read and write on all buckets of the organization.

2.x cannot change the permissions of an authorization, so ``GRANT`` and
``REVOKE`` re-create it, and a re-created authorization needs its password
again.  Every client of the process remembers the passwords set through any
client of the process (``create_user``, ``set_user_password``), so that a
service may create a user with one client and grant with the next: in process
memory only (never on disk, in a log, a ``repr`` or an error), by server and
authorization, and checked against 2.x before use.  For a user whose password
this process never set, the operation says what to call first.

2.x also wants v1 passwords of 8 to 72 bytes, where 1.x took any:
:class:`~influx_compat.exceptions.PasswordRejectedError` says so before
anything is created or changed.

Every authorization also holds a permission to read its own organization: 2.x
refuses an authorization without permissions, while 1.x users may have none.
"""

from __future__ import annotations

import base64
import threading
from typing import Any, Callable, Dict, Iterable, List, Optional, Set, Tuple

from influx_compat._v2api import V2Api, is_conflict
from influx_compat.exceptions import InfluxDBClientError, PasswordRejectedError, UnsupportedOperationError

__all__ = ["Users", "PRIVILEGES"]

# 1.x privilege -> the bucket actions it stands for.
PRIVILEGES: Dict[str, Tuple[str, ...]] = {
    "READ": ("read",),
    "WRITE": ("write",),
    "ALL": ("read", "write"),
    "ALL PRIVILEGES": ("read", "write"),
}

Perm = Tuple[str, Optional[str]]  # (action, bucket ID or None for every bucket of the org)


class _Passwords:
    """The v1 passwords set through this process, by (server, authorization ID, username).

    In memory only, shared by every client of the process; never shown (``repr``
    gives the count only).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._known: Dict[Tuple[str, str, str], str] = {}

    def __repr__(self) -> str:
        return f"<v1 passwords set by this process: {len(self._known)}>"

    def remember(self, key: Tuple[str, str, str], password: str) -> None:
        with self._lock:
            self._known[key] = password

    def recall(self, key: Tuple[str, str, str]) -> Optional[str]:
        with self._lock:
            return self._known.get(key)

    def forget(self, key: Tuple[str, str, str]) -> None:
        with self._lock:
            self._known.pop(key, None)


_PASSWORDS = _Passwords()


def check_password(username: str, password: Any, statement: Optional[str] = None) -> None:
    """Raise :class:`PasswordRejectedError` for a password 2.x refuses for a v1 authorization.

    2.x's rule (``kit/platform/errors/error_user.go``: ``MinPasswordLen`` 8,
    ``MaxPasswordLen`` 72, checked by ``v1/authorization``'s ``SetPassword``)
    counts bytes, as Go's ``len`` does, and bcrypt reads 72 at most.
    """
    size = len(str(password).encode("utf-8"))
    low, high = PasswordRejectedError.minimum, PasswordRejectedError.maximum
    if low <= size <= high:
        return
    raise PasswordRejectedError(
        f"InfluxDB 2.x refuses the password for the v1 user {username!r}: passwords must be between "
        f"{low} and {high} characters long (bytes in UTF-8), and this one is "
        f"{'shorter' if size < low else 'longer'}; InfluxDB 1.x took any password. Nothing was "
        f"created or changed: choose a password of {low} to {high} characters and repeat the call",
        username,
        statement,
    )


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
        self._server = api.transport.settings.base_url

    def _key(self, auth: Dict[str, Any], username: str) -> Tuple[str, str, str]:
        return (self._server, str(auth.get("id", "")), username)

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
        check_password(username, password, f"CREATE USER {username}")
        existing = self._find(username)
        if existing is not None:
            # 1.x: creating the same user again is fine, with another password it is not.
            key = self._key(existing, username)
            same = _PASSWORDS.recall(key) == password or self._password_works(username, password)
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
        _PASSWORDS.remember(self._key(auth, username), password)

    def drop_user(self, username: str) -> None:
        auth = self._get(username)
        self.api.delete_legacy_auth(auth["id"])
        _PASSWORDS.forget(self._key(auth, username))

    def set_password(self, username: str, password: str) -> None:
        auth = self._get(username)  # 1.x: a missing user is named before the password is looked at
        check_password(username, password, f"SET PASSWORD FOR {username}")
        self.api.set_legacy_password(auth["id"], password)
        _PASSWORDS.remember(self._key(auth, username), password)

    def _change(self, username: str, change: Callable[[Set[Perm]], Set[Perm]], what: str) -> None:
        auth = self._get(username)
        before = self._perms(auth)
        after = change(set(before))
        if after == before:
            return
        old_key = self._key(auth, username)
        password = _PASSWORDS.recall(old_key)
        if password is None or not self._password_works(username, password):
            raise UnsupportedOperationError(
                f"{what}: InfluxDB 2.x cannot change the permissions of the existing v1 user "
                f"{username!r}; influx_compat re-creates the user, which needs its password, and "
                f"knows only the passwords set through this process (another process, the influx CLI "
                f"or the UI set this one, or changed it since). Call "
                f"client.set_user_password({username!r}, password) first (any client of this "
                f"process), then repeat this call",
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
            _PASSWORDS.forget(old_key)
            _PASSWORDS.remember(self._key(new, username), password)
            raise
        self.api.set_legacy_password(new["id"], password)
        _PASSWORDS.forget(old_key)
        _PASSWORDS.remember(self._key(new, username), password)

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
