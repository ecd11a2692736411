"""Which kind of InfluxDB server a client talks to, and how that is found out.

Two API generations share the 1.x-compatible ``/write`` and ``/query``
endpoints but differ everywhere else:

* InfluxDB 2.x OSS and Cloud, and Cloud Serverless: the v2 API (orgs,
  buckets, DBRP mappings, ``/api/v2/write``);
* InfluxDB 3 Core and Enterprise: databases, ``/api/v3/write_lp`` and the
  ``/api/v3/configure`` REST API; Cloud Dedicated and Clustered (IOx): the
  data API only (``/api/v2/write``, ``/query``), databases managed elsewhere.

The flavour is given (``flavour=`` or ``INFLUX_COMPAT_FLAVOUR``), or read from
the server's first answers, which carry decisive headers: 3 Core and
Enterprise put ``cluster-uuid`` on every answer (influxdb3_server/src/http.rs),
2.x OSS says ``X-Influxdb-Build: OSS``, the IOx query handler says
``cloud2`` (core/iox_v1_query_api/src/handler.rs), as Cloud 2 does.
"""

from __future__ import annotations

import enum
from typing import Mapping, Optional, Tuple
from urllib.parse import urlsplit

__all__ = ["Flavour", "parse_flavour", "classify", "flavour_from_url", "FLAVOUR_HELP"]


class Flavour(enum.Enum):
    """A kind of InfluxDB server; the value is the name users give."""

    V2 = "v2"
    SERVERLESS = "serverless"
    CORE = "core"
    ENTERPRISE = "enterprise"
    DEDICATED = "dedicated"
    CLUSTERED = "clustered"

    @property
    def v3(self) -> bool:
        """True for the InfluxDB 3 APIs (Core, Enterprise, Dedicated, Clustered)."""
        return self in (Flavour.CORE, Flavour.ENTERPRISE, Flavour.DEDICATED, Flavour.CLUSTERED)

    @property
    def iox(self) -> bool:
        """True for the data API of Cloud Dedicated and Clustered."""
        return self in (Flavour.DEDICATED, Flavour.CLUSTERED)

    @property
    def product(self) -> str:
        return _PRODUCTS[self]


_PRODUCTS = {
    Flavour.V2: "InfluxDB 2.x",
    Flavour.SERVERLESS: "InfluxDB Cloud Serverless",
    Flavour.CORE: "InfluxDB 3 Core",
    Flavour.ENTERPRISE: "InfluxDB 3 Enterprise",
    Flavour.DEDICATED: "InfluxDB Cloud Dedicated",
    Flavour.CLUSTERED: "InfluxDB Clustered",
}

_ALIASES = {
    "2": Flavour.V2,
    "v2": Flavour.V2,
    "2.x": Flavour.V2,
    "oss": Flavour.V2,
    "v2-oss": Flavour.V2,
    "cloud": Flavour.V2,
    "cloud2": Flavour.V2,
    "v2-cloud": Flavour.V2,
    "serverless": Flavour.SERVERLESS,
    "cloud-serverless": Flavour.SERVERLESS,
    "core": Flavour.CORE,
    "3": Flavour.CORE,
    "v3": Flavour.CORE,
    "v3-core": Flavour.CORE,
    "enterprise": Flavour.ENTERPRISE,
    "v3-enterprise": Flavour.ENTERPRISE,
    "dedicated": Flavour.DEDICATED,
    "cloud-dedicated": Flavour.DEDICATED,
    "clustered": Flavour.CLUSTERED,
}

FLAVOUR_HELP = (
    "influx_compat reads the server's kind from its answers; to say it yourself, pass "
    "flavour='v2'|'serverless'|'core'|'enterprise'|'dedicated'|'clustered' to the client, or set "
    "INFLUX_COMPAT_FLAVOUR."
)


def parse_flavour(value: str, source: str) -> Flavour:
    """The flavour a user named (``'core'``, ``'v2'``, ...).

    :raises ValueError: for a name that is none of them, saying where it came from
    """
    found = _ALIASES.get(value.strip().lower())
    if found is None:
        raise ValueError(
            f"unknown InfluxDB flavour {value!r} from {source}: use one of "
            + ", ".join(repr(f.value) for f in Flavour)
        )
    return found


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    return value.strip() if isinstance(value, str) else ""


def classify(headers: Mapping[str, str]) -> Tuple[Optional[Flavour], str]:
    """The flavour an answer's headers prove, with the evidence; (None, '') when they prove none.

    ``headers`` must look names up case-insensitively (requests' headers do).
    ``cloud2`` is not decisive alone: Cloud 2 (TSM), Serverless and
    Dedicated all send it; it yields DEDICATED only with a URL that says so
    (see :func:`flavour_from_url`).
    """
    build = _header(headers, "X-Influxdb-Build")
    version = _header(headers, "X-Influxdb-Version")
    lowered = build.lower()
    if lowered == "enterprise":
        return Flavour.ENTERPRISE, f"X-Influxdb-Build: {build}"
    if lowered == "core":
        return Flavour.CORE, f"X-Influxdb-Build: {build}"
    if headers.get("cluster-uuid") is not None:
        # Every answer of 3 Core and Enterprise carries it, 401s included.
        return Flavour.CORE, "a cluster-uuid header"
    if version.lower().startswith("influxqlbridged"):
        return Flavour.CLUSTERED, f"X-Influxdb-Version: {version}"
    if version.startswith(("v1.", "1.")):
        return None, ""  # InfluxDB 1.x sends X-Influxdb-Build: OSS too: no flavour the shim serves
    if lowered == "oss" or version.startswith(("v2.", "2.")):
        return Flavour.V2, f"X-Influxdb-Build: {build or '-'}, X-Influxdb-Version: {version or '-'}"
    return None, ""


def flavour_from_url(url: str) -> Optional[Flavour]:
    """The flavour a Cloud host name proves (Dedicated: ``*.a.influxdb.io``)."""
    host = (urlsplit(url).hostname or "").lower()
    if host.endswith(".a.influxdb.io"):
        return Flavour.DEDICATED
    return None
