"""The critical path of a trace (pure: spans in, path out): the chain of spans that sets its duration.

Walking back from the root's end: at each span the child that finished last (before the point reached so far)
is what the span waited for; the time between that child's end and the point is the span's own work on the
path, and the walk continues inside the child, then with the child that finished before it started.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .span_links import identity, link


@dataclass
class PathSpan:
    span_id: str
    parent_span_id: str
    service: str
    name: str
    status: str
    start_ns: int
    end_ns: int
    children: list[PathSpan] = field(default_factory=list)
    on_path_ns: int = 0  # time this span's own work adds to the critical path
    depth: int = 0

    @property
    def duration_ns(self) -> int:
        return self.end_ns - self.start_ns


def self_time_ns(span: PathSpan) -> int:
    """The span's duration less the union of its children's intervals (clipped to the span)."""
    intervals = sorted(
        (max(c.start_ns, span.start_ns), min(c.end_ns, span.end_ns))
        for c in span.children
        if c.end_ns > span.start_ns and c.start_ns < span.end_ns
    )
    covered, cursor = 0, span.start_ns
    for start, end in intervals:
        start = max(start, cursor)
        if end > start:
            covered += end - start
            cursor = end
    return max(span.duration_ns - covered, 0)


def build(rows: list[dict[str, Any]]) -> list[PathSpan]:
    """Root spans (no parent among the rows) with their children; rows need start_ns and Duration."""
    spans = [
        PathSpan(
            **identity(r),
            status=r["StatusCode"],
            start_ns=int(r["start_ns"]),
            end_ns=int(r["start_ns"]) + int(r["Duration"]),
        )
        for r in rows
    ]
    return link(spans)


def critical_path(root: PathSpan) -> list[PathSpan]:
    """The spans on the root's critical path in walk order (each with on_path_ns set; they add up to the
    root's duration)."""
    path: list[PathSpan] = []
    seen: set[int] = set()
    # (span, the point in time walked back to, depth); iterative so deep traces cannot overflow the stack
    stack: list[tuple[PathSpan, int, int]] = [(root, root.end_ns, 0)]
    while stack:
        span, until, depth = stack.pop()
        if id(span) in seen:  # bad data with a parent cycle must not loop
            continue
        seen.add(id(span))
        span.depth = depth
        path.append(span)
        cursor = min(span.end_ns, until)
        pending: list[tuple[PathSpan, int, int]] = []
        for child in sorted(span.children, key=lambda c: (c.end_ns, c.start_ns), reverse=True):
            if child.start_ns >= cursor or child.end_ns <= span.start_ns:
                continue
            child_end = min(child.end_ns, cursor)
            span.on_path_ns += cursor - child_end
            pending.append((child, child_end, depth + 1))
            cursor = max(child.start_ns, span.start_ns)
            if cursor <= span.start_ns:
                break
        span.on_path_ns += max(cursor - span.start_ns, 0)
        # the child that finished last is walked first (its chain sets the end of the trace)
        stack.extend(reversed(pending))
    return path


def longest_root(roots: list[PathSpan]) -> PathSpan | None:
    return max(roots, key=lambda s: (s.duration_ns, -s.start_ns), default=None)
