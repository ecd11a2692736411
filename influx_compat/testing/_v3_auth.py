"""Tokens on the 3.x test server: where each flavour looks for one.

Core and Enterprise authenticate every request before routing it
(``influxdb3_server/src/http.rs`` authenticate_request): the ``p`` query
parameter of ``/query`` and ``/write`` wins, else the ``Authorization``
header, whose scheme is case-sensitive and which must hold exactly two
words.  The IOx products (Dedicated) read tokens with ``core/authz``
extract_token, more leniently, and only where a handler asks.
"""

from __future__ import annotations

import base64
import binascii
from typing import Optional, Tuple
from urllib.parse import parse_qsl

from influx_compat.testing._http import Request

__all__ = ["MalformedHeader", "core_token", "header_token_iox", "param_token"]


class MalformedHeader(Exception):
    """http.rs AuthenticationError::MalformedRequest (400)."""


def param_token(req: Request, paths: Tuple[str, ...] = ("/query", "/write")) -> Optional[str]:
    """The ``p`` parameter on ``paths`` (http.rs extract_v1_auth_token); a repeated ``p`` counts as none."""
    if req.path not in paths or req.raw_query is None:
        return None
    values = [v for k, v in parse_qsl(req.raw_query, keep_blank_values=True) if k == "p"]
    return values[0] if len(values) == 1 else None


def core_token(req: Request) -> Optional[str]:
    """The token a Core/Enterprise request carries, None without one; raises MalformedHeader."""
    token = param_token(req)
    if token is not None:
        return token
    header = req.header("Authorization")
    if header is None:
        return None
    parts = header.split(" ")  # http.rs validate_auth_header
    if parts[0] not in ("Bearer", "Token", "Basic") or len(parts) != 2:
        raise MalformedHeader()
    if parts[0] != "Basic":
        return parts[1]
    try:
        decoded = base64.b64decode(parts[1], validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        raise MalformedHeader() from None
    username, colon, password = decoded.rpartition(":")
    if not colon or ":" in username:
        raise MalformedHeader()
    return password


def header_token_iox(header: Optional[str]) -> Optional[str]:
    """core/authz/src/lib.rs extract_token: ``Token``/``Bearer`` rest of line, or Basic's part after ``:``."""
    if header is None:
        return None
    scheme, _, rest = header.partition(" ")
    token: Optional[str] = None
    if scheme in ("Token", "Bearer"):
        token = rest
    elif scheme == "Basic":
        try:
            decoded = base64.b64decode(rest).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return None
        _, colon, token = decoded.partition(":")
        if not colon:
            return None
    return token or None
