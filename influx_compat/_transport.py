"""HTTP to InfluxDB (2.x or 3): one requests session, retries, auth headers, error mapping.

Every request of a client goes through :meth:`Transport.request`, which calls
``session.request(method=..., url=..., ...)`` with keyword arguments only
(influxdb-python's own tests patch ``client._session.request``).

Retries happen at two levels:

* on the mounted ``HTTPAdapter``, a urllib3 ``Retry`` retries answers 429, 502,
  503 and 504, honouring ``Retry-After``, with exponential backoff and jitter;
* around the session, connection errors and timeouts are retried the way
  influxdb-python 5.3.2 counted them: ``retries`` is the number of attempts,
  and ``0`` means retry until success.

Writes are safe to retry: a point with the same series and timestamp
overwrites itself.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from influx_compat._config import TOKEN_HELP, Settings
from influx_compat.exceptions import (
    AuthenticationError,
    InfluxDBClientError,
    InfluxDBServerError,
)

__all__ = ["Auth", "Transport", "error_message", "RETRY_STATUSES"]

log = logging.getLogger("influx_compat")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
_BACKOFF_BASE = 0.01
_BACKOFF_CAP = 30.0
_unverified_warned = False
_unverified_lock = threading.Lock()


@dataclass(frozen=True)
class Auth:
    """How every request of a client authenticates; decided by the core, applied here.

    :ivar token: sent as ``Authorization: Token <token>``
    :ivar basic: ``(user, password)`` sent as HTTP Basic when there is no token
    :ivar described: which credentials these are, for error messages (no secret)
    :ivar help: what to do when the server refuses them
    :ivar server: the product refusing them, for the error
    :ivar scheme: the Authorization scheme of the token (``Bearer`` for management tokens)
    """

    token: Optional[str] = field(default=None, repr=False)
    basic: Optional[Tuple[str, str]] = field(default=None, repr=False)
    described: str = "no credentials"
    help: str = TOKEN_HELP
    server: str = "InfluxDB 2.x"
    scheme: str = "Token"


class _SocketOptionsAdapter(HTTPAdapter):
    """An HTTPAdapter that hands socket options to urllib3's pool manager."""

    def __init__(self, *args: Any, socket_options: Any = None, **kwargs: Any) -> None:
        self.socket_options = socket_options
        super().__init__(*args, **kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        if self.socket_options is not None:
            kwargs["socket_options"] = self.socket_options
        super().init_poolmanager(*args, **kwargs)


def adapter_retry(status_retries: int) -> Retry:
    """The urllib3 Retry mounted on the adapter: status-based retries only."""
    kwargs: Dict[str, Any] = dict(
        total=None,
        connect=0,
        read=0,
        redirect=5,
        status=status_retries,
        other=0,
        allowed_methods=None,
        status_forcelist=sorted(RETRY_STATUSES),
        backoff_factor=0.2,
        respect_retry_after_header=True,
        raise_on_status=False,
    )
    try:
        return Retry(backoff_jitter=0.2, backoff_max=_BACKOFF_CAP, **kwargs)
    except TypeError:  # urllib3 1.26
        return Retry(**kwargs)


def error_message(response: requests.Response) -> str:
    """The readable error of an answer: 2.x's ``message``, 1.x's ``error`` or the text."""
    text = response.content.decode("utf-8", errors="replace") if response.content else ""
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error"):
            value = body.get(key)
            if isinstance(value, str):
                return value
    for header in ("X-Platform-Error-Code", "X-Influx-Error", "X-InfluxDb-Error"):
        if response.headers.get(header):
            return response.headers[header]
    return text.strip() or (response.reason or "")


class Transport:
    """Sends requests to one InfluxDB server on behalf of one client.

    :param settings: the resolved settings (base URL, credentials)
    :param session: a ``requests.Session``; a new one when None
    :param verify_ssl: ``verify=`` for requests (bool or CA bundle path)
    :param timeout: ``timeout=`` for requests
    :param retries: attempts on connection errors; 0 retries until success
    :param pool_size: connections kept per host
    :param proxies: ``proxies=`` for requests
    :param headers: extra headers for every request (copied, never mutated)
    :param socket_options: handed to urllib3's pool manager
    """

    def __init__(
        self,
        settings: Settings,
        session: Optional[requests.Session] = None,
        verify_ssl: Any = False,
        timeout: Any = None,
        retries: int = 3,
        pool_size: int = 10,
        proxies: Optional[Mapping[str, str]] = None,
        headers: Optional[Mapping[str, str]] = None,
        socket_options: Any = None,
        gzip: bool = False,
    ) -> None:
        self.settings = settings
        self.session = session if session is not None else requests.Session()
        self.verify_ssl = verify_ssl
        self.timeout = timeout
        self.retries = retries
        self.proxies = dict(proxies or {})
        self.headers = dict(headers or {})
        self.gzip = gzip
        self.auth = Auth()
        self.observer: Optional[Callable[[requests.Response], None]] = None
        scheme = settings.base_url.split("://", 1)[0]
        adapter = _SocketOptionsAdapter(
            pool_connections=int(pool_size),
            pool_maxsize=int(pool_size),
            max_retries=adapter_retry(3 if retries != 0 else 10),
            socket_options=socket_options,
        )
        self.session.mount(scheme + "://", adapter)
        if scheme == "https" and verify_ssl is False:
            _warn_unverified(settings.base_url)

    # -- credentials -------------------------------------------------------

    @property
    def has_token(self) -> bool:
        """True when requests carry a token (the core's decision, or a user's own header)."""
        return self.auth.token is not None or "Authorization" in self.headers

    def _auth(self, headers: Dict[str, str]) -> Optional[Tuple[str, str]]:
        """Set the Authorization header; return a Basic auth tuple for requests, if any."""
        auth = self.auth  # read once: switch_user may replace it meanwhile
        if "Authorization" in headers:
            return None
        if auth.token is not None:
            headers["Authorization"] = f"{auth.scheme} {auth.token}"
            return None
        return auth.basic

    # -- requests ----------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Optional[Mapping[str, Any]] = None,
        data: Any = None,
        headers: Optional[Mapping[str, Optional[str]]] = None,
        stream: bool = False,
        expected: Any = (200,),
        raw: bool = False,
    ) -> requests.Response:
        """Send one request and map error answers to exceptions.

        :param path: path below the base URL, with or without a leading ``/``
        :param headers: headers for this request; a None value removes one of
            the client's headers (e.g. a Content-Type the server refuses)
        :param expected: status code or codes that count as success
        :param raw: return the response whatever its status
        """
        url = self.settings.base_url + "/" + path.lstrip("/")
        send_headers = dict(self.headers)
        for name, value in (headers or {}).items():
            if value is None:
                for existing in [k for k in send_headers if k.lower() == name.lower()]:
                    del send_headers[existing]
            else:
                send_headers[name] = value
        auth = self._auth(send_headers)
        if self.gzip and data is not None:
            import gzip as _gzip

            if isinstance(data, str):
                data = data.encode("utf-8")
            data = _gzip.compress(data, compresslevel=9)  # 5.3.2's level: the same bytes on the wire
            send_headers["Content-Encoding"] = "gzip"
            send_headers.setdefault("Accept-Encoding", "gzip")
        response = self._send(method, url, auth, params or {}, data, stream, send_headers)
        if self.observer is not None:
            self.observer(response)
        if raw:
            return response
        codes = (expected,) if isinstance(expected, int) else tuple(expected)
        if response.status_code in codes:
            return response
        raise self.error_for(response)

    def _send(
        self,
        method: str,
        url: str,
        auth: Optional[Tuple[str, str]],
        params: Mapping[str, Any],
        data: Any,
        stream: bool,
        headers: Dict[str, str],
    ) -> requests.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                return self.session.request(
                    method=method,
                    url=url,
                    auth=auth,
                    params=params,
                    data=data,
                    stream=stream,
                    headers=headers,
                    proxies=self.proxies,
                    verify=self.verify_ssl,
                    timeout=self.timeout,
                )
            except (
                requests.exceptions.ConnectionError,
                requests.exceptions.HTTPError,
                requests.exceptions.Timeout,
            ) as exc:
                if self.retries != 0 and attempt >= self.retries:
                    raise
                delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt) * (0.5 + random.random() / 2)
                log.debug(
                    "%s %s failed (%s); retry %d in %.3fs", method, url, type(exc).__name__, attempt, delay
                )
                time.sleep(delay)

    def error_for(self, response: requests.Response) -> Exception:
        """The exception for an unexpected answer, as influxdb-python raised it."""
        status = response.status_code
        message = error_message(response)
        if 500 <= status < 600:
            return InfluxDBServerError(f"{status}: {message}" if message else str(status))
        if status in (401, 403):
            tried = self.auth.described
            if "Authorization" in self.headers:
                tried = "the Authorization header given in headers="
            return AuthenticationError(
                f"{message} ({self.auth.server} refused {tried}. {self.auth.help})", status
            )
        return InfluxDBClientError(message, status)

    def close(self) -> None:
        if isinstance(self.session, requests.Session):
            self.session.close()


def _warn_unverified(url: str) -> None:
    global _unverified_warned
    with _unverified_lock:
        if _unverified_warned:
            return
        _unverified_warned = True
    warnings.warn(
        f"TLS certificates of {url} are not verified (verify_ssl=False, influxdb-python's "
        "default): pass verify_ssl=True or set INFLUX_COMPAT_VERIFY_SSL=1",
        UserWarning,
        stacklevel=4,
    )
