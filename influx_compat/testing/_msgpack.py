"""A small MessagePack encoder for the test servers' ``/query`` answers.

The servers encode their answers themselves instead of calling the
``msgpack`` package: the encoding is part of what they emulate (InfluxDB 3
writes structs as positional arrays, 2.x as maps with timestamp extensions),
and a test oracle should not share a library with the client it checks.
Only what a query answer holds is supported: None, bool, int, float, str,
bytes, lists, tuples, dicts and :class:`Ext` values.
"""

from __future__ import annotations

import struct
from typing import Any, List, NamedTuple, Optional

__all__ = ["Ext", "packb"]


class Ext(NamedTuple):
    """A MessagePack extension value (type code and payload)."""

    code: int
    data: bytes


def packb(obj: Any) -> bytes:
    """``obj`` encoded as MessagePack, with the shortest encodings (as rmp and msgpack-go write)."""
    out: List[bytes] = []
    _pack(obj, out)
    return b"".join(out)


def _pack(obj: Any, out: List[bytes]) -> None:
    if obj is None:
        out.append(b"\xc0")
    elif obj is True:
        out.append(b"\xc3")
    elif obj is False:
        out.append(b"\xc2")
    elif isinstance(obj, int):
        out.append(_int(obj))
    elif isinstance(obj, float):
        out.append(b"\xcb" + struct.pack(">d", obj))
    elif isinstance(obj, str):
        data = obj.encode("utf-8")
        out.append(_header(len(data), 0xA0, 31, b"\xd9", b"\xda", b"\xdb") + data)
    elif isinstance(obj, bytes):
        out.append(_header(len(obj), None, 0, b"\xc4", b"\xc5", b"\xc6") + obj)
    elif isinstance(obj, Ext):
        out.append(_ext(obj))
    elif isinstance(obj, (list, tuple)):
        out.append(_header(len(obj), 0x90, 15, None, b"\xdc", b"\xdd"))
        for item in obj:
            _pack(item, out)
    elif isinstance(obj, dict):
        out.append(_header(len(obj), 0x80, 15, None, b"\xde", b"\xdf"))
        for key, value in obj.items():
            _pack(key, out)
            _pack(value, out)
    else:
        raise TypeError(f"cannot encode {type(obj).__name__} as MessagePack")


def _int(value: int) -> bytes:
    if 0 <= value <= 0x7F:
        return struct.pack("B", value)
    if -32 <= value < 0:
        return struct.pack("b", value)
    if value >= 0:
        for code, fmt, limit in ((b"\xcc", ">B", 2**8), (b"\xcd", ">H", 2**16), (b"\xce", ">I", 2**32)):
            if value < limit:
                return code + struct.pack(fmt, value)
        return b"\xcf" + struct.pack(">Q", value)
    for code, fmt, limit in ((b"\xd0", ">b", 2**7), (b"\xd1", ">h", 2**15), (b"\xd2", ">i", 2**31)):
        if value >= -limit:
            return code + struct.pack(fmt, value)
    return b"\xd3" + struct.pack(">q", value)


def _header(
    size: int, fix_base: Optional[int], fix_max: int, code8: Optional[bytes], code16: bytes, code32: bytes
) -> bytes:
    if fix_base is not None and size <= fix_max:
        return struct.pack("B", fix_base | size)
    if code8 is not None and size < 2**8:
        return code8 + struct.pack(">B", size)
    if size < 2**16:
        return code16 + struct.pack(">H", size)
    return code32 + struct.pack(">I", size)


def _ext(ext: Ext) -> bytes:
    size = len(ext.data)
    fixed = {1: b"\xd4", 2: b"\xd5", 4: b"\xd6", 8: b"\xd7", 16: b"\xd8"}
    if size in fixed:
        return fixed[size] + struct.pack("b", ext.code) + ext.data
    if size < 2**8:
        return b"\xc7" + struct.pack(">Bb", size, ext.code) + ext.data
    if size < 2**16:
        return b"\xc8" + struct.pack(">Hb", size, ext.code) + ext.data
    return b"\xc9" + struct.pack(">Ib", size, ext.code) + ext.data
