"""Links into HyperDX: a URL per trace id in a tool result, opening that trace in HyperDX's search page.

HyperDX 2.36 (packages/app DBSearchPage): `/search?source=<source id or name>&traceId=<id>` opens the trace's
side panel; without from/to it looks back 14 days, more than the tables keep (3 days).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from .results import ToolResult

_TRACE_ID = re.compile(r"^[0-9a-f]{32}$")
MAX_LINKS = 60


def trace_url(base_url: str, source: str, trace_id: str) -> str:
    return f"{base_url.rstrip('/')}/search?" + urlencode({"source": source, "traceId": trace_id})


def _trace_ids(value: Any, found: dict[str, None]) -> None:
    if isinstance(value, str):
        if _TRACE_ID.match(value):
            found.setdefault(value, None)
    elif isinstance(value, list | tuple):
        for item in value:
            _trace_ids(item, found)
    elif isinstance(value, dict):
        for item in value.values():
            _trace_ids(item, found)


def add_trace_links(result: ToolResult, base_url: str, source: str) -> None:
    """Every trace id in the rows or the extra fields gets `trace_links[id] = url` (at most MAX_LINKS)."""
    if not base_url or result.is_error:
        return
    found: dict[str, None] = {}
    _trace_ids(result.rows, found)
    _trace_ids({k: v for k, v in result.extra.items() if k != "trace_links"}, found)
    if found:
        ids = list(found)[:MAX_LINKS]
        result.extra["trace_links"] = {trace_id: trace_url(base_url, source, trace_id) for trace_id in ids}
