"""The one-shot init scripts, run as real processes by a POSIX sh.

minio-init.sh runs against a stand-in `mc` on PATH that records its calls (no MinIO server runs here);
hyperdx-init.sh runs with the real curl against a loopback HTTP server that answers like HyperDX's API.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from local_stack.launch import free_port

from .conftest import CONFIG

FAKE_MC = r"""#!/bin/sh
# Records every call; `admin policy create` also keeps the rendered policy; attach answers $MC_ATTACH_REPLY.
echo "$*" >> "$MC_LOG"
case "$1 $2 $3" in
    "admin policy create") cp "$6" "$MC_LOG.$5.json" ;;
    "admin policy attach")
        if [ -n "${MC_ATTACH_REPLY:-}" ]; then echo "$MC_ATTACH_REPLY"; exit 1; fi ;;
esac
exit 0
"""


def minio_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "mc").write_text(FAKE_MC)
    (bin_dir / "mc").chmod(0o755)
    policies = tmp_path / "config" / "minio"
    if not policies.exists():
        shutil.copytree(CONFIG / "minio", policies)
    return {
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "MC_LOG": str(tmp_path / "mc.log"),
        "MINIO_ROOT_USER": "minio-admin",
        "MINIO_ROOT_PASSWORD": "root-secret-1",
        "S3_BUCKET": "otel-data",
        "MINIO_COLLECTOR_ACCESS_KEY": "otel-collector",
        "MINIO_COLLECTOR_SECRET_KEY": "collector-secret",
        "MINIO_LOADER_ACCESS_KEY": "s3-loader",
        "MINIO_LOADER_SECRET_KEY": "loader-secret",
        **extra,
    }


def run_minio_init(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    script = (
        (CONFIG / "minio-init.sh")
        .read_text()
        .replace("POLICY_DIR=/config/minio", f"POLICY_DIR={tmp_path}/config/minio")
    )
    (tmp_path / "minio-init.sh").write_text(script)
    return subprocess.run(
        ["sh", str(tmp_path / "minio-init.sh")], env=env, capture_output=True, text=True, timeout=30
    )


def test_minio_init_creates_the_bucket_and_least_privilege_users(tmp_path):
    result = run_minio_init(tmp_path, minio_env(tmp_path))
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "mc.log").read_text().splitlines()
    assert calls[0] == "alias set playground http://minio:9000 minio-admin root-secret-1"
    assert "mb --ignore-existing playground/otel-data" in calls
    assert "admin user add playground otel-collector collector-secret" in calls
    assert "admin user add playground s3-loader loader-secret" in calls
    assert "admin policy attach playground collector-write --user otel-collector" in calls
    assert "admin policy attach playground loader-read --user s3-loader" in calls
    loader = json.loads((tmp_path / "mc.log.loader-read.json").read_text())
    collector = json.loads((tmp_path / "mc.log.collector-write.json").read_text())
    resources = {r for policy in (loader, collector) for s in policy["Statement"] for r in s["Resource"]}
    assert resources == {"arn:aws:s3:::otel-data", "arn:aws:s3:::otel-data/*"}  # ${S3_BUCKET} rendered
    assert "minio-init: bucket otel-data ready" in result.stdout


def test_minio_init_is_idempotent_and_stops_on_a_real_error(tmp_path):
    again = run_minio_init(
        tmp_path, minio_env(tmp_path, MC_ATTACH_REPLY="policy is already attached to the user")
    )
    assert again.returncode == 0, again.stderr
    broken = run_minio_init(tmp_path, minio_env(tmp_path, MC_ATTACH_REPLY="Access Denied."))
    assert broken.returncode == 1
    assert "attaching policy collector-write to otel-collector failed: Access Denied." in broken.stderr


def test_minio_init_names_a_missing_setting(tmp_path):
    env = minio_env(tmp_path)
    del env["MINIO_LOADER_SECRET_KEY"]
    result = run_minio_init(tmp_path, env)
    assert result.returncode != 0 and "MINIO_LOADER_SECRET_KEY is not set" in result.stderr


DEFAULTS = {
    "DEFAULT_CONNECTIONS": '[{"name": "ClickHouse", "host": "http://clickhouse:8123"}]',
    "DEFAULT_SOURCES": '[{"name": "Traces", "kind": "trace", "from": {"databaseName": "default"}},\n'
    ' {"name": "Logs (loaded from S3)", "kind": "log", "traceSourceId": "Traces"}]',
}


class FakeHyperDX(BaseHTTPRequestHandler):
    """HyperDX's API as hyperdx-init meets it: /ready; /register/password (200 once, then 409; 400 for a bad
    body) creating the default connection and sources unless told to drop one (HyperDX only logs such a
    failure); /login/password (303, connect.sid with the frontend's Domain); /connections and /sources."""

    registered: ClassVar[list[dict]] = []
    created: ClassVar[dict[str, list[dict]]] = {}
    drop: ClassVar[set[str]] = set()

    def do_GET(self) -> None:
        if self.path == "/ready":
            self._reply(200, {"data": "OK"})
        elif self.path in ("/connections", "/sources"):
            if self.headers.get("Cookie") != "connect.sid=s%3Asession":
                self._reply(401, {})
            else:
                self._reply(200, self.created.get(self.path[1:], []))
        else:
            self._reply(404, {})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.headers["Content-Type"] != "application/json":
            self._reply(404, {})
        elif self.path == "/login/password":
            ok = any(u["email"] == body.get("email") and u["password"] == body.get("password")
                     for u in self.registered)  # fmt: skip
            self.send_response(303)
            self.send_header("Location", "http://localhost:8080/" + ("" if ok else "login?err=authFail"))
            self.send_header("Set-Cookie", "connect.sid=s%3Asession; Domain=localhost; Path=/; HttpOnly")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path != "/register/password":
            self._reply(404, {})
        elif body.get("password") != body.get("confirmPassword") or len(body.get("password", "")) < 12:
            self._reply(400, {"error": "invalid"})
        elif self.registered:
            self._reply(409, {"error": "teamAlreadyExists"})
        else:
            self.registered.append(body)
            for kind, variable in (("connections", "DEFAULT_CONNECTIONS"), ("sources", "DEFAULT_SOURCES")):
                made = [{"_id": str(n), **item} for n, item in enumerate(json.loads(DEFAULTS[variable]))]
                type(self).created[kind] = [item for item in made if item["name"] not in self.drop]
            self._reply(200, {"status": "success"})

    def _reply(self, code: int, payload: dict | list) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def hyperdx_api() -> Iterator[str]:
    FakeHyperDX.registered, FakeHyperDX.created, FakeHyperDX.drop = [], {}, set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeHyperDX)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run_hyperdx_init(api: str, password: str) -> subprocess.CompletedProcess:
    env = {
        "PATH": os.environ["PATH"],
        "HYPERDX_API_URL": api,
        "HYPERDX_USER_EMAIL": "sre@click-ai.dev",
        "HYPERDX_USER_PASSWORD": password,
        **DEFAULTS,
    }
    return subprocess.run(
        ["sh", str(CONFIG / "hyperdx-init.sh")], env=env, capture_output=True, text=True, timeout=30
    )


@pytest.mark.skipif(
    shutil.which("curl") is None, reason="hyperdx-init.sh runs curl (the init image ships it)"
)
def test_hyperdx_init_registers_the_first_user_once(hyperdx_api):
    first = run_hyperdx_init(hyperdx_api, "SnkrsDrop.2026.Playground")
    assert first.returncode == 0, first.stderr
    assert "registered sre@click-ai.dev" in first.stdout
    assert "in place: ClickHouse, Traces, Logs (loaded from S3)" in first.stdout
    assert FakeHyperDX.registered == [
        {"email": "sre@click-ai.dev", "password": "SnkrsDrop.2026.Playground",
         "confirmPassword": "SnkrsDrop.2026.Playground"}
    ]  # fmt: skip
    second = run_hyperdx_init(hyperdx_api, "SnkrsDrop.2026.Playground")
    assert second.returncode == 0 and "team exists already" in second.stdout
    assert "in place:" in second.stdout


@pytest.mark.skipif(
    shutil.which("curl") is None, reason="hyperdx-init.sh runs curl (the init image ships it)"
)
def test_hyperdx_init_names_a_source_hyperdx_did_not_create(hyperdx_api):
    FakeHyperDX.drop = {"Logs (loaded from S3)"}
    result = run_hyperdx_init(hyperdx_api, "SnkrsDrop.2026.Playground")
    assert result.returncode == 1
    assert 'HyperDX did not create: source "Logs (loaded from S3)";' in result.stderr


@pytest.mark.skipif(
    shutil.which("curl") is None, reason="hyperdx-init.sh runs curl (the init image ships it)"
)
def test_hyperdx_init_reports_a_dead_api_in_one_line_of_its_own(hyperdx_api):
    dead = f"http://127.0.0.1:{free_port()}"  # nobody listens there: /ready fails, then the register call
    script = (CONFIG / "hyperdx-init.sh").read_text().replace("until curl -fsS", "until true || curl -fsS")
    env = {"PATH": os.environ["PATH"], "HYPERDX_API_URL": dead, "HYPERDX_USER_EMAIL": "a@b.c",
           "HYPERDX_USER_PASSWORD": "SnkrsDrop.2026.Playground"}  # fmt: skip
    result = subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 1
    assert result.stderr.startswith(f"hyperdx-init: cannot reach the HyperDX API at {dead}: curl: (7)")


@pytest.mark.skipif(
    shutil.which("curl") is None, reason="hyperdx-init.sh runs curl (the init image ships it)"
)
def test_hyperdx_init_fails_loudly_on_a_refused_password(hyperdx_api):
    result = run_hyperdx_init(hyperdx_api, "short")
    assert result.returncode == 1
    assert "registration failed (HTTP 400)" in result.stderr and "12+ characters" in result.stderr
    quoted = run_hyperdx_init(hyperdx_api, 'has"quote-Long-1!')
    assert quoted.returncode == 1 and "must not contain quotes" in quoted.stderr
