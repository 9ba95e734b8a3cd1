"""Users, their passwords and their profile settings, read from the same users file the ClickHouse container
mounts, with its `from_env` substitutions taken from the same environment (.env).

As clickhouse-server reads it: a password is `<password>` (plain text; empty means none),
`<password_sha256_hex>` (optionally salted by `<password_sha256_salt>`), `<password_double_sha1_hex>` or
`<no_password/>`, exactly one of them; `from_env="NAME"` puts the variable's value in as XML text, and an
unset variable leaves the element empty (the server only logs it), so that user has no password. Here that is
one warning line naming the variable.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from click_common.config import ConfigError

log = logging.getLogger("local_stack.clickhouse")

# Profile settings chDB cannot apply per connection (server-level knobs); they do not change results.
_SERVER_ONLY = {"load_balancing"}
_PASSWORD_KINDS = ("password", "password_sha256_hex", "password_double_sha1_hex", "no_password")
# what clickhouse-server also accepts but the local stack cannot check (such a user cannot log in here)
_OTHER_KINDS = (
    "password_bcrypt_hash", "ldap", "kerberos", "ssl_certificates", "ssh_keys", "http_authentication",
)  # fmt: skip


class UsersConfigError(ValueError):
    """The users file cannot be read as clickhouse-server would (one line saying where and why)."""


@dataclass(frozen=True)
class Password:
    """How a user proves who it is: `kind` is one of _PASSWORD_KINDS; `value` the text or the hex digest."""

    kind: str = "no_password"
    value: str = ""
    salt: str = ""

    def accepts(self, given: str) -> bool:
        if self.kind == "no_password":
            return True  # clickhouse-server: a user without a password takes any
        if self.kind == "password":
            return hmac.compare_digest(_utf8(given), _utf8(self.value))
        if self.kind == "password_sha256_hex":
            digest = hashlib.sha256(_utf8(given + self.salt)).hexdigest()
        else:  # password_double_sha1_hex, as MySQL's native password
            digest = hashlib.sha1(hashlib.sha1(_utf8(given)).digest()).hexdigest()
        return hmac.compare_digest(digest, self.value.lower())


def _utf8(text: str) -> bytes:
    """The bytes of a password as sent: header bytes that are not UTF-8 reach us as lone surrogates."""
    return text.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class User:
    name: str
    profile: str
    settings: dict[str, str] = field(default_factory=dict)
    password: Password = field(default=Password(), repr=False)

    @property
    def readonly(self) -> bool:
        return self.settings.get("readonly", "0") not in ("0", "")


def _substitute(element: ET.Element, environ: Mapping[str, str], where: str) -> str:
    """The element's text after `from_env` (the variable's value, read as XML text, as the server does)."""
    name = element.get("from_env")
    if name is None:
        return element.text or ""
    value = environ.get(name)
    if value is None:
        if element.get("optional") is None:
            log.warning("%s: %s is not set, so it has no password (as in clickhouse-server)", where, name)
        return ""
    try:
        parsed = ET.fromstring(f"<from_env>{value}</from_env>")
    except ET.ParseError:
        raise ConfigError(
            name, f"is not valid XML text: clickhouse-server reads {where}'s password as XML (no raw < or &)"
        ) from None
    return "".join(parsed.itertext())


def _password(user: ET.Element, environ: Mapping[str, str]) -> Password:
    where = f"user {user.tag}"
    found = [child for child in user if child.tag in _PASSWORD_KINDS or child.tag in _OTHER_KINDS]
    if len(found) > 1:
        raise UsersConfigError(
            f"{where}: more than one of {', '.join(c.tag for c in found)}: the server takes exactly one"
        )
    if not found:
        raise UsersConfigError(f"{where}: no password: set one of {', '.join(_PASSWORD_KINDS)}")
    element = found[0]
    if element.tag in _OTHER_KINDS:
        raise UsersConfigError(f"{where}: <{element.tag}> authentication is not available in the local stack")
    if element.tag == "no_password":
        return Password()
    value = _substitute(element, environ, where)
    if element.tag == "password":
        return Password("password", value) if value else Password()
    size = 64 if element.tag == "password_sha256_hex" else 40
    value = value.strip()
    try:
        bytes.fromhex(value)
    except ValueError:
        raise UsersConfigError(f"{where}: <{element.tag}> is not hexadecimal") from None
    if len(value) != size:
        raise UsersConfigError(f"{where}: <{element.tag}> must be {size} hex digits, not {len(value)}")
    salt_element = user.find("password_sha256_salt")
    salt = _substitute(salt_element, environ, where) if salt_element is not None else ""
    return Password(element.tag, value, salt)


def load_users(path: Path, environ: Mapping[str, str] | None = None) -> dict[str, User]:
    """Map user name → User with its password and the settings of its profile (the `default` profile
    underneath). `environ` (default: os.environ) fills the `from_env` attributes."""
    environ = os.environ if environ is None else environ
    root = ET.parse(path).getroot()
    profiles: dict[str, dict[str, str]] = {}
    for profile in root.findall("./profiles/*"):
        profiles[profile.tag] = {s.tag: (s.text or "").strip() for s in profile if s.tag not in _SERVER_ONLY}
    users: dict[str, User] = {}
    for user in root.findall("./users/*"):
        profile = (user.findtext("profile") or "default").strip()
        settings = {**profiles.get("default", {}), **profiles.get(profile, {})}
        users[user.tag] = User(user.tag, profile, settings, _password(user, environ))
    users.setdefault("default", User("default", "default", profiles.get("default", {})))
    return users
