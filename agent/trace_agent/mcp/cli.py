"""`python -m trace_agent.mcp` (stdio) or `python -m trace_agent.mcp --http [--host H] [--port P]`."""

from __future__ import annotations

import argparse
import logging
import sys

from click_common.config import load_settings

from ..cli import setup_logging
from ..settings import Settings
from ..startup import StartupError

log = logging.getLogger("trace_agent.mcp")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m trace_agent.mcp",
        description="The trace agent's read-only tools as an MCP server: stdio, or streamable HTTP.",
    )
    parser.add_argument(
        "--http", action="store_true", help="serve streamable HTTP at http://HOST:PORT/mcp instead of stdio"
    )
    parser.add_argument("--host", help="address to bind with --http (default AGENT_MCP_HOST, 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port with --http (default AGENT_MCP_PORT, 8765)")
    return parser.parse_args(argv)


def run(argv: list[str] | None = None, settings: Settings | None = None) -> int:
    args = parse_args(argv)
    setup_logging()
    settings = settings or load_settings(Settings)
    host = args.host or settings.mcp_host
    port = args.port or settings.mcp_port

    from ..db import Database
    from ..preflight import check_database
    from ..telemetry import Telemetry
    from ..tools import TOOLS, ToolContext
    from .http import PATH, check_bind, serve_http
    from .server import build_server

    db = Database(settings)
    try:
        if args.http:
            check_bind(host, settings.mcp_token)  # before anything connects or binds
        for warning in check_database(db, settings):
            log.warning(warning)
    except StartupError as exc:
        db.close()
        sys.stderr.write(f"trace_agent.mcp: {exc.message}\n")
        return int(exc.code)
    telemetry = Telemetry.from_settings(settings)
    server = build_server(ToolContext(db, settings), telemetry)
    where = f"http://{host}:{port}{PATH}" if args.http else "stdio"
    log.info("MCP server: %d tools on %s, reading %s", len(TOOLS), where, settings.describe())
    try:
        if args.http:
            serve_http(server, host, port, settings.mcp_token)
        else:
            import anyio
            from mcp.server.stdio import stdio_server

            async def serve_stdio() -> None:
                async with stdio_server() as (read_stream, write_stream):
                    await server.run(read_stream, write_stream, server.create_initialization_options())

            anyio.run(serve_stdio)
    except KeyboardInterrupt:
        pass
    finally:
        telemetry.shutdown()
        db.close()
    return 0
