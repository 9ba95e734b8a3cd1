"""Request bodies handed from the event loop to the engine thread as they arrive, decompressed on the way.

An INSERT's rows then reach chDB while the rest of the body is still on the wire, instead of after all of it.
"""

from __future__ import annotations

import queue
from collections.abc import Iterator

_END = object()


class ChunkFeed:
    """A one-way pipe of byte chunks: `put` from the event loop, iterate in the engine's thread."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()

    def put(self, chunk: bytes) -> None:
        if chunk:
            self._queue.put(chunk)

    def close(self, error: BaseException | None = None) -> None:
        self._queue.put(error if error is not None else _END)

    def __iter__(self) -> Iterator[bytes]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]


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
