"""``/api/v2/setup``, ``/api/v2`` and ``/api/v2/me``: onboarding and who-am-I."""

from __future__ import annotations

import secrets
from typing import Any, Dict, List, Optional, Tuple

from influx_compat.testing._http import Request, Response, Route, json_response
from influx_compat.testing._routes_buckets import bucket_json, create_bucket
from influx_compat.testing._routes_common import Resource, V2Context
from influx_compat.testing._routes_users import user_json
from influx_compat.testing._state import ApiError, new_id, now, operator_permissions

__all__ = ["SetupRoutes", "onboard"]


def onboard(
    ctx: V2Context,
    username: str,
    password: Optional[str],
    org_name: str,
    bucket_name: str,
    retention: int,
    token: Optional[str],
) -> Dict[str, Any]:
    """2.x's onboarding: a user, an org, its bucket (plus the system buckets) and an operator token."""
    state = ctx.state
    with state.lock:
        user: Dict[str, Any] = {"id": new_id(), "name": username, "status": "active", "password": password}
        org: Dict[str, Any] = {
            "id": new_id(),
            "name": org_name,
            "description": "",
            "createdAt": now(),
            "updatedAt": now(),
        }
        state.users[user["id"]] = user
        state.orgs[org["id"]] = org
        shard = state.retention([{"everySeconds": retention}] if retention else [])[1]
        bucket = create_bucket(ctx, org["id"], bucket_name, retention, shard)
        create_bucket(ctx, org["id"], "_monitoring", 7 * 86400, 86400, btype="system")
        create_bucket(ctx, org["id"], "_tasks", 3 * 86400, 86400, btype="system")
        auth: Dict[str, Any] = {
            "id": new_id(),
            "token": token or secrets.token_urlsafe(48),
            "status": "active",
            "description": f"{username}'s Token",
            "orgID": org["id"],
            "userID": user["id"],
            "permissions": operator_permissions(),
            "createdAt": now(),
            "updatedAt": now(),
        }
        state.auths[auth["id"]] = auth
    return {
        "user": {k: v for k, v in user.items() if k != "password"},
        "org": org,
        "bucket": bucket_json(bucket),
        "auth": {k: v for k, v in auth.items() if not k.startswith("_")},
    }


class SetupRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        return [
            ("GET", "/api/v2/setup", self.setup_get),
            ("POST", "/api/v2/setup", self.setup_post),
            ("GET", "/api/v2", self.root),
            ("GET", "/api/v2/me", self.me),
        ]

    def setup_get(self, req: Request) -> Response:
        return json_response(200, {"allowed": not self.state.orgs})

    def setup_post(self, req: Request) -> Response:
        body = req.json() or {}
        if self.state.orgs:
            raise ApiError("conflict", "onboarding has already been completed")
        for key, label in (("username", "username"), ("org", "org name"), ("bucket", "bucket name")):
            if not body.get(key):
                raise ApiError("empty value", f"{label} is empty")
        result = onboard(
            self.ctx,
            body["username"],
            body.get("password"),
            body["org"],
            body["bucket"],
            int(body.get("retentionPeriodSeconds") or 0),
            body.get("token"),
        )
        return json_response(201, result)

    def root(self, req: Request) -> Response:
        return json_response(
            200,
            {
                "buckets": "/api/v2/buckets",
                "orgs": "/api/v2/orgs",
                "dbrps": "/api/v2/dbrps",
                "write": "/api/v2/write",
                "delete": "/api/v2/delete",
                "setup": "/api/v2/setup",
            },
        )

    def me(self, req: Request) -> Response:
        auth = self.auth(req)
        user = self.state.users.get(auth.get("userID") or "")
        if user is None:
            raise ApiError("not found", "user not found")
        return json_response(200, user_json(user))
