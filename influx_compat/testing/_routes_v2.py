"""The ``/api/v2`` management routes of the test server (orgs, buckets, DBRPs, tokens, ...)."""

from __future__ import annotations

import re
import secrets
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from influx_compat.testing._state import ApiError, allowed, engine_db, new_id, now

__all__ = ["V2Routes"]

_MIN_TIME = "1677-09-21T00:12:43.145224194Z"
_MAX_TIME = "2262-04-11T23:47:16.854775806Z"
_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"
)


def _links(kind: str, rid: str) -> Dict[str, str]:
    return {"self": f"/api/v2/{kind}/{rid}"}


class V2Routes:
    """Handlers for /api/v2/* and /private/legacy/*."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.state = app.state
        self.engine = app.engine

    def table(self) -> List[Tuple[str, str, Any]]:
        b, d, u, a, la, o, t = (r"/api/v2/buckets", r"/api/v2/dbrps", r"/api/v2/users",
                                r"/api/v2/authorizations", r"/private/legacy/authorizations",
                                r"/api/v2/orgs", r"/api/v2/tasks")
        ident = r"/(?P<id>[^/]+)"
        return [
            ("GET", "/api/v2/setup", self.setup_get), ("POST", "/api/v2/setup", self.setup_post),
            ("GET", "/api/v2", self.root),
            ("GET", o, self.orgs_list), ("POST", o, self.orgs_create),
            ("GET", o + ident, self.org_get), ("DELETE", o + ident, self.org_delete),
            ("PATCH", o + ident, self.org_patch),
            ("GET", b, self.buckets_list), ("POST", b, self.buckets_create),
            ("GET", b + ident, self.bucket_get), ("PATCH", b + ident, self.bucket_patch),
            ("DELETE", b + ident, self.bucket_delete),
            ("GET", d, self.dbrps_list), ("POST", d, self.dbrps_create),
            ("GET", d + ident, self.dbrp_get), ("PATCH", d + ident, self.dbrp_patch),
            ("DELETE", d + ident, self.dbrp_delete),
            ("POST", "/api/v2/delete", self.delete),
            ("GET", a, self.auths_list), ("POST", a, self.auths_create),
            ("GET", a + ident, self.auth_get), ("PATCH", a + ident, self.auth_patch),
            ("DELETE", a + ident, self.auth_delete),
            ("GET", la, self.legacy_list), ("POST", la, self.legacy_create),
            ("GET", la + ident, self.legacy_get), ("PATCH", la + ident, self.legacy_patch),
            ("DELETE", la + ident, self.legacy_delete),
            ("POST", la + ident + "/password", self.legacy_password),
            ("GET", u, self.users_list), ("POST", u, self.users_create),
            ("GET", u + ident, self.user_get), ("PATCH", u + ident, self.user_patch),
            ("DELETE", u + ident, self.user_delete),
            ("POST", u + ident + "/password", self.user_password),
            ("PUT", u + ident + "/password", self.user_password),
            ("GET", "/api/v2/me", self.me),
            ("GET", t, self.tasks_list), ("POST", t, self.tasks_create),
            ("GET", t + ident, self.task_get), ("PATCH", t + ident, self.task_patch),
            ("DELETE", t + ident, self.task_delete),
        ]

    # -- helpers ----------------------------------------------------------------

    def _auth(self, req: Any) -> Dict[str, Any]:
        return self.app.v2_auth(req)  # type: ignore[no-any-return]

    @staticmethod
    def _need(auth: Dict[str, Any], action: str, rtype: str, org_id: Optional[str],
              rid: Optional[str] = None) -> None:
        if not allowed(auth, action, rtype, org_id, rid):
            path = f"orgs/{org_id}/{rtype}" if org_id else rtype
            if rid:
                path += f"/{rid}"
            raise ApiError("unauthorized", f"{action}:{path} is unauthorized")

    def _json(self, status: int, obj: Any) -> Any:
        from influx_compat.testing._server import json_response

        return json_response(status, obj)

    def _no_content(self) -> Any:
        from influx_compat.testing._server import Response

        return Response(204)

    def _org_filter(self, req: Any, required: bool, message: str) -> Optional[Dict[str, Any]]:
        org_id, org = req.param("orgID"), req.param("org")
        if not org_id and not org:
            if required:
                raise ApiError("invalid", message)
            return None
        if org_id:
            found = self.state.orgs.get(org_id)
            if found is None:
                raise ApiError("not found", "organization not found")
            return found  # type: ignore[no-any-return]
        found = self.state.org_by_name(org)
        if found is None:
            raise ApiError("not found", f'organization name "{org}" not found')
        return found  # type: ignore[no-any-return]

    @staticmethod
    def _page(req: Any, items: List[Any]) -> List[Any]:
        limit = int(req.param("limit") or 20)
        if not 1 <= limit <= 100:
            raise ApiError("invalid", "limit must be between 1 and 100")
        offset = int(req.param("offset") or 0)
        after = req.param("after")
        if after:
            ids = [i["id"] for i in items]
            if after in ids:
                items = items[ids.index(after) + 1:]
        return items[offset: offset + limit]

    # -- setup, root, me -----------------------------------------------------------

    def setup_get(self, req: Any) -> Any:
        return self._json(200, {"allowed": not self.state.orgs})

    def setup_post(self, req: Any) -> Any:
        body = req.json() or {}
        if self.state.orgs:
            raise ApiError("conflict", "onboarding has already been completed")
        for key, label in (("username", "username"), ("org", "org name"), ("bucket", "bucket name")):
            if not body.get(key):
                raise ApiError("empty value", f"{label} is empty")
        result = self.app.onboard(body["username"], body.get("password"), body["org"], body["bucket"],
                                  int(body.get("retentionPeriodSeconds") or 0), body.get("token"))
        return self._json(201, result)

    def root(self, req: Any) -> Any:
        return self._json(200, {"buckets": "/api/v2/buckets", "orgs": "/api/v2/orgs",
                                "dbrps": "/api/v2/dbrps", "write": "/api/v2/write",
                                "delete": "/api/v2/delete", "setup": "/api/v2/setup"})

    def me(self, req: Any) -> Any:
        auth = self._auth(req)
        user = self.state.users.get(auth.get("userID") or "")
        if user is None:
            raise ApiError("not found", "user not found")
        return self._json(200, self._user_json(user))

    # -- orgs -----------------------------------------------------------------------

    @staticmethod
    def _org_json(org: Dict[str, Any]) -> Dict[str, Any]:
        return dict(org, links=_links("orgs", org["id"]))

    def orgs_list(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            orgs = list(self.state.orgs.values())
            if req.param("org"):
                orgs = [o for o in orgs if o["name"] == req.param("org")]
                if not orgs:
                    raise ApiError("not found", f'organization name "{req.param("org")}" not found')
            if req.param("orgID"):
                orgs = [o for o in orgs if o["id"] == req.param("orgID")]
                if not orgs:
                    raise ApiError("not found", "organization not found")
            orgs = [o for o in orgs if allowed(auth, "read", "orgs", o["id"], o["id"])
                    or allowed(auth, "read", "orgs", None) or auth.get("orgID") == o["id"]]
            page = self._page(req, orgs)
        return self._json(200, {"links": {"self": "/api/v2/orgs"},
                                "orgs": [self._org_json(o) for o in page]})

    def orgs_create(self, req: Any) -> Any:
        auth = self._auth(req)
        self._need(auth, "write", "orgs", None)
        body = req.json() or {}
        name = body.get("name")
        if not name:
            raise ApiError("invalid", "org name is empty")
        with self.state.lock:
            if self.state.org_by_name(name):
                raise ApiError("conflict", f"organization with name {name} already exists")
            org = {"id": new_id(), "name": name, "description": body.get("description", ""),
                   "createdAt": now(), "updatedAt": now()}
            self.state.orgs[org["id"]] = org
        return self._json(201, self._org_json(org))

    def org_get(self, req: Any) -> Any:
        auth = self._auth(req)
        org = self.state.orgs.get(req.match["id"])
        if org is None:
            raise ApiError("not found", "organization not found")
        self._need(auth, "read", "orgs", org["id"], org["id"]) if auth.get("orgID") != org["id"] else None
        return self._json(200, self._org_json(org))

    def org_patch(self, req: Any) -> Any:
        auth = self._auth(req)
        org = self.state.orgs.get(req.match["id"])
        if org is None:
            raise ApiError("not found", "organization not found")
        self._need(auth, "write", "orgs", org["id"], org["id"])
        body = req.json() or {}
        for key in ("name", "description"):
            if key in body:
                org[key] = body[key]
        org["updatedAt"] = now()
        return self._json(200, self._org_json(org))

    def org_delete(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            org = self.state.orgs.get(req.match["id"])
            if org is None:
                raise ApiError("not found", "organization not found")
            self._need(auth, "write", "orgs", org["id"], org["id"])
            for bucket in [b for b in self.state.buckets.values() if b["orgID"] == org["id"]]:
                self._drop_bucket(bucket)
            del self.state.orgs[org["id"]]
        return self._no_content()

    # -- buckets ------------------------------------------------------------------------

    def _bucket_json(self, bucket: Dict[str, Any]) -> Dict[str, Any]:
        every, shard = bucket["_every"], bucket["_shard"]
        rules = [] if every == 0 and shard == 0 else [
            {"type": "expire", "everySeconds": every, "shardGroupDurationSeconds": shard}]
        out = {k: v for k, v in bucket.items() if not k.startswith("_")}
        out["retentionRules"] = rules
        out["links"] = {"self": f"/api/v2/buckets/{bucket['id']}", "org": f"/api/v2/orgs/{bucket['orgID']}",
                        "members": f"/api/v2/buckets/{bucket['id']}/members",
                        "owners": f"/api/v2/buckets/{bucket['id']}/owners",
                        "labels": f"/api/v2/buckets/{bucket['id']}/labels",
                        "write": f"/api/v2/write?org={bucket['orgID']}&bucket={bucket['id']}"}
        out["labels"] = []
        return out

    def create_bucket(self, org_id: str, name: str, every: int, shard: int, description: str = "",
                      btype: str = "user", rp: Optional[str] = None) -> Dict[str, Any]:
        """Create a bucket and its engine database (caller holds the lock)."""
        bucket = {"id": new_id(), "orgID": org_id, "type": btype, "name": name,
                  "description": description, "createdAt": now(), "updatedAt": now(),
                  "_every": every, "_shard": shard}
        if rp:
            bucket["rp"] = rp
        duration = f"{every}s" if every else "INF"
        self.engine.execute(f'CREATE DATABASE "{engine_db(bucket["id"])}" WITH DURATION {duration} '
                            f'REPLICATION 1 SHARD DURATION {shard}s NAME "autogen"')
        self.state.buckets[bucket["id"]] = bucket
        return bucket

    def _drop_bucket(self, bucket: Dict[str, Any]) -> None:
        self.engine.execute(f'DROP DATABASE "{engine_db(bucket["id"])}"')
        self.state.buckets.pop(bucket["id"], None)
        for mid in [m for m, v in self.state.dbrps.items() if v["bucketID"] == bucket["id"]]:
            self._remove_dbrp(mid)

    def buckets_list(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            org = self._org_filter(req, False, "")
            items = list(self.state.buckets.values())
            if org is not None:
                items = [b for b in items if b["orgID"] == org["id"]]
            if req.param("id"):
                items = [b for b in items if b["id"] == req.param("id")]
            name = req.param("name")
            if name is not None:
                items = [b for b in items if b["name"] == name]
                if not items and org is not None:
                    raise ApiError("not found", f'bucket "{name}" not found')
            items = [b for b in items if allowed(auth, "read", "buckets", b["orgID"], b["id"])]
            page = self._page(req, items)
            body = {"links": {"self": "/api/v2/buckets"}, "buckets": [self._bucket_json(b) for b in page]}
        return self._json(200, body)

    def buckets_create(self, req: Any) -> Any:
        auth = self._auth(req)
        body = req.json() or {}
        org_id = body.get("orgID")
        if not org_id:
            raise ApiError("invalid", "organization id must be provided")
        self.state.check_bucket_name(body.get("name"))
        every, shard = self.state.retention(body.get("retentionRules"))
        with self.state.lock:
            if org_id not in self.state.orgs:
                raise ApiError("not found", "organization not found")
            self._need(auth, "write", "buckets", org_id)
            if self.state.bucket_by_name(org_id, body["name"]):
                raise ApiError("conflict", f"bucket with name {body['name']} already exists")
            bucket = self.create_bucket(org_id, body["name"], every, shard, body.get("description", ""),
                                        rp=body.get("rp"))
            return self._json(201, self._bucket_json(bucket))

    def _bucket(self, req: Any) -> Dict[str, Any]:
        bid = req.match["id"]
        if not re.match(r"^[0-9a-f]{16}$", bid):
            raise ApiError("invalid", "id must have a length of 16 bytes")
        bucket = self.state.buckets.get(bid)
        if bucket is None:
            raise ApiError("not found", "bucket not found")
        return bucket  # type: ignore[no-any-return]

    def bucket_get(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            bucket = self._bucket(req)
            self._need(auth, "read", "buckets", bucket["orgID"], bucket["id"])
            return self._json(200, self._bucket_json(bucket))

    def bucket_patch(self, req: Any) -> Any:
        auth = self._auth(req)
        body = req.json() or {}
        with self.state.lock:
            bucket = self._bucket(req)
            self._need(auth, "write", "buckets", bucket["orgID"], bucket["id"])
            if "name" in body and body["name"] != bucket["name"]:
                if bucket["type"] == "system":
                    raise ApiError("invalid", "system buckets cannot be renamed")
                self.state.check_bucket_name(body["name"])
                if self.state.bucket_by_name(bucket["orgID"], body["name"]):
                    raise ApiError("conflict", f"bucket with name {body['name']} already exists")
                bucket["name"] = body["name"]
            if "description" in body:
                bucket["description"] = body["description"]
            if "retentionRules" in body:
                rules = body["retentionRules"] or []
                rule = rules[0] if rules else {}
                every = int(rule.get("everySeconds", bucket["_every"]) or 0)
                shard = int(rule.get("shardGroupDurationSeconds") or 0)
                every, shard = self.state.retention([{"everySeconds": every,
                                                      "shardGroupDurationSeconds": shard}])
                duration = f"{every}s" if every else "INF"
                self.engine.execute(f'ALTER RETENTION POLICY "autogen" ON "{engine_db(bucket["id"])}" '
                                    f"DURATION {duration} SHARD DURATION {shard}s")
                bucket["_every"], bucket["_shard"] = every, shard
            bucket["updatedAt"] = now()
            return self._json(200, self._bucket_json(bucket))

    def bucket_delete(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            bucket = self._bucket(req)
            self._need(auth, "write", "buckets", bucket["orgID"], bucket["id"])
            if bucket["type"] == "system":
                raise ApiError("invalid", "system buckets cannot be deleted")
            self._drop_bucket(bucket)
        return self._no_content()

    # -- DBRP mappings -----------------------------------------------------------------

    _NAME_RULE = ("must contain at least one character and only be letters, numbers, '_', '-', and '.'")

    def _check_dbrp_name(self, value: Any, what: str) -> None:
        if (not isinstance(value, str) or not value or value in (".", "..") or "/" in value
                or "\\" in value or any(not ch.isprintable() for ch in value)):
            raise ApiError("invalid", f"DBRP provided is invalid: {what} {self._NAME_RULE}")

    def dbrps_list(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            org_id, org = req.param("orgID"), req.param("org")
            if not org_id and not org:
                raise ApiError("invalid", "either 'org' or 'orgID' must be provided")
            if org and not org_id:
                found = self.state.org_by_name(org)
                if found is None:
                    raise ApiError("not found", f'invalid org "{org}"')
                org_id = found["id"]
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
        return self._json(200, {"content": items})

    def dbrps_create(self, req: Any) -> Any:
        auth = self._auth(req)
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
            self._need(auth, "write", "buckets", org_id, bucket_id)
            db, rp = body["database"], body["retention_policy"]
            same_db = [m for m in self.state.dbrps.values() if m["orgID"] == org_id and m["database"] == db]
            if any(m["retention_policy"] == rp for m in same_db):
                raise ApiError("conflict", "another DBRP mapping with same orgID, db, and rp exists")
            default = bool(body.get("default")) or not same_db
            if default:
                for m in same_db:
                    m["default"] = False
            mapping = {"id": new_id(), "database": db, "retention_policy": rp, "default": default,
                       "orgID": org_id, "bucketID": bucket_id}
            self.state.dbrps[mapping["id"]] = mapping
            return self._json(201, dict(mapping, virtual=False))

    def _dbrp(self, req: Any) -> Dict[str, Any]:
        if not req.param("orgID") and not req.param("org"):
            raise ApiError("invalid", "either 'org' or 'orgID' must be provided")
        mapping = self.state.dbrps.get(req.match["id"])
        if mapping is None:
            raise ApiError("not found", "unable to find DBRP")
        return mapping  # type: ignore[no-any-return]

    def dbrp_get(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            mapping = self._dbrp(req)
            self._need(auth, "read", "buckets", mapping["orgID"], mapping["bucketID"])
            return self._json(200, {"content": dict(mapping, virtual=False)})

    def dbrp_patch(self, req: Any) -> Any:
        auth = self._auth(req)
        body = req.json() or {}
        with self.state.lock:
            mapping = self._dbrp(req)
            self._need(auth, "write", "buckets", mapping["orgID"], mapping["bucketID"])
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
            return self._json(200, {"content": dict(mapping, virtual=False)})

    def _promote(self, mapping: Dict[str, Any]) -> None:
        for m in self.state.dbrps.values():
            if m is not mapping and m["orgID"] == mapping["orgID"] and m["database"] == mapping["database"]:
                m["default"] = True
                return
        mapping["default"] = True  # the only mapping of its database stays default

    def _remove_dbrp(self, mid: str) -> None:
        mapping = self.state.dbrps.pop(mid)
        if mapping["default"]:
            for m in self.state.dbrps.values():
                if m["orgID"] == mapping["orgID"] and m["database"] == mapping["database"]:
                    m["default"] = True
                    break

    def dbrp_delete(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            mapping = self._dbrp(req)
            self._need(auth, "write", "buckets", mapping["orgID"], mapping["bucketID"])
            self._remove_dbrp(mapping["id"])
        return self._no_content()

    # -- delete ----------------------------------------------------------------------

    def delete(self, req: Any) -> Any:
        auth = self._auth(req)
        with self.state.lock:
            org = self.state.find_org(req.param("org"), req.param("orgID"))
            ref = req.param("bucketID") or req.param("bucket")
            if not ref:
                raise ApiError("not found", "bucket not found")
            bucket = self.state.find_bucket(org["id"], ref)
        if not allowed(auth, "write", "buckets", org["id"], bucket["id"]):
            raise ApiError("forbidden", "insufficient permissions to delete")
        body = req.json() or {}
        start = _parse_rfc3339(body.get("start"), "start")
        stop = _parse_rfc3339(body.get("stop"), "stop")
        if start < _parse_rfc3339(_MIN_TIME, "start"):
            raise ApiError("invalid", f"invalid start time, start time must not be before {_MIN_TIME}")
        if stop > _parse_rfc3339(_MAX_TIME, "stop"):
            raise ApiError("invalid", f"invalid stop time, stop time must not be after {_MAX_TIME}")
        measurement, conditions = _parse_predicate(body.get("predicate") or "")
        where = conditions + [f"time >= {start}", f"time <= {stop}"]
        source = f' FROM "{_esc_ident(measurement)}"' if measurement is not None else ""
        self.engine.execute(f"DELETE{source} WHERE " + " AND ".join(where), engine_db(bucket["id"]))
        return self._no_content()

    # -- authorizations -------------------------------------------------------------

    def _auth_json(self, auth: Dict[str, Any], legacy: bool = False) -> Dict[str, Any]:
        out = {k: v for k, v in auth.items() if not k.startswith("_") and k != "password"}
        org = self.state.orgs.get(auth.get("orgID", ""))
        out["org"] = org["name"] if org else ""
        user = self.state.users.get(auth.get("userID") or "")
        if user:
            out["user"] = user["name"]
        out["links"] = {"self": f"/{'private/legacy' if legacy else 'api/v2'}/authorizations/{auth['id']}"}
        return out

    def _create_auth(self, body: Dict[str, Any], legacy: bool) -> Dict[str, Any]:
        org_id = body.get("orgID")
        if not org_id or org_id not in self.state.orgs:
            raise ApiError("invalid", "organization id must be provided" if not org_id
                           else "organization not found")
        perms = body.get("permissions")
        if not isinstance(perms, list) or not perms:
            raise ApiError("invalid", "permissions must be provided")
        auth = {"id": new_id(), "status": body.get("status", "active"),
                "description": body.get("description", ""), "orgID": org_id,
                "userID": body.get("userID"), "permissions": perms, "createdAt": now(),
                "updatedAt": now()}
        if legacy:
            name = body.get("token")
            if not name:
                raise ApiError("invalid", "token must be provided")
            if self.state.legacy_by_name(name):
                raise ApiError("conflict", "token already exists")
            auth["token"] = name
            self.state.legacy[auth["id"]] = auth
        else:
            auth["token"] = body.get("token") or secrets.token_urlsafe(48)
            self.state.auths[auth["id"]] = auth
        return auth

    def auths_list(self, req: Any) -> Any:
        self._auth(req)
        return self._list_auths(req, self.state.auths, legacy=False)

    def _list_auths(self, req: Any, store: Dict[str, Dict[str, Any]], legacy: bool) -> Any:
        with self.state.lock:
            items = list(store.values())
            org = self._org_filter(req, False, "")
            if org is not None:
                items = [a for a in items if a["orgID"] == org["id"]]
            for param in ("id", "userID", "token"):
                if req.param(param):
                    items = [a for a in items if a.get(param) == req.param(param)]
            body = {"links": {"self": req.path},
                    "authorizations": [self._auth_json(a, legacy) for a in items]}
        return self._json(200, body)

    def auths_create(self, req: Any) -> Any:
        auth = self._auth(req)
        body = req.json() or {}
        self._need(auth, "write", "authorizations", body.get("orgID"))
        with self.state.lock:
            created = self._create_auth(body, legacy=False)
            return self._json(201, self._auth_json(created))

    def _one_auth(self, req: Any, store: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
        auth = store.get(req.match["id"])
        if auth is None:
            raise ApiError("not found", "authorization not found")
        return auth

    def auth_get(self, req: Any) -> Any:
        self._auth(req)
        return self._json(200, self._auth_json(self._one_auth(req, self.state.auths)))

    def auth_patch(self, req: Any) -> Any:
        self._auth(req)
        return self._patch_auth(req, self.state.auths, legacy=False)

    def _patch_auth(self, req: Any, store: Dict[str, Dict[str, Any]], legacy: bool) -> Any:
        body = req.json() or {}
        with self.state.lock:
            target = self._one_auth(req, store)
            for key in ("status", "description"):
                if key in body:
                    target[key] = body[key]
            target["updatedAt"] = now()
            return self._json(200, self._auth_json(target, legacy))

    def auth_delete(self, req: Any) -> Any:
        self._auth(req)
        with self.state.lock:
            target = self._one_auth(req, self.state.auths)
            del self.state.auths[target["id"]]
        return self._no_content()

    def legacy_list(self, req: Any) -> Any:
        self._auth(req)
        return self._list_auths(req, self.state.legacy, legacy=True)

    def legacy_create(self, req: Any) -> Any:
        auth = self._auth(req)
        body = req.json() or {}
        self._need(auth, "write", "authorizations", body.get("orgID"))
        with self.state.lock:
            created = self._create_auth(body, legacy=True)
            return self._json(201, self._auth_json(created, legacy=True))

    def legacy_get(self, req: Any) -> Any:
        self._auth(req)
        return self._json(200, self._auth_json(self._one_auth(req, self.state.legacy), legacy=True))

    def legacy_patch(self, req: Any) -> Any:
        self._auth(req)
        return self._patch_auth(req, self.state.legacy, legacy=True)

    def legacy_delete(self, req: Any) -> Any:
        self._auth(req)
        with self.state.lock:
            target = self._one_auth(req, self.state.legacy)
            del self.state.legacy[target["id"]]
        return self._no_content()

    def legacy_password(self, req: Any) -> Any:
        self._auth(req)
        body = req.json() or {}
        with self.state.lock:
            target = self._one_auth(req, self.state.legacy)
            target["password"] = str(body.get("password", ""))
        return self._no_content()

    # -- users ------------------------------------------------------------------------

    @staticmethod
    def _user_json(user: Dict[str, Any]) -> Dict[str, Any]:
        out = {k: v for k, v in user.items() if k != "password"}
        out["links"] = _links("users", user["id"])
        return out

    def users_list(self, req: Any) -> Any:
        self._auth(req)
        users = list(self.state.users.values())
        for param in ("name", "id"):
            if req.param(param):
                users = [u for u in users if u[param] == req.param(param)]
        return self._json(200, {"links": {"self": "/api/v2/users"},
                                "users": [self._user_json(u) for u in users]})

    def users_create(self, req: Any) -> Any:
        auth = self._auth(req)
        self._need(auth, "write", "users", None)
        body = req.json() or {}
        name = body.get("name")
        if not name:
            raise ApiError("invalid", "user name is empty")
        with self.state.lock:
            if any(u["name"] == name for u in self.state.users.values()):
                raise ApiError("conflict", f"user with name {name} already exists")
            user = {"id": new_id(), "name": name, "status": body.get("status", "active")}
            self.state.users[user["id"]] = user
        return self._json(201, self._user_json(user))

    def _user(self, req: Any) -> Dict[str, Any]:
        user = self.state.users.get(req.match["id"])
        if user is None:
            raise ApiError("not found", "user not found")
        return user  # type: ignore[no-any-return]

    def user_get(self, req: Any) -> Any:
        self._auth(req)
        return self._json(200, self._user_json(self._user(req)))

    def user_patch(self, req: Any) -> Any:
        self._auth(req)
        body = req.json() or {}
        user = self._user(req)
        for key in ("name", "status"):
            if key in body:
                user[key] = body[key]
        return self._json(200, self._user_json(user))

    def user_delete(self, req: Any) -> Any:
        self._auth(req)
        with self.state.lock:
            user = self._user(req)
            del self.state.users[user["id"]]
        return self._no_content()

    def user_password(self, req: Any) -> Any:
        self._auth(req)
        body = req.json() or {}
        password = str(body.get("password", ""))
        if self.app.vtuple >= (2, 7, 6):
            if not 8 <= len(password) <= 72:
                raise ApiError("invalid", "passwords must be between 8 and 72 characters long")
        elif len(password) < 8:
            raise ApiError("invalid", "passwords must be at least 8 characters long")
        self._user(req)["password"] = password
        return self._no_content()

    # -- tasks (stored, not run) ---------------------------------------------------------

    def tasks_list(self, req: Any) -> Any:
        self._auth(req)
        tasks = list(self.state.tasks.values())
        if req.param("name"):
            tasks = [t for t in tasks if t["name"] == req.param("name")]
        org = self._org_filter(req, False, "")
        if org is not None:
            tasks = [t for t in tasks if t["orgID"] == org["id"]]
        return self._json(200, {"links": {"self": "/api/v2/tasks"}, "tasks": tasks})

    def tasks_create(self, req: Any) -> Any:
        auth = self._auth(req)
        body = req.json() or {}
        flux = body.get("flux")
        if not flux:
            raise ApiError("invalid", "flux must be provided")
        org_id = body.get("orgID") or auth["orgID"]
        if body.get("org") and not body.get("orgID"):
            found = self.state.org_by_name(body["org"])
            if found is None:
                raise ApiError("not found", f'organization name "{body["org"]}" not found')
            org_id = found["id"]
        name_match = re.search(r'name\s*:\s*"((?:[^"\\]|\\.)*)"', flux)
        every_match = re.search(r"every\s*:\s*([0-9a-z]+)", flux)
        task = {"id": new_id(), "orgID": org_id, "name": name_match.group(1) if name_match else "",
                "flux": flux, "status": body.get("status", "active"),
                "every": every_match.group(1) if every_match else None,
                "description": body.get("description", ""), "createdAt": now(), "updatedAt": now()}
        with self.state.lock:
            self.state.tasks[task["id"]] = task
        return self._json(201, task)

    def _task(self, req: Any) -> Dict[str, Any]:
        task = self.state.tasks.get(req.match["id"])
        if task is None:
            raise ApiError("not found", "failed to find task")
        return task  # type: ignore[no-any-return]

    def task_get(self, req: Any) -> Any:
        self._auth(req)
        return self._json(200, self._task(req))

    def task_patch(self, req: Any) -> Any:
        self._auth(req)
        body = req.json() or {}
        task = self._task(req)
        for key in ("flux", "status", "description"):
            if key in body:
                task[key] = body[key]
        return self._json(200, task)

    def task_delete(self, req: Any) -> Any:
        self._auth(req)
        with self.state.lock:
            task = self._task(req)
            del self.state.tasks[task["id"]]
        return self._no_content()


def _esc_ident(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')


def _parse_rfc3339(value: Any, field: str) -> int:
    """Nanoseconds of an RFC3339Nano time, or 2.x's 400 for the field."""
    m = _RFC3339_RE.match(value) if isinstance(value, str) else None
    if m is None:
        raise ApiError("invalid", f"invalid RFC3339Nano for field {field}, please format your time with "
                                  "RFC3339Nano format, example: 2009-01-02T23:00:00Z")
    y, mo, d, h, mi, s, frac, off = m.groups()
    base = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s))
    epoch = datetime(1970, 1, 1)
    delta = base - epoch
    ns = (delta.days * 86400 + delta.seconds) * 10**9
    if frac:
        ns += int(frac[1:].ljust(9, "0"))
    if off != "Z":
        sign = 1 if off[0] == "+" else -1
        ns -= sign * (int(off[1:3]) * 3600 + int(off[4:6]) * 60) * 10**9
    return ns


_PRED_TOKEN = re.compile(r'\s*(?:(?P<lp>\()|(?P<rp>\))|(?P<op>!=|=~|!~|=)|(?P<dq>"(?:[^"\\]|\\.)*")'
                         r"|(?P<sq>'(?:[^'\\]|\\.)*')|(?P<word>[A-Za-z0-9_.\-:]+))")


def _scan_string(quoted: str) -> str:
    """A double-quoted predicate string as InfluxQL's scanner reads it (\\n, \\\\, \\", \\')."""
    out = []
    body = quoted[1:-1]
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt not in "n\\\"'":
                raise ApiError("invalid", f"error decoding json body: bad escape \\{nxt}")
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def _parse_predicate(text: str) -> Tuple[Optional[str], List[str]]:
    """2.x's delete predicate -> (measurement, engine WHERE conditions)."""
    if not text.strip():
        return None, []
    measurement: Optional[str] = None
    conditions: List[str] = []
    pos = 0
    expect = "key"
    key: Optional[str] = None
    op: Optional[str] = None
    terms = 0
    while pos < len(text):
        m = _PRED_TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            if text[pos:].strip() == "":
                break
            raise ApiError("invalid", f"error decoding json body: invalid predicate at position {pos}")
        start = m.start(m.lastgroup) if m.lastgroup else pos
        pos = m.end()
        kind, value = m.lastgroup, m.group(m.lastgroup or 0)
        if kind in ("lp", "rp"):
            continue
        if expect == "key":
            if kind == "word" and value.upper() == "AND" and terms:
                continue
            if kind == "word" and value.upper() == "OR":
                raise ApiError("invalid", "error decoding json body: the logical operator OR is not "
                                          f"supported yet at position {start}")
            if kind not in ("word", "dq"):
                raise ApiError("invalid", f"error decoding json body: invalid predicate at position {start}")
            key = _scan_string(value) if kind == "dq" else value
            expect = "op"
        elif expect == "op":
            if kind == "word" and value.upper() == "OR":
                raise ApiError("invalid", "error decoding json body: the logical operator OR is not "
                                          f"supported yet at position {start}")
            if kind != "op":
                raise ApiError("invalid", f"error decoding json body: invalid predicate at position {start}")
            if value in ("=~", "!~"):
                raise ApiError("invalid", f'error decoding json body: operator: "{value}" at position: '
                                          f"{start} is not supported yet")
            op = value
            expect = "value"
        else:
            if kind == "sq":
                raise ApiError("invalid", f'error decoding json body: bad tag value: "{value[1:-1]}", '
                                          f"at position {start}")
            if kind not in ("word", "dq"):
                raise ApiError("invalid", f"error decoding json body: invalid predicate at position {start}")
            val = _scan_string(value) if kind == "dq" else value
            assert key is not None and op is not None
            if key == "_field":
                raise ApiError("not implemented", "delete by field is not supported")
            if key == "_measurement":
                if op != "=":
                    raise ApiError("invalid", "error decoding json body: _measurement must use =")
                measurement = val
            else:
                esc = val.replace("\\", "\\\\").replace("'", "\\'")
                conditions.append(f"\"{_esc_ident(key)}\" {op} '{esc}'")
            expect = "key"
            terms += 1
    if expect != "key":
        raise ApiError("invalid", "error decoding json body: incomplete predicate")
    return measurement, conditions
