"""Request bodies decompressed as they arrive (what aiohttp does not decode itself)."""

from __future__ import annotations

from .engine import ClickHouseError


class StreamDecoder:
    """Incremental decoder for what aiohttp leaves encoded: nothing, or lz4 (concatenated frames)."""

    SUPPORTED = frozenset({"", "lz4"})

    def __init__(self, encoding: str) -> None:
        if encoding not in self.SUPPORTED:
            raise ValueError(f"no streaming decoder for {encoding!r}")
        self.encoding = encoding
        self._decoder = self._new()

    def _new(self):
        if self.encoding == "lz4":
            import lz4.frame

            return lz4.frame.LZ4FrameDecompressor()
        return None

    def feed(self, chunk: bytes) -> bytes:
        """The decoded bytes of `chunk`; a body that is not lz4 is ClickHouse's CANNOT_DECOMPRESS."""
        if self._decoder is None:
            return chunk
        out = []
        try:
            while chunk:
                out.append(self._decoder.decompress(chunk))
                if not self._decoder.eof:
                    break
                chunk = self._decoder.unused_data  # the next lz4 frame starts here
                self._decoder = self._new()
        except (RuntimeError, ValueError) as exc:  # what lz4.frame raises for bytes that are not a frame
            raise ClickHouseError(
                f"Cannot decompress the lz4 body: {exc}. (CANNOT_DECOMPRESS)", 271
            ) from None
        return b"".join(out)
