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
overwrites itself.  A write answered 500 is therefore sent again too, as
often and with the same backoff as a 503 (a 500 is often transient); other
calls raise at once.

A write skips the session's per-request
work (merging settings, reading the environment, hooks, redirects, cookies)
and goes straight to the session's mounted ``HTTPAdapter`` with what that
work would have given it: the same pool, headers, auth, TLS settings,
proxies, timeout and retries.  Whenever the session could do something
different (a subclass, a patched session, hooks, auth, cookies, proxies from
the environment, an adapter of its own, a redirect), the request goes
through ``session.request`` as before.
"""

from __future__ import annotations

import datetime
import email.utils
import json
import logging
import os
import random
import re
import threading
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Mapping, Optional, Tuple, cast

import requests
from requests.adapters import HTTPAdapter
from requests.auth import _basic_auth_str
from requests.cookies import extract_cookies_to_jar
from requests.structures import CaseInsensitiveDict
from requests.utils import get_encoding_from_headers
from urllib3 import exceptions as u3
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry
from urllib3.util.timeout import Timeout as TimeoutSauce

from influx_compat._config import TOKEN_HELP, Settings
from influx_compat.exceptions import (
    AuthenticationError,
    InfluxDBClientError,
    InfluxDBServerError,
    UnsupportedOperationError,
)

__all__ = ["Auth", "Transport", "error_message", "RETRY_STATUSES"]

log = logging.getLogger("influx_compat")

RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Statuses a write is also sent again for: writes are idempotent, and a 500 is often transient.
WRITE_RETRY_STATUSES = frozenset({500})
_BACKOFF_BASE = 0.01
_BACKOFF_CAP = 30.0
_STATUS_BACKOFF = 0.2  # the adapter's backoff_factor and backoff_jitter
# What a session does per request that the direct path must not skip: when any of these is patched
# (requests_mock, influxdb-python's own tests), every request goes through the session.
_SESSION_METHODS = {
    name: getattr(requests.Session, name) for name in ("request", "send", "get_adapter", "prepare_request")
}
_ADAPTER_SEND = HTTPAdapter.send
_PROXY_ENV = ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
_V1_VERSION = re.compile(r"^v?1\.")  # 2.x says v2.x, 3.x 3.x
_POOL_PREFIX = re.compile(r"^(?:<[^>]*>|\w+\([^)]*\)): ")
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
    :param gzip: compress request bodies (and accept compressed answers)
    :param direct: let writes bypass the session's per-request work when it
        would add nothing (no hooks, auth, cookies, proxies, patches or other
        adapter of its own); False sends every request through ``session.request``
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
        direct: bool = True,
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
        self.direct = direct
        self._urls: Dict[Tuple[str, Tuple[Tuple[str, Any], ...]], str] = {}
        self._timeout = _timeout(timeout)
        self.status_retries = 3 if retries != 0 else 10
        scheme = settings.base_url.split("://", 1)[0]
        self._adapter = _SocketOptionsAdapter(
            pool_connections=int(pool_size),
            pool_maxsize=int(pool_size),
            max_retries=adapter_retry(self.status_retries),
            socket_options=socket_options,
        )
        self.session.mount(scheme + "://", self._adapter)
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
        write: bool = False,
    ) -> requests.Response:
        """Send one request and map error answers to exceptions.

        :param path: path below the base URL, with or without a leading ``/``
        :param headers: headers for this request; a None value removes one of
            the client's headers (e.g. a Content-Type the server refuses)
        :param expected: status code or codes that count as success
        :param raw: return the response whatever its status
        :param write: a write of points, safe to send again: an answer 500 is
            retried like a 503, and the client's own session is bypassed
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
        for attempt in range(1, self.status_retries + 2):
            response = self._send(method, url, auth, params or {}, data, stream, send_headers, write)
            if self.observer is not None:
                self.observer(response)
            if not write or response.status_code not in WRITE_RETRY_STATUSES:
                break
            if attempt > self.status_retries:
                break
            delay = _status_delay(response, attempt)
            log.debug(
                "%s %s answered %d; retry %d in %.3fs", method, url, response.status_code, attempt, delay
            )
            response.close()
            time.sleep(delay)
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
        write: bool = False,
    ) -> requests.Response:
        attempt = 0
        while True:
            attempt += 1
            try:
                adapter = self._direct(url, auth, data, headers) if write and not stream else None
                if adapter is not None:
                    response = self._send_direct(adapter, method, url, auth, params, data, headers)
                    if response is not None:
                        return response
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
                    raise self._unreachable(exc, method, url) from exc
                delay = min(_BACKOFF_CAP, _BACKOFF_BASE * 2**attempt) * (0.5 + random.random() / 2)
                log.debug(
                    "%s %s failed (%s); retry %d in %.3fs", method, url, type(exc).__name__, attempt, delay
                )
                time.sleep(delay)

    def _direct(
        self, url: str, auth: Optional[Tuple[str, str]], data: Any, headers: Mapping[str, str]
    ) -> Optional[HTTPAdapter]:
        """The mounted adapter when the session would add nothing to a request; None otherwise."""
        session = self.session
        if not self.direct or type(session) is not requests.Session or not isinstance(data, bytes):
            return None
        own = vars(session)
        for name, method in _SESSION_METHODS.items():
            if name in own or getattr(requests.Session, name) is not method:
                return None
        if session.hooks.get("response") or len(session.cookies) or session.auth is not None:
            return None
        if session.proxies or session.params:
            return None
        if session.trust_env:
            if auth is None and "Authorization" not in headers:
                return None  # requests would look in ~/.netrc
            environ = os.environ
            if any(name in environ for name in _PROXY_ENV):
                return None
        adapter = session.get_adapter(url)
        if adapter is not self._adapter or type(adapter).send is not _ADAPTER_SEND or "send" in vars(adapter):
            return None
        return adapter

    def _send_direct(
        self,
        adapter: HTTPAdapter,
        method: str,
        url: str,
        auth: Optional[Tuple[str, str]],
        params: Mapping[str, Any],
        data: bytes,
        headers: Dict[str, str],
    ) -> Optional[requests.Response]:
        """What ``session.request`` would send, sent to the adapter; None to let the session redo it."""
        session = self.session
        prepared = requests.PreparedRequest()
        prepared.method = method.upper()
        prepared.url = self._prepared_url(url, params)
        merged: CaseInsensitiveDict[str] = CaseInsensitiveDict(cast(Mapping[str, str], session.headers))
        merged.update(headers)
        for name in [k for k, v in merged.items() if v is None]:
            del merged[name]
        if auth is not None:
            merged["Authorization"] = _basic_auth_str(*auth)
        merged["Content-Length"] = str(len(data))
        prepared.headers = merged
        prepared.body = data
        verify = self.verify_ssl
        if session.trust_env and (verify is True or verify is None):
            verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or verify
        if verify is None:
            verify = session.verify
        start = time.perf_counter()
        response = None if self.proxies else self._urlopen(adapter, prepared, verify, session.cert)
        if response is None:
            response = adapter.send(
                prepared,
                stream=False,
                timeout=self.timeout,
                verify=verify,
                cert=session.cert,
                proxies=self.proxies,
            )
        if "Set-Cookie" in response.headers:
            cast(Any, extract_cookies_to_jar)(session.cookies, prepared, response.raw)
        if response.is_redirect:
            response.close()
            return None  # the session follows redirects its own way
        response.elapsed = datetime.timedelta(seconds=time.perf_counter() - start)
        response.content  # noqa: B018 - read the answer now, as the session does when not streaming
        return response

    def _urlopen(
        self, adapter: HTTPAdapter, prepared: requests.PreparedRequest, verify: Any, cert: Any
    ) -> Optional[requests.Response]:
        """Send to the adapter's own urllib3 pool, as ``adapter.send`` does; None to let it send.

        The pool is the one the adapter picks for this server and these TLS
        settings, the retries the adapter's, and urllib3's errors are raised
        as the requests errors ``adapter.send`` raises for them.
        """
        pick = getattr(adapter, "get_connection_with_tls_context", None)
        if pick is None:  # requests before 2.32.2
            return None
        url = str(prepared.url)
        pool = pick(prepared, verify, None, cert)
        cast(Any, adapter).cert_verify(pool, url, verify, cert)
        try:
            answer = pool.urlopen(
                method=str(prepared.method),
                url=prepared.path_url,
                body=prepared.body,
                headers=prepared.headers,
                redirect=False,
                assert_same_host=False,
                preload_content=True,
                decode_content=True,
                retries=adapter.max_retries,
                timeout=self._timeout,
                chunked=False,
            )
        except Exception as exc:  # noqa: BLE001 - mapped as adapter.send maps it
            raise _requests_error(exc, prepared) from exc
        response = requests.Response()
        response.status_code = answer.status
        response.headers = CaseInsensitiveDict(answer.headers)
        response.encoding = get_encoding_from_headers(response.headers)
        response.raw = answer
        response.reason = answer.reason or ""
        response.url = url
        response.request = prepared
        response.connection = adapter
        response._content = answer.data
        cast(Any, response)._content_consumed = True
        if "Set-Cookie" in response.headers:
            cast(Any, extract_cookies_to_jar)(response.cookies, prepared, answer)
        return response

    def _prepared_url(self, url: str, params: Mapping[str, Any]) -> str:
        """The URL requests would send for ``url`` and ``params``; writes reuse a handful."""
        try:
            key = (url, tuple(params.items()))
            found = self._urls.get(key)
        except TypeError:  # a list value: not kept
            key, found = None, None
        if found is not None:
            return found
        prepared = requests.PreparedRequest()
        prepared.prepare_url(url, dict(params))
        assert prepared.url is not None
        if key is not None:
            if len(self._urls) > 64:
                self._urls.clear()
            self._urls[key] = prepared.url
        return prepared.url

    def _unreachable(self, exc: Exception, method: str, url: str) -> Exception:
        """A transport error that says which server failed and which setting chose it.

        The class stays the one requests raised, so ``except
        requests.exceptions.ConnectionError`` clauses still catch it.
        """
        if not isinstance(exc, (requests.exceptions.ConnectionError, requests.exceptions.Timeout)):
            return exc
        base, source = self.settings.base_url, self.settings.base_url_source
        path = "/" + url[len(base) :].lstrip("/") if url.startswith(base) else url
        reason = _reason(exc)
        inner = getattr(exc.args[0], "reason", None) if exc.args else None
        if isinstance(exc, requests.exceptions.ReadTimeout) or isinstance(inner, ReadTimeoutError):
            what = f"the InfluxDB server at {base} did not answer within the timeout ({self.timeout!r}s)"
        elif isinstance(exc, requests.exceptions.SSLError):
            what = f"no TLS connection could be made to the InfluxDB server at {base}"
        elif isinstance(exc, requests.exceptions.ConnectTimeout):
            what = f"the InfluxDB server at {base} could not be reached in time"
        elif isinstance(exc, requests.exceptions.ConnectionError):
            what = f"could not reach the InfluxDB server at {base}"
        else:
            what = f"no answer in time from the InfluxDB server at {base}"
        message = (
            f"{what} (that address comes from {source}; set INFLUX_HOST or pass url= to change it) "
            f"-- {method} {path.split('?', 1)[0]}: {reason}"
        )
        try:
            return type(exc)(message, request=getattr(exc, "request", None), response=exc.response)
        except Exception:  # noqa: BLE001 - a class with a constructor of its own: the original stands
            return exc

    def error_for(self, response: requests.Response) -> Exception:
        """The exception for an unexpected answer, as influxdb-python raised it."""
        status = response.status_code
        message = error_message(response)
        if status == 404:
            old = self.old_server(response, message)
            if old is not None:
                return old
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

    def old_server(self, response: requests.Response, message: str) -> Optional[Exception]:
        """A 404 from InfluxDB 1.x for the v2 or v3 API: say what the server is and what to do."""
        version = response.headers.get("X-Influxdb-Version", "")
        if not _V1_VERSION.match(version):
            return None
        path = "/" + str(response.url).split("://", 1)[-1].split("/", 1)[-1].split("?", 1)[0]
        if not path.startswith("/api/"):
            return None
        settings = self.settings
        return UnsupportedOperationError(
            f"the server at {settings.base_url} (from {settings.base_url_source}) is InfluxDB {version} "
            f"(its X-Influxdb-Version header): it answered {path} with {message.strip()!r}, having none "
            "of the InfluxDB 2.x and 3 APIs that influx_compat speaks when it has a token. For an "
            "InfluxDB 1.x server use "
            "influxdb-python itself (pip install influxdb==5.3.2, import influxdb), or give no token "
            "(then /write and /query are sent as influxdb-python sent them); or point INFLUX_HOST (or url=) "
            "at your InfluxDB 2.x or 3 server",
            404,
        )

    def close(self) -> None:
        if isinstance(self.session, requests.Session):
            self.session.close()


def _timeout(timeout: Any) -> TimeoutSauce:
    """``timeout=`` as urllib3 takes it, the way ``HTTPAdapter.send`` turns it."""
    if isinstance(timeout, tuple):
        connect, read = timeout
        return TimeoutSauce(connect=connect, read=read)
    if isinstance(timeout, TimeoutSauce):
        return timeout
    return TimeoutSauce(connect=timeout, read=timeout)


def _requests_error(exc: Exception, request: requests.PreparedRequest) -> Exception:
    """The requests error ``HTTPAdapter.send`` raises for a urllib3 error (the same table)."""
    rex = requests.exceptions
    if isinstance(exc, (u3.ProtocolError, OSError)):
        return rex.ConnectionError(exc, request=request)
    if isinstance(exc, u3.MaxRetryError):
        reason = exc.reason
        if isinstance(reason, u3.ConnectTimeoutError) and not isinstance(reason, u3.NewConnectionError):
            return rex.ConnectTimeout(exc, request=request)
        if isinstance(reason, u3.ResponseError):
            return rex.RetryError(exc, request=request)
        if isinstance(reason, u3.ProxyError):
            return rex.ProxyError(exc, request=request)
        if isinstance(reason, u3.SSLError):
            return rex.SSLError(exc, request=request)
        return rex.ConnectionError(exc, request=request)
    if isinstance(exc, u3.ClosedPoolError):
        return rex.ConnectionError(exc, request=request)
    if isinstance(exc, u3.ProxyError):
        return rex.ProxyError(exc)
    if isinstance(exc, u3.SSLError):
        return rex.SSLError(exc, request=request)
    if isinstance(exc, u3.ReadTimeoutError):
        return rex.ReadTimeout(exc, request=request)
    if isinstance(exc, u3.InvalidHeader):
        return rex.InvalidHeader(exc, request=request)
    return exc


def _status_delay(response: requests.Response, attempt: int) -> float:
    """How long to wait before sending again: ``Retry-After``, else the adapter's backoff for 503."""
    after = response.headers.get("Retry-After")
    if after:
        try:
            return max(0.0, min(_BACKOFF_CAP, float(after)))
        except ValueError:
            when = email.utils.parsedate_tz(after)
            if when is not None:
                return max(0.0, min(_BACKOFF_CAP, email.utils.mktime_tz(when) - time.time()))
    # urllib3 Retry.get_backoff_time: nothing before the first retry, then factor * 2**(n-1), plus jitter
    backoff = _STATUS_BACKOFF * 2 ** (attempt - 1) if attempt > 1 else 0.0
    return min(_BACKOFF_CAP, backoff + random.random() * _STATUS_BACKOFF)


def _reason(exc: Exception) -> str:
    """The innermost words of a requests error, without urllib3's pool and URL around them."""
    inner: Any = exc.args[0] if exc.args else exc
    inner = getattr(inner, "reason", None) or inner
    return _POOL_PREFIX.sub("", str(inner)) or type(exc).__name__


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
