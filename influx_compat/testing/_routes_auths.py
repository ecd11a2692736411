"""``/api/v2/authorizations`` (tokens) and ``/private/legacy/authorizations`` (v1 credentials)."""

from __future__ import annotations

import secrets
from typing import Any, Dict, List, Tuple

from influx_compat.testing._http import Request, Response, Route, json_response
from influx_compat.testing._routes_common import Resource
from influx_compat.testing._routes_users import check_password
from influx_compat.testing._state import ApiError, new_id, now

__all__ = ["AuthorizationRoutes"]


class AuthorizationRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        a, la, ident = "/api/v2/authorizations", "/private/legacy/authorizations", r"/(?P<id>[^/]+)"
        return [
            ("GET", a, self.auths_list),
            ("POST", a, self.auths_create),
            ("GET", a + ident, self.auth_get),
            ("PATCH", a + ident, self.auth_patch),
            ("DELETE", a + ident, self.auth_delete),
            ("GET", la, self.legacy_list),
            ("POST", la, self.legacy_create),
            ("GET", la + ident, self.legacy_get),
            ("PATCH", la + ident, self.legacy_patch),
            ("DELETE", la + ident, self.legacy_delete),
            ("POST", la + ident + "/password", self.legacy_password),
        ]

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
            raise ApiError(
                "invalid", "organization id must be provided" if not org_id else "organization not found"
            )
        perms = body.get("permissions")
        if not isinstance(perms, list) or not perms:
            raise ApiError("invalid", "permissions must be provided")
        auth = {
            "id": new_id(),
            "status": body.get("status", "active"),
            "description": body.get("description", ""),
            "orgID": org_id,
            "userID": body.get("userID"),
            "permissions": perms,
            "createdAt": now(),
            "updatedAt": now(),
        }
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

    def auths_list(self, req: Request) -> Response:
        self.auth(req)
        return self._list_auths(req, self.state.auths, legacy=False)

    def _list_auths(self, req: Request, store: Dict[str, Dict[str, Any]], legacy: bool) -> Response:
        with self.state.lock:
            items = list(store.values())
            org = self.org_filter(req, False, "")
            if org is not None:
                items = [a for a in items if a["orgID"] == org["id"]]
            for param in ("id", "userID", "token"):
                if req.param(param):
                    items = [a for a in items if a.get(param) == req.param(param)]
            body = {
                "links": {"self": req.path},
                "authorizations": [self._auth_json(a, legacy) for a in items],
            }
        return json_response(200, body)

    def auths_create(self, req: Request) -> Response:
        auth = self.auth(req)
        body = req.json() or {}
        self.need(auth, "write", "authorizations", body.get("orgID"))
        with self.state.lock:
            created = self._create_auth(body, legacy=False)
            return json_response(201, self._auth_json(created))

    def _one_auth(self, req: Request, store: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
        auth = store.get(req.path_param("id"))
        if auth is None:
            raise ApiError("not found", "authorization not found")
        return auth

    def auth_get(self, req: Request) -> Response:
        self.auth(req)
        return json_response(200, self._auth_json(self._one_auth(req, self.state.auths)))

    def auth_patch(self, req: Request) -> Response:
        self.auth(req)
        return self._patch_auth(req, self.state.auths, legacy=False)

    def _patch_auth(self, req: Request, store: Dict[str, Dict[str, Any]], legacy: bool) -> Response:
        body = req.json() or {}
        with self.state.lock:
            target = self._one_auth(req, store)
            for key in ("status", "description"):
                if key in body:
                    target[key] = body[key]
            target["updatedAt"] = now()
            return json_response(200, self._auth_json(target, legacy))

    def auth_delete(self, req: Request) -> Response:
        self.auth(req)
        with self.state.lock:
            target = self._one_auth(req, self.state.auths)
            del self.state.auths[target["id"]]
        return Response(204)

    def legacy_list(self, req: Request) -> Response:
        self.auth(req)
        return self._list_auths(req, self.state.legacy, legacy=True)

    def legacy_create(self, req: Request) -> Response:
        auth = self.auth(req)
        body = req.json() or {}
        self.need(auth, "write", "authorizations", body.get("orgID"))
        with self.state.lock:
            created = self._create_auth(body, legacy=True)
            return json_response(201, self._auth_json(created, legacy=True))

    def legacy_get(self, req: Request) -> Response:
        self.auth(req)
        return json_response(200, self._auth_json(self._one_auth(req, self.state.legacy), legacy=True))

    def legacy_patch(self, req: Request) -> Response:
        self.auth(req)
        return self._patch_auth(req, self.state.legacy, legacy=True)

    def legacy_delete(self, req: Request) -> Response:
        self.auth(req)
        with self.state.lock:
            target = self._one_auth(req, self.state.legacy)
            del self.state.legacy[target["id"]]
        return Response(204)

    def legacy_password(self, req: Request) -> Response:
        self.auth(req)
        body = req.json() or {}
        password = str(body.get("password", ""))
        with self.state.lock:
            target = self._one_auth(req, self.state.legacy)
            check_password(self.ctx.vtuple, password)
            target["password"] = password
        return Response(204)
