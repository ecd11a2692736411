"""Calls to InfluxDB 2.x's management API (``/api/v2/...``) used by the shim.

Small, typed wrappers: one method per endpoint and verb, returning the JSON
the server sent.  Status handling follows the 2.x source (see the project's
notes): a name conflict is 422 ``conflict``, ``GET /buckets?name=x`` is 404
for a missing bucket, create answers 201 and delete 204.
"""

from __future__ import annotations

import re
import threading
from typing import Any, Dict, Iterator, List, Optional

from influx_compat._config import TOKEN_HELP
from influx_compat._transport import Transport
from influx_compat.exceptions import InfluxDBClientError, UnsupportedOperationError

__all__ = ["V2Api", "is_conflict", "is_not_found", "missing_org"]

_ID_RE = re.compile(r"^[0-9a-f]{16}$")
# 2.x's words for an org it does not know: /api/v2/dbrps says the first, the other endpoints the second.
_MISSING_ORG = re.compile(r'^(?:invalid org "(.*)"|organization name "(.*)" not found)$')


def is_conflict(exc: InfluxDBClientError) -> bool:
    return exc.code == 422 and "exists" in str(exc.content)


def is_not_found(exc: InfluxDBClientError) -> bool:
    """A 404 for a missing resource (not one from a server without the v2 API)."""
    return exc.code == 404 and not isinstance(exc, UnsupportedOperationError)


def missing_org(message: str) -> Optional[str]:
    """The org name of 2.x's 404 for an unknown org, or None for another message."""
    found = _MISSING_ORG.match(message.strip())
    return None if found is None else (found.group(1) or found.group(2) or "")


class V2Api:
    """The v2 management endpoints, scoped to the client's organization.

    :param transport: the client's transport
    :param org: organization name or ID from the settings; when None, the
        only organization the token can read is used
    :param org_source: where ``org`` came from, for errors
    """

    def __init__(self, transport: Transport, org: Optional[str], org_source: Optional[str] = None) -> None:
        self.transport = transport
        self._org = org
        self._org_source = org_source
        self._org_id: Optional[str] = None
        self._lock = threading.Lock()

    # -- organization ------------------------------------------------------

    def _require_token(self, what: str) -> None:
        if not self.transport.has_token:
            raise InfluxDBClientError(
                f"{what} needs InfluxDB 2.x's management API, which only accepts an API token. {TOKEN_HELP}"
            )

    def org_param(self) -> Dict[str, str]:
        """``{'org': name}`` or ``{'orgID': id}`` for endpoints that take either."""
        if self._org_id:
            return {"orgID": self._org_id}
        if self._org:
            return {"org": self._org}
        return {"orgID": self.org_id()}

    @property
    def org_name_or_id(self) -> str:
        return self._org or self.org_id()

    def org_id(self) -> str:
        """The organization's ID, looked up once."""
        with self._lock:
            if self._org_id:
                return self._org_id
            self._require_token("Finding the organization")
            org = self._org
            if org is None:
                orgs = self.get("api/v2/orgs", {"limit": 100}).get("orgs", [])
                if len(orgs) != 1:
                    names = ", ".join(repr(o.get("name")) for o in orgs) or "none"
                    raise InfluxDBClientError(
                        "No organization is configured and the token can read "
                        f"{len(orgs)} ({names}): set INFLUX_ORG or pass org=..."
                    )
                self._org, self._org_id = orgs[0]["name"], orgs[0]["id"]
                return str(self._org_id)
            if _ID_RE.match(org):
                try:
                    self._org_id = self.get(f"api/v2/orgs/{org}")["id"]
                    return org
                except InfluxDBClientError as exc:
                    if exc.code not in (400, 404) or isinstance(exc, UnsupportedOperationError):
                        raise
            try:
                orgs = self.get("api/v2/orgs", {"org": org}).get("orgs", [])
            except InfluxDBClientError as exc:
                if is_not_found(exc):
                    raise self.org_not_found(org) from None
                raise
            if not orgs:
                raise self.org_not_found(org)
            self._org_id = orgs[0]["id"]
            return str(self._org_id)

    def org_not_found(self, org: str) -> InfluxDBClientError:
        """2.x's 404 for an unknown org, naming the orgs the token can see and where ``org`` came from."""
        base = self.transport.settings.base_url
        try:
            response = self.transport.request("GET", "api/v2/orgs", params={"limit": 100}, raw=True)
            listed = response.json().get("orgs") if response.status_code == 200 else None
        except Exception:  # noqa: BLE001 - the list only helps; the org is missing either way
            listed = None
        if isinstance(listed, list):
            names = [str(o.get("name")) for o in listed if isinstance(o, dict)]
            seen = (
                f"the token can see {len(names)}: " + ", ".join(repr(n) for n in names)
                if names
                else "the token can see no organization"
            )
        else:
            seen = "the token cannot list the organizations (it needs read access to orgs)"
        source = f" (org {org!r} comes from {self._org_source})" if self._org_source else ""
        return InfluxDBClientError(
            f"organization {org!r} not found on {base}{source}; {seen}. "
            "Set INFLUX_ORG or pass org= to one of them (a name or an ID)",
            404,
        )

    def _explain(self, exc: InfluxDBClientError) -> InfluxDBClientError:
        if exc.code == 404 and not isinstance(exc, UnsupportedOperationError):
            org = missing_org(str(exc.content))
            if org is not None:
                return self.org_not_found(org or self._org or "")
        return exc

    # -- plumbing ----------------------------------------------------------

    def get(self, path: str, params: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        try:
            response = self.transport.request("GET", path, params=params, expected=200)
        except InfluxDBClientError as exc:
            raise self._explain(exc) from None
        answer: Dict[str, Any] = response.json()
        return answer

    def post(
        self, path: str, body: Any, params: Optional[Dict[str, Any]] = None, expected: Any = (200, 201)
    ) -> Dict[str, Any]:
        return self._send_json("POST", path, body, params, expected)

    def patch(self, path: str, body: Any, params: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        return self._send_json("PATCH", path, body, params, 200)

    def _send_json(
        self, method: str, path: str, body: Any, params: Optional[Dict[str, Any]], expected: Any
    ) -> Dict[str, Any]:
        """Send a JSON body; the JSON answer, ``{}`` for an empty one."""
        try:
            resp = self.transport.request(
                method,
                path,
                params=params,
                data=_json(body),
                headers={"Content-Type": "application/json"},
                expected=expected,
            )
        except InfluxDBClientError as exc:
            raise self._explain(exc) from None
        answer: Dict[str, Any] = resp.json() if resp.content else {}
        return answer

    def delete(self, path: str, params: Optional[Dict[str, Any]] = None) -> None:
        try:
            self.transport.request("DELETE", path, params=params, expected=(200, 204))
        except InfluxDBClientError as exc:
            raise self._explain(exc) from None

    # -- buckets -----------------------------------------------------------

    def buckets(self) -> Iterator[Dict[str, Any]]:
        """Every bucket of the organization (all pages)."""
        offset = 0
        while True:
            params = dict(self.org_param(), limit=100, offset=offset)
            page = self.get("api/v2/buckets", params).get("buckets", [])
            yield from page
            if len(page) < 100:
                return
            offset += len(page)

    def find_bucket(self, name: str) -> Optional[Dict[str, Any]]:
        """The bucket with this name, or None."""
        try:
            found = self.get("api/v2/buckets", dict(self.org_param(), name=name)).get("buckets", [])
        except InfluxDBClientError as exc:
            if is_not_found(exc) and "organization" not in str(exc.content):
                return None
            raise
        for bucket in found:
            if isinstance(bucket, dict) and bucket.get("name") == name:
                return bucket
        return None

    def get_bucket(self, bucket_id: str) -> Optional[Dict[str, Any]]:
        try:
            bucket: Dict[str, Any] = self.get(f"api/v2/buckets/{bucket_id}")
            return bucket
        except InfluxDBClientError as exc:
            if is_not_found(exc):
                return None
            raise

    def create_bucket(
        self, name: str, every_seconds: int = 0, shard_group_seconds: int = 0
    ) -> Dict[str, Any]:
        """Create a bucket; an existing bucket of that name is returned as it is."""
        rules: List[Dict[str, Any]] = []
        if every_seconds or shard_group_seconds:
            rule: Dict[str, Any] = {"type": "expire", "everySeconds": int(every_seconds)}
            if shard_group_seconds:
                rule["shardGroupDurationSeconds"] = int(shard_group_seconds)
            rules.append(rule)
        body = {"orgID": self.org_id(), "name": name, "retentionRules": rules}
        try:
            return self.post("api/v2/buckets", body, expected=201)
        except InfluxDBClientError as exc:
            if is_conflict(exc):
                existing = self.find_bucket(name)
                if existing is not None:
                    return existing
            raise

    def update_bucket(
        self, bucket_id: str, every_seconds: Optional[int], shard_group_seconds: Optional[int]
    ) -> Dict[str, Any]:
        rule: Dict[str, Any] = {"type": "expire"}
        if every_seconds is not None:
            rule["everySeconds"] = int(every_seconds)
        if shard_group_seconds is not None:
            rule["shardGroupDurationSeconds"] = int(shard_group_seconds)
        return self.patch(f"api/v2/buckets/{bucket_id}", {"retentionRules": [rule]})

    def delete_bucket(self, bucket_id: str) -> bool:
        """Delete a bucket; False when it was already gone."""
        try:
            self.delete(f"api/v2/buckets/{bucket_id}")
            return True
        except InfluxDBClientError as exc:
            if is_not_found(exc):
                return False
            raise

    # -- DBRP mappings -----------------------------------------------------

    def dbrps(self, db: Optional[str] = None, **filters: Any) -> List[Dict[str, Any]]:
        """The DBRP mappings (physical and, from 2.4, virtual) of the organization."""
        params: Dict[str, Any] = dict(self.org_param())
        if db is not None:
            params["db"] = db
        params.update({k: v for k, v in filters.items() if v is not None})
        try:
            return self.get("api/v2/dbrps", params).get("content", []) or []
        except InfluxDBClientError as exc:
            if is_not_found(exc) and "dbrp" in str(exc.content).lower():
                return []
            raise

    def create_dbrp(self, db: str, rp: str, bucket_id: str, default: bool) -> Dict[str, Any]:
        """Create a physical mapping; an identical existing one is returned."""
        body = {
            "orgID": self.org_id(),
            "database": db,
            "retention_policy": rp,
            "bucketID": bucket_id,
            "default": bool(default),
        }
        try:
            return self.post("api/v2/dbrps", body, expected=(200, 201))
        except InfluxDBClientError as exc:
            if is_conflict(exc):
                for m in self.dbrps(db, rp=rp):
                    if not m.get("virtual"):
                        return m
            raise

    def update_dbrp(self, dbrp_id: str, **changes: Any) -> Dict[str, Any]:
        return self.patch(f"api/v2/dbrps/{dbrp_id}", changes, params=self.org_param())

    def delete_dbrp(self, dbrp_id: str) -> None:
        try:
            self.delete(f"api/v2/dbrps/{dbrp_id}", params=self.org_param())
        except InfluxDBClientError as exc:
            if not is_not_found(exc):
                raise

    # -- deleting points ---------------------------------------------------

    def delete_points(self, bucket_id: str, body: Dict[str, Any]) -> None:
        """``POST /api/v2/delete`` on one bucket (body: start, stop, predicate)."""
        params = dict(self.org_param(), bucketID=bucket_id)
        self.post("api/v2/delete", body, params=params, expected=204)

    # -- v1 users (legacy authorizations) ------------------------------------

    LEGACY = "private/legacy/authorizations"

    def legacy_auths(self) -> List[Dict[str, Any]]:
        """The v1 authorizations ("users") of the organization."""
        answer = self.get(self.LEGACY, {"orgID": self.org_id()})
        return list(answer.get("authorizations") or [])

    def create_legacy_auth(
        self, username: str, permissions: List[Dict[str, Any]], description: str = "", status: str = "active"
    ) -> Dict[str, Any]:
        body = {
            "orgID": self.org_id(),
            "token": username,
            "permissions": permissions,
            "description": description,
            "status": status,
        }
        return self.post(self.LEGACY, body, expected=201)

    def delete_legacy_auth(self, auth_id: str) -> None:
        self.delete(f"{self.LEGACY}/{auth_id}")

    def set_legacy_password(self, auth_id: str, password: str) -> None:
        self.post(f"{self.LEGACY}/{auth_id}/password", {"password": password}, expected=204)


def _json(body: Any) -> bytes:
    import json

    return json.dumps(body).encode("utf-8")
