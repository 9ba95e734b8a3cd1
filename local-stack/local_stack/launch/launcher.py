"""A local stack (`python -m local_stack`: chDB endpoint, S3 server, OTLP receiver) as its own process on free
ports, the services started against it (`python -m <package>`, the environment naming the stack's ports),
waiting until they are ready or caught up, and stopping them in order: the services first, the stack last."""

from __future__ import annotations

import logging
import os
import re
import socket
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from .child import Child, LaunchError
from .ports import OtlpPorts, StackPorts

log = logging.getLogger("local_stack.launch")
T = TypeVar("T")

# Each user of config/clickhouse-users.xml → the variable its password comes from (from_env).
PASSWORD_VARIABLES = {
    "default": "CLICKHOUSE_PASSWORD",
    "collector": "CLICKHOUSE_COLLECTOR_PASSWORD",
    "loader": "CLICKHOUSE_LOADER_PASSWORD",
    "enricher": "CLICKHOUSE_ENRICHER_PASSWORD",
    "agent": "CLICKHOUSE_AGENT_PASSWORD",
}
# The generator's last line: every span it made exported, none dropped or failed.
_RUN_FINISHED = re.compile(r"run finished: .* spans=(\d+) exported=(\d+) dropped=0 failed=0")
# Spans the OTLP receiver wrote to default.otel_traces, loaded, enriched, and loaded once each.
COUNTS_SQL = """
SELECT
    (SELECT count() FROM default.otel_traces),
    (SELECT count() FROM otel.otel_traces),
    (SELECT count() FROM otel.otel_traces_enriched FINAL),
    (SELECT uniqExact(TraceId, SpanId) FROM otel.otel_traces)
"""


def exported_spans(log_text: str) -> int | None:
    """The spans a generator run exported, from its `run finished` line; None unless it exported every span
    it made (none dropped, none failed)."""
    found = _RUN_FINISHED.search(log_text)
    return int(found[2]) if found and found[1] == found[2] else None


@dataclass
class Launcher:
    """A local stack in `data_dir` and the services started against it; logs in `log_dir` (the data folder's
    parent unless given), a file per process (`local_stack.log`, `<module>.log`).

    `passwords`: user → password for the stack's users (none by default, whatever a developer's .env says:
    every password variable is set, empty when not given). `stack_env`: more settings for the stack process;
    `extra_env`: more for every service. `drop_prefixes`: variables of this environment with these prefixes
    are not passed on (a scenario's services take only the settings it gives)."""

    data_dir: Path
    log_dir: Path | None = None
    ports: StackPorts = field(default_factory=StackPorts)
    passwords: dict[str, str] = field(default_factory=dict)
    stack_env: dict[str, str] = field(default_factory=dict)
    extra_env: dict[str, str] = field(default_factory=dict)
    drop_prefixes: tuple[str, ...] = ()
    bucket: str = "otel-data"
    region: str = "us-east-1"
    stack: Child | None = field(default=None, init=False, repr=False)
    services: list[Child] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.log_dir is None:
            self.log_dir = self.data_dir.parent

    # --- where the stack is ---------------------------------------------------------------------------
    @property
    def host(self) -> str:
        return self.ports.host

    @property
    def clickhouse_port(self) -> int:
        return self.ports.clickhouse

    @property
    def otlp(self) -> OtlpPorts:
        return self.ports.otlp

    def _base_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(self.drop_prefixes)}
        env.update({variable: self.passwords.get(user, "") for user, variable in PASSWORD_VARIABLES.items()})
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def env(self, **overrides: str) -> dict[str, str]:
        """This environment plus the shared settings names pointing at this stack (for a service)."""
        env = self._base_env()
        env.update(self.ports.service_env())
        env.update(
            CLICKHOUSE_HOST=self.host,
            CLICKHOUSE_USER="default",
            S3_BUCKET=self.bucket,
            AWS_ACCESS_KEY_ID="test",
            AWS_SECRET_ACCESS_KEY="test",
            AWS_REGION=self.region,
            OTEL_EXPORTER_OTLP_PROTOCOL="http/protobuf",
        )
        env.update(self.extra_env)
        env.update(overrides)
        return env

    # --- starting and stopping ------------------------------------------------------------------------
    def start(self, timeout: float = 120.0) -> Launcher:
        """Start the stack and return once its three servers answer (LaunchError with its log otherwise)."""
        assert self.log_dir is not None
        args = ("--data-dir", str(self.data_dir), "--bucket", self.bucket, "--region", self.region)
        env = {**self._base_env(), **self.stack_env}
        self.stack = Child.module("local_stack", (*self.ports.stack_args(), *args), env, self.log_dir).start()
        try:
            self.wait_until("the local stack to answer", self._stack_answers, timeout, [self.stack], 0.2)
        except BaseException:
            self.stop()
            raise
        return self

    def _stack_answers(self) -> bool:
        assert self.stack is not None
        if self.stack.returncode is not None:
            raise LaunchError(f"the local stack exited with {self.stack.returncode}\n{self.stack.tail()}")
        try:
            urllib.request.urlopen(f"{self.ports.clickhouse_url}/ping", timeout=1).read()
            urllib.request.urlopen(self.ports.s3_url, timeout=1).read()
            socket.create_connection((self.host, self.ports.otlp.http), timeout=1).close()
        except OSError:
            return False
        return True

    def service(
        self, module: str, *args: str, env: Mapping[str, str] | None = None, log_dir: Path | None = None
    ) -> Child:
        """Start `python -m module args` against the stack (`env`: more settings), its output appended to
        `<module>.log` in `log_dir` (the launcher's unless given); `stop()` stops it."""
        log_dir = log_dir or self.log_dir
        assert log_dir is not None
        child = Child.module(module, args, self.env(**(env or {})), log_dir).start()
        self.services.append(child)
        return child

    def run(
        self,
        module: str,
        *args: str,
        env: Mapping[str, str] | None = None,
        log_dir: Path | None = None,
        timeout: float = 300.0,
    ) -> Child:
        """`service()` run to its end; LaunchError with its output's tail unless it exits with 0."""
        child = self.service(module, *args, env=env, log_dir=log_dir)
        try:
            code = child.wait(timeout)
        finally:
            child.stop()
            self.services.remove(child)
        if code != 0:
            raise LaunchError(f"{module} exited with {code}\n{child.tail(30)}")
        return child

    def stop_services(self) -> None:
        """Stop the services, the last started first (the stack keeps running)."""
        for child in reversed(self.services):
            child.stop()
        self.services.clear()

    def stop(self) -> None:
        """Stop the services, then the stack, which flushes what it accepted."""
        self.stop_services()
        if self.stack is not None:
            self.stack.stop()

    @classmethod
    @contextmanager
    def temporary(cls, prefix: str, **settings: Any) -> Iterator[Launcher]:
        """A started stack on a temporary folder (named with `prefix`), stopped and removed on exit."""
        with tempfile.TemporaryDirectory(prefix=prefix) as tmp, cls(Path(tmp) / "data", **settings) as stack:
            yield stack

    def __enter__(self) -> Launcher:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- waiting --------------------------------------------------------------------------------------
    def wait_until(
        self,
        what: str,
        predicate: Callable[[], T],
        timeout: float,
        watch: Iterable[Child] | None = None,
        poll_s: float = 0.5,
    ) -> T:
        """`predicate()`'s first true value; LaunchError with the logs' tails when a watched process (the
        services by default) exits with an error first, or `timeout` seconds pass."""
        watched = list(self.services if watch is None else watch)
        deadline = time.monotonic() + timeout
        value = predicate()
        while not value:
            failed = [child for child in watched if child.failed]
            if failed:
                raise LaunchError(
                    f"{failed[0].name} exited with {failed[0].returncode} while waiting for {what}\n"
                    + "\n".join(child.tail() for child in watched)
                )
            if time.monotonic() > deadline:
                raise LaunchError(
                    f"timed out after {timeout:.0f} s waiting for {what} (last: {value!r})\n"
                    + "\n".join(child.tail() for child in watched)
                )
            time.sleep(poll_s)
            value = predicate()
        return value

    def counts(self, client: Any) -> tuple[int, int, int, int]:
        """Spans received (default.otel_traces), loaded, enriched, and distinct among the loaded."""
        direct, loaded, enriched, distinct = client.query(COUNTS_SQL).result_rows[0]
        return int(direct), int(loaded), int(enriched), int(distinct)

    def caught_up(self, client: Any, expected: int) -> tuple[int, int, int, int] | None:
        """The counts once at least `expected` spans arrived and every one is loaded and enriched, once."""
        counts = self.counts(client)
        direct, loaded, enriched, distinct = counts
        return counts if direct >= expected and direct == loaded == enriched == distinct else None

    # --- clients ------------------------------------------------------------------------------------
    def client(self, user: str = "default", **kwargs: Any) -> Any:
        import clickhouse_connect

        kwargs.setdefault("password", self.passwords.get(user, ""))
        return clickhouse_connect.get_client(
            host=self.host, port=self.clickhouse_port, username=user, **kwargs
        )

    def s3(self) -> Any:
        import boto3  # type: ignore[import-untyped]

        return boto3.client(
            "s3",
            endpoint_url=self.ports.s3_url,
            region_name=self.region,
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def reset(self) -> None:
        """Empty every table of the schema and the bucket."""
        client = self.client()
        tables = client.query(
            "SELECT database, name FROM system.tables "
            "WHERE database IN ('default', 'otel') AND (engine LIKE '%MergeTree%' OR engine = 'Memory')"
        ).result_rows
        for database, name in tables:
            client.command(f"TRUNCATE TABLE `{database}`.`{name}`")
        client.close()
        s3 = self.s3()
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                s3.delete_objects(Bucket=self.bucket, Delete={"Objects": keys})
