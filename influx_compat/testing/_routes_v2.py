"""The ``/api/v2`` management routes of the v2 test server, one module per resource.

Setup, orgs, buckets, DBRP mappings, delete, authorizations (tokens and v1
credentials), users and tasks; this module only puts their tables together,
in the order the dispatcher tries them.
"""

from __future__ import annotations

from typing import List, Tuple

from influx_compat.testing._http import Route
from influx_compat.testing._routes_auths import AuthorizationRoutes
from influx_compat.testing._routes_buckets import BucketRoutes
from influx_compat.testing._routes_common import V2Context
from influx_compat.testing._routes_dbrps import DbrpRoutes
from influx_compat.testing._routes_delete import DeleteRoutes
from influx_compat.testing._routes_orgs import OrgRoutes
from influx_compat.testing._routes_setup import SetupRoutes
from influx_compat.testing._routes_tasks import TaskRoutes
from influx_compat.testing._routes_users import UserRoutes

__all__ = ["v2_routes"]

_RESOURCES = (
    SetupRoutes,
    OrgRoutes,
    BucketRoutes,
    DbrpRoutes,
    DeleteRoutes,
    AuthorizationRoutes,
    UserRoutes,
    TaskRoutes,
)


def v2_routes(ctx: V2Context) -> List[Tuple[str, str, Route]]:
    """(method, path pattern, handler) of every /api/v2 and /private/legacy route."""
    return [route for resource in _RESOURCES for route in resource(ctx).routes()]
