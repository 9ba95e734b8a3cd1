"""The agent loop: stream Claude's turns, run the tools it asks for, stop within the question's budget."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

import anthropic
from click_common.text import one_line

from .prompts import SYSTEM_PROMPT
from .results import ToolResult, model_text
from .settings import Settings
from .telemetry import Telemetry, record_answer, record_response, record_tool
from .tools import ToolContext, execute, tool_definitions


class AgentAPIError(RuntimeError):
    """The Messages API failed after the SDK's own retries; the message is one readable line."""


@dataclass
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0
    cache_creation_input_tokens: int = 0
    cache_read_input_tokens: int = 0
    requests: int = 0

    def add(self, usage: Any) -> None:
        self.requests += 1
        self.input_tokens += getattr(usage, "input_tokens", 0) or 0
        self.output_tokens += getattr(usage, "output_tokens", 0) or 0
        self.cache_creation_input_tokens += getattr(usage, "cache_creation_input_tokens", 0) or 0
        self.cache_read_input_tokens += getattr(usage, "cache_read_input_tokens", 0) or 0

    def merge(self, other: Usage) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    @property
    def total(self) -> int:
        return (
            self.input_tokens
            + self.output_tokens
            + self.cache_creation_input_tokens
            + self.cache_read_input_tokens
        )

    def as_dict(self) -> dict[str, int]:
        return {
            **{name: getattr(self, name) for name in self.__dataclass_fields__},
            "total_tokens": self.total,
        }


@dataclass
class Answer:
    question: str
    model: str
    text: str = ""
    stop_reason: str = ""
    tool_calls: list[ToolResult] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "model": self.model,
            "stop_reason": self.stop_reason,
            "tool_calls": [call.summary() for call in self.tool_calls],
            "usage": self.usage.as_dict(),
            "notes": self.notes,
        }


class Events(Protocol):
    """What the UI hears about while a question is answered."""

    def on_text(self, delta: str) -> None: ...
    def on_tool_start(self, name: str, tool_input: dict[str, Any]) -> None: ...
    def on_tool_result(self, result: ToolResult) -> None: ...
    def on_notice(self, message: str) -> None: ...


class SilentEvents:
    def on_text(self, delta: str) -> None:
        pass

    def on_tool_start(self, name: str, tool_input: dict[str, Any]) -> None:
        pass

    def on_tool_result(self, result: ToolResult) -> None:
        pass

    def on_notice(self, message: str) -> None:
        pass


def make_client(settings: Settings) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key=settings.anthropic_api_key,
        base_url=settings.anthropic_base_url or None,
        max_retries=settings.api_max_retries,
        timeout=settings.api_timeout_s,
    )


def describe_api_error(exc: anthropic.APIError, retries: int) -> str:
    """One line: what failed, the status, the API's own words, and that retries were spent."""
    tried = f" (after {retries} retries)" if retries else ""
    if isinstance(exc, anthropic.APIStatusError):
        what = {
            401: "the API key was rejected",
            403: "permission denied",
            404: "not found (check AGENT_MODEL)",
            413: "the request is too large",
            429: "rate limited",
            529: "overloaded",
        }.get(exc.status_code, "server error" if exc.status_code >= 500 else "request refused")
        detail = exc.api_message or exc.message
        return f"Anthropic API {what} [{exc.status_code}]{tried}: {one_line(str(detail), 200)}"
    if isinstance(exc, anthropic.APITimeoutError):
        return f"Anthropic API timed out{tried}"
    if isinstance(exc, anthropic.APIConnectionError):
        cause = exc.__cause__ or exc.__context__
        reason = f": {type(cause).__name__}" if cause else ""
        return f"Anthropic API unreachable at {exc.request.url.copy_with(path='/')}{tried}{reason}"
    return f"Anthropic API error{tried}: {one_line(str(exc), 200)}"


class _RetryNotices(logging.Handler):
    """The SDK logs each retry it makes; turn those into one status line each."""

    _RETRY = re.compile(r"Retrying request to (\S+) in ([\d.]+) seconds")

    def __init__(self, events: Events) -> None:
        super().__init__(logging.INFO)
        self.events = events
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        match = self._RETRY.search(record.getMessage())
        if match:
            self.count += 1
            self.events.on_notice(
                f"Anthropic API call failed, retry {self.count} in {float(match.group(2)):.1f} s"
            )


def _block_param(block: Any) -> dict[str, Any]:
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return block.to_dict()


class Agent:
    def __init__(
        self,
        client: anthropic.Anthropic,
        ctx: ToolContext,
        settings: Settings,
        events: Events | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.client = client
        self.telemetry = telemetry or Telemetry()
        self.ctx = ctx
        self.settings = settings
        self.events: Events = events or SilentEvents()
        self.model = settings.model
        self.messages: list[dict[str, Any]] = []
        self.session_usage = Usage()
        tools = tool_definitions()
        tools[-1] = {**tools[-1], "cache_control": {"type": "ephemeral"}}
        self._tools = tools
        self._system = [{"type": "text", "text": SYSTEM_PROMPT, "cache_control": {"type": "ephemeral"}}]

    def clear(self) -> None:
        self.messages.clear()

    def ask(self, question: str) -> Answer:
        """Answer one question; on an API error the conversation is rolled back and AgentAPIError raised."""
        mark = len(self.messages)
        answer = Answer(question, self.model)
        self.messages.append({"role": "user", "content": question})
        notices = _RetryNotices(self.events)
        sdk_log = logging.getLogger("anthropic._base_client")
        sdk_log.addHandler(notices)
        previous_level = sdk_log.level
        if sdk_log.getEffectiveLevel() > logging.INFO:
            sdk_log.setLevel(logging.INFO)
        try:
            with self.telemetry.question(self.model) as span:
                try:
                    self._run(answer)
                finally:
                    record_answer(span, answer.usage, len(answer.tool_calls), answer.stop_reason)
        except anthropic.APIError as exc:
            del self.messages[mark:]
            self.session_usage.merge(answer.usage)
            raise AgentAPIError(describe_api_error(exc, notices.count)) from None
        except BaseException:  # Ctrl-C mid-question: leave no unanswered tool_use behind
            del self.messages[mark:]
            self.session_usage.merge(answer.usage)
            raise
        finally:
            sdk_log.removeHandler(notices)
            sdk_log.setLevel(previous_level)
        self.session_usage.merge(answer.usage)
        return answer

    def _run(self, answer: Answer) -> None:
        s = self.settings
        texts: list[str] = []
        tools_allowed = True
        while True:
            if answer.usage.total >= s.token_budget:
                answer.stop_reason = "token_budget"
                answer.notes.append(
                    f"stopped at the token budget ({answer.usage.total} of {s.token_budget} tokens)"
                )
                self.events.on_notice(answer.notes[-1])
                break
            with self.telemetry.model_call(self.model, s.max_output_tokens) as span:
                message = self._request(tools_allowed)
                record_response(span, message)
            answer.usage.add(message.usage)
            content = [_block_param(b) for b in message.content]
            turn_text = "".join(b.text for b in message.content if b.type == "text")
            if turn_text:
                texts.append(turn_text)
            answer.stop_reason = message.stop_reason or ""

            if message.stop_reason == "tool_use" and any(b.type == "tool_use" for b in message.content):
                self.messages.append({"role": "assistant", "content": content})
                results = []
                for block in message.content:
                    if block.type != "tool_use":
                        continue
                    results.append(self._tool_result(block, answer))
                self.messages.append({"role": "user", "content": results})
                if len(answer.tool_calls) >= s.max_tool_calls and tools_allowed:
                    tools_allowed = False
                    answer.notes.append(
                        f"tool-call budget of {s.max_tool_calls} reached; answering with what it has"
                    )
                    self.events.on_notice(answer.notes[-1])
                continue
            if message.stop_reason == "pause_turn":
                self.messages.append({"role": "assistant", "content": content})
                continue
            if message.stop_reason == "max_tokens":
                # A tool call cut off mid-input cannot be run, and an unanswered tool_use would make the
                # conversation invalid: keep only the text.
                kept = [b for b in content if b["type"] != "tool_use"] or [
                    {"type": "text", "text": "(cut off)"}
                ]
                self.messages.append({"role": "assistant", "content": kept})
                limit = s.max_output_tokens
                answer.notes.append(
                    f"the answer hit the output limit of {limit} tokens (AGENT_MAX_OUTPUT_TOKENS)"
                )
                self.events.on_notice(answer.notes[-1])
                break
            if content:
                self.messages.append({"role": "assistant", "content": content})
            if message.stop_reason == "refusal":
                answer.notes.append("the model declined to answer")
                self.events.on_notice(answer.notes[-1])
            elif message.stop_reason == "model_context_window_exceeded":
                answer.notes.append(
                    "the conversation no longer fits the model's context: /clear starts afresh"
                )
                self.events.on_notice(answer.notes[-1])
            break
        answer.text = "\n\n".join(texts).strip()

    def _tool_result(self, block: Any, answer: Answer) -> dict[str, Any]:
        tool_input = block.input if isinstance(block.input, dict) else {}
        if len(answer.tool_calls) >= self.settings.max_tool_calls:
            result = ToolResult(
                block.name,
                tool_input,
                kind="error",
                error=f"not run: the tool-call budget of {self.settings.max_tool_calls} is used up; "
                "answer with what you have",
            )
        else:
            self.events.on_tool_start(block.name, tool_input)
            with self.telemetry.tool_call(str(block.name), str(block.id)) as span:
                result = execute(self.ctx, block.name, block.input)
                record_tool(span, result)
            answer.tool_calls.append(result)
            self.events.on_tool_result(result)
        return {
            "type": "tool_result",
            "tool_use_id": block.id,
            "content": model_text(result),
            "is_error": result.is_error,
        }

    def _request(self, tools_allowed: bool) -> Any:
        kwargs: dict[str, Any] = {
            "model": self.model,
            "max_tokens": self.settings.max_output_tokens,
            "system": self._system,
            "tools": self._tools,
            "messages": self.messages,
        }
        if not tools_allowed:
            kwargs["tool_choice"] = {"type": "none"}
        with self.client.messages.stream(**kwargs) as stream:
            for event in stream:
                if event.type == "text":
                    self.events.on_text(event.text)
            return stream.get_final_message()
