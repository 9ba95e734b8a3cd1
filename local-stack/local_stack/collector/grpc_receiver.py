"""OTLP/gRPC receiver (port 4317): the Trace, Logs and Metrics services' Export methods.

Requests arrive as raw bytes and are decoded here, so a malformed body is INTERNAL (as the collector's gRPC
server answers) with the reason (not the library's generic error); a full export queue is UNAVAILABLE,
which OTLP clients retry.
"""

from __future__ import annotations

import logging

import grpc
from grpc import aio

from .payload import BadPayload, Signal, decode_protobuf
from .pipeline import OtlpPipeline, Overloaded

log = logging.getLogger("local_stack.otlp")

MAX_MESSAGE = 64 << 20


def _export_handler(pipeline: OtlpPipeline, signal: Signal):
    async def export(body: bytes, context: aio.ServicerContext):
        try:
            return await pipeline.accept(signal, lambda: decode_protobuf(signal, body))
        except BadPayload as exc:
            log.info("otlp/grpc: rejected a %s request: %s", signal.spec.name, exc)
            # the collector's gRPC server fails a request it cannot unmarshal (a bad id included) as INTERNAL
            await context.abort(grpc.StatusCode.INTERNAL, f"grpc: error unmarshalling request: {exc}")
        except Overloaded as exc:
            await context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))

    return export


def build_server(pipeline: OtlpPipeline, host: str, port: int) -> aio.Server:
    server = aio.server(
        options=[
            ("grpc.max_receive_message_length", MAX_MESSAGE),
            ("grpc.so_reuseport", 0),
        ]
    )
    for signal in Signal:
        service = signal.spec.grpc_service
        handler = grpc.unary_unary_rpc_method_handler(
            _export_handler(pipeline, signal),
            request_deserializer=None,  # raw bytes: decoded by the pipeline, errors reported with a reason
            response_serializer=lambda message: message.SerializeToString(),
        )
        server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, {"Export": handler}),))
    bound = server.add_insecure_port(f"{host}:{port}")
    if bound != port:
        raise OSError(f"could not bind the OTLP gRPC port {host}:{port}")
    return server
