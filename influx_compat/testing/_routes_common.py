"""What the v2 route modules share: the server context, 2.x authentication, checks, paging."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from influx_compat.testing._engine import Engine
from influx_compat.testing._http import Request
from influx_compat.testing._state import ApiError, State, allowed

__all__ = ["V2Context", "Resource", "v2_auth", "links"]


@dataclass
class V2Context:
    """One v2 server: its state, its engine, and the 2.x version it impersonates."""

    state: State
    engine: Engine
    vtuple: Tuple[int, ...]


def v2_auth(ctx: V2Context, req: Request) -> Dict[str, Any]:
    """The authorization of a /api/v2 request (Token, or Bearer from 2.1)."""
    header = req.header("Authorization") or ""
    scheme, _, token = header.partition(" ")
    ok_schemes = ("token", "bearer") if ctx.vtuple >= (2, 1) else ("token",)
    if scheme.lower() in ok_schemes and token:
        with ctx.state.lock:
            auth = ctx.state.auth_by_token(token.strip())
        if auth is not None:
            if auth.get("status", "active") != "active":
                raise ApiError("forbidden", "token is inactive")
            return auth
    raise ApiError("unauthorized", "unauthorized access")


def links(kind: str, rid: str) -> Dict[str, str]:
    return {"self": f"/api/v2/{kind}/{rid}"}


class Resource:
    """Base of one resource's routes: ``routes()`` lists (method, path pattern, handler)."""

    def __init__(self, ctx: V2Context) -> None:
        self.ctx = ctx
        self.state = ctx.state
        self.engine = ctx.engine

    def auth(self, req: Request) -> Dict[str, Any]:
        return v2_auth(self.ctx, req)

    @staticmethod
    def need(
        auth: Dict[str, Any], action: str, rtype: str, org_id: Optional[str], rid: Optional[str] = None
    ) -> None:
        if not allowed(auth, action, rtype, org_id, rid):
            path = f"orgs/{org_id}/{rtype}" if org_id else rtype
            if rid:
                path += f"/{rid}"
            raise ApiError("unauthorized", f"{action}:{path} is unauthorized")

    def org_filter(self, req: Request, required: bool, message: str) -> Optional[Dict[str, Any]]:
        org_id, org = req.param("orgID"), req.param("org")
        if not org_id and not org:
            if required:
                raise ApiError("invalid", message)
            return None
        if org_id:
            found = self.state.orgs.get(org_id)
            if found is None:
                raise ApiError("not found", "organization not found")
            return found
        assert org is not None
        found = self.state.org_by_name(org)
        if found is None:
            raise ApiError("not found", f'organization name "{org}" not found')
        return found

    @staticmethod
    def page(req: Request, items: List[Any]) -> List[Any]:
        limit = int(req.param("limit") or 20)
        if not 1 <= limit <= 100:
            raise ApiError("invalid", "limit must be between 1 and 100")
        offset = int(req.param("offset") or 0)
        after = req.param("after")
        if after:
            ids = [i["id"] for i in items]
            if after in ids:
                items = items[ids.index(after) + 1 :]
        return items[offset : offset + limit]
