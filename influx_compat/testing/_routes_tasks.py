"""``/api/v2/tasks``: tasks are stored and listed, never run."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Tuple

from influx_compat.testing._http import Request, Response, Route, json_response
from influx_compat.testing._routes_common import Resource
from influx_compat.testing._state import ApiError, new_id, now

__all__ = ["TaskRoutes"]


class TaskRoutes(Resource):
    def routes(self) -> List[Tuple[str, str, Route]]:
        t, ident = "/api/v2/tasks", r"/(?P<id>[^/]+)"
        return [
            ("GET", t, self.tasks_list),
            ("POST", t, self.tasks_create),
            ("GET", t + ident, self.task_get),
            ("PATCH", t + ident, self.task_patch),
            ("DELETE", t + ident, self.task_delete),
        ]

    def tasks_list(self, req: Request) -> Response:
        self.auth(req)
        tasks = list(self.state.tasks.values())
        if req.param("name"):
            tasks = [t for t in tasks if t["name"] == req.param("name")]
        org = self.org_filter(req, False, "")
        if org is not None:
            tasks = [t for t in tasks if t["orgID"] == org["id"]]
        return json_response(200, {"links": {"self": "/api/v2/tasks"}, "tasks": tasks})

    def tasks_create(self, req: Request) -> Response:
        auth = self.auth(req)
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
        task = {
            "id": new_id(),
            "orgID": org_id,
            "name": name_match.group(1) if name_match else "",
            "flux": flux,
            "status": body.get("status", "active"),
            "every": every_match.group(1) if every_match else None,
            "description": body.get("description", ""),
            "createdAt": now(),
            "updatedAt": now(),
        }
        with self.state.lock:
            self.state.tasks[task["id"]] = task
        return json_response(201, task)

    def _task(self, req: Request) -> Dict[str, Any]:
        task = self.state.tasks.get(req.path_param("id"))
        if task is None:
            raise ApiError("not found", "failed to find task")
        return task

    def task_get(self, req: Request) -> Response:
        self.auth(req)
        return json_response(200, self._task(req))

    def task_patch(self, req: Request) -> Response:
        self.auth(req)
        body = req.json() or {}
        task = self._task(req)
        for key in ("flux", "status", "description"):
            if key in body:
                task[key] = body[key]
        return json_response(200, task)

    def task_delete(self, req: Request) -> Response:
        self.auth(req)
        with self.state.lock:
            task = self._task(req)
            del self.state.tasks[task["id"]]
        return Response(204)
