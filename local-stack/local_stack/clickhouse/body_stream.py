"""Request bodies decompressed as they arrive (what aiohttp does not decode itself)."""

from __future__ import annotations


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
        if self._decoder is None:
            return chunk
        out = []
        while chunk:
            out.append(self._decoder.decompress(chunk))
            if not self._decoder.eof:
                break
            chunk = self._decoder.unused_data  # the next lz4 frame starts here
            self._decoder = self._new()
        return b"".join(out)
