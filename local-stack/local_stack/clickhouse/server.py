"""ClickHouse's HTTP interface in front of the chDB engine (what clickhouse-connect and curl speak)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import orjson
from aiohttp import web
from click_common.text import one_line
from multidict import MultiDict

from . import native_compression, native_revision
from .body_stream import StreamDecoder
from .engine import ClickHouseError, Engine, Result
from .request import (
    DEFAULT_ALLOWED_ORIGINS,
    READONLY,
    Head,
    Incoming,
    check_origin,
    http_status,
    read_head,
    read_statement,
)
from .sql_text import Insert, Query, content_type
from .users import User

log = logging.getLogger("local_stack.clickhouse")

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "origin, x-requested-with, x-clickhouse-format, x-clickhouse-user, "
    "x-clickhouse-key, Authorization",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
_FORMS = {"multipart/form-data"}  # as clickhouse-server: a urlencoded body (curl -d) is the query
_STREAM_ABOVE = 4 << 20  # larger results go out in slices of this size, straight from chDB's buffer
# chDB's words for a write on a read-only connection, and clickhouse-server's when HTTP GET made it read-only
_READONLY_TAIL = "Cannot execute query in readonly mode. (READONLY)"
_GET_READONLY = (
    "Cannot execute query in readonly mode. For queries over HTTP, method GET implies readonly. "
    "You should use method POST for modifying queries. (READONLY)"
)


class ClickHouseHTTP:
    def __init__(
        self,
        engine: Engine,
        users: dict[str, User],
        workers: int = 8,
        allowed_origins: frozenset[str] = DEFAULT_ALLOWED_ORIGINS,
    ) -> None:
        self.engine = engine
        self.users = users
        self.allowed_origins = allowed_origins
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="chdb")

    def app(self) -> web.Application:
        app = web.Application(client_max_size=8 << 30)
        app.router.add_get("/ping", self.ping)
        app.router.add_get("/replicas_status", self.ping)
        app.router.add_route("*", "/", self.query)
        app.on_response_prepare.append(self._cors)
        return app

    async def ping(self, _request: web.Request) -> web.Response:
        return web.Response(text="Ok.\n")

    async def _cors(self, request: web.Request, response: web.StreamResponse) -> None:
        """`add_http_cors_header=1` from a browser (an Origin header): clickhouse-server's CORS headers."""
        if request.query.get("add_http_cors_header") == "1" and request.headers.get("Origin"):
            response.headers.update(_CORS)

    async def query(self, request: web.Request) -> web.Response:
        try:
            # a web page of a foreign origin gets no further than this (not even its form body is read)
            check_origin(Incoming(request.method, request.query, request.headers), self.allowed_origins)
            if request.method == "OPTIONS":  # a browser's preflight: nothing to run, the CORS headers say it
                return web.Response(status=204)
            args = request.query
            if request.content_type in _FORMS:
                # query and param_* sent as form fields (clickhouse-connect does this for large parameters)
                form = await request.post()
                args = MultiDict({**args, **{k: v for k, v in form.items() if isinstance(v, str)}})
            head = read_head(
                Incoming(request.method, args, request.headers), self.users, self.allowed_origins
            )
            if head.streamed is not None and request.content_type not in _FORMS:
                result = await self._streamed_insert(request, head)
            else:
                body = b"" if request.content_type in _FORMS else await request.read()
                parsed = read_statement(
                    head, args.get("query", ""), args.get("default_format", "TabSeparated"), body
                )
                result = await asyncio.get_running_loop().run_in_executor(
                    self._pool, self._execute, head, parsed, request.method
                )
        except ClickHouseError as exc:
            log.info("query failed: %s", one_line(str(exc), 300))
            return self._error(exc)
        revision = args.get("client_protocol_version", "0")
        if result.fmt == "Native" and revision.isdigit() and int(revision) > 0:
            try:  # what clickhouse-server writes for a client of that TCP protocol revision (clickhouse-go)
                result.body = native_revision.for_revision(bytes(result.body), int(revision))
            except ClickHouseError as exc:
                return self._error(exc)
        headers = self._result_headers(result)
        if args.get("compress") == "1":  # ClickHouse's compressed blocks, whatever the size
            return web.Response(body=native_compression.compress(bytes(result.body)), headers=headers)
        if len(result.body) <= _STREAM_ABOVE:
            return web.Response(body=bytes(result.body), headers=headers)
        response = web.StreamResponse(headers=headers)
        response.content_length = len(result.body)
        await response.prepare(request)
        view = memoryview(result.body)
        for offset in range(0, len(view), _STREAM_ABOVE):
            await response.write(view[offset : offset + _STREAM_ABOVE])
        await response.write_eof()
        return response

    def _execute(self, head: Head, parsed: Insert | Query, method: str) -> Result:
        try:
            return self.engine.execute(
                head.user, parsed, head.database, head.settings, head.params, head.session
            )
        except ClickHouseError as exc:
            if exc.code == READONLY and method == "GET" and str(exc).rstrip().endswith(_READONLY_TAIL):
                # clickhouse-server says why over HTTP GET
                text = str(exc).rstrip()[: -len(_READONLY_TAIL)]
                raise ClickHouseError(f"{text}{_GET_READONLY}", READONLY) from None
            raise

    async def _streamed_insert(self, request: web.Request, head: Head) -> Result:
        """Spool the body to a file as it arrives (the engine stays free meanwhile), then insert from it."""
        assert head.streamed is not None
        path, decoder = self.engine.spool_file(), StreamDecoder(head.encoding)
        try:
            with path.open("wb") as spool:
                async for chunk in request.content.iter_chunked(1 << 20):
                    spool.write(decoder.feed(chunk))
            spooled = Insert(head.streamed.statement, head.streamed.fmt, path)
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self._execute, head, spooled, request.method
            )
        finally:
            path.unlink(missing_ok=True)

    def _error(self, exc: ClickHouseError) -> web.Response:
        return web.Response(
            status=http_status(exc),
            text=f"{exc} (version {self.engine.version})\n",
            headers={"X-ClickHouse-Exception-Code": str(exc.code), **self._common_headers()},
        )

    def _common_headers(self) -> dict[str, str]:
        return {"X-ClickHouse-Server-Display-Name": "local-stack", "X-ClickHouse-Timezone": "UTC"}

    def _result_headers(self, result: Result) -> dict[str, str]:
        summary = {
            "read_rows": str(result.read_rows),
            "read_bytes": str(result.read_bytes),
            "written_rows": str(result.written_rows),
            "written_bytes": str(result.written_bytes),
            "total_rows_to_read": "0",
            "result_rows": "0",
            "result_bytes": str(len(result.body)),
            "elapsed_ns": str(result.elapsed_ns),
        }
        return {
            "Content-Type": content_type(result.fmt),
            "X-ClickHouse-Format": result.fmt,
            "X-ClickHouse-Summary": orjson.dumps(summary).decode(),
            **self._common_headers(),
        }

    def close(self) -> None:
        self._pool.shutdown(wait=True)
