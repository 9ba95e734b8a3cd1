"""Each agent tool through the MCP server (streamable HTTP, the official client) against the same tool called
directly, on the same data in the same run. Floor (issue 15): MCP/direct ≤ 1.2 for every tool.

Data: the agent_tools benchmark's (1M spans over the last two hours, 200k of them enriched with the real
MiniLM vectors), in a local stack of its own on free ports.

- direct: `tools.execute(ctx, name, input)` and `results.model_text(result)` in this process, as the CLI's
  agent loop runs a tool call: validation, the query as the read-only `agent` user, shaping, redaction and
  the untrusted-data marking.
- mcp (raw): `python -m trace_agent.mcp --http` as its own process on 127.0.0.1 (a free port), called with the
  same `tools/call` as a minimal client sends it: one JSON-RPC POST on a keep-alive connection. The same work
  plus JSON-RPC and HTTP on the server: what MCP over HTTP costs. `ratio` is this one.
- sdk: the official `mcp` Python client over one streamable-HTTP session (it lists the tools first, as every
  client does): the same plus the client library's own cost, about 2–3 ms a call on this machine (a client
  in another language pays its own). Reported beside it as `sdk_ratio`.

Runs alternate direct / mcp (and which goes first), `--runs` each after warm-up; a ratio is the worst tool's
p50 through MCP / its direct p50.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import anyio
from local_stack.launch import Launcher, free_port, stop_process, wait_listening
from mcp import Client
from trace_agent.db import Database
from trace_agent.results import model_text
from trace_agent.settings import Settings
from trace_agent.tools import ToolContext, execute

from benchmarks.agent_tools import prepare, quantile


def start_server(stack, port: int, cwd: str) -> subprocess.Popen:
    env = stack.env(
        AGENT_CLICKHOUSE_USER="agent", AGENT_CLICKHOUSE_PASSWORD="", TOKENIZERS_PARALLELISM="false"
    )
    env.pop("AGENT_MCP_TOKEN", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "trace_agent.mcp", "--http", "--port", str(port)], env=env, cwd=cwd,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_listening(process, port, "the MCP server")
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    return process


def timed(fn) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


async def timed_mcp(fn) -> float:
    started = time.perf_counter()
    await fn()
    return (time.perf_counter() - started) * 1000


class RawCaller:
    """`tools/call` as the 2026-07-28 streamable HTTP wire has it, on one keep-alive connection."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.ids = 0

    def __call__(self, name: str, arguments: dict) -> bool:
        self.ids += 1
        meta = {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientInfo": {"name": "benchmark", "version": "0"},
            "io.modelcontextprotocol/clientCapabilities": {},
        }
        params = {"name": name, "arguments": arguments, "_meta": meta}
        body = json.dumps({"jsonrpc": "2.0", "id": self.ids, "method": "tools/call", "params": params})
        headers = {
            "content-type": "application/json",
            "accept": "application/json, text/event-stream",
            "mcp-protocol-version": "2026-07-28",
            "mcp-method": "tools/call",
            "mcp-name": name,
        }
        try:
            self.connection.request("POST", "/mcp", body, headers)
            response = self.connection.getresponse()
        except (http.client.HTTPException, ConnectionError):  # the server closed an idle keep-alive
            self.connection.close()
            self.connection.request("POST", "/mcp", body, headers)
            response = self.connection.getresponse()
        answer = json.loads(response.read())
        return response.status == 200 and not answer.get("result", {}).get("isError", True)


async def measure(url: str, ctx: ToolContext, calls: list[tuple[str, dict]], runs: int) -> list[tuple]:
    rows = []
    raw = RawCaller(int(url.rsplit(":", 1)[1].split("/")[0]))
    async with Client(url) as client:
        await client.list_tools()  # as a real client does first (the SDK otherwise lists on the first call)
        for name, tool_input in calls:

            def direct(name=name, tool_input=tool_input) -> bool:
                result = execute(ctx, name, tool_input)
                model_text(result)
                return result.error is None

            async def through_mcp(name=name, tool_input=tool_input) -> bool:
                result = await client.call_tool(name, tool_input)
                return not result.is_error

            def through_raw(name=name, tool_input=tool_input) -> bool:
                return raw(name, tool_input)

            for _ in range(2):
                if not direct() or not await through_mcp() or not through_raw():
                    raise SystemExit(f"{name} failed")
            direct_times, mcp_times, raw_times = [], [], []
            for run in range(runs):
                if run % 2:  # every other run MCP first, so neither side always follows the other
                    mcp_times.append(await timed_mcp(through_mcp))
                direct_times.append(timed(direct))
                if not run % 2:
                    mcp_times.append(await timed_mcp(through_mcp))
                raw_times.append(timed(through_raw))
            d50, m50, r50 = (statistics.median(t) for t in (direct_times, mcp_times, raw_times))
            d95, m95 = quantile(direct_times, 0.95), quantile(mcp_times, 0.95)
            rows.append((name, d50, d95, m50, m95, m50 / d50, r50 / d50))
            print(
                f"{name:16} direct p50={d50:7.1f} ms p95={d95:7.1f} ms   "
                f"mcp p50={m50:7.1f} ms p95={m95:7.1f} ms   raw p50={r50:7.1f} ms   "
                f"mcp/direct={m50 / d50:.2f} raw/direct={r50 / d50:.2f}",
                flush=True,
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--enriched", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="mcp-bench-") as tmp:
        stack = Launcher(Path(tmp) / "data").start()
        server = None
        try:
            calls = prepare(stack, args.spans, args.enriched)

            port = free_port()
            server = start_server(stack, port, tmp)
            settings = Settings(
                _env_file=None, clickhouse_host=stack.host, clickhouse_port=stack.clickhouse_port,
                clickhouse_user="agent",
            )  # fmt: skip
            db = Database(settings)
            ctx = ToolContext(db, settings)
            rows = anyio.run(measure, f"http://127.0.0.1:{port}/mcp", ctx, calls, args.runs)
            db.close()
        finally:
            if server is not None:
                stop_process(server)
            stack.stop()

    worst_sdk = max(rows, key=lambda r: r[5])
    slowest = max(rows, key=lambda r: r[4])
    worst = max(rows, key=lambda r: r[6])
    print(
        f"RESULT spans={args.spans} enriched={args.enriched} runs={args.runs} transport=streamable-http "
        f"tools={len(rows)} worst_tool={worst[0]} worst_sdk_tool={worst_sdk[0]} "
        f"worst_sdk_direct_p50_ms={worst_sdk[1]:.1f} worst_sdk_p50_ms={worst_sdk[3]:.1f} "
        f"max_p95_tool={slowest[0]} max_sdk_p95_ms={slowest[4]:.1f} sdk_ratio={worst_sdk[5]:.2f} "
        f"ratio={worst[6]:.2f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
