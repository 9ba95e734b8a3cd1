"""The real collector's build: the manifest holds exactly the components the config uses, a second build is
a no-op, and without Go the tests skip with the reason (but fail under CI)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import yaml
from local_stack.real_collector import build as otelcol_build

from tests.collector import otelcol


def used_components(config: dict) -> dict[str, set[str]]:
    service = config["service"]
    used = {kind: set() for kind in ("receivers", "processors", "exporters", "extensions")}
    used["extensions"] |= set(service.get("extensions", []))
    for pipeline in service["pipelines"].values():
        for kind in ("receivers", "processors", "exporters"):
            used[kind] |= {name.split("/")[0] for name in pipeline.get(kind, [])}
    return used


def test_the_binary_has_exactly_the_components_the_config_uses(otelcol_binary: Path) -> None:
    listed = yaml.safe_load(subprocess.run([str(otelcol_binary), "components"], capture_output=True,
                                           text=True, check=True, timeout=60).stdout)  # fmt: skip
    built = {
        kind: {c["name"] for c in listed.get(kind) or []}
        for kind in used_components({"service": {"pipelines": {}}})
    }
    assert built == used_components(otelcol.project_config())
    assert listed["buildinfo"]["version"] == "0.159.0"


def test_a_second_build_is_a_no_op(otelcol_binary: Path) -> None:
    started = time.monotonic()
    assert otelcol_build.build() == otelcol_binary
    assert time.monotonic() - started < 1
    assert otelcol_binary.parent.parent.name == otelcol_build.manifest_key()


def test_without_go_the_tests_skip_with_the_reason_but_not_under_ci(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setattr(otelcol_build, "binary_path", lambda manifest=None: tmp_path / "absent")
    monkeypatch.setattr(otelcol_build.shutil, "which", lambda name, **kw: None)
    monkeypatch.setattr(otelcol_build, "GO_FALLBACKS", (tmp_path / "no-go",))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="no Go toolchain"):
        otelcol.binary_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        otelcol.binary_or_skip()
