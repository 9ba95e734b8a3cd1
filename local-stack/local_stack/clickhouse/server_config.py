"""The server settings of config/clickhouse-config.xml (the Docker stack's) that chDB takes too, so that both
run modes share them. chDB reads server settings from its connection string when it first opens its data."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

# Top-level <clickhouse> elements passed on. Only these: the others (listen_host, logger, system logs,
# memory ratios) are about a server process and its container, which chDB inside the stack is not.
SHARED = ("max_build_vector_similarity_index_thread_pool_size",)


def shared_server_settings(config_xml: Path) -> dict[str, str]:
    """{name: value} of the SHARED settings config_xml sets."""
    root = ET.parse(config_xml).getroot()
    found = {name: root.findtext(name) for name in SHARED}
    return {name: value.strip() for name, value in found.items() if value is not None and value.strip()}
