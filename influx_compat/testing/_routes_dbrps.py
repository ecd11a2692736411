"""``/api/v2/dbrps``: the DBRP mappings 1.x's (database, retention policy) resolve through."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

from influx_compat.testing._http import Request, Response, Route, json_response
from influx_compat.testing._routes_common import Resource
from influx_compat.testing._state import ApiError, State, allowed, new_id

__all__ = ["DbrpRoutes", "remove_dbrp"]

_NAME_RULE = "must contain at least one character and only be letters, numbers, '_', '-', and '.'"


def remove_dbrp(state: State, mid: str) -> None:
    """Drop a mapping; another mapping of its database becomes the default (caller holds the lock)."""
    mapping = state.dbrps.pop(mid)
    if mapping["default"]:
        for m in state.dbrps.values():
            if m["orgID"] == mapping["orgID"] and m["database"] == mapping["database"]:
                m["default"] = True
                break


class DbrpRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        d, ident = "/api/v2/dbrps", r"/(?P<id>[^/]+)"
        return [
            ("GET", d, self.dbrps_list),
            ("POST", d, self.dbrps_create),
            ("GET", d + ident, self.dbrp_get),
            ("PATCH", d + ident, self.dbrp_patch),
            ("DELETE", d + ident, self.dbrp_delete),
        ]

    def _check_dbrp_name(self, value: Any, what: str) -> None:
        if (
            not isinstance(value, str)
            or not value
            or value in (".", "..")
            or "/" in value
            or "\\" in value
            or any(not ch.isprintable() for ch in value)
        ):
            raise ApiError("invalid", f"DBRP provided is invalid: {what} {_NAME_RULE}")

    def dbrps_list(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            org_id, org = req.param("orgID"), req.param("org")
            if not org_id and not org:
                raise ApiError("invalid", "either 'org' or 'orgID' must be provided")
            if org and not org_id:
                found = self.state.org_by_name(org)
                if found is None:
                    raise ApiError("not found", f'invalid org "{org}"')
                org_id = found["id"]
            assert org_id is not None
            items = self.state.mappings(org_id)
            filters = {"id": "id", "bucketID": "bucketID", "db": "database", "rp": "retention_policy"}
            for param, key in filters.items():
                if req.param(param) is not None:
                    items = [m for m in items if m[key] == req.param(param)]
            if req.param("default") is not None:
                if req.param("default") not in ("true", "false"):
                    raise ApiError("invalid", "invalid default parameter")
                want = req.param("default") == "true"
                items = [m for m in items if m["default"] == want]
            items = [m for m in items if allowed(auth, "read", "buckets", org_id, m["bucketID"])]
        return json_response(200, {"content": items})

    def dbrps_create(self, req: Request) -> Response:
        auth = self.auth(req)
        body = req.json() or {}
        with self.state.lock:
            org_id = body.get("orgID")
            if not org_id and body.get("org"):
                found = self.state.org_by_name(body["org"])
                if found is None:
                    raise ApiError("not found", f'invalid org "{body["org"]}"')
                org_id = found["id"]
            if not org_id:
                raise ApiError("invalid", "either 'org' or 'orgID' must be provided")
            if org_id not in self.state.orgs:
                raise ApiError("invalid", f'invalid org ID "{org_id}"')
            bucket_id = body.get("bucketID") or ""
            if not re.match(r"^[0-9a-f]{16}$", bucket_id):
                raise ApiError("invalid", f'invalid bucket ID "{bucket_id}"')
            self._check_dbrp_name(body.get("database"), "database")
            self._check_dbrp_name(body.get("retention_policy"), "retentionPolicy")
            bucket = self.state.buckets.get(bucket_id)
            if bucket is None or bucket["orgID"] != org_id:
                raise ApiError("not found", "bucket not found")
            self.need(auth, "write", "buckets", org_id, bucket_id)
            db, rp = body["database"], body["retention_policy"]
            same_db = [m for m in self.state.dbrps.values() if m["orgID"] == org_id and m["database"] == db]
            if any(m["retention_policy"] == rp for m in same_db):
                raise ApiError("conflict", "another DBRP mapping with same orgID, db, and rp exists")
            default = bool(body.get("default")) or not same_db
            if default:
                for m in same_db:
                    m["default"] = False
            mapping = {
                "id": new_id(),
                "database": db,
                "retention_policy": rp,
                "default": default,
                "orgID": org_id,
                "bucketID": bucket_id,
            }
            self.state.dbrps[mapping["id"]] = mapping
            return json_response(201, dict(mapping, virtual=False))

    def _dbrp(self, req: Request) -> Dict[str, Any]:
        if not req.param("orgID") and not req.param("org"):
            raise ApiError("invalid", "either 'org' or 'orgID' must be provided")
        mapping = self.state.dbrps.get(req.path_param("id"))
        if mapping is None:
            raise ApiError("not found", "unable to find DBRP")
        return mapping

    def dbrp_get(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            mapping = self._dbrp(req)
            self.need(auth, "read", "buckets", mapping["orgID"], mapping["bucketID"])
            return json_response(200, {"content": dict(mapping, virtual=False)})

    def dbrp_patch(self, req: Request) -> Response:
        auth = self.auth(req)
        body = req.json() or {}
        with self.state.lock:
            mapping = self._dbrp(req)
            self.need(auth, "write", "buckets", mapping["orgID"], mapping["bucketID"])
            if "retention_policy" in body:
                self._check_dbrp_name(body["retention_policy"], "retentionPolicy")
                mapping["retention_policy"] = body["retention_policy"]
            if body.get("default") is True:
                for m in self.state.dbrps.values():
                    if m["orgID"] == mapping["orgID"] and m["database"] == mapping["database"]:
                        m["default"] = False
                mapping["default"] = True
            elif body.get("default") is False and mapping["default"]:
                mapping["default"] = False
                self._promote(mapping)
            return json_response(200, {"content": dict(mapping, virtual=False)})

    def _promote(self, mapping: Dict[str, Any]) -> None:
        for m in self.state.dbrps.values():
            if m is not mapping and m["orgID"] == mapping["orgID"] and m["database"] == mapping["database"]:
                m["default"] = True
                return
        mapping["default"] = True  # the only mapping of its database stays default

    def dbrp_delete(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            mapping = self._dbrp(req)
            self.need(auth, "write", "buckets", mapping["orgID"], mapping["bucketID"])
            remove_dbrp(self.state, mapping["id"])
        return Response(204)
