"""Span nodes linked to their parents (pure): what the trace tree and the critical path both build from one
trace's rows."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Protocol, Self, TypeVar


class Linkable(Protocol):
    span_id: str
    parent_span_id: str
    children: list[Self]


N = TypeVar("N", bound=Linkable)


def identity(row: dict[str, Any]) -> dict[str, Any]:
    """The fields every span node takes from its row: ids, service and name."""
    return {
        "span_id": row["SpanId"],
        "parent_span_id": row["ParentSpanId"],
        "service": row["ServiceName"],
        "name": row["SpanName"],
    }


def link(nodes: Sequence[N], order: Iterable[N] | None = None) -> list[N]:
    """Append each node (in `order`, else as given) to its parent's children; returns the roots in that order:
    the nodes whose parent is not among `nodes`, or is the node itself. Of duplicate span ids, the last in
    `nodes` is the parent."""
    by_id = {node.span_id: node for node in nodes}
    roots: list[N] = []
    for node in nodes if order is None else order:
        parent = by_id.get(node.parent_span_id) if node.parent_span_id else None
        if parent is None or parent is node:
            roots.append(node)
        else:
            parent.children.append(node)
    return roots
