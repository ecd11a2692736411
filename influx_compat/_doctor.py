"""``influx-compat doctor``: check a configuration the way a support engineer would.

    python -m influx_compat doctor [--url URL] [--org ORG] [--flavour F] [DATABASE ...]

Each check prints one line, ``[ok]``, ``[warn]``, ``[FAIL]``, ``[info]`` or
``[skip]``, and, when something is wrong, the fix.  In order:

1. settings: which source each setting came from (argument, environment, the
   ``influx`` CLI's profile, influxdb-python's default), secrets never shown;
2. server: reachable at the URL (``GET /ping``);
3. version and flavour: 2.x, Cloud Serverless, 3 Core/Enterprise, Cloud
   Dedicated/Clustered, or a 1.x server (which needs no shim);
4. token: accepted by the server (Cloud Dedicated and Clustered: the
   management token too, by the Management API);
5. organization (2.x): found, or the ones the token can read;
6. each DATABASE given: its DBRP mappings, their buckets and the default
   retention policy (2.x), the database (3.x);
7. the 1.x-compatible ``/query`` and ``/write`` endpoints answering (an empty
   write without a database: nothing is stored, nothing is created);
8. the launcher: whether ``python -m influx_compat run`` would shadow an
   installed influxdb-python.

Every request is read-only.  The exit status is 1 when a check failed, else 0.
"""

from __future__ import annotations

import argparse
import importlib.machinery
import json
import re
import sys
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence, TextIO, Tuple

import requests

from influx_compat._config import Settings, resolve_settings
from influx_compat._core import Core
from influx_compat._flavour import Flavour, classify, parse_flavour
from influx_compat._transport import error_message
from influx_compat.exceptions import AuthenticationError, InfluxDBClientError, InfluxDBServerError

__all__ = ["Check", "Doctor", "main", "OK", "WARN", "FAIL", "INFO", "SKIP"]

OK, WARN, FAIL, INFO, SKIP = "ok", "warn", "FAIL", "info", "skip"
_ID = re.compile(r"^[0-9a-f]{16}$")
_TEST_SERVER = "python -m influx_compat.testing (the test server)"


@dataclass(frozen=True)
class Check:
    """The outcome of one check.

    :ivar name: what was checked (``server``, ``token``, ``database 'db'`` ...)
    :ivar status: ``ok``, ``warn``, ``FAIL``, ``info`` or ``skip``
    :ivar detail: what was found
    :ivar fix: what to do about it (empty when nothing is wrong)
    """

    name: str
    status: str
    detail: str
    fix: str = ""

    def render(self) -> str:
        """``[status] name: detail``, the detail's further lines and the fix indented below."""
        first, *more = self.detail.split("\n")
        lines = [f"[{self.status}]".ljust(7) + f"{self.name}: {first}"] + [" " * 9 + line for line in more]
        if self.fix:
            lines.append(" " * 7 + f"fix: {self.fix}")
        return "\n".join(lines)


class _Stop(Exception):
    """The checks after this one cannot run (no server, a 1.x server)."""


class Doctor:
    """Runs the checks of one configuration.

    :param databases: 1.x database names to check (``db``)
    :param options: client settings as :func:`~influx_compat._config.resolve_settings`
        takes them (``url``, ``org``, ``flavour``, ``env``, ...)
    :param timeout: seconds to wait for each answer
    """

    def __init__(
        self,
        databases: Sequence[str] = (),
        options: Optional[Mapping[str, Any]] = None,
        timeout: float = 10.0,
    ) -> None:
        self.databases = list(databases)
        self.options = dict(options or {})
        self.timeout = timeout
        self.checks: List[Check] = []
        self.core: Optional[Core] = None
        self.flavour: Optional[Flavour] = None
        self.token_ok = False
        self.orgs: List[Dict[str, Any]] = []
        self.org_id: Optional[str] = None
        self.v3_databases: Optional[List[str]] = None

    @property
    def failed(self) -> bool:
        return any(c.status == FAIL for c in self.checks)

    def add(self, name: str, status: str, detail: str, fix: str = "") -> None:
        self.checks.append(Check(name, status, detail, fix))

    def run(self) -> List[Check]:
        """Run every check that can run; the checks in order."""
        steps = [
            ("settings", self.check_settings),
            ("server", self.check_server),
            ("token", self.check_token),
            ("org", self.check_org),
            ("databases", self.check_databases),
            ("/query and /write", self.check_endpoints),
        ]
        for index, (_, step) in enumerate(steps):
            try:
                step()
            except _Stop as stop:
                for later, _ in steps[index + 1 :]:
                    self.add(later, SKIP, str(stop))
                break
        self.check_launcher()
        return self.checks

    # -- requests ---------------------------------------------------------------

    @property
    def settings(self) -> Settings:
        assert self.core is not None
        return self.core.settings

    def _get(self, path: str, params: Optional[Dict[str, Any]] = None) -> requests.Response:
        assert self.core is not None
        return self.core.transport.request("GET", path, params=params, raw=True)

    def _refused(self, response: requests.Response) -> str:
        return f"{response.status_code} {error_message(response)}".strip()

    # -- 1. settings --------------------------------------------------------------

    def check_settings(self) -> None:
        try:
            settings = resolve_settings(**self.options)
        except (ValueError, TypeError) as exc:
            self.add("settings", FAIL, str(exc), "correct the setting named above")
            raise _Stop("the settings could not be read") from None
        creds = settings.credentials
        lines = ["where each setting came from:", f"URL {settings.base_url} from {settings.base_url_source}"]
        if creds.token:
            lines.append(f"token ({len(creds.token)} characters) from {creds.token_source}")
        elif creds.has_legacy:
            lines.append(f"no token; the v1 user {creds.username!r} and its password (HTTP Basic)")
        else:
            lines.append("no token")
        lines.append(f"org {settings.org!r} from {settings.org_source}" if settings.org else "no org")
        if settings.flavour is not None:
            lines.append(f"flavour {settings.flavour.value!r} from {settings.flavour_source}")
        else:
            lines.append("flavour read from the server's answers")
        management = settings.management
        if management.token:
            lines.append(
                "Management API token set"
                + (f", account {management.account_id}" if management.account_id else "")
                + (f", cluster {management.cluster_id}" if management.cluster_id else "")
            )
        status, fix = OK, ""
        if not creds.token and not creds.has_legacy:
            status = WARN
            fix = (
                "set INFLUX_TOKEN (and INFLUX_ORG for 2.x), or run 'influx config create' so that "
                "~/.influxdbv2/configs has an active profile"
            )
        self.add("settings", status, "\n".join(lines), fix)
        self.core = Core.from_options(timeout=self.timeout, retries=1, **self.options)

    # -- 2. server, version and flavour -----------------------------------------------

    def check_server(self) -> None:
        url = self.settings.base_url
        try:
            ping = self._get("ping")
        except requests.exceptions.RequestException as exc:
            self.add(
                "server",
                FAIL,
                f"no answer from {url} (from {self.settings.base_url_source}): {_reason(exc)}",
                f"start the server, or point INFLUX_HOST at it (a local one to try: {_TEST_SERVER})",
            )
            raise _Stop(f"{url} does not answer") from None
        self.add("server", OK, f"{url} answers (GET /ping: {ping.status_code})")
        version = ping.headers.get("X-Influxdb-Version", "")
        if not version and ping.status_code == 200:
            try:
                version = str(ping.json().get("version") or "")
            except ValueError:
                version = ""
        if version.lstrip("v").startswith("1."):
            self.add(
                "version",
                FAIL,
                f"InfluxDB {version} is a 1.x server: influx_compat translates 1.x programs onto 2.x and 3",
                "run the program with influxdb-python itself (pip install influxdb==5.3.2, no launcher), or "
                "point INFLUX_HOST at the InfluxDB 2.x or 3 server",
            )
            raise _Stop("the server is InfluxDB 1.x")
        found, evidence = classify(ping.headers)
        if found is None and ping.headers.get("X-Influxdb-Build", "").lower() == "cloud2":
            found, evidence = self._cloud2()
        given = self.settings.flavour
        status, fix = OK, ""
        if given is not None and found is not None and given is not found and not (given.v3 and found.v3):
            status = WARN
            fix = (
                f"the flavour set from {self.settings.flavour_source} ({given.value!r}) is not what the "
                f"server says ({found.value!r}): unset it, or set INFLUX_COMPAT_FLAVOUR={found.value}"
            )
        self.flavour = given or found
        if self.flavour is None:
            self.add(
                "version",
                WARN,
                f"the server's kind is not in its answer to /ping ({_headers(ping)}); assuming InfluxDB 2.x",
                "set INFLUX_COMPAT_FLAVOUR=v2|serverless|core|enterprise|dedicated|clustered",
            )
            self.flavour = Flavour.V2
        else:
            shown = version or "(version not shown: /ping needs a valid token on InfluxDB 3)"
            how = f"set from {self.settings.flavour_source}" if given else f"from {evidence}"
            self.add("version", status, f"{self.flavour.product} {shown}, {how}", fix)
        # The checks below use a core that knows the flavour, as the client would after its first answer.
        self.core = Core.from_options(
            timeout=self.timeout, retries=1, **dict(self.options, flavour=self.flavour.value)
        )

    def _cloud2(self) -> Tuple[Optional[Flavour], str]:
        """Cloud 2, Serverless and Dedicated all say cloud2: their orgs tell them apart."""
        orgs = self._get("api/v2/orgs")
        if orgs.status_code == 404:
            return Flavour.DEDICATED, "/ping saying cloud2 and no /api/v2/orgs"
        if orgs.status_code == 200:
            storage = {o.get("defaultStorageType") for o in orgs.json().get("orgs", [])}
            if "iox" in storage:
                return Flavour.SERVERLESS, "/ping saying cloud2 and the org's defaultStorageType 'iox'"
            return Flavour.V2, "/ping saying cloud2 and the org's defaultStorageType"
        return None, ""

    # -- 3. token ------------------------------------------------------------------

    def check_token(self) -> None:
        assert self.core is not None and self.flavour is not None
        auth = self.core.transport.auth
        product = self.flavour.product
        if auth.token is None and auth.basic is None:
            self.add("token", FAIL, f"no credentials to give {product}", _token_fix(self.flavour))
            return
        if self.flavour.iox:
            self._dedicated_token()
            if self.settings.management.token:
                self._management()
            return
        if self.flavour.v3:
            response = self._get("api/v3/configure/database", {"format": "json"})
        elif auth.token is None:
            response = self._get("query", {"q": "SHOW DATABASES"})  # v1 credentials: /query only
        else:
            response = self._get("api/v2/orgs", {"limit": 100})
        if response.status_code == 401:
            self.add(
                "token",
                FAIL,
                f"{product} refused {auth.described} ({self._refused(response)})",
                _token_fix(self.flavour),
            )
            return
        if response.status_code == 403:
            self.token_ok = True
            self.add(
                "token",
                WARN,
                f"{product} accepts {auth.described}, but it may not read "
                f"{_path(response)} ({self._refused(response)})",
                "give a token with read permissions on the organization and its buckets",
            )
            return
        if response.status_code != 200:
            self.add("token", WARN, f"{_path(response)} answered {self._refused(response)}")
            return
        self.token_ok = True
        if self.flavour.v3:
            self.v3_databases = [str(row.get("iox::database")) for row in _json_list(response)]
        elif auth.token is not None:
            self.orgs = [o for o in response.json().get("orgs", []) if isinstance(o, dict)]
        self.add("token", OK, f"{product} accepts {auth.described}")

    def _dedicated_token(self) -> None:
        assert self.core is not None and self.flavour is not None
        if not self.databases:
            self.add(
                "token",
                SKIP,
                f"a {self.flavour.product} database token can only be tried on a database",
                "name one: python -m influx_compat doctor DATABASE",
            )
            return
        response = self._get("query", {"q": "SHOW MEASUREMENTS LIMIT 1", "db": self.databases[0]})
        if response.status_code in (401, 403):
            self.add(
                "token",
                FAIL,
                f"{self.flavour.product} refused {self.core.transport.auth.described} on "
                f"database {self.databases[0]!r} ({self._refused(response)})",
                _token_fix(self.flavour),
            )
            return
        self.token_ok = True
        self.add(
            "token",
            OK,
            f"{self.flavour.product} accepts {self.core.transport.auth.described} "
            f"(a query on {self.databases[0]!r})",
        )

    def _management(self) -> None:
        """Cloud Dedicated and Clustered: the Management API, where databases are created and listed."""
        assert self.core is not None and self.flavour is not None
        try:
            names = [d["name"] for d in self.core.list_databases()]
        except AuthenticationError as exc:
            self.add(
                "management",
                FAIL,
                "the Management API refused the management token from INFLUX_MANAGEMENT_TOKEN "
                f"({exc.content})",
                "set INFLUX_MANAGEMENT_TOKEN to a management token of this account (influxctl management "
                "create), not a database token",
            )
        except (InfluxDBClientError, InfluxDBServerError, requests.exceptions.RequestException) as exc:
            self.add(
                "management",
                FAIL,
                f"listing the databases through the Management API failed: {exc}",
                "check INFLUX_ACCOUNT_ID, INFLUX_CLUSTER_ID and INFLUX_MANAGEMENT_URL (Clustered: the "
                "console's URL)",
            )
        else:
            shown = ", ".join(names) or "none"
            self.add(
                "management", OK, f"the Management API accepts the management token (databases: {shown})"
            )

    # -- 4. organization -------------------------------------------------------------

    def check_org(self) -> None:
        assert self.flavour is not None
        org, source = self.settings.org, self.settings.org_source
        if self.flavour.v3:
            if org:
                self.add(
                    "org",
                    INFO,
                    f"{self.flavour.product} has no organizations: {org!r} from {source} is not used",
                )
            return
        if not self.token_ok or self.core is None or self.core.transport.auth.token is None:
            self.add("org", SKIP, "needs a token the server accepts (the v2 API)")
            return
        visible = ", ".join(repr(o.get("name")) for o in self.orgs) or "none"
        if not org:
            if len(self.orgs) == 1:
                self.org_id = str(self.orgs[0].get("id"))
                self.add(
                    "org",
                    OK,
                    f"none set: the only org the token can read, {self.orgs[0].get('name')!r}, is used",
                )
            else:
                self.add(
                    "org",
                    FAIL,
                    f"none set, and the token can read {len(self.orgs)} ({visible})",
                    "set INFLUX_ORG (or pass org=) to one of them",
                )
            return
        response = self._get(f"api/v2/orgs/{org}") if _ID.match(org) else None
        if response is not None and response.status_code == 200:
            self.org_id = org
            self.add("org", OK, f"org ID {org} ({response.json().get('name')!r}) from {source} found")
            return
        response = self._get("api/v2/orgs", {"org": org})
        found = response.json().get("orgs", []) if response.status_code == 200 else []
        if found:
            self.org_id = str(found[0].get("id"))
            self.add("org", OK, f"{org!r} from {source} found (ID {self.org_id})")
            return
        self.add(
            "org",
            FAIL,
            f"{org!r} from {source} is not an org the token can read (it can read: {visible})",
            "set INFLUX_ORG (or pass org=) to the org's name or ID"
            + (f", e.g. INFLUX_ORG={self.orgs[0].get('name')}" if self.orgs else ""),
        )

    # -- 5. databases ----------------------------------------------------------------

    def check_databases(self) -> None:
        assert self.flavour is not None
        if not self.databases:
            self.add(
                "databases",
                INFO,
                "none named: add database names to check them (python -m influx_compat doctor DATABASE ...)",
            )
            return
        for database in self.databases:
            if not self.token_ok:
                self.add(f"database {database!r}", SKIP, "needs a token the server accepts")
            elif self.flavour.iox:
                self._iox_database(database)
            elif self.flavour.v3:
                self._v3_database(database)
            elif self.org_id is None:
                self.add(f"database {database!r}", SKIP, "needs the organization (see org)")
            else:
                self._v2_database(database)

    def _v2_database(self, database: str) -> None:
        name = f"database {database!r}"
        response = self._get("api/v2/dbrps", {"orgID": self.org_id, "db": database})
        mappings = (
            [m for m in response.json().get("content") or [] if m.get("database") == database]
            if response.status_code == 200
            else []
        )
        if not mappings:
            bucket = self._bucket_named(database)
            create = f"client.create_database({database!r}) (a bucket and its DBRP mapping)"
            if bucket is None:
                self.add(
                    name,
                    FAIL,
                    f"no DBRP mapping and no bucket named {database!r}: writes and queries of "
                    f"{database!r} fail with 'database not found'",
                    f"create it: {create}",
                )
            else:
                self.add(
                    name,
                    FAIL,
                    f"bucket {database!r} ({bucket.get('id')}) exists but no DBRP mapping: "
                    f"/query cannot find {database!r}",
                    f"influx v1 dbrp create --db {database} --rp autogen --bucket-id {bucket.get('id')} "
                    f"--default, or {create}",
                )
            return
        parts: List[str] = []
        broken: List[str] = []
        for m in mappings:
            answer = self._get(f"api/v2/buckets/{m.get('bucketID')}")
            label = f"{database}/{m.get('retention_policy')}"
            if answer.status_code != 200:
                broken.append(f"{label} points at bucket {m.get('bucketID')}, which does not exist")
                continue
            flags = [w for w, on in (("default", m.get("default")), ("virtual", m.get("virtual"))) if on]
            parts.append(
                f"{label} -> bucket {answer.json().get('name')!r}"
                + (f" ({', '.join(flags)})" if flags else "")
            )
        if broken:
            self.add(
                name,
                FAIL,
                "; ".join(broken + parts),
                f"delete the mapping (influx v1 dbrp delete --id ...) and map it to a bucket that exists, "
                f"or client.drop_database({database!r}) then client.create_database({database!r})",
            )
            return
        defaults = [m for m in mappings if m.get("default")]
        if not defaults:
            first = mappings[0]
            self.add(
                name,
                FAIL,
                "; ".join(parts) + ": no default retention policy, so writes and queries "
                "without retention_policy= find no bucket",
                # A virtual mapping (from a bucket named db/rp) is not stored: it cannot be updated.
                f"influx v1 dbrp create --db {database} --rp {first.get('retention_policy')} --bucket-id "
                f"{first.get('bucketID')} --default"
                if first.get("virtual")
                else f"influx v1 dbrp update --id {first.get('id')} --default, or "
                f"client.alter_retention_policy({first.get('retention_policy')!r}, database={database!r}, "
                "default=True)",
            )
            return
        self.add(name, OK, "; ".join(parts))

    def _bucket_named(self, name: str) -> Optional[Dict[str, Any]]:
        response = self._get("api/v2/buckets", {"orgID": self.org_id, "name": name})
        if response.status_code != 200:
            return None
        buckets = [b for b in response.json().get("buckets", []) if b.get("name") == name]
        return buckets[0] if buckets else None

    def _v3_database(self, database: str) -> None:
        names = self.v3_databases or []
        name = f"database {database!r}"
        policies = [n for n in names if n.startswith(database + "/")]
        also = f" (retention policies as databases: {', '.join(policies)})" if policies else ""
        if database in names:
            self.add(name, OK, f"present{also}")
            return
        existing = ", ".join(n for n in names if n != "_internal") or "none"
        self.add(
            name,
            FAIL,
            f"not on the server{also} (its databases: {existing})",
            f"create it: client.create_database({database!r}) or 'influxdb3 create database {database}' "
            "(a write to a missing database also creates it on InfluxDB 3)",
        )

    def _iox_database(self, database: str) -> None:
        response = self._get("query", {"q": "SHOW MEASUREMENTS LIMIT 1", "db": database})
        name = f"database {database!r}"
        error = _statement_error(response)
        if response.status_code == 200 and error is None:
            self.add(name, OK, "present (it answers queries)")
        elif error is not None and "not found" in error:
            self.add(
                name,
                FAIL,
                f"not on the server ({error})",
                f"create it: influxctl database create {database} (or client.create_database with "
                "INFLUX_MANAGEMENT_TOKEN, INFLUX_ACCOUNT_ID and INFLUX_CLUSTER_ID set)",
            )
        else:
            self.add(name, WARN, f"a query answered {error or self._refused(response)}")

    # -- 6. the 1.x endpoints ---------------------------------------------------------------

    def check_endpoints(self) -> None:
        query = self._get("query", {"q": "SHOW DATABASES"})
        if query.status_code == 200:
            self.add("/query", OK, "answers (SHOW DATABASES)")
        elif query.status_code in (401, 403):
            self.add(
                "/query",
                FAIL,
                f"refused the credentials ({self._refused(query)})",
                _token_fix(self.flavour or Flavour.V2),
            )
        else:
            self.add(
                "/query",
                FAIL,
                f"GET /query answered {self._refused(query)}",
                "the server does not serve InfluxDB 1.x's /query: check the URL (a path prefix? a proxy?)",
            )
        assert self.core is not None
        # An empty body without a database: every server answers 400 naming the missing database, stores
        # nothing and creates nothing (InfluxDB 3 creates a database written to).
        write = self.core.transport.request("POST", "write", data=b"", raw=True)
        message = error_message(write)
        if write.status_code == 400 and re.search(r"\bdb\b|database", message):
            self.add(
                "/write", OK, f"answers (an empty write without a database: {write.status_code} {message})"
            )
        elif write.status_code in (401, 403):
            self.add(
                "/write",
                FAIL,
                f"refused the credentials ({self._refused(write)})",
                _token_fix(self.flavour or Flavour.V2),
            )
        elif write.status_code in (404, 405):
            self.add(
                "/write",
                FAIL,
                f"POST /write answered {self._refused(write)}",
                "the server does not serve InfluxDB 1.x's /write: check the URL (a path prefix? a proxy?)",
            )
        else:
            self.add("/write", WARN, f"an empty write answered {self._refused(write)}")

    # -- 7. the launcher ----------------------------------------------------------------

    def check_launcher(self) -> None:
        # PathFinder skips sys.meta_path, where the launcher's finder sits when it is installed.
        spec = importlib.machinery.PathFinder.find_spec("influxdb")
        if spec is None or spec.origin is None:
            self.add(
                "launcher",
                OK,
                "influxdb-python is not installed: `import influxdb` resolves to "
                "influx_compat under python -m influx_compat run (or after influx_compat.install())",
            )
            return
        try:
            from importlib.metadata import version

            installed = f"influxdb-python {version('influxdb')}"
        except Exception:  # noqa: BLE001 - a missing or odd distribution record: the path still says it
            installed = "influxdb-python"
        self.add(
            "launcher",
            INFO,
            f"{installed} is installed ({spec.origin}): python -m influx_compat run and "
            "influx_compat.install() shadow it, so `import influxdb` gives influx_compat in that program "
            "only; programs run without them keep influxdb-python",
        )


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for known in (
        "Connection refused",
        "Name or service not known",
        "timed out",
        "certificate verify failed",
        "No route to host",
        "Temporary failure in name resolution",
    ):
        if known in text:
            return f"{type(exc).__name__} ({known})"
    return f"{type(exc).__name__} ({text[:200]})"


def _headers(response: requests.Response) -> str:
    shown = [
        f"{k}: {response.headers[k]}"
        for k in ("X-Influxdb-Build", "X-Influxdb-Version")
        if k in response.headers
    ]
    return ", ".join(shown) or f"status {response.status_code}, no X-Influxdb-* headers"


def _path(response: requests.Response) -> str:
    url = str(getattr(response, "url", ""))
    return "/" + url.split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]


def _json_list(response: requests.Response) -> List[Dict[str, Any]]:
    try:
        body = response.json()
    except ValueError:
        return []
    return [row for row in body if isinstance(row, dict)] if isinstance(body, list) else []


def _statement_error(response: requests.Response) -> Optional[str]:
    try:
        body = json.loads(response.content or b"null")
    except ValueError:
        return None if response.status_code == 200 else error_message(response)
    if isinstance(body, dict):
        if isinstance(body.get("error"), str):
            return str(body["error"])
        for result in body.get("results") or []:
            if isinstance(result, dict) and isinstance(result.get("error"), str):
                return str(result["error"])
    return None if response.status_code == 200 else error_message(response)


def _token_fix(flavour: Flavour) -> str:
    if flavour.iox:
        return "set INFLUX_TOKEN to a database token with read and write permissions (influxctl token create)"
    if flavour.v3:
        return "set INFLUX_TOKEN to a token of this server (influxdb3 create token --admin prints one)"
    return (
        "set INFLUX_TOKEN to an API token of this server (influx auth list; influx auth create "
        "--all-access), and INFLUX_ORG to its organization"
    )


USAGE = "python -m influx_compat doctor"


def main(argv: Optional[Sequence[str]] = None, out: Optional[TextIO] = None) -> int:
    """``python -m influx_compat doctor``: print every check; 1 when one failed."""
    parser = argparse.ArgumentParser(
        prog=USAGE,
        description="Check the configuration influx_compat would use, each check with its fix. Settings "
        "come from the environment (INFLUX_HOST, INFLUX_TOKEN, INFLUX_ORG, ...) or the influx CLI's profile, "
        "as for the client; the token is never taken on the command line.",
    )
    parser.add_argument("databases", nargs="*", metavar="DATABASE", help="1.x database names to check")
    parser.add_argument(
        "--url", help="the server's URL (default: INFLUX_HOST, the CLI profile, localhost:8086)"
    )
    parser.add_argument("--org", help="the 2.x organization (default: INFLUX_ORG, the CLI profile)")
    parser.add_argument("--flavour", help="v2, serverless, core, enterprise, dedicated or clustered")
    parser.add_argument("--timeout", type=float, default=10.0, help="seconds to wait for each answer")
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    out = sys.stdout if out is None else out
    options = {k: v for k, v in (("url", args.url), ("org", args.org), ("flavour", args.flavour)) if v}
    if args.flavour:
        try:
            parse_flavour(args.flavour, "--flavour")
        except ValueError as exc:
            parser.error(str(exc))
    doctor = Doctor(args.databases, options, timeout=args.timeout)
    for check in doctor.run():
        print(check.render(), file=out)
    failed = [c.name for c in doctor.checks if c.status == FAIL]
    print(
        f"\n{len(failed)} check(s) failed: {', '.join(failed)}" if failed else "\nno check failed", file=out
    )
    return 1 if failed else 0
