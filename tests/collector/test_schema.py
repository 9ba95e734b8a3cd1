"""Schema: the real clickhouseexporter (create_schema: true) creates its tables in a scratch database; each
one is compared with what config/migrations create in `default`. Every difference must be one recorded, with
its reason, in schema_differences.yaml (and every recorded one must still exist)."""

from __future__ import annotations

import time
from pathlib import Path

import yaml

from tests.collector.schema_facts import EXPORTER_TABLES, differences, table_facts

RECORD = Path(__file__).with_name("schema_differences.yaml")
SCRATCH = "exporter_schema"


def recorded() -> dict[tuple[str, str], tuple[str, str]]:
    entries = yaml.safe_load(RECORD.read_text()) or []
    for entry in entries:
        assert entry.get("why", "").strip(), f"{entry['table']} {entry['item']}: no reason recorded"
    return {(e["table"], e["item"]): (e["exporter"], e["project"]) for e in entries}


def test_the_exporter_creates_what_the_migrations_create(real_collector, stack) -> None:
    client = stack.client()
    client.command(f"DROP DATABASE IF EXISTS {SCRATCH}")

    def create_schema(config: dict) -> None:
        config["exporters"]["clickhouse"].update(create_schema=True, database=SCRATCH)

    collector = real_collector(create_schema)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        created = client.query(
            "SELECT name FROM system.tables WHERE database = {db:String}", parameters={"db": SCRATCH}
        ).result_rows
        if len(created) >= len(EXPORTER_TABLES):
            break
        time.sleep(0.5)
    assert sorted(name for (name,) in created) == sorted(EXPORTER_TABLES), collector.tail()

    found: dict[tuple[str, str], tuple[str, str]] = {}
    for table in EXPORTER_TABLES:
        diff = differences(table_facts(client, SCRATCH, table), table_facts(client, "default", table))
        found.update({(table, item): values for item, values in diff.items()})
    client.command(f"DROP DATABASE IF EXISTS {SCRATCH}")
    expected = recorded()
    unexplained = {key: found[key] for key in found.keys() - expected.keys()}
    gone = sorted(expected.keys() - found.keys())
    changed = {
        key: (expected[key], found[key])
        for key in found.keys() & expected.keys()
        if found[key] != expected[key]
    }
    assert not unexplained, (
        "differences from the exporter's DDL not in schema_differences.yaml:\n"
        + yaml.safe_dump(
            [
                {"table": t, "item": i, "exporter": e, "project": p}
                for (t, i), (e, p) in sorted(unexplained.items())
            ],
            sort_keys=False,
            width=200,
        )
    )
    assert not gone, f"recorded differences that no longer exist (remove them): {gone}"
    assert not changed, f"recorded differences whose values changed: {changed}"
