"""``/api/v2/orgs``: organizations (deleting one deletes its buckets)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from influx_compat.testing._http import Request, Response, Route, json_response
from influx_compat.testing._routes_buckets import drop_bucket
from influx_compat.testing._routes_common import Resource, links
from influx_compat.testing._state import ApiError, allowed, new_id, now

__all__ = ["OrgRoutes", "org_json"]


def org_json(org: Dict[str, Any]) -> Dict[str, Any]:
    return dict(org, links=links("orgs", org["id"]))


class OrgRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        o, ident = "/api/v2/orgs", r"/(?P<id>[^/]+)"
        return [
            ("GET", o, self.orgs_list),
            ("POST", o, self.orgs_create),
            ("GET", o + ident, self.org_get),
            ("DELETE", o + ident, self.org_delete),
            ("PATCH", o + ident, self.org_patch),
        ]

    def orgs_list(self, req: Request) -> Response:
        auth = self.auth(req)
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
            orgs = [
                o
                for o in orgs
                if allowed(auth, "read", "orgs", o["id"], o["id"])
                or allowed(auth, "read", "orgs", None)
                or auth.get("orgID") == o["id"]
            ]
            page = self.page(req, orgs)
        return json_response(200, {"links": {"self": "/api/v2/orgs"}, "orgs": [org_json(o) for o in page]})

    def orgs_create(self, req: Request) -> Response:
        auth = self.auth(req)
        self.need(auth, "write", "orgs", None)
        body = req.json() or {}
        name = body.get("name")
        if not name:
            raise ApiError("invalid", "org name is empty")
        with self.state.lock:
            if self.state.org_by_name(name):
                raise ApiError("conflict", f"organization with name {name} already exists")
            org = {
                "id": new_id(),
                "name": name,
                "description": body.get("description", ""),
                "createdAt": now(),
                "updatedAt": now(),
            }
            self.state.orgs[org["id"]] = org
        return json_response(201, org_json(org))

    def org_get(self, req: Request) -> Response:
        auth = self.auth(req)
        org = self.state.orgs.get(req.path_param("id"))
        if org is None:
            raise ApiError("not found", "organization not found")
        self.need(auth, "read", "orgs", org["id"], org["id"]) if auth.get("orgID") != org["id"] else None
        return json_response(200, org_json(org))

    def org_patch(self, req: Request) -> Response:
        auth = self.auth(req)
        org = self.state.orgs.get(req.path_param("id"))
        if org is None:
            raise ApiError("not found", "organization not found")
        self.need(auth, "write", "orgs", org["id"], org["id"])
        body = req.json() or {}
        for key in ("name", "description"):
            if key in body:
                org[key] = body[key]
        org["updatedAt"] = now()
        return json_response(200, org_json(org))

    def org_delete(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            org = self.state.orgs.get(req.path_param("id"))
            if org is None:
                raise ApiError("not found", "organization not found")
            self.need(auth, "write", "orgs", org["id"], org["id"])
            for bucket in [b for b in self.state.buckets.values() if b["orgID"] == org["id"]]:
                drop_bucket(self.ctx, bucket)
            del self.state.orgs[org["id"]]
        return Response(204)
