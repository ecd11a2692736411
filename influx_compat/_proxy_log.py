"""The proxy's access log: one line per request, in InfluxDB 1.x's own format, with no secret in it.

1.x's ``[http] log-enabled`` line is the Apache combined format followed by
the request ID and the duration in microseconds::

    127.0.0.1 - alice [02/Dec/2026:16:44:40 +0000] "POST /write?db=x&p=[REDACTED] HTTP/1.1" 204 0 "-"
        "curl/7.88.1" 5b0c4e2a-... 4211

(one line: the user agent, the request ID, the microseconds)

so the tools that read 1.x's log (or any combined-format reader, which stops
after the user agent) read the proxy's.  Unlike 1.x, ``u=`` is redacted as
well as ``p=`` (and ``token=``, ``password=``), passwords inside ``q=``
(``WITH PASSWORD '...'``, ``SET PASSWORD FOR ... = '...'``) are replaced, the
user field names only a caller who gave the ``--user`` credentials, and no
header (``Authorization`` included) is ever written.
"""

from __future__ import annotations

import logging
import re
import time
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional
from urllib.parse import parse_qsl, quote, quote_plus

__all__ = ["ACCESS_LOGGER", "REDACTED", "access_line", "redact_query", "redact_statement", "LoggedBody"]

ACCESS_LOGGER = logging.getLogger("influx_compat.proxy.access")
REDACTED = "[REDACTED]"
SECRET_PARAMS = frozenset({"p", "u", "token", "password"})
_PASSWORDS = re.compile(
    r"(?i)(\bWITH\s+PASSWORD\s+|\bSET\s+PASSWORD\s+FOR\s+(?:\"(?:[^\"\\]|\\.)*\"|[^\s=]+)\s*=\s*)"
    r"'(?:[^'\\]|\\.)*'?"
)


def redact_statement(text: str) -> str:
    """InfluxQL with the passwords of ``CREATE USER`` and ``SET PASSWORD`` replaced."""
    return _PASSWORDS.sub(lambda m: m.group(1) + REDACTED, text)


def redact_query(query_string: str) -> str:
    """A query string with the values of ``u``, ``p``, ``token``, ``password`` and passwords in q replaced."""
    if not query_string:
        return ""
    parts: List[str] = []
    for key, value in parse_qsl(query_string, keep_blank_values=True):
        if key.lower() in SECRET_PARAMS:
            value = REDACTED
        elif key == "q":
            value = redact_statement(value)
        parts.append(f"{quote_plus(key)}={quote_plus(value, safe='[]')}")
    return "&".join(parts)


def _field(value: Optional[str]) -> str:
    if not value:
        return "-"
    return value.replace("\\", "\\\\").replace('"', '\\"')


def access_line(
    environ: Dict[str, Any],
    status: str,
    sent: int,
    started: float,
    user: Optional[str],
    request_id: str,
    now: Optional[float] = None,
) -> str:
    """The 1.x access-log line of one request.

    :param started: ``time.monotonic()`` when the request came in
    :param user: the caller's name when it was checked, else None (``-``)
    """
    query = redact_query(environ.get("QUERY_STRING", ""))
    target = quote(environ.get("PATH_INFO", "") or "/", safe="/") + (f"?{query}" if query else "")
    request = f"{environ.get('REQUEST_METHOD', '-')} {target} {environ.get('SERVER_PROTOCOL', 'HTTP/1.1')}"
    stamp = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))
    micros = int((time.monotonic() - started) * 1_000_000)
    return (
        f'{environ.get("REMOTE_ADDR") or "-"} - {_field(user)} [{stamp}] "{_field(request)}" '
        f'{status.split(" ", 1)[0]} {sent} "{_field(environ.get("HTTP_REFERER"))}" '
        f'"{_field(environ.get("HTTP_USER_AGENT"))}" {request_id} {micros}'
    )


class LoggedBody:
    """A WSGI answer that counts the bytes it sends and calls ``done(sent)`` once, when closed."""

    def __init__(self, body: Iterable[bytes], done: Callable[[int], None]) -> None:
        self.body = body
        self.done: Optional[Callable[[int], None]] = done
        self.sent = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self.body:
            self.sent += len(chunk)
            yield chunk

    def close(self) -> None:
        try:
            close = getattr(self.body, "close", None)
            if close is not None:
                close()
        finally:
            done, self.done = self.done, None
            if done is not None:
                done(self.sent)
