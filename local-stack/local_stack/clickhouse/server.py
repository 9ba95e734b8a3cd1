"""ClickHouse's HTTP interface in front of the chDB engine (what clickhouse-connect and curl speak)."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

import orjson
from aiohttp import BasicAuth, web
from multidict import MultiDict

from . import native_compression, native_revision
from .body_stream import StreamDecoder
from .engine import ClickHouseError, Engine, Result, SessionRef, check_single_statement
from .sql_text import Insert, Query, content_type, parse_request, streamable_insert
from .users import User

log = logging.getLogger("local_stack.clickhouse")

# URL parameters that belong to the HTTP protocol, not to the query's settings.
_TRANSPORT = {
    "query", "database", "user", "password", "default_format", "query_id", "session_id",
    "session_timeout", "session_check", "compress", "decompress", "enable_http_compression",
    "http_zlib_compression_level", "wait_end_of_query", "send_progress_in_http_headers",
    "http_headers_progress_interval_ms", "buffer_size", "quota_key", "role", "client_protocol_version",
    "http_response_buffer_size", "cancel_http_readonly_queries_on_client_close", "add_http_cors_header",
}  # fmt: skip


_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "origin, x-requested-with, x-clickhouse-format, x-clickhouse-user, "
    "x-clickhouse-key, Authorization",
    "Access-Control-Allow-Methods": "POST, GET, OPTIONS",
    "Access-Control-Max-Age": "86400",
}
_FORMS = {"multipart/form-data"}  # as clickhouse-server: a urlencoded body (curl -d) is the query
_STREAM_ABOVE = 4 << 20  # larger results go out in slices of this size, straight from chDB's buffer


def _still_encoded(content_encoding: str) -> str:
    """The Content-Encoding left to undo: aiohttp itself already decompressed gzip, deflate and br bodies."""
    encoding = content_encoding.strip().lower()
    return "" if encoding in ("gzip", "x-gzip", "deflate", "br", "identity") else encoding


def _decode_body(body: bytes, encoding: str) -> bytes:
    if not encoding:
        return body
    if encoding == "zstd":
        try:
            from compression import zstd  # type: ignore[import-not-found]  # Python 3.14+
        except ImportError:
            from backports import zstd  # type: ignore[import-not-found,no-redef]
        return zstd.decompress(body)
    if encoding == "lz4":  # concatenated frames: clickhouse-connect compresses each chunk on its own
        return StreamDecoder(encoding).feed(body)
    raise ClickHouseError(f"Unknown Content-Encoding: {encoding}. (UNKNOWN_COMPRESSION_METHOD)", code=89)


def _session_ref(args) -> SessionRef | None:
    session_id = args.get("session_id")
    if not session_id:
        return None
    timeout = args.get("session_timeout", "60")
    if not timeout.isdigit() or not 0 < int(timeout) <= 3600:
        raise ClickHouseError(
            f"Invalid session timeout: {timeout!r} (1 to 3600 seconds). (INVALID_SESSION_TIMEOUT)", code=374
        )
    return SessionRef(session_id, float(timeout), args.get("session_check") == "1")


class ClickHouseHTTP:
    def __init__(self, engine: Engine, users: dict[str, User], workers: int = 8) -> None:
        self.engine = engine
        self.users = users
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

    def _user(self, request: web.Request) -> User:
        name = request.headers.get("X-ClickHouse-User") or request.query.get("user")
        auth = request.headers.get("Authorization", "")
        if not name and auth.lower().startswith("basic "):
            name = BasicAuth.decode(auth).login
        name = name or "default"
        user = self.users.get(name)
        if user is None:
            raise ClickHouseError(
                f"{name}: Authentication failed: password is incorrect, or there is no user with such name. "
                "(AUTHENTICATION_FAILED)",
                code=516,
            )
        return user

    async def _cors(self, request: web.Request, response: web.StreamResponse) -> None:
        """`add_http_cors_header=1` from a browser (an Origin header): clickhouse-server's CORS headers."""
        if request.query.get("add_http_cors_header") == "1" and request.headers.get("Origin"):
            response.headers.update(_CORS)

    async def query(self, request: web.Request) -> web.Response:
        if request.method == "OPTIONS":  # a browser's preflight: nothing to run, the CORS headers say it all
            return web.Response(status=204)
        try:
            user = self._user(request)
            args, form = request.query, None
            if request.content_type in _FORMS:
                # query and param_* sent as form fields (clickhouse-connect does this for large parameters)
                form = await request.post()
                args = MultiDict({**args, **{k: v for k, v in form.items() if isinstance(v, str)}})
            params = {k[6:]: v for k, v in args.items() if k.startswith("param_")}
            settings = {k: v for k, v in args.items() if k not in _TRANSPORT and not k.startswith("param_")}
            database = request.headers.get("X-ClickHouse-Database") or args.get("database")
            session = _session_ref(args)
            encoding = _still_encoded(request.headers.get("Content-Encoding", ""))
            streamed = streamable_insert(args.get("query", ""))
            framed = args.get("decompress") == "1"  # ClickHouse's compressed blocks (clickhouse-go)
            if form is None and streamed and encoding in StreamDecoder.SUPPORTED and not framed:
                result = await self._streamed_insert(
                    request, streamed, encoding, user, database, settings, session
                )
            else:
                body = b"" if form is not None else _decode_body(await request.read(), encoding)
                if framed:
                    body = native_compression.decompress(body)
                parsed = parse_request(
                    args.get("query", ""), body, args.get("default_format", "TabSeparated")
                )
                if isinstance(parsed, Query):
                    check_single_statement(parsed.sql)
                result = await asyncio.get_running_loop().run_in_executor(
                    self._pool, self.engine.execute, user, parsed, database, settings, params, session
                )
        except ClickHouseError as exc:
            log.info("query failed: %s", str(exc).splitlines()[0][:300])
            return web.Response(
                status=500,
                text=f"{exc} (version {self.engine.version})\n",
                headers={"X-ClickHouse-Exception-Code": str(exc.code), **self._common_headers()},
            )
        except UnicodeDecodeError as exc:
            return web.Response(
                status=500,
                text=f"Code: 36. DB::Exception: query is not valid UTF-8: {exc}. (BAD_ARGUMENTS)\n",
                headers={"X-ClickHouse-Exception-Code": "36", **self._common_headers()},
            )
        revision = args.get("client_protocol_version", "0")
        if result.fmt == "Native" and revision.isdigit() and int(revision) > 0:
            try:  # what clickhouse-server writes for a client of that TCP protocol revision (clickhouse-go)
                result.body = native_revision.for_revision(bytes(result.body), int(revision))
            except ClickHouseError as exc:
                return web.Response(
                    status=500, text=f"{exc} (version {self.engine.version})\n",
                    headers={"X-ClickHouse-Exception-Code": str(exc.code), **self._common_headers()},
                )  # fmt: skip
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

    async def _streamed_insert(
        self,
        request: web.Request,
        insert: Insert,
        encoding: str,
        user: User,
        database: str | None,
        settings: dict[str, str],
        session: SessionRef | None,
    ) -> Result:
        """Spool the body to a file as it arrives (the engine stays free meanwhile), then insert from it."""
        path, decoder = self.engine.spool_file(), StreamDecoder(encoding)
        try:
            with path.open("wb") as spool:
                async for chunk in request.content.iter_chunked(1 << 20):
                    spool.write(decoder.feed(chunk))
            spooled = Insert(insert.statement, insert.fmt, path)
            return await asyncio.get_running_loop().run_in_executor(
                self._pool, self.engine.execute, user, spooled, database, settings, {}, session
            )
        finally:
            path.unlink(missing_ok=True)

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
