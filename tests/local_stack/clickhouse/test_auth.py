"""Who may do what through the local ClickHouse endpoint: passwords checked as clickhouse-server checks
them (every kind of the users file, every way of sending them), GET read-only with the server's error, and web
pages of other origins refused anything but reads. A local stack with `.env.example`'s passwords and the
project's users file, plus users of the other password kinds."""

from __future__ import annotations

import base64
import hashlib
import os
import re
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import clickhouse_connect
import pytest
from clickhouse_connect.driver.exceptions import DatabaseError
from local_stack.launch import PASSWORD_VARIABLES, Launcher

from tests.support.stack import REPO, env_example, playground_passwords


def _hex(kind: str, digest: str) -> str:
    return f"<{kind}>{digest}</{kind}>"


def _double_sha1(password: bytes) -> str:
    return hashlib.sha1(hashlib.sha1(password).digest()).hexdigest()


EXTRA_USERS = {  # user → (its users-file element, the password that logs it in)
    "hashed": (_hex("password_sha256_hex", hashlib.sha256(b"hashed-pw").hexdigest().upper()), "hashed-pw"),
    "salted": (
        _hex("password_sha256_hex", hashlib.sha256(b"salted-pw" + b"NaCl").hexdigest())
        + "<password_sha256_salt>NaCl</password_sha256_salt>",
        "salted-pw",
    ),
    "mysqlish": (_hex("password_double_sha1_hex", _double_sha1(b"dsha1-pw")), "dsha1-pw"),
    "literal": ("<password>literal &amp; pw</password>", "literal & pw"),
    "open": ("<no_password/>", ""),
}
WRONG = "wrong-password"
REFUSED = re.compile(
    r"Code: 516\. DB::Exception: (\S+): Authentication failed: password is incorrect, or there is no user "
    r"with such name\. \(AUTHENTICATION_FAILED\)"
)


def users_file(path: Path) -> Path:
    """The project's users file with EXTRA_USERS added."""
    text = (REPO / "config/clickhouse-users.xml").read_text()
    extra = "".join(
        f"<{name}>{element}<networks><ip>::/0</ip></networks><profile>writer</profile></{name}>"
        for name, (element, _) in EXTRA_USERS.items()
    )
    path.write_text(text.replace("</users>", extra + "</users>"))
    return path


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Launcher]:
    folder = tmp_path_factory.mktemp("secured")
    passwords = playground_passwords() | {name: pw for name, (_, pw) in EXTRA_USERS.items()}
    handle = Launcher(
        folder / "data",
        passwords=passwords,
        stack_env={"LOCAL_STACK_USERS_XML": str(users_file(folder / "users.xml"))},
    ).start()
    yield handle
    handle.stop()


def http(
    stack: Launcher, path: str = "/", body: bytes | None = None, method: str | None = None, **headers: str
) -> tuple[int, dict[str, str], bytes]:
    url = stack.ports.clickhouse_url + path
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def table_exists(stack: Launcher, name: str) -> bool:
    client = stack.client()
    try:
        return bool(client.command(f"EXISTS TABLE default.{name}"))
    finally:
        client.close()


ALL_USERS = [*PASSWORD_VARIABLES, *EXTRA_USERS]


def test_the_playground_gives_every_user_a_password() -> None:
    example = env_example()
    assert all(example[variable] for variable in PASSWORD_VARIABLES.values())
    assert len({example[variable] for variable in PASSWORD_VARIABLES.values()}) == len(PASSWORD_VARIABLES)


@pytest.mark.parametrize("user", ALL_USERS)
def test_each_user_logs_in_with_its_password_every_way(secured: Launcher, user: str) -> None:
    password = secured.passwords[user]
    client = secured.client(user)
    assert client.command("SELECT 1") == 1
    client.close()
    for path, headers in (
        (f"/?user={user}&password={urllib.request.quote(password)}", {}),
        ("/", {"Authorization": basic(user, password)}),
        ("/", {"X-ClickHouse-User": user, "X-ClickHouse-Key": password}),
    ):
        assert http(secured, path, b"SELECT 1", **headers)[::2] == (200, b"1\n"), (path, headers)


@pytest.mark.parametrize("user", [u for u in ALL_USERS if u != "open"])
def test_a_wrong_password_is_refused_every_way(secured: Launcher, user: str) -> None:
    with pytest.raises(DatabaseError, match="AUTHENTICATION_FAILED"):
        clickhouse_connect.get_client(
            host=secured.host, port=secured.clickhouse_port, username=user, password=WRONG
        )
    ways = (
        (f"/?user={user}&password={WRONG}", {}),
        (f"/?user={user}", {}),  # no password at all
        ("/", {"Authorization": basic(user, WRONG)}),
        ("/", {"X-ClickHouse-User": user, "X-ClickHouse-Key": WRONG}),
        ("/", {"X-ClickHouse-User": user}),
    )
    for path, headers in ways:
        status, answer, body = http(secured, path, b"SELECT 1", **headers)
        assert (status, answer["X-ClickHouse-Exception-Code"]) == (403, "516"), (path, headers, body)
        assert (found := REFUSED.match(body.decode())) and found.group(1) == user, body
    # `default` is who sends no login: it needs its password too
    status, _, body = http(secured, "/", b"CREATE TABLE default.nope (a UInt8) ENGINE = Memory")
    assert status == 403 and REFUSED.match(body.decode()).group(1) == "default"
    assert not table_exists(secured, "nope")


def test_an_unknown_user_gets_the_same_answer(secured: Launcher) -> None:
    status, _, body = http(secured, "/?user=nobody&password=x", b"SELECT 1")
    assert status == 403 and REFUSED.match(body.decode()).group(1) == "nobody"


def test_a_user_without_a_password_takes_any(secured: Launcher) -> None:
    assert http(secured, "/?user=open&password=anything", b"SELECT 1")[::2] == (200, b"1\n")


def test_one_way_of_logging_in_at_a_time(secured: Launcher) -> None:
    default = secured.passwords["default"]
    mixed = (
        ("/?user=default", {"X-ClickHouse-User": "default", "X-ClickHouse-Key": default},
         "X-ClickHouse HTTP headers and authentication via parameters"),
        ("/", {"X-ClickHouse-User": "default", "Authorization": basic("default", default)},
         "X-ClickHouse HTTP headers and Authorization HTTP header"),
        (f"/?password={default}", {"Authorization": basic("default", default)},
         "Authorization HTTP header and authentication via parameters"),
    )  # fmt: skip
    for path, headers, what in mixed:
        status, _, body = http(secured, path, b"SELECT 1", **headers)
        assert status == 403 and f"it is not allowed to use {what} simultaneously" in body.decode(), body
    status, _, body = http(secured, "/", b"SELECT 1", Authorization="Bearer abc")
    assert status == 403 and b"'Bearer' HTTP Authorization scheme is not supported" in body
    status, _, body = http(secured, "/?user=", b"SELECT 1")
    assert status == 403 and b"Got an empty user name from authentication via parameters" in body


def test_get_is_read_only_as_on_clickhouse_server(secured: Launcher) -> None:
    login = f"user=default&password={secured.passwords['default']}"
    create = urllib.request.quote("CREATE TABLE default.by_get (a UInt8) ENGINE = Memory")
    status, headers, body = http(secured, f"/?{login}&query={create}")
    assert (status, headers["X-ClickHouse-Exception-Code"]) == (500, "164"), body
    assert body.decode().startswith(
        "Code: 164. DB::Exception: default: Cannot execute query in readonly mode. For queries over HTTP, "
        "method GET implies readonly. You should use method POST for modifying queries. (READONLY)"
    ), body
    assert not table_exists(secured, "by_get")
    # reads and settings still work over GET (readonly=2), and the same write over POST runs
    assert http(secured, f"/?{login}&query=SELECT+2&max_result_rows=5")[::2] == (200, b"2\n")
    assert http(secured, f"/?{login}&query={create}", b"")[0] == 200
    assert table_exists(secured, "by_get")
    # the agent's profile is read-only already: a GET write gets the same words
    agent = f"user=agent&password={secured.passwords['agent']}"
    status, _, body = http(secured, f"/?{agent}&query=DROP+TABLE+default.by_get")
    assert status == 500 and b"method GET implies readonly" in body
    assert table_exists(secured, "by_get")
    # and the POST connection of `default` was not left read-only by the GET
    assert http(secured, f"/?{login}", b"DROP TABLE default.by_get")[0] == 200


def test_get_in_a_session_stays_read_only(secured: Launcher) -> None:
    """A GET naming a session that POSTs opened runs read-only too (on a read-only connection of its own)."""
    login = f"user=default&password={secured.passwords['default']}&session_id=s-get"
    assert http(secured, f"/?{login}", b"CREATE TEMPORARY TABLE t (a UInt8)")[0] == 200
    create = urllib.request.quote("CREATE TABLE default.by_session_get (a UInt8) ENGINE = Memory")
    status, _, body = http(secured, f"/?{login}&query={create}")
    assert status == 500 and b"method GET implies readonly" in body, body
    assert not table_exists(secured, "by_session_get")
    assert http(secured, f"/?{login}", b"INSERT INTO t VALUES (1)")[0] == 200  # the POST session is as it was


def test_a_web_page_of_another_origin_cannot_change_data(secured: Launcher) -> None:
    """What a page may send without a preflight: a text/plain POST, a form POST; and with one (OPTIONS)."""
    login = f"user=default&password={secured.passwords['default']}"
    create = b"CREATE TABLE default.by_page (a UInt8) ENGINE = Memory"
    for origin in (
        "http://evil.example",
        "null",
        "https://localhost.evil.example",
        "http://192.168.1.5:8080",
    ):
        for content_type, body in (
            ("text/plain", create),
            ("application/x-www-form-urlencoded", create),
            ("multipart/form-data; boundary=x",
             b'--x\r\nContent-Disposition: form-data; name="query"\r\n\r\n' + create + b"\r\n--x--\r\n"),
        ):  # fmt: skip
            status, headers, answer = http(
                secured, f"/?{login}", body, Origin=origin, **{"Content-Type": content_type}
            )
            assert (status, headers["X-ClickHouse-Exception-Code"]) == (403, "497"), (origin, answer)
            assert b"ACCESS_DENIED" in answer
        assert http(secured, f"/?{login}", method="OPTIONS", Origin=origin)[0] == 403
    assert not table_exists(secured, "by_page")
    # a GET from such a page is only a read (readonly=2), as on clickhouse-server
    status, _, _ = http(secured, f"/?{login}&query=SELECT+1", Origin="http://evil.example")
    assert status == 200


def test_hyperdx_and_loopback_pages_are_answered(secured: Launcher) -> None:
    """HyperDX in local mode queries from the browser (origin http://localhost:8080) with its connection's
    login: its preflight and its POSTs are answered, with clickhouse-server's CORS headers."""
    auth = basic("default", secured.passwords["default"])
    preflight = http(
        secured, "/?add_http_cors_header=1", method="OPTIONS", Origin="http://localhost:8080",
        **{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization"},
    )  # fmt: skip
    assert preflight[0] == 204 and "authorization" in preflight[1]["Access-Control-Allow-Headers"].lower()
    for origin in ("http://localhost:8080", "http://127.0.0.1:5173", "http://[::1]:3000"):
        status, headers, body = http(
            secured, "/?add_http_cors_header=1&default_format=JSONCompact", b"SELECT 41 + 1",
            Origin=origin, Authorization=auth, **{"Content-Type": "text/plain"},
        )  # fmt: skip
        assert status == 200 and b"42" in body, (origin, body)
        assert headers["Access-Control-Allow-Origin"] == "*"
    client = secured.client()
    client.command("CREATE TABLE default.by_hyperdx (a UInt8) ENGINE = Memory")
    status, _, _ = http(
        secured, "/", b"INSERT INTO default.by_hyperdx VALUES (1)", Origin="http://localhost:8080",
        Authorization=auth,
    )  # fmt: skip
    assert status == 200 and client.command("SELECT count() FROM default.by_hyperdx") == 1
    client.command("DROP TABLE default.by_hyperdx")
    client.close()


def test_just_sql_logs_in_with_the_env_files_password(secured: Launcher, tmp_path: Path) -> None:
    """`just sql` as a user runs it: its login from .env (here .env.example's, pointed at this stack)."""
    env_file = (REPO / ".env.example").read_text() + f"\nCLICKHOUSE_PORT={secured.clickhouse_port}\n"
    (tmp_path / ".env").write_text(env_file)
    ran = subprocess.run(
        ["just", "--justfile", str(REPO / "justfile"), "--working-directory", str(tmp_path), "sql",
         "SELECT 'logged in' AS answer"],
        capture_output=True, text=True, timeout=60, env={"PATH": os.environ["PATH"]},
    )  # fmt: skip
    assert ran.returncode == 0 and "logged in" in ran.stdout, ran.stdout + ran.stderr


def readme_commands(path: Path, program: str) -> list[str]:
    """The shell commands starting with `program` in the README's bash blocks (continuation lines joined)."""
    commands, inside, pending = [], False, ""
    for line in path.read_text().splitlines():
        if line.startswith("```"):
            inside = line.strip() == "```bash"
            continue
        if not inside:
            continue
        line = pending + line.strip()
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        pending = ""
        if line.startswith(program + " "):
            commands.append(line)
    return commands


def test_the_readmes_commands_run_as_written(secured: Launcher, tmp_path: Path) -> None:
    """Every `curl` and `just sql` of the README against a stack with .env.example's logins (the port moved to
    this stack's): each answers, none is refused."""
    curls = readme_commands(REPO / "README.md", "curl")
    sqls = readme_commands(REPO / "README.md", "just sql")
    assert len(curls) >= 3 and sqls, (curls, sqls)
    (tmp_path / ".env").write_text(
        (REPO / ".env.example").read_text() + f"\nCLICKHOUSE_PORT={secured.clickhouse_port}\n"
    )
    for command in curls + sqls:
        command = command.replace("localhost:8123", f"127.0.0.1:{secured.clickhouse_port}")
        command = command.replace(
            "just sql", f"just --justfile {REPO / 'justfile'} --working-directory . sql", 1
        )
        ran = subprocess.run(
            ["bash", "-c", f"set -o pipefail; {command}"], cwd=tmp_path, capture_output=True, text=True,
            timeout=60, env={"PATH": os.environ["PATH"]},
        )  # fmt: skip
        assert ran.returncode == 0 and "Code:" not in ran.stdout, (command, ran.stdout, ran.stderr)
