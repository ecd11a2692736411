"""``/api/v2/buckets``: buckets, each backed by one engine database ``b_<id>``."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Tuple

from influx_compat.testing._engine import Engine
from influx_compat.testing._http import Request, Response, Route, json_response
from influx_compat.testing._routes_common import Resource, V2Context
from influx_compat.testing._routes_dbrps import remove_dbrp
from influx_compat.testing._state import ApiError, allowed, engine_db, new_id, now

__all__ = ["BucketRoutes", "bucket_json", "create_bucket", "create_engine_database", "drop_bucket"]


def bucket_json(bucket: Dict[str, Any]) -> Dict[str, Any]:
    """A bucket as the API shows it (retention rules, links; private fields left out)."""
    every, shard = bucket["_every"], bucket["_shard"]
    rules = (
        []
        if every == 0 and shard == 0
        else [{"type": "expire", "everySeconds": every, "shardGroupDurationSeconds": shard}]
    )
    out = {k: v for k, v in bucket.items() if not k.startswith("_")}
    out["retentionRules"] = rules
    out["links"] = {
        "self": f"/api/v2/buckets/{bucket['id']}",
        "org": f"/api/v2/orgs/{bucket['orgID']}",
        "members": f"/api/v2/buckets/{bucket['id']}/members",
        "owners": f"/api/v2/buckets/{bucket['id']}/owners",
        "labels": f"/api/v2/buckets/{bucket['id']}/labels",
        "write": f"/api/v2/write?org={bucket['orgID']}&bucket={bucket['id']}",
    }
    out["labels"] = []
    return out


def create_bucket(
    ctx: V2Context,
    org_id: str,
    name: str,
    every: int,
    shard: int,
    description: str = "",
    btype: str = "user",
    rp: Optional[str] = None,
) -> Dict[str, Any]:
    """Create a bucket and its engine database (caller holds the lock)."""
    bucket: Dict[str, Any] = {
        "id": new_id(),
        "orgID": org_id,
        "type": btype,
        "name": name,
        "description": description,
        "createdAt": now(),
        "updatedAt": now(),
        "_every": every,
        "_shard": shard,
    }
    if rp:
        bucket["rp"] = rp
    create_engine_database(ctx.engine, bucket)
    ctx.state.buckets[bucket["id"]] = bucket
    return bucket


def create_engine_database(engine: Engine, bucket: Dict[str, Any]) -> None:
    """The bucket's engine database, with its retention and shard duration."""
    duration = f"{bucket['_every']}s" if bucket["_every"] else "INF"
    engine.execute(
        f'CREATE DATABASE "{engine_db(bucket["id"])}" WITH DURATION {duration} '
        f'REPLICATION 1 SHARD DURATION {bucket["_shard"]}s NAME "autogen"'
    )


def drop_bucket(ctx: V2Context, bucket: Dict[str, Any]) -> None:
    """Delete a bucket, its engine database and its mappings (caller holds the lock)."""
    ctx.engine.execute(f'DROP DATABASE "{engine_db(bucket["id"])}"')
    ctx.state.buckets.pop(bucket["id"], None)
    for mid in [m for m, v in ctx.state.dbrps.items() if v["bucketID"] == bucket["id"]]:
        remove_dbrp(ctx.state, mid)


class BucketRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        b, ident = "/api/v2/buckets", r"/(?P<id>[^/]+)"
        return [
            ("GET", b, self.buckets_list),
            ("POST", b, self.buckets_create),
            ("GET", b + ident, self.bucket_get),
            ("PATCH", b + ident, self.bucket_patch),
            ("DELETE", b + ident, self.bucket_delete),
        ]

    def buckets_list(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            org = self.org_filter(req, False, "")
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
            page = self.page(req, items)
            body = {"links": {"self": "/api/v2/buckets"}, "buckets": [bucket_json(b) for b in page]}
        return json_response(200, body)

    def buckets_create(self, req: Request) -> Response:
        auth = self.auth(req)
        body = req.json() or {}
        org_id = body.get("orgID")
        if not org_id:
            raise ApiError("invalid", "organization id must be provided")
        self.state.check_bucket_name(body.get("name"))
        every, shard = self.state.retention(body.get("retentionRules"))
        with self.state.lock:
            if org_id not in self.state.orgs:
                raise ApiError("not found", "organization not found")
            self.need(auth, "write", "buckets", org_id)
            if self.state.bucket_by_name(org_id, body["name"]):
                raise ApiError("conflict", f"bucket with name {body['name']} already exists")
            bucket = create_bucket(
                self.ctx, org_id, body["name"], every, shard, body.get("description", ""), rp=body.get("rp")
            )
            return json_response(201, bucket_json(bucket))

    def _bucket(self, req: Request) -> Dict[str, Any]:
        bid = req.path_param("id")
        if not re.match(r"^[0-9a-f]{16}$", bid):
            raise ApiError("invalid", "id must have a length of 16 bytes")
        bucket = self.state.buckets.get(bid)
        if bucket is None:
            raise ApiError("not found", "bucket not found")
        return bucket

    def bucket_get(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            bucket = self._bucket(req)
            self.need(auth, "read", "buckets", bucket["orgID"], bucket["id"])
            return json_response(200, bucket_json(bucket))

    def bucket_patch(self, req: Request) -> Response:
        auth = self.auth(req)
        body = req.json() or {}
        with self.state.lock:
            bucket = self._bucket(req)
            self.need(auth, "write", "buckets", bucket["orgID"], bucket["id"])
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
                every, shard = self.state.retention(
                    [{"everySeconds": every, "shardGroupDurationSeconds": shard}]
                )
                duration = f"{every}s" if every else "INF"
                self.engine.execute(
                    f'ALTER RETENTION POLICY "autogen" ON "{engine_db(bucket["id"])}" '
                    f"DURATION {duration} SHARD DURATION {shard}s"
                )
                bucket["_every"], bucket["_shard"] = every, shard
            bucket["updatedAt"] = now()
            return json_response(200, bucket_json(bucket))

    def bucket_delete(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            bucket = self._bucket(req)
            self.need(auth, "write", "buckets", bucket["orgID"], bucket["id"])
            if bucket["type"] == "system":
                raise ApiError("invalid", "system buckets cannot be deleted")
            drop_bucket(self.ctx, bucket)
        return Response(204)
