"""``POST /api/v2/delete``: a time range and a predicate, run as an InfluxQL DELETE on the engine."""

from __future__ import annotations

from typing import Any, List, Tuple

from influx_compat.testing._delete_predicate import esc_ident, parse_predicate
from influx_compat.testing._http import Request, Response, Route
from influx_compat.testing._rfc3339 import parse_rfc3339
from influx_compat.testing._routes_common import Resource
from influx_compat.testing._state import ApiError, allowed, engine_db

__all__ = ["DeleteRoutes"]

_MIN_TIME = "1677-09-21T00:12:43.145224194Z"
_MAX_TIME = "2262-04-11T23:47:16.854775806Z"


def _time(value: Any, field: str) -> int:
    """Nanoseconds of an RFC3339Nano time, or 2.x's 400 for the field."""
    try:
        if isinstance(value, str):
            return parse_rfc3339(value)
    except ValueError:
        pass
    raise ApiError(
        "invalid",
        f"invalid RFC3339Nano for field {field}, please format your time with "
        "RFC3339Nano format, example: 2009-01-02T23:00:00Z",
    )


class DeleteRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        return [("POST", "/api/v2/delete", self.delete)]

    def delete(self, req: Request) -> Response:
        auth = self.auth(req)
        with self.state.lock:
            org = self.state.find_org(req.param("org"), req.param("orgID"))
            ref = req.param("bucketID") or req.param("bucket")
            if not ref:
                raise ApiError("not found", "bucket not found")
            bucket = self.state.find_bucket(org["id"], ref)
        if not allowed(auth, "write", "buckets", org["id"], bucket["id"]):
            raise ApiError("forbidden", "insufficient permissions to delete")
        body = req.json() or {}
        start = _time(body.get("start"), "start")
        stop = _time(body.get("stop"), "stop")
        if start < parse_rfc3339(_MIN_TIME):
            raise ApiError("invalid", f"invalid start time, start time must not be before {_MIN_TIME}")
        if stop > parse_rfc3339(_MAX_TIME):
            raise ApiError("invalid", f"invalid stop time, stop time must not be after {_MAX_TIME}")
        measurement, conditions = parse_predicate(body.get("predicate") or "")
        where = conditions + [f"time >= {start}", f"time <= {stop}"]
        source = f' FROM "{esc_ident(measurement)}"' if measurement is not None else ""
        self.engine.execute(f"DELETE{source} WHERE " + " AND ".join(where), engine_db(bucket["id"]))
        return Response(204)
