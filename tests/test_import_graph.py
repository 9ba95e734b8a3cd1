"""The services talk to each other only through the collector, the bucket and ClickHouse tables: no service
package imports another, nor the local stand-ins. Read from the source's import statements (ast), so a lazy
import inside a function counts too."""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent

SERVICES = {
    "snkrs_generator": REPO / "event-generator/snkrs_generator",
    "s3_loader": REPO / "s3-loader/s3_loader",
    "enricher": REPO / "embedding-enricher/enricher",
    "trace_agent": REPO / "agent/trace_agent",
}
LIBRARIES = {
    "click_common": REPO / "click-common/click_common",  # any service may import it
    "otlp_rows": REPO / "otlp-rows/otlp_rows",  # OTLP JSON → exporter rows: any service may import it
    "local_stack": REPO / "local-stack/local_stack",  # the stand-ins: tests, benchmarks and `just local` only
}
TOOLS = {"snkrs_eval": REPO / "eval/snkrs_eval"}  # scores the agent: may import trace_agent, is no service
PACKAGES = SERVICES | LIBRARIES | TOOLS

# Edges that exist today and are to go (none now: the OTLP → rows conversion local_stack borrowed from
# s3_loader became the otlp_rows library). Listed so that the test says when one is gone.
KNOWN: set[tuple[str, str]] = set()
SHARED = {"click_common", "otlp_rows"}  # the libraries of this repository the services share


def imported_packages(package: Path) -> dict[str, set[str]]:
    """Top-level names of the absolute imports of the modules in `package`, and which modules import each."""
    found: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], set()).add(str(path.relative_to(REPO)))
    return found


def edges() -> dict[tuple[str, str], set[str]]:
    """(importer, imported) between the project's packages → the importing modules."""
    result: dict[tuple[str, str], set[str]] = {}
    for name, path in PACKAGES.items():
        for imported, modules in imported_packages(path).items():
            if imported in PACKAGES and imported != name:
                result[(name, imported)] = modules
    return result


def allowed(importer: str, imported: str) -> bool:
    if imported in SHARED:
        return True
    if importer in TOOLS:  # the agent it scores, and the launcher for its scenarios' stacks
        return imported in {"trace_agent", "local_stack"}
    return False


def test_every_package_is_where_the_test_looks():
    for name, path in PACKAGES.items():
        assert (path / "__init__.py").is_file(), f"{name} is not at {path}"


def test_the_parser_sees_imports_of_every_form(tmp_path, monkeypatch):
    monkeypatch.setattr(f"{__name__}.REPO", tmp_path)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg/mod.py").write_text(
        "import s3_loader.bucket\nfrom enricher.store import Store\nfrom . import sibling\n"
        "def later():\n    import trace_agent as agent\n",
        encoding="utf-8",
    )
    found = imported_packages(tmp_path / "pkg")
    assert set(found) == {"s3_loader", "enricher", "trace_agent"}
    assert found["trace_agent"] == {"pkg/mod.py"}


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_no_service_imports_another_service_or_the_stand_ins(service):
    wrong = {
        imported: sorted(modules)
        for (importer, imported), modules in edges().items()
        if importer == service and not allowed(importer, imported)
    }
    assert not wrong, (
        f"{service} imports {wrong}: services meet only through the collector, S3 and ClickHouse"
    )


def test_libraries_and_tools_import_no_service_but_the_agent_for_the_eval():
    wrong = {
        edge: sorted(modules)
        for edge, modules in edges().items()
        if edge[0] not in SERVICES and not allowed(*edge) and edge not in KNOWN
    }
    assert not wrong, f"imports across packages that are not allowed: {wrong}"


def test_the_known_exceptions_still_exist():
    gone = KNOWN - set(edges())
    assert not gone, f"{gone} no longer exist: take them out of KNOWN so they cannot come back"


def test_the_shared_libraries_import_no_other_package_of_the_project():
    for library in SHARED:
        wrong = {imported for (importer, imported) in edges() if importer == library}
        assert not wrong, f"{library} imports {wrong}"


def test_no_pyproject_names_a_local_package_pip_could_take_from_pypi():
    """A local package is installed from its folder (`just setup`, the Dockerfiles), never listed by its bare
    name as a dependency: pip would look for it on PyPI."""
    local = {
        tomllib.loads(p.read_text(encoding="utf-8"))["project"]["name"] for p in REPO.glob("*/pyproject.toml")
    }
    for pyproject in REPO.glob("*/pyproject.toml"):
        deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"].get("dependencies", [])
        named = {re.split(r"[\s<>=!~\[;@]", d, maxsplit=1)[0] for d in deps}
        assert not named & local, f"{pyproject.relative_to(REPO)} lists {named & local} by name"


def module_graph(package: Path) -> dict[str, set[str]]:
    """module → the modules of its own package it imports (relative or absolute, lazy or TYPE_CHECKING)."""
    root = package.name
    modules = {
        ".".join(path.relative_to(package.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in package.rglob("*.py")
    }
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        is_package = path.name == "__init__.py"
        here = name.split(".") if is_package else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                base = here[: len(here) - node.level + 1] if node.level else []
                target = ".".join([*base, *(node.module.split(".") if node.module else [])])
                # `from pkg import sub` imports the module pkg.sub; `from pkg import name` imports pkg
                subs = [
                    f"{target}.{alias.name}" for alias in node.names if f"{target}.{alias.name}" in modules
                ]
                candidates = subs if len(subs) == len(node.names) else [target, *subs]
            elif isinstance(node, ast.Import):
                candidates = [alias.name for alias in node.names]
            else:
                continue
            graph[name] |= {c for c in candidates if c in modules and c != name and c.startswith(root)}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every module that can reach itself, with one path back (depth-first, each cycle reported once)."""
    found: list[list[str]] = []
    seen: set[frozenset[str]] = set()
    for start in sorted(graph):
        stack = [(start, [start])]
        visited: set[str] = set()
        while stack:
            node, path = stack.pop()
            for nxt in sorted(graph[node]):
                if nxt == start and frozenset(path) not in seen:
                    seen.add(frozenset(path))
                    found.append([*path, start])
                elif nxt not in visited and nxt not in path:
                    visited.add(nxt)
                    stack.append((nxt, [*path, nxt]))
    return found


def test_the_cycle_finder_sees_a_lazy_circle(tmp_path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("def f():\n    from . import a\n")
    (pkg / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg import a\n")
    assert cycles(module_graph(pkg)) == [["pkg.a", "pkg.b", "pkg.a"]]


@pytest.mark.parametrize("name", sorted(PACKAGES))
def test_no_package_has_an_import_circle(name):
    """Issue 28: the generator had incidents → timeline → latency → settings → incidents, closed through a
    lazy import and a TYPE_CHECKING one. A circle, lazy or not, means modules that cannot be read apart."""
    assert cycles(module_graph(PACKAGES[name])) == []


def test_no_module_edits_sys_path():
    """Issue 28: every entry point runs as `python -m` from the repository root, so nothing needs to edit
    sys.path (benchmarks/mcp.py did, to keep its own folder from shadowing the `mcp` package)."""
    edits = []
    for path in sorted(REPO.rglob("*.py")):
        if {".venv", ".cache", ".local", "node_modules"} & set(path.relative_to(REPO).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            target = (
                node.func.value
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                else None
            )
            targets = [*getattr(node, "targets", []), target] if not isinstance(node, ast.Call) else [target]
            for t in targets:
                while isinstance(t, ast.Subscript):
                    t = t.value
                if isinstance(t, ast.Attribute) and t.attr == "path" and getattr(t.value, "id", "") == "sys":
                    edits.append(f"{path.relative_to(REPO)}:{node.lineno}")
    assert edits == []


# --- one launcher ---------------------------------------------------------------------------------------
LAUNCHER = "local_stack.launch"
LAUNCHER_DIR = REPO / "local-stack/local_stack/launch"
# Issue 28: four launchers started "a local stack plus services on free ports, wait, stop". Now each of these
# does it through the one in local_stack.launch: `just local`'s supervisor (the ports it moves), the eval,
# every benchmark that starts a stack, and the tests' support code.
LAUNCHER_USERS = [
    "local-stack/local_stack/supervisor/__main__.py",
    "eval/snkrs_eval/stack.py",
    *(f"benchmarks/{name}.py" for name in (
        "agent_tools", "clickhouse_endpoint", "collector", "docker_stack", "enricher", "loader_small_files",
        "mcp", "pipeline", "s3_loader", "vector_recall",
    )),
    "tests/conftest.py",
    "tests/support/stack.py",
    "tests/collector/pipeline.py",
    "tests/collector/otelcol.py",
    "tests/e2e/test_pipeline.py",
]  # fmt: skip
# What only the launcher defines: finding a free port, stopping a process, starting or stopping a stack.
LAUNCHER_HELPERS = {"free_port", "stop_process", "wait_listening", "start_local_stack", "stop_local_stack"}


def python_files() -> list[Path]:
    return [
        path
        for path in sorted(REPO.rglob("*.py"))
        if not {".venv", ".cache", ".local", "node_modules"} & set(path.relative_to(REPO).parts)
    ]


def module_name(path: Path) -> str:
    """The dotted name `path` is imported as (below its package's folder, or the repository root)."""
    for name, package in PACKAGES.items():
        if package in path.parents:
            parts = [name, *path.relative_to(package).with_suffix("").parts]
            break
    else:
        parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts).removesuffix(".__init__")


def imported_modules(path: Path) -> set[str]:
    """The full dotted names `path` imports (relative ones resolved; `from m import n` gives m and m.n)."""
    here = module_name(path).split(".")
    package = here if path.name == "__init__.py" else here[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            target = ".".join([*base, *(node.module.split(".") if node.module else [])])
            found |= {target, *(f"{target}.{alias.name}" for alias in node.names)}
    return found


def test_the_import_reader_resolves_relative_imports():
    names = imported_modules(REPO / "local-stack/local_stack/supervisor/__main__.py")
    assert "local_stack.paths" in names and "local_stack.supervisor.processes" in names


@pytest.mark.parametrize("user", LAUNCHER_USERS)
def test_the_supervisor_eval_benchmarks_and_tests_start_stacks_through_the_launcher(user):
    imported = imported_modules(REPO / user)
    assert any(name == LAUNCHER or name.startswith(f"{LAUNCHER}.") for name in imported), (
        f"{user} does not import {LAUNCHER}"
    )


def test_the_eval_takes_only_the_launcher_from_the_stand_ins():
    taken = {
        name
        for path in TOOLS["snkrs_eval"].rglob("*.py")
        for name in imported_modules(path)
        if name.split(".")[0] == "local_stack"
    }
    assert taken and all(name == LAUNCHER or name.startswith(f"{LAUNCHER}.") for name in taken), taken


def test_only_the_launcher_finds_free_ports_stops_processes_or_starts_a_stack():
    """No second `free_port` (a socket bound to port 0 to learn a free one), `stop_process`, or command line
    that starts `python -m local_stack` outside the launcher; the stack's own command-line tests
    (tests/local_stack) start it by hand on purpose."""
    found = []
    for path in python_files():
        if LAUNCHER_DIR in path.parents or path == Path(__file__):
            continue
        where = str(path.relative_to(REPO))
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef) and node.name in LAUNCHER_HELPERS:
                found.append(f"{where}:{node.lineno} defines {node.name}")
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "bind"
                and node.args
                and isinstance(node.args[0], ast.Tuple)
                and isinstance(node.args[0].elts[-1], ast.Constant)
                and node.args[0].elts[-1].value == 0
            ):
                found.append(f"{where}:{node.lineno} binds port 0")
            elif isinstance(node, ast.List) and not where.startswith("tests/local_stack/"):
                words = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if any(words[i : i + 2] == ["-m", "local_stack"] for i in range(len(words))):
                    found.append(f"{where}:{node.lineno} starts python -m local_stack")
    assert found == []


MAX_MODULE_LINES = 400


SERVICE_MODULES = {
    str(path.relative_to(package.parent)): path
    for package in SERVICES.values()
    for path in sorted(package.rglob("*.py"))
}


@pytest.mark.parametrize(
    "module",
    list(SERVICE_MODULES),
)
def test_no_service_module_is_over_400_lines(module):
    """Issue 28: small modules named for what they hold; a service module past 400 lines holds several
    things (the agent's tools.py had grown to 885)."""
    lines = len(SERVICE_MODULES[module].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_MODULE_LINES, f"{module} has {lines} lines: split it by what it holds"
