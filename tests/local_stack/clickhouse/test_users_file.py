"""The users file read as clickhouse-server reads it: from_env values as XML text, an unset variable leaving
that user without a password (one warning naming it), exactly one password element per user."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import pytest
from click_common.config import ConfigError
from local_stack.clickhouse.users import UsersConfigError, load_users
from local_stack.paths import USERS_XML


def users_xml(tmp_path: Path, *users: str) -> Path:
    path = tmp_path / "users.xml"
    path.write_text(f"<clickhouse><users>{''.join(users)}</users></clickhouse>")
    return path


def test_the_projects_users_take_their_passwords_from_the_environment() -> None:
    env = {
        "CLICKHOUSE_PASSWORD": "d-pw",
        "CLICKHOUSE_AGENT_PASSWORD": "a-pw",
        "CLICKHOUSE_LOADER_PASSWORD": "l",
    }
    users = load_users(USERS_XML, env)
    assert users["default"].password.accepts("d-pw") and not users["default"].password.accepts("")
    assert users["agent"].password.accepts("a-pw") and not users["agent"].password.accepts("d-pw")
    assert users["loader"].password.accepts("l") and not users["loader"].password.accepts("l ")
    assert users["agent"].readonly and not users["default"].readonly


def test_an_unset_variable_leaves_the_user_without_a_password_and_says_so(caplog) -> None:
    with caplog.at_level(logging.WARNING):
        users = load_users(USERS_XML, {"CLICKHOUSE_PASSWORD": "x"})
    assert users["agent"].password.accepts("anything") and users["agent"].password.accepts("")
    warnings = [r.getMessage() for r in caplog.records]
    assert any("CLICKHOUSE_AGENT_PASSWORD is not set" in w and "user agent" in w for w in warnings), warnings
    assert not any("CLICKHOUSE_PASSWORD " in w for w in warnings)


def test_from_env_is_read_as_xml_text(tmp_path: Path) -> None:
    path = users_xml(tmp_path, '<u><password from_env="PW"/></u>')
    assert load_users(path, {"PW": "a &amp; b"})["u"].password.accepts("a & b")
    with pytest.raises(ConfigError, match=r"^PW is not valid XML text"):
        load_users(path, {"PW": "a & b"})
    assert load_users(path, {"PW": ""})["u"].password.kind == "no_password"


def test_hashed_passwords(tmp_path: Path) -> None:
    sha = hashlib.sha256(b"pw").hexdigest()
    double = hashlib.sha1(hashlib.sha1(b"pw").digest()).hexdigest().upper()
    users = load_users(
        users_xml(
            tmp_path,
            f"<a><password_sha256_hex>{sha}</password_sha256_hex></a>",
            f"<b><password_double_sha1_hex>{double}</password_double_sha1_hex></b>",
            "<c><no_password/></c>",
        ),
        {},
    )
    assert users["a"].password.accepts("pw") and not users["a"].password.accepts("pw2")
    assert users["b"].password.accepts("pw") and not users["b"].password.accepts("")
    assert users["c"].password.accepts("whatever")


@pytest.mark.parametrize(
    ("user", "problem"),
    [
        ("<u><password>a</password><no_password/></u>", "more than one of password, no_password"),
        ("<u><profile>default</profile></u>", "no password"),
        ("<u><password_sha256_hex>abcd</password_sha256_hex></u>", "must be 64 hex digits"),
        ("<u><password_sha256_hex>" + "z" * 64 + "</password_sha256_hex></u>", "not hexadecimal"),
        ("<u><ldap><server>x</server></ldap></u>", "not available in the local stack"),
    ],
)
def test_a_users_file_the_server_would_refuse(tmp_path: Path, user: str, problem: str) -> None:
    with pytest.raises(UsersConfigError, match=problem):
        load_users(users_xml(tmp_path, user), {})
