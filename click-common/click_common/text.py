"""Text for one log line: any error or message, however many lines its source wrote, as one line."""

from __future__ import annotations


def one_line(text: str, limit: int | None = 500) -> str:
    """`text` with every run of whitespace (newlines too) made one space, cut to `limit` characters with an
    ellipsis (None: uncut)."""
    flat = " ".join(text.split())
    if limit is None or len(flat) <= limit:
        return flat
    return flat[: limit - 1] + "…"
