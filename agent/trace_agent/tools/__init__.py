"""The agent's tools: validated input → one read-only query → a compact, redacted ToolResult.

`registry` names every tool and runs one by name (`execute`); `context` is what each runs with; one module per
family of tools: `spans`, `traces`, `search`, `logs`, `metrics`, `schema`, `sql`."""

from .context import ToolContext, ToolError
from .registry import TOOLS, Tool, execute, tool_definitions, validation_message

__all__ = ["TOOLS", "Tool", "ToolContext", "ToolError", "execute", "tool_definitions", "validation_message"]
