"""The MCP server: the registry's tools, the schema and one trace as resources, the seed questions as prompts.

Everything a tool is (name, title, description, input schema, validation, query, result shaping, redaction,
the untrusted-data marking) comes from `trace_agent.tools`; this module only translates to MCP types.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import mcp_types as types
from click_common.text import one_line
from mcp.server import Server
from mcp.shared.exceptions import MCPError
from mcp_types import INVALID_PARAMS

from ..prompts import SEED_QUESTIONS, SERVER_INSTRUCTIONS
from ..results import ToolResult, model_text
from ..telemetry import Telemetry
from ..tools import TOOLS, Tool, ToolContext, execute

SERVER_NAME = "click-ai"
SCHEMA_URI = "clickai://schema"
TRACE_URI_TEMPLATE = "clickai://trace/{trace_id}"
_TRACE_URI = re.compile(r"^clickai://trace/(?P<trace_id>[^/?#]+)$")
MIME = "text/plain"

log = logging.getLogger("trace_agent.mcp")


def _version() -> str:
    try:
        return version("trace-agent")
    except PackageNotFoundError:  # running from a source tree without the package installed
        return "0"


def annotations(tool: Tool) -> types.ToolAnnotations:
    """What is true of every tool: it only reads (the server refuses a ClickHouse user that can write, and the
    user's profile is readonly), and it only reaches the trace tables (the SQL guard refuses table functions
    that reach outside)."""
    return types.ToolAnnotations(
        title=tool.title,
        read_only_hint=True,
        destructive_hint=False,
        idempotent_hint=True,
        open_world_hint=False,
    )


def mcp_tool(tool: Tool) -> types.Tool:
    return types.Tool(
        name=tool.name,
        title=tool.title,
        description=tool.description,
        input_schema=tool.schema,
        annotations=annotations(tool),
    )


def resource_fields(name: str, title: str, tool: str) -> dict[str, Any]:
    """A resource's name, title, and the description of the tool that reads it."""
    return {"name": name, "title": title, "description": TOOLS[tool].description, "mime_type": MIME}


def call_result(result: ToolResult) -> types.CallToolResult:
    """A tool error as an MCP tool error with its one-line reason; data as the CLI's marked tool_data text."""
    if result.error is not None:
        return types.CallToolResult(content=[types.TextContent(text=one_line(result.error))], is_error=True)
    return types.CallToolResult(content=[types.TextContent(text=model_text(result))])


def build_server(ctx: ToolContext, telemetry: Telemetry | None = None) -> Server[Any]:
    """An MCP server whose every request runs the registry's tools against `ctx` (one ClickHouse client as
    the read-only user).

    A tool call runs on the event loop itself, one at a time: the work is ClickHouse's (or the embedder's),
    and a hop to a worker thread and back costs two more thread wake-ups, measured at 0.1–0.5 ms a call here
    (the benchmark's fastest tool takes ~9 ms). The price: calls that arrive together (several clients, or
    one client's parallel calls) are answered in turn rather than side by side.

    Each tool call is an `execute_tool` span as the CLI's are (`telemetry`), built after the answer is sent
    and exported in batches by a background thread."""
    tools = [mcp_tool(tool) for tool in TOOLS.values()]
    telemetry = telemetry or Telemetry()

    async def run_tool(name: str, arguments: dict[str, Any] | None, call_id: Any) -> ToolResult:
        raw = arguments if arguments is not None else {}
        started = time.time_ns()
        try:
            result = execute(ctx, name, raw)
        except Exception as exc:
            # A bug, not a tool failure: the traceback to our log, one line to the client.
            log.exception("tool %s failed unexpectedly", name)
            result = ToolResult(name, raw, kind="error", error=f"internal error: {type(exc).__name__}: {exc}")
        if telemetry.enabled:  # the span once this step has written the answer: off the caller's path
            asyncio.get_running_loop().call_soon(
                telemetry.finished_tool_call, name, str(call_id), result, started, time.time_ns()
            )
        return result

    @asynccontextmanager
    async def lifespan(_server: Any) -> AsyncIterator[dict[str, Any]]:
        try:
            yield {}
        finally:  # uvicorn re-raises SIGTERM once it has stopped: the buffered spans go out before that
            telemetry.shutdown()

    async def list_tools(_ctx: Any, _params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(request: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        if params.name not in TOOLS:  # not a tool failure but a wrong request: a protocol error
            raise MCPError(INVALID_PARAMS, f"unknown tool {params.name!r}; tools: {', '.join(TOOLS)}")
        return call_result(await run_tool(params.name, params.arguments, request.request_id))

    schema = types.Resource(
        uri=SCHEMA_URI, **resource_fields("schema", "Trace tables and column meanings", "describe_schema")
    )
    trace = types.ResourceTemplate(
        uri_template=TRACE_URI_TEMPLATE,
        **resource_fields("trace", "One trace as a span tree", "get_trace_tree"),
    )

    async def list_resources(_ctx: Any, _params: Any) -> types.ListResourcesResult:
        return types.ListResourcesResult(resources=[schema])

    async def list_resource_templates(_ctx: Any, _params: Any) -> types.ListResourceTemplatesResult:
        return types.ListResourceTemplatesResult(resource_templates=[trace])

    async def read_resource(
        request: Any, params: types.ReadResourceRequestParams
    ) -> types.ReadResourceResult:
        uri = str(params.uri)
        if uri == SCHEMA_URI:
            result = await run_tool("describe_schema", {}, request.request_id)
        elif match := _TRACE_URI.match(uri):
            result = await run_tool("get_trace_tree", {"trace_id": match["trace_id"]}, request.request_id)
        else:
            raise MCPError(
                INVALID_PARAMS, f"unknown resource {uri}; resources: {SCHEMA_URI}, {TRACE_URI_TEMPLATE}"
            )
        if result.error is not None:
            raise MCPError(INVALID_PARAMS, one_line(result.error))
        return types.ReadResourceResult(
            contents=[types.TextResourceContents(uri=uri, mime_type=MIME, text=model_text(result))]
        )

    async def list_prompts(_ctx: Any, _params: Any) -> types.ListPromptsResult:
        prompts = [
            types.Prompt(name=name, title=title, description=f"Ask: {question}")
            for name, (title, question) in SEED_QUESTIONS.items()
        ]
        return types.ListPromptsResult(prompts=prompts)

    async def get_prompt(_ctx: Any, params: types.GetPromptRequestParams) -> types.GetPromptResult:
        if params.name not in SEED_QUESTIONS:
            raise MCPError(
                INVALID_PARAMS, f"unknown prompt {params.name!r}; prompts: {', '.join(SEED_QUESTIONS)}"
            )
        title, question = SEED_QUESTIONS[params.name]
        message = types.PromptMessage(role="user", content=types.TextContent(text=question))
        return types.GetPromptResult(description=title, messages=[message])

    server = Server(
        SERVER_NAME,
        version=_version(),
        title="click-ai trace tools",
        description="Read-only tools over the OpenTelemetry traces of a simulated SNKRS drop in ClickHouse",
        instructions=SERVER_INSTRUCTIONS,
        lifespan=lifespan,
        # From the registry: otherwise each HTTP tools/call would rebuild tools/list to find one schema.
        get_tool_input_schema=lambda name: TOOLS[name].schema if name in TOOLS else None,
        on_list_tools=list_tools,
        on_call_tool=call_tool,
        on_list_resources=list_resources,
        on_list_resource_templates=list_resource_templates,
        on_read_resource=read_resource,
        on_list_prompts=list_prompts,
        on_get_prompt=get_prompt,
    )
    # The SDK's default middleware spans every request on OpenTelemetry's global tracer provider, which this
    # process never sets (its spans are `telemetry`'s): a no-op context and attribute dict on every call.
    server.middleware = []
    return server
