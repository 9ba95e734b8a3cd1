"""One trace's spans → an indented tree (pure: rows in, nodes out)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .redact import REDACTED, is_secret_key, redact_text
from .span_links import identity, link

# Attributes worth showing first; any others follow (noise dropped) up to MAX_ATTRIBUTES.
KEY_ATTRIBUTES = (
    "http.request.method", "http.route", "url.path", "http.response.status_code", "error.type",
    "db.system.name", "db.operation.name", "db.collection.name", "rpc.method", "messaging.operation.name",
    "server.address", "peer.service", "exception.type", "exception.message",
)  # fmt: skip
_NOISE_PREFIXES = ("telemetry.", "otel.", "thread.", "code.", "process.", "host.", "os.")
MAX_ATTRIBUTES = 8
MAX_ATTRIBUTE_CHARS = 160


@dataclass
class SpanNode:
    span_id: str
    parent_span_id: str
    service: str
    name: str
    kind: str
    start: datetime
    duration_ms: float
    status: str
    status_message: str
    attributes: dict[str, str]
    children: list[SpanNode] = field(default_factory=list)
    depth: int = 0
    offset_ms: float = 0.0
    orphan: bool = False


def pick_attributes(attributes: dict[str, str]) -> dict[str, str]:
    ordered = [k for k in KEY_ATTRIBUTES if k in attributes]
    ordered += sorted(k for k in attributes if k not in KEY_ATTRIBUTES and not k.startswith(_NOISE_PREFIXES))
    picked: dict[str, str] = {}
    for key in ordered[:MAX_ATTRIBUTES]:
        value = str(attributes[key])
        if len(value) > MAX_ATTRIBUTE_CHARS:
            value = value[:MAX_ATTRIBUTE_CHARS] + "…"
        picked[key] = REDACTED if is_secret_key(key) and value else redact_text(value)
    return picked


def build_tree(rows: list[dict[str, Any]]) -> list[SpanNode]:
    """Roots (spans without a parent in `rows`) with their children, each level ordered by start time."""
    nodes = [
        SpanNode(
            **identity(r),
            kind=r["SpanKind"],
            start=r["Timestamp"],
            duration_ms=round(r["Duration"] / 1e6, 3),
            status=r["StatusCode"],
            status_message=redact_text(r["StatusMessage"] or ""),
            attributes=pick_attributes(r.get("SpanAttributes") or {}),
        )
        for r in rows
    ]
    roots = link(nodes, order=sorted(nodes, key=lambda n: n.start))
    for root in roots:
        root.orphan = bool(root.parent_span_id)
    if not roots:
        return []
    origin = min(n.start for n in nodes)
    stack = [(root, 0) for root in reversed(roots)]
    seen: set[int] = set()
    while stack:
        node, depth = stack.pop()
        if id(node) in seen:  # a parent cycle in bad data must not loop forever
            continue
        seen.add(id(node))
        node.depth = depth
        node.offset_ms = round((node.start - origin).total_seconds() * 1000, 3)
        stack.extend((child, depth + 1) for child in reversed(node.children))
    return roots


def walk(roots: list[SpanNode]) -> list[SpanNode]:
    """Depth-first order, as the tree is drawn."""
    out: list[SpanNode] = []
    stack = list(reversed(roots))
    seen: set[int] = set()
    while stack:
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def node_line(node: SpanNode) -> str:
    parts = [
        f"{node.service} · {node.name}",
        f"{node.duration_ms:g} ms",
        f"+{node.offset_ms:g} ms",
        node.status,
    ]
    line = " · ".join(parts)
    if node.status_message:
        line += f" ({node.status_message})"
    if node.attributes:
        line += " {" + ", ".join(f"{k}={v}" for k, v in node.attributes.items()) + "}"
    if node.orphan:
        line += " [parent span not found]"
    return f"{node.span_id} {line}"


def tree_lines(roots: list[SpanNode]) -> list[str]:
    return ["  " * n.depth + node_line(n) for n in walk(roots)]
