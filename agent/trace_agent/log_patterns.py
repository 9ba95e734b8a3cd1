"""Log templates mined with Drain3 from message groups (pure apart from the miner: groups in, patterns out).

The query already groups the window's records by a masked body (numbers and ids replaced), so Drain3 sees one
line per distinct masked body, weighted by its record count: thousands of records cost one line each kind.
"""

from __future__ import annotations

import logging
from typing import Any

from drain3 import TemplateMiner
from drain3.template_miner_config import TemplateMinerConfig

from .results import json_value

# Drain3 logs every new cluster at INFO; the agent's output is not the place for it.
logging.getLogger("drain3").setLevel(logging.WARNING)

SIMILARITY = 0.4  # Drain's merge threshold (the OTel collector's drainprocessor default)
DEPTH = 4


def new_miner() -> TemplateMiner:
    config = TemplateMinerConfig()
    config.drain_sim_th = SIMILARITY
    config.drain_depth = DEPTH
    config.profiling_enabled = False
    config.parametrize_numeric_tokens = True
    return TemplateMiner(persistence_handler=None, config=config)


def mine_patterns(groups: list[dict[str, Any]], examples: int) -> list[dict[str, Any]]:
    """groups: rows with masked, service, severity, records, baseline_records, first_seen, last_seen,
    example_trace_ids. Returns one pattern per Drain cluster: counts in the window and the baseline, `new`
    when the baseline had none, severities, services, first/last seen, example trace ids and one example;
    new patterns first, then by records."""
    miner = new_miner()
    clusters: dict[int, dict[str, Any]] = {}
    for group in groups:
        outcome = miner.add_log_message(str(group["masked"]))
        cluster_id = outcome["cluster_id"]
        entry = clusters.setdefault(
            cluster_id,
            {"records": 0, "baseline_records": 0, "severities": set(), "services": set(), "first_seen": None,
             "last_seen": None, "example_trace_ids": [], "example": group["masked"], "example_records": -1},
        )  # fmt: skip
        records, before = int(group["records"]), int(group["baseline_records"])
        entry["records"] += records
        entry["baseline_records"] += before
        if records:
            entry["severities"].add(group["severity"])
            entry["services"].add(group["service"])
            if records > entry["example_records"]:
                entry["example"], entry["example_records"] = group["masked"], records
            for key, pick in (("first_seen", min), ("last_seen", max)):
                value = group[key]
                entry[key] = value if entry[key] is None else pick(entry[key], value)
            for trace_id in group["example_trace_ids"]:
                if len(entry["example_trace_ids"]) < examples and trace_id not in entry["example_trace_ids"]:
                    entry["example_trace_ids"].append(trace_id)
    patterns = []
    for cluster_id, entry in clusters.items():
        if not entry["records"]:
            continue  # only in the baseline: gone, not a pattern of this window
        cluster = miner.drain.id_to_cluster[cluster_id]
        patterns.append(
            {
                "template": cluster.get_template(),
                "new": entry["baseline_records"] == 0,
                "records": entry["records"],
                "baseline_records": entry["baseline_records"],
                "severities": sorted(entry["severities"]),
                "services": sorted(entry["services"]),
                "first_seen": json_value(entry["first_seen"]),
                "last_seen": json_value(entry["last_seen"]),
                "example_trace_ids": entry["example_trace_ids"],
                "example": entry["example"],
            }
        )
    patterns.sort(key=lambda p: (not p["new"], -p["records"], p["template"]))
    return patterns
