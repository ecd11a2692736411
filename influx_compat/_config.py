"""Where to send requests and with which credentials, resolved once per client.

Order of precedence, for each setting separately:

1. explicit keyword arguments (``token=``, ``org=``, a host/port other than
   influxdb-python's defaults ``localhost:8086``);
2. environment variables: ``INFLUX_HOST``/``INFLUX_TOKEN``/``INFLUX_ORG`` (the
   ``influx`` CLI's names), then ``INFLUXDB_V2_URL``/``INFLUXDB_V2_TOKEN``/
   ``INFLUXDB_V2_ORG`` (the official v2 client's names);
3. the active profile of the ``influx`` CLI's configuration file
   (``~/.influxdbv2/configs``, or ``INFLUX_CONFIGS_PATH``);
4. with no token anywhere, the legacy ``username``/``password``, sent as HTTP
   Basic credentials to the 1.x-compatible ``/write`` and ``/query`` endpoints,
   which 2.x accepts for v1 authorizations (and for a v2 token given as the
   password).

The server's flavour (2.x, 3 Core, ...) is given by ``flavour=`` or
``INFLUX_COMPAT_FLAVOUR``, else found out by the core from the server's
answers (:mod:`influx_compat._flavour`).  On InfluxDB 3, which has tokens
only, a legacy ``password`` other than influxdb-python's default is the
token (what InfluxDB 3's own docs tell 1.x users to do).

Secrets are kept out of every ``repr``.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple, Union
from urllib.parse import urlsplit

from influx_compat._flavour import Flavour, parse_flavour

__all__ = [
    "Credentials",
    "ManagementSettings",
    "Settings",
    "resolve_settings",
    "read_cli_config",
    "verify_from_env",
]

DEFAULT_HOST = "localhost"
DEFAULT_PORT = 8086
LEGACY_DEFAULT_USER = ("root", "root")


@dataclass(frozen=True)
class Credentials:
    """How requests authenticate.

    :ivar token: a v2 API token, sent as ``Authorization: Token <token>``
    :ivar token_source: where the token came from, for error messages
    :ivar username: legacy user name (HTTP Basic on /write and /query)
    :ivar password: legacy password
    """

    token: Optional[str] = field(default=None, repr=False)
    token_source: Optional[str] = None
    username: Optional[str] = None
    password: Optional[str] = field(default=None, repr=False)

    @property
    def v3_token(self) -> Optional[str]:
        """The token for InfluxDB 3: the token, else a legacy password other than 5.3.2's default."""
        if self.token is not None:
            return self.token
        if self.password and (self.username, self.password) != LEGACY_DEFAULT_USER:
            return self.password
        return None

    @property
    def has_legacy(self) -> bool:
        """True when real (non-default) v1 credentials were given."""
        if self.username is None or self.password is None:
            return False
        return (self.username, self.password) != LEGACY_DEFAULT_USER

    def describe(self) -> str:
        """Say which credentials were tried, never showing a secret."""
        if self.token is not None:
            return f"a v2 API token from {self.token_source}"
        if self.has_legacy:
            return f"the v1 user name {self.username!r} with its password (HTTP Basic)"
        if self.username is not None and self.password is not None:
            return "influxdb-python's default user root/root, which is not a credential on 2.x"
        return "no credentials"


@dataclass(frozen=True)
class ManagementSettings:
    """How to reach the Management API of Cloud Dedicated or Clustered (databases live there).

    :ivar token: a management token (Bearer), not a database token
    :ivar account_id: Cloud Dedicated account ID
    :ivar cluster_id: Cloud Dedicated cluster ID
    :ivar url: the API's base URL (Dedicated: https://console.influxdata.com; Clustered: the console)
    """

    token: Optional[str] = field(default=None, repr=False)
    account_id: Optional[str] = None
    cluster_id: Optional[str] = None
    url: Optional[str] = None


@dataclass(frozen=True)
class Settings:
    """The resolved connection settings of one client (immutable)."""

    base_url: str
    credentials: Credentials
    org: Optional[str] = None
    org_source: Optional[str] = None
    bucket_map: Mapping[Tuple[str, Optional[str]], str] = field(default_factory=dict)
    flavour: Optional[Flavour] = None
    flavour_source: Optional[str] = None
    base_url_source: str = "influxdb-python's default host and port"
    management: ManagementSettings = field(default_factory=ManagementSettings)


_ENV_URL = ("INFLUX_HOST", "INFLUXDB_V2_URL")
_ENV_TOKEN = ("INFLUX_TOKEN", "INFLUXDB_V2_TOKEN")
_ENV_ORG = ("INFLUX_ORG", "INFLUXDB_V2_ORG", "INFLUX_ORG_ID")
_ENV_FLAVOUR = ("INFLUX_COMPAT_FLAVOUR",)
_ENV_MANAGEMENT = {
    "token": ("INFLUX_MANAGEMENT_TOKEN",),
    "account_id": ("INFLUX_ACCOUNT_ID",),
    "cluster_id": ("INFLUX_CLUSTER_ID",),
    "url": ("INFLUX_MANAGEMENT_URL",),
}

TOKEN_HELP = (
    "Give InfluxDB 2.x an API token: set the environment variable INFLUX_TOKEN "
    "(and INFLUX_ORG), pass token=... to the client, or run 'influx config create' "
    "so that ~/.influxdbv2/configs holds an active profile."
)


def verify_from_env(verify_ssl: Any, env: Optional[Mapping[str, str]] = None) -> Any:
    """``verify_ssl``; ``INFLUX_COMPAT_VERIFY_SSL=1`` turns on influxdb-python's default False."""
    env = os.environ if env is None else env
    if verify_ssl is False and env.get("INFLUX_COMPAT_VERIFY_SSL", "").lower() in ("1", "true", "yes"):
        return True
    return verify_ssl


def _first_env(env: Mapping[str, str], names: Tuple[str, ...]) -> Tuple[Optional[str], Optional[str]]:
    for name in names:
        value = env.get(name)
        if value:
            return value, name
    return None, None


def _parse_toml_value(raw: str) -> object:
    raw = raw.strip()
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return bytes(raw[1:-1], "utf-8").decode("unicode_escape")
    if raw.startswith("'") and raw.endswith("'") and len(raw) >= 2:
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw == "true"
    return raw


def _parse_cli_toml(text: str) -> Dict[str, Dict[str, object]]:
    """Read the small TOML subset the influx CLI writes (tables of key = value)."""
    try:  # Python 3.11+
        import tomllib

        return {k: v for k, v in tomllib.loads(text).items() if isinstance(v, dict)}
    except ImportError:  # pragma: no cover - Python < 3.11
        pass
    except Exception:
        return {}
    profiles: Dict[str, Dict[str, object]] = {}  # pragma: no cover
    current: Optional[Dict[str, object]] = None  # pragma: no cover
    for line in text.splitlines():  # pragma: no cover
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^\[\s*\"?([^\]\"]+)\"?\s*\]$", line)
        if m:
            current = profiles.setdefault(m.group(1).strip(), {})
            continue
        if current is not None and "=" in line:
            key, _, value = line.partition("=")
            current[key.strip()] = _parse_toml_value(value.split(" #")[0])
    return profiles  # pragma: no cover


def read_cli_config(env: Mapping[str, str]) -> Tuple[Optional[Dict[str, object]], Optional[str]]:
    """Return the active profile of the influx CLI's config file and its description."""
    path = env.get("INFLUX_CONFIGS_PATH")
    if not path:
        home = env.get("HOME") or os.path.expanduser("~")
        path = os.path.join(home, ".influxdbv2", "configs")
    try:
        with open(path, encoding="utf-8") as fh:
            profiles = _parse_cli_toml(fh.read())
    except OSError:
        return None, None
    wanted = env.get("INFLUX_ACTIVE_CONFIG")
    for name, profile in profiles.items():
        if (wanted and name == wanted) or (not wanted and profile.get("active") is True):
            return profile, f"the influx CLI config profile {name!r} in {path}"
    if len(profiles) == 1 and not wanted:
        name, profile = next(iter(profiles.items()))
        return profile, f"the influx CLI config profile {name!r} in {path}"
    return None, None


def _normalise_bucket_map(
    bucket_map: Optional[Mapping[object, str]],
) -> Dict[Tuple[str, Optional[str]], str]:
    """Accept {"db": b, "db/rp": b, ("db", "rp"): b} and return {(db, rp|None): b}."""
    result: Dict[Tuple[str, Optional[str]], str] = {}
    for key, bucket in (bucket_map or {}).items():
        if isinstance(key, tuple):
            db, rp = key
        elif isinstance(key, str) and "/" in key:
            db, rp = key.split("/", 1)
        elif isinstance(key, str):
            db, rp = key, None
        else:
            raise TypeError(f"bucket_map keys are 'db', 'db/rp' or (db, rp) tuples, not {key!r}")
        result[(db, rp or None)] = bucket
    return result


def resolve_settings(
    host: str = DEFAULT_HOST,
    port: Union[int, str] = DEFAULT_PORT,
    username: Optional[str] = "root",
    password: Optional[str] = "root",
    ssl: bool = False,
    path: Optional[str] = "",
    token: Optional[str] = None,
    org: Optional[str] = None,
    url: Optional[str] = None,
    bucket_map: Optional[Mapping[object, str]] = None,
    env: Optional[Mapping[str, str]] = None,
    flavour: Optional[str] = None,
    management_options: Optional[Mapping[str, Optional[str]]] = None,
) -> Settings:
    """Resolve the client's settings from its arguments, the environment and the CLI config.

    :param host: influxdb-python's host; with the default ``localhost`` and
        port 8086, a URL from the environment or the CLI config is used instead
    :param url: an explicit base URL (``http://host:8086``), overriding host/port
    :param env: the environment to read (``os.environ`` when None)
    :param flavour: the server's flavour (``'core'``, ``'v2'``, ...); found out when None
    :param management_options: Cloud Dedicated / Clustered Management API settings
        (``token``, ``account_id``, ``cluster_id``, ``url``)
    """
    env = os.environ if env is None else env
    profile, profile_source = read_cli_config(env)

    port_int = int(port)  # a ValueError as in 5.3.2
    scheme = "https" if ssl is True else "http"
    prefix = ""
    if path:
        prefix = path if path.startswith("/") else "/" + path
    explicit_host = (host, port_int) != (DEFAULT_HOST, DEFAULT_PORT)

    base_url: Optional[str] = None
    base_url_source = "influxdb-python's default host and port"
    if explicit_host:
        base_url_source = "the host= and port= arguments"
    if url:
        base_url = url.rstrip("/")
        base_url_source = "the url= argument"
    elif not explicit_host:
        env_url, env_name = _first_env(env, _ENV_URL)
        if env_url:
            base_url_source = f"the environment variable {env_name}"
        elif profile and profile.get("url"):
            env_url = str(profile["url"])
            base_url_source = str(profile_source)
        if env_url:
            parts = urlsplit(env_url if "://" in env_url else "http://" + env_url)
            if ssl is True and parts.scheme == "http":
                parts = parts._replace(scheme="https")
            base_url = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}{prefix}"
    if base_url is None:
        base_url = f"{scheme}://{host}:{port_int}{prefix}"

    token, token_source = _resolve("token", token, env, _ENV_TOKEN, profile, profile_source)
    org, org_source = _resolve("org", org, env, _ENV_ORG, profile, profile_source)
    flavour_name, flavour_source = _resolve("flavour", flavour, env, _ENV_FLAVOUR, None, None)
    management = ManagementSettings(
        **{
            key: _resolve(key, (management_options or {}).get(key), env, names, None, None)[0]
            for key, names in _ENV_MANAGEMENT.items()
        }
    )

    return Settings(
        base_url=base_url,
        credentials=Credentials(
            token=token or None,
            token_source=token_source,
            username=username,
            password=password,
        ),
        org=org or None,
        org_source=org_source,
        bucket_map=_normalise_bucket_map(bucket_map),
        flavour=parse_flavour(flavour_name, str(flavour_source)) if flavour_name else None,
        flavour_source=flavour_source,
        base_url_source=base_url_source,
        management=management,
    )


def _resolve(
    what: str,
    given: Optional[str],
    env: Mapping[str, str],
    names: Tuple[str, ...],
    profile: Optional[Dict[str, object]],
    profile_source: Optional[str],
) -> Tuple[Optional[str], Optional[str]]:
    """One setting and where it came from: the argument, the environment, the CLI profile."""
    if given:
        return given, f"the {what}= argument"
    value, name = _first_env(env, names)
    if value:
        return value, f"the environment variable {name}"
    if profile and profile.get(what):
        return str(profile[what]), profile_source
    return None, None
