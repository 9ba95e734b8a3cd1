"""Native output for a client that names its TCP protocol revision (`client_protocol_version`, as
clickhouse-go sends over HTTP): clickhouse-server then writes each block's BlockInfo and, after each
column's type, whether the column has a custom serialization. chDB writes revision-0 Native; this adds both
(no custom serialization: the column data is the plain dense one chDB wrote). Blocks are walked by their
types to find the boundaries.
"""

from __future__ import annotations

import re

from .engine import ClickHouseError

WITH_BLOCK_INFO = 1  # any revision > 0
WITH_CUSTOM_SERIALIZATION = 54454
# BlockInfo: field 1 is_overflows = false, field 2 bucket_num = -1, field 0 ends it
_BLOCK_INFO = b"\x01\x00\x02\xff\xff\xff\xff\x00"

_FIXED = {
    **dict.fromkeys(("UInt8", "Int8", "Bool", "Nothing"), 1),
    **dict.fromkeys(("UInt16", "Int16", "Date", "BFloat16"), 2),
    **dict.fromkeys(("UInt32", "Int32", "Float32", "DateTime", "Date32", "IPv4", "Time"), 4),
    **dict.fromkeys(("UInt64", "Int64", "Float64", "Time64", "DateTime64"), 8),
    **dict.fromkeys(("UInt128", "Int128", "UUID", "IPv6"), 16),
    **dict.fromkeys(("UInt256", "Int256"), 32),
}


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _split_args(inner: str) -> list[str]:
    args, depth, start, quote = [], 0, 0, False
    for i, ch in enumerate(inner):
        if ch == "'" and (i == 0 or inner[i - 1] != "\\"):
            quote = not quote
        elif not quote and ch == "(":
            depth += 1
        elif not quote and ch == ")":
            depth -= 1
        elif not quote and ch == "," and depth == 0:
            args.append(inner[start:i].strip())
            start = i + 1
    args.append(inner[start:].strip())
    return args


_NAMED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*\s+(?=[A-Z])")


def _skip(data: bytes, at: int, type_: str, rows: int) -> int:
    """The offset just past `rows` values of `type_` serialized from `at`."""
    name, _, rest = type_.partition("(")
    args = _split_args(rest[:-1]) if rest else []
    if name in _FIXED:
        return at + rows * _FIXED[name]
    if name.startswith("Interval"):
        return at + rows * 8
    if name in ("Enum8", "Enum16"):
        return at + rows * (1 if name == "Enum8" else 2)
    if name == "FixedString":
        return at + rows * int(args[0])
    if name.startswith("Decimal"):
        bits = {"Decimal32": 4, "Decimal64": 8, "Decimal128": 16, "Decimal256": 32}.get(name)
        if bits is None:
            precision = int(args[0])
            bits = 4 if precision <= 9 else 8 if precision <= 18 else 16 if precision <= 38 else 32
        return at + rows * bits
    if name == "String":
        for _ in range(rows):
            length, at = _varint(data, at)
            at += length
        return at
    if name == "Nullable":
        return _skip(data, at + rows, args[0], rows)
    if name in ("Array", "Map"):
        total = int.from_bytes(data[at + 8 * (rows - 1) : at + 8 * rows], "little") if rows else 0
        at += 8 * rows
        element = args[0] if name == "Array" else f"Tuple({args[0]}, {args[1]})"
        return _skip(data, at, element, total)
    if name == "LowCardinality":
        return _skip_low_cardinality(data, at, args[0], rows)
    if name == "Tuple":
        for element in args:
            at = _skip(data, at, _NAMED.sub("", element), rows)
        return at
    raise ClickHouseError(
        f"The HTTP endpoint cannot write {type_} in Native for client_protocol_version > 0. "
        "(NOT_IMPLEMENTED)",
        code=48,
    )


def _skip_low_cardinality(data: bytes, at: int, inner: str, rows: int) -> int:
    """Granules: flags, the additional keys (the dictionary), the indexes (the key version is a prefix)."""
    dictionary = inner[len("Nullable(") : -1] if inner.startswith("Nullable(") else inner
    while rows > 0:
        flags = int.from_bytes(data[at : at + 8], "little")
        at += 8
        if flags & (1 << 9):  # has additional keys
            keys = int.from_bytes(data[at : at + 8], "little")
            at = _skip(data, at + 8, dictionary, keys)
        count = int.from_bytes(data[at : at + 8], "little")
        at += 8 + count * (1 << (flags & 0xFF))
        rows -= count
    return at


def for_revision(native: bytes, revision: int) -> bytes:
    """chDB's revision-0 Native → what clickhouse-server writes for a client of `revision`."""
    if revision <= 0 or not native:
        return native
    out, at = bytearray(), 0
    while at < len(native):
        out += _BLOCK_INFO
        start = at
        columns, at = _varint(native, at)
        rows, at = _varint(native, at)
        out += native[start:at]
        for _ in range(columns):
            start = at
            for _ in range(2):  # name, type
                length, at = _varint(native, at)
                at += length
            type_ = native[at - length : at].decode()
            out += native[start:at]
            if revision >= WITH_CUSTOM_SERIALIZATION:
                out.append(0)
            # a column's state prefixes come first: the key version of each LowCardinality in its type
            prefixes = 8 * type_.count("LowCardinality(") if rows else 0
            start, at = at, _skip(native, at + prefixes, type_, rows)
            out += native[start:at]
            if at > len(native):
                raise ClickHouseError(f"Native output of {type_} misread (NOT_IMPLEMENTED)", code=48)
    return bytes(out)
