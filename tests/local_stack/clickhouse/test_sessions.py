"""HTTP sessions (`session_id`) as clickhouse-server serves them: a session keeps its SET settings and
temporary tables across requests, and no other session or client sees them. Checked with the official JS
client (@clickhouse/client from npm) and with clickhouse-connect."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError

REPO = Path(__file__).resolve().parents[3]
JS_CLIENT = "@clickhouse/client@1.23.1"
NODE_DIR = REPO / ".cache" / "node-clickhouse-client"


@pytest.fixture(scope="session")
def node_client() -> Path:
    node, npm = shutil.which("node"), shutil.which("npm")
    if not (node and npm):
        if os.environ.get("CI") == "true":
            pytest.fail("CI=true and Node.js/npm are missing: the JS client test needs them")
        pytest.skip("Node.js and npm are needed to run the official JS client")
    if not (NODE_DIR / "node_modules" / "@clickhouse" / "client").is_dir():
        NODE_DIR.mkdir(parents=True, exist_ok=True)
        (NODE_DIR / "package.json").write_text('{"private": true}\n')
        subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--silent", JS_CLIENT],
            cwd=NODE_DIR,
            check=True,
            timeout=300,
        )
    return NODE_DIR


def test_the_js_client_sessions_keep_their_temporary_tables_and_settings(
    local_stack, node_client: Path
) -> None:
    script = Path(__file__).with_name("js_sessions.cjs")
    env = {**os.environ, "NODE_PATH": str(node_client / "node_modules")}
    out = subprocess.run(
        ["node", str(script), local_stack.ports.clickhouse_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert seen["a"] == [{"s": 15, "t": 3}], seen  # session A: its temporary table and its SET
    assert "Unknown table" in seen["b"]["error"] and "Unknown table" in seen["plain"]["error"], seen
    assert seen["b_setting"][0]["t"] != 3, seen  # another session keeps its own settings


def test_sessions_are_per_session_id_locked_and_checked(local_stack) -> None:
    sid = f"py-{uuid.uuid4()}"
    a = clickhouse_connect.get_client(host=local_stack.host, port=local_stack.clickhouse_port, session_id=sid)
    other = local_stack.client()
    a.command("CREATE TEMPORARY TABLE py_tmp (x UInt8)")
    a.command("INSERT INTO py_tmp VALUES (1)")
    assert a.command("SELECT count() FROM py_tmp") == 1
    with pytest.raises(DatabaseError, match="UNKNOWN_TABLE"):
        other.command("SELECT count() FROM py_tmp")
    checked = clickhouse_connect.get_client(
        host=local_stack.host, port=local_stack.clickhouse_port, session_id=f"py-{uuid.uuid4()}",
        settings={"session_check": 1},
    )  # fmt: skip
    with pytest.raises(DatabaseError, match="SESSION_NOT_FOUND"):
        checked.command("SELECT 1")
