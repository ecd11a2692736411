"""``/api/v2/users``: users and their passwords (2.x's length rules by version)."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from influx_compat.testing._http import Request, Response, Route, json_response
from influx_compat.testing._routes_common import Resource, links
from influx_compat.testing._state import ApiError, new_id

__all__ = ["UserRoutes", "user_json"]


def user_json(user: Dict[str, Any]) -> Dict[str, Any]:
    out = {k: v for k, v in user.items() if k != "password"}
    out["links"] = links("users", user["id"])
    return out


class UserRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        u, ident = "/api/v2/users", r"/(?P<id>[^/]+)"
        return [
            ("GET", u, self.users_list),
            ("POST", u, self.users_create),
            ("GET", u + ident, self.user_get),
            ("PATCH", u + ident, self.user_patch),
            ("DELETE", u + ident, self.user_delete),
            ("POST", u + ident + "/password", self.user_password),
            ("PUT", u + ident + "/password", self.user_password),
        ]

    def users_list(self, req: Request) -> Response:
        self.auth(req)
        users = list(self.state.users.values())
        for param in ("name", "id"):
            if req.param(param):
                users = [u for u in users if u[param] == req.param(param)]
        return json_response(
            200, {"links": {"self": "/api/v2/users"}, "users": [user_json(u) for u in users]}
        )

    def users_create(self, req: Request) -> Response:
        auth = self.auth(req)
        self.need(auth, "write", "users", None)
        body = req.json() or {}
        name = body.get("name")
        if not name:
            raise ApiError("invalid", "user name is empty")
        with self.state.lock:
            if any(u["name"] == name for u in self.state.users.values()):
                raise ApiError("conflict", f"user with name {name} already exists")
            user = {"id": new_id(), "name": name, "status": body.get("status", "active")}
            self.state.users[user["id"]] = user
        return json_response(201, user_json(user))

    def _user(self, req: Request) -> Dict[str, Any]:
        user = self.state.users.get(req.path_param("id"))
        if user is None:
            raise ApiError("not found", "user not found")
        return user

    def user_get(self, req: Request) -> Response:
        self.auth(req)
        return json_response(200, user_json(self._user(req)))

    def user_patch(self, req: Request) -> Response:
        self.auth(req)
        body = req.json() or {}
        user = self._user(req)
        for key in ("name", "status"):
            if key in body:
                user[key] = body[key]
        return json_response(200, user_json(user))

    def user_delete(self, req: Request) -> Response:
        self.auth(req)
        with self.state.lock:
            user = self._user(req)
            del self.state.users[user["id"]]
        return Response(204)

    def user_password(self, req: Request) -> Response:
        self.auth(req)
        body = req.json() or {}
        password = str(body.get("password", ""))
        check_password(self.ctx.vtuple, password)
        self._user(req)["password"] = password
        return Response(204)


def check_password(version: Tuple[int, ...], password: str) -> None:
    """2.x's password rule, for users and v1 authorizations alike (kit/platform/errors/error_user.go
    MinPasswordLen/MaxPasswordLen, from 2.7.6; v1/authorization/service_password.go SetPassword):
    Go counts bytes."""
    size = len(password.encode("utf-8"))
    if version >= (2, 7, 6):
        if not 8 <= size <= 72:
            raise ApiError("invalid", "passwords must be between 8 and 72 characters long")
    elif size < 8:
        raise ApiError("invalid", "passwords must be at least 8 characters long")
