"""The streamable HTTP transport: loopback unless a bearer token guards it, served by uvicorn at /mcp."""

from __future__ import annotations

import hmac
import ipaddress
from typing import Any

from mcp.server import Server
from mcp.server.transport_security import TransportSecuritySettings

from ..startup import EXIT_CONFIG, StartupError

PATH = "/mcp"
_LOOPBACK_SECURITY = TransportSecuritySettings(
    # Refuses requests whose Host/Origin is not loopback: a web page cannot reach the server by DNS rebinding.
    enable_dns_rebinding_protection=True,
    allowed_hosts=["127.0.0.1:*", "localhost:*", "[::1]:*"],
    allowed_origins=["http://127.0.0.1:*", "http://localhost:*", "http://[::1]:*"],
)


def is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # another name (or 0.0.0.0 / ::): reachable from elsewhere


def check_bind(host: str, token: str) -> None:
    """Loopback needs nothing; any other address needs AGENT_MCP_TOKEN, or the server does not start."""
    if not is_loopback(host) and not token.strip():
        raise StartupError(
            f"refusing to serve MCP on {host}: an address beyond loopback needs a bearer token "
            "(set AGENT_MCP_TOKEN; clients then send `Authorization: Bearer <token>`)",
            EXIT_CONFIG,
        )


class RequireBearer:
    """ASGI middleware: every HTTP request must carry `Authorization: Bearer <token>` (compared in constant
    time); anything else gets 401 before it reaches the MCP transport."""

    def __init__(self, app: Any, token: str) -> None:
        self.app = app
        self.expected = f"Bearer {token.strip()}".encode()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            sent = next((v for k, v in scope["headers"] if k == b"authorization"), b"")
            if not hmac.compare_digest(sent, self.expected):
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b'Bearer realm="click-ai"'),
                        ],
                    }
                )
                await send(
                    {
                        "type": "http.response.body",
                        "body": b'{"error":"invalid_token","error_description":"send Authorization: Bearer '
                        b'<AGENT_MCP_TOKEN>"}',
                    }
                )
                return
        await self.app(scope, receive, send)


def http_app(server: Server[Any], host: str, token: str) -> Any:
    """The SDK's streamable HTTP transport at /mcp (ASGI), behind the bearer check if a token is set."""
    check_bind(host, token)
    # Beyond loopback the token is the guard (the Host header is then whatever name clients use).
    security = (
        _LOOPBACK_SECURITY
        if is_loopback(host)
        else TransportSecuritySettings(enable_dns_rebinding_protection=False)
    )
    # Plain JSON responses: no tool streams progress, so an SSE stream per call would only add latency.
    app = server.streamable_http_app(
        streamable_http_path=PATH, host=host, transport_security=security, json_response=True
    )
    return RequireBearer(app, token) if token.strip() else app


def serve_http(server: Server[Any], host: str, port: int, token: str) -> None:
    import uvicorn

    # uvloop and httptools (pinned): about 0.3 ms less per call than asyncio's loop and h11. No proxy headers:
    # the server is reached directly (loopback, or the compose port mapping), not through a trusted proxy; no
    # `server: uvicorn` header either.
    config = uvicorn.Config(
        http_app(server, host, token), host=host, port=port, log_level="warning", access_log=False,
        loop="uvloop", http="httptools", proxy_headers=False, server_header=False,
    )  # fmt: skip
    uvicorn.Server(config).run()
