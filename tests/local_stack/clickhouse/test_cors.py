"""`add_http_cors_header=1` (HyperDX's local mode queries ClickHouse from the browser): the endpoint answers
with clickhouse-server's CORS headers when a browser (an Origin header) asks, and answers its preflight."""

from __future__ import annotations

import urllib.request


def request(stack, query: str, method: str = "POST", origin: str | None = "http://localhost:8080"):
    headers = {"Origin": origin} if origin else {}
    data = b"SELECT 1" if method == "POST" else None
    req = urllib.request.Request(
        f"{stack.ports.clickhouse_url}/?{query}", data=data, headers=headers, method=method
    )
    with urllib.request.urlopen(req, timeout=10) as response:
        return response.status, dict(response.headers), response.read()


def test_cors_header_only_when_asked_by_a_browser(local_stack) -> None:
    status, headers, body = request(local_stack, "add_http_cors_header=1")
    assert (status, body) == (200, b"1\n")
    assert headers["Access-Control-Allow-Origin"] == "*"
    assert "x-clickhouse-user" in headers["Access-Control-Allow-Headers"]
    _, headers, _ = request(local_stack, "")
    assert "Access-Control-Allow-Origin" not in headers  # not asked
    _, headers, _ = request(local_stack, "add_http_cors_header=1", origin=None)
    assert "Access-Control-Allow-Origin" not in headers  # not a browser


def test_preflight_is_answered(local_stack) -> None:
    status, headers, _ = request(local_stack, "add_http_cors_header=1", method="OPTIONS")
    assert status == 204
    assert headers["Access-Control-Allow-Methods"] == "POST, GET, OPTIONS"
