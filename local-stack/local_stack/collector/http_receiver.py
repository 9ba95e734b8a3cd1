"""OTLP/HTTP receiver (port 4318): POST /v1/traces, /v1/logs, /v1/metrics with protobuf or JSON bodies.

Status codes as the OTLP spec gives them: 200 with the export response (partial success inside when items
were rejected), 400 with a google.rpc.Status for a body that cannot be decoded, 415 for an unknown content
type, 503 with Retry-After when the export queue is full.
"""

from __future__ import annotations

import gzip
import logging
import zlib

import orjson
from aiohttp import web
from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message
from google.rpc import code_pb2, status_pb2

from .payload import BadPayload, Signal, decode_json, decode_protobuf
from .pipeline import OtlpPipeline, Overloaded

log = logging.getLogger("local_stack.otlp")

PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_BODY = 64 << 20


def decompress(body: bytes, encoding: str) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise BadPayload(f"body is not valid {encoding}: {exc}") from None
    raise BadPayload(f"unsupported Content-Encoding {encoding!r} (use gzip, deflate or none)")


def encode_message(message: Message, content_type: str) -> bytes:
    if content_type == JSON:
        return orjson.dumps(MessageToDict(message))
    return message.SerializeToString()


class OtlpHTTP:
    def __init__(self, pipeline: OtlpPipeline) -> None:
        self.pipeline = pipeline

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        for signal in Signal:
            app.router.add_route("*", f"/v1/{signal.spec.name}", self._handler(signal))
        app.router.add_get("/status", self.status)
        return app

    async def status(self, _request: web.Request) -> web.Response:
        """The receiver's counters (what the collector's own metrics tell): items received, rejected,
        exported and failed per signal, and how many wait for export."""
        return web.Response(body=orjson.dumps(self.pipeline.status()), content_type=JSON)

    def _handler(self, signal: Signal):
        async def handle(request: web.Request) -> web.Response:
            return await self.export(signal, request)

        return handle

    async def export(self, signal: Signal, request: web.Request) -> web.Response:
        if request.method != "POST":
            return web.Response(status=405, text="OTLP/HTTP takes POST\n", headers={"Allow": "POST"})
        content_type = request.content_type
        if content_type not in (PROTOBUF, JSON):
            return web.Response(
                status=415, text=f"unsupported Content-Type {content_type!r}: use {PROTOBUF} or {JSON}\n"
            )
        try:
            raw = await request.read()
            body = decompress(raw, request.headers.get("Content-Encoding", ""))
            if content_type == JSON:
                resp = await self.pipeline.accept(signal, lambda: decode_json(signal, body))
            else:
                resp = await self.pipeline.accept(signal, lambda: decode_protobuf(signal, body))
        except BadPayload as exc:
            log.info("otlp/http: rejected a %s request: %s", signal.spec.name, exc)
            return self._status(400, code_pb2.INVALID_ARGUMENT, str(exc), content_type)
        except Overloaded as exc:
            response = self._status(503, code_pb2.UNAVAILABLE, str(exc), content_type)
            response.headers["Retry-After"] = "1"
            return response
        except web.HTTPRequestEntityTooLarge:
            return self._status(
                413, code_pb2.INVALID_ARGUMENT, f"body larger than {MAX_BODY} bytes", content_type
            )
        return web.Response(body=encode_message(resp, content_type), content_type=content_type)

    @staticmethod
    def _status(http_status: int, code: int, message: str, content_type: str) -> web.Response:
        status = status_pb2.Status(code=code, message=message)
        return web.Response(
            status=http_status, body=encode_message(status, content_type), content_type=content_type
        )
