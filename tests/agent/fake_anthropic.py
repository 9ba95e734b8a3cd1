"""A fake Anthropic Messages API on loopback that replays scripted turns, streaming them as SSE like the real
API, so the real `anthropic` SDK (pointed at it by ANTHROPIC_BASE_URL / base_url) drives the agent loop."""

from __future__ import annotations

import asyncio
import itertools
import json
import threading
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from local_stack.launch import free_port

_ids = itertools.count(1)


def text(value: str) -> dict[str, Any]:
    return {"type": "text", "text": value}


def tool_use(name: str, tool_input: dict[str, Any], tool_id: str | None = None) -> dict[str, Any]:
    return {"type": "tool_use", "id": tool_id or f"toolu_{next(_ids):04d}", "name": name, "input": tool_input}


@dataclass
class Turn:
    """One assistant message. `cut_json` sends only the first half of the last tool_use's input JSON (what a
    `max_tokens` stop in the middle of a tool call looks like)."""

    content: list[dict[str, Any]]
    stop_reason: str = "end_turn"
    input_tokens: int = 120
    output_tokens: int = 30
    cut_json: bool = False


@dataclass
class Fail:
    status: int
    error_type: str = "rate_limit_error"
    message: str = "Number of requests has exceeded your rate limit"
    headers: dict[str, str] = field(default_factory=lambda: {"retry-after-ms": "20"})
    retry: bool = True  # the x-should-retry header the real API sends


@dataclass
class Request:
    headers: dict[str, str]
    body: dict[str, Any]

    @property
    def messages(self) -> list[dict[str, Any]]:
        return self.body["messages"]

    def tool_results(self) -> list[dict[str, Any]]:
        """The tool_result blocks of the last user message."""
        content = self.messages[-1]["content"]
        return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_result"]


class FakeAnthropic:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host  # the Docker tests bind the host's address on the stack's bridge network
        self.script: list[Turn | Fail] = []
        self.requests: list[Request] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = free_port(host)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def play(self, *items: Turn | Fail) -> None:
        self.script = list(items)
        self.requests = []

    # --- server ---------------------------------------------------------------------------------

    def start(self) -> FakeAnthropic:
        ready = threading.Event()

        def serve() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            app = web.Application()
            app.router.add_post("/v1/messages", self._messages)
            self._runner = web.AppRunner(app)
            self._loop.run_until_complete(self._runner.setup())
            self._loop.run_until_complete(web.TCPSite(self._runner, self.host, self.port).start())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="fake-anthropic", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the fake Messages API did not start")
        return self

    def stop(self) -> None:
        if self._loop is None:
            return
        assert self._runner is not None
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread:
            self._thread.join(10)

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(Request(dict(request.headers), body))
        if not self.script:
            return _error(500, "api_error", "the fake server's script is exhausted")
        item = self.script.pop(0)
        if isinstance(item, Fail):
            headers = {"x-should-retry": "true" if item.retry else "false", **item.headers}
            return _error(item.status, item.error_type, item.message, headers)
        message = _message(item, body.get("model", "claude-test"))
        if not body.get("stream"):
            return web.json_response(message)
        response = web.StreamResponse(
            headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        )
        await response.prepare(request)
        for event in _events(item, message):
            await response.write(f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode())
            await asyncio.sleep(0)
        await response.write_eof()
        return response


def _error(status: int, error_type: str, message: str, headers: dict[str, str] | None = None) -> web.Response:
    payload = {"type": "error", "error": {"type": error_type, "message": message}}
    return web.json_response(payload, status=status, headers=headers)


def _message(turn: Turn, model: str) -> dict[str, Any]:
    return {
        "id": f"msg_{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": turn.content,
        "stop_reason": turn.stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": turn.input_tokens, "output_tokens": turn.output_tokens},
    }


def _chunks(value: str, size: int) -> list[str]:
    return [value[i : i + size] for i in range(0, len(value), size)] or [""]


def _events(turn: Turn, message: dict[str, Any]) -> list[dict[str, Any]]:
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": turn.input_tokens, "output_tokens": 1}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    for index, block in enumerate(turn.content):
        if block["type"] == "text":
            events.append(
                {"type": "content_block_start", "index": index, "content_block": {"type": "text", "text": ""}}
            )
            for piece in _chunks(block["text"], 7):
                delta = {"type": "text_delta", "text": piece}
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        elif block["type"] == "tool_use":
            head = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            events.append({"type": "content_block_start", "index": index, "content_block": head})
            raw = json.dumps(block["input"])
            if turn.cut_json and index == len(turn.content) - 1:
                raw = raw[: max(1, len(raw) // 2)]
            for piece in _chunks(raw, 9):
                delta = {"type": "input_json_delta", "partial_json": piece}
                events.append({"type": "content_block_delta", "index": index, "delta": delta})
        events.append({"type": "content_block_stop", "index": index})
    events.append(
        {
            "type": "message_delta",
            "delta": {"stop_reason": turn.stop_reason, "stop_sequence": None},
            "usage": {"output_tokens": turn.output_tokens},
        }
    )
    events.append({"type": "message_stop"})
    return events
