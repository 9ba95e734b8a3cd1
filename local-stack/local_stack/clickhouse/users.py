"""Users and their profile settings, read from the same users file the ClickHouse container mounts."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

# Profile settings chDB cannot apply per connection (server-level knobs); they do not change results.
_SERVER_ONLY = {"load_balancing"}


@dataclass(frozen=True)
class User:
    name: str
    profile: str
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def readonly(self) -> bool:
        return self.settings.get("readonly", "0") not in ("0", "")


def load_users(path: Path) -> dict[str, User]:
    """Map user name → User with the settings of its profile (the `default` profile underneath)."""
    root = ET.parse(path).getroot()
    profiles: dict[str, dict[str, str]] = {}
    for profile in root.findall("./profiles/*"):
        profiles[profile.tag] = {s.tag: (s.text or "").strip() for s in profile if s.tag not in _SERVER_ONLY}
    users: dict[str, User] = {}
    for user in root.findall("./users/*"):
        profile = (user.findtext("profile") or "default").strip()
        settings = {**profiles.get("default", {}), **profiles.get(profile, {})}
        users[user.tag] = User(user.tag, profile, settings)
    users.setdefault("default", User("default", "default", profiles.get("default", {})))
    return users
