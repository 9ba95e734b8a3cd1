"""ClickHouse's own compressed-block framing, used over HTTP when a client asks `compress=1` (the response) or
sends `decompress=1` (the request body): clickhouse-go does both with its default LZ4 compression.

A block is a 16-byte CityHash128 checksum of the rest, then the method byte, the compressed size (header
included) and the uncompressed size as little-endian UInt32, then the compressed bytes.
"""

from __future__ import annotations

import struct

import lz4.block
from clickhouse_cityhash.cityhash import CityHash128

from .engine import ClickHouseError

NONE, LZ4, ZSTD = 0x02, 0x82, 0x90
_HEADER = struct.Struct("<BII")
_BLOCK = 1 << 20  # uncompressed bytes per block, as clickhouse-server's max_compress_block_size
_MAX_SIZE = 1 << 30  # DBMS_MAX_COMPRESSED_SIZE: a larger size in a block header is corrupt data


def _checksum(data: bytes) -> bytes:
    # the package returns the hash as (first << 64) | second of ClickHouse's two UInt64 halves
    h = CityHash128(data)
    return (h >> 64).to_bytes(8, "little") + (h & 0xFFFF_FFFF_FFFF_FFFF).to_bytes(8, "little")


def _zstd():
    try:
        from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
    except ImportError:
        from backports import zstd  # type: ignore[import-not-found,no-redef]
    return zstd


def compress(data: bytes, method: int = LZ4) -> bytes:
    out = bytearray()
    for at in range(0, len(data), _BLOCK):
        chunk = data[at : at + _BLOCK]
        if method == LZ4:
            packed = lz4.block.compress(chunk, store_size=False)
        elif method == ZSTD:
            packed = _zstd().compress(chunk)
        else:
            packed = chunk
        block = _HEADER.pack(method, _HEADER.size + len(packed), len(chunk)) + packed
        out += _checksum(block) + block
    return bytes(out)


def decompress(data: bytes | memoryview) -> bytes:
    view, out, at = memoryview(data), bytearray(), 0
    while at < len(view):
        if len(view) - at < 16 + _HEADER.size:
            raise _corrupt("truncated block header")
        method, size, raw_size = _HEADER.unpack_from(view, at + 16)
        if size > _MAX_SIZE or raw_size > _MAX_SIZE:
            raise _corrupt(
                f"too large block size ({size}, {raw_size} decompressed): most likely corrupted data"
            )
        block = view[at + 16 : at + 16 + size]
        if size < _HEADER.size or len(block) != size:
            raise _corrupt("truncated block")
        if bytes(view[at : at + 16]) != _checksum(bytes(block)):
            raise _corrupt("checksum doesn't match: corrupted data")
        out += _unpack(method, bytes(block[_HEADER.size :]), raw_size)
        at += 16 + size
    return bytes(out)


def _unpack(method: int, packed: bytes, raw_size: int) -> bytes:
    """One block's data; one that does not decompress to its stated size is corrupt (as the server says)."""
    try:
        if method == LZ4:
            data = lz4.block.decompress(packed, uncompressed_size=raw_size)
        elif method == ZSTD:
            zstd = _zstd()
            decompressor = zstd.ZstdDecompressor()
            data = decompressor.decompress(packed, max_length=raw_size + 1)  # no more than it says
            if not decompressor.eof:
                raise _corrupt("the zstd data does not end where its block does")
        elif method == NONE:
            data = packed
        else:
            raise ClickHouseError(
                f"Unknown compression method: {method:#x}. (UNKNOWN_COMPRESSION_METHOD)", code=89
            )
    except (lz4.block.LZ4BlockError, _zstd().ZstdError) as exc:
        raise _corrupt(f"{type(exc).__name__}: {exc}") from None
    if len(data) != raw_size:
        raise _corrupt(f"the block holds {len(data)} bytes, its header says {raw_size}")
    return data


def _corrupt(what: str) -> ClickHouseError:
    return ClickHouseError(f"Cannot decompress: {what}. (CANNOT_DECOMPRESS)", code=271)
