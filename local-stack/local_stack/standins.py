"""Local stand-ins for the images the Docker stack names, on a machine that can neither find nor pull them.

`just docker-standins` lists every image tag docker-compose.yaml names (a service's `image:`, and the `FROM`
lines of the Dockerfiles it builds), and for each tag that is neither present nor pullable builds a stand-in
from local-stack/standins/<folder>/ — on a base made with `debootstrap` and `docker import`, so nothing is
pulled. A tag that is present is never touched, unless it is one of these stand-ins (labelled
`org.click-ai.standin`), which is rebuilt so that it follows the checkout. On a machine that can pull, it
builds nothing. Each folder's README says what its stand-in is and how it differs from the real image.

Stand-ins trust this machine's extra CA certificates (/usr/local/share/ca-certificates), so builds on top of
them reach the package registries through an intercepting proxy; the real images users pull never see them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .paths import REPO_ROOT

STANDINS_DIR = REPO_ROOT / "local-stack" / "standins"
CACHE = REPO_ROOT / ".cache" / "standins"
BASE_TAG = "click-ai-standin/debian:bookworm"
LABEL = "org.click-ai.standin"
EXTRA_CAS = Path("/usr/local/share/ca-certificates")
PROFILES = ("ui", "agent")  # every service counts, whatever `just up` starts


class StandInError(RuntimeError):
    """A stand-in cannot be built here; the message says why in one line."""


def run(*cmd: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, check=False, capture_output=True, text=True, **kw)


# --------------------------------------------------------------------------------------------------
# Which tags the stack needs
# --------------------------------------------------------------------------------------------------
def from_tags(dockerfile: str, build_args: dict[str, str] | None = None) -> list[str]:
    """The images a Dockerfile's FROM lines name (not its stages nor `scratch`; ARG defaults applied)."""
    args = dict(build_args or {})
    stages: set[str] = set()
    tags: list[str] = []
    for line in dockerfile.splitlines():
        words = line.split()
        if len(words) >= 2 and words[0].upper() == "ARG" and "=" in words[1]:
            name, _, value = words[1].partition("=")
            args.setdefault(name, value.strip("\"'"))
        if len(words) < 2 or words[0].upper() != "FROM":
            continue
        image = next(w for w in words[1:] if not w.startswith("--"))
        image = re.sub(r"\$\{?(\w+)\}?", lambda m: args.get(m.group(1), ""), image)
        if len(words) >= 4 and words[-2].upper() == "AS":
            stages.add(words[-1])
        if image not in stages and image != "scratch" and image not in tags:
            tags.append(image)
    return tags


def compose_tags(compose: dict) -> dict[str, list[str]]:
    """tag → the services that need it, from `docker compose config --format json` (every profile on)."""
    services = compose["services"]
    built = {service.get("image") for service in services.values() if service.get("build")}
    needed: dict[str, list[str]] = {}
    for name, service in sorted(services.items()):
        build = service.get("build")
        if build:
            dockerfile = Path(build["context"]) / build.get("dockerfile", "Dockerfile")
            # a base another service builds (config/python-service) is built first, not needed from outside
            tags = [t for t in from_tags(dockerfile.read_text(), build.get("args") or {}) if t not in built]
        else:
            tags = [] if service["image"] in built else [service["image"]]  # another service builds it
        for tag in tags:
            needed.setdefault(tag, []).append(name)
    return needed


def profile_only(compose: dict, services: list[str], profile: str) -> bool:
    """Whether every one of these services starts only with the profile."""
    return all(compose["services"][name].get("profiles") == [profile] for name in services)


def resolved_compose(compose_files: list[Path], env_file: Path) -> dict:
    cmd = ["docker", "compose", "--env-file", str(env_file)]
    for path in compose_files:
        cmd += ["-f", str(path)]
    for profile in PROFILES:
        cmd += ["--profile", profile]
    out = run(*cmd, "config", "--format", "json", cwd=REPO_ROOT)
    if out.returncode != 0:
        raise StandInError(f"docker compose config failed: {out.stderr.strip().splitlines()[-1:]}")
    return json.loads(out.stdout)


# --------------------------------------------------------------------------------------------------
# The stand-ins
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class StandIn:
    folder: str  # under local-stack/standins/
    repository: str  # the image repository it stands in for (the tag's part before ':')
    fill: Callable[[Path], None] = lambda context: None  # adds what its Dockerfile copies
    after: tuple[str, ...] = ()  # repositories whose tag (stand-in or real) its Dockerfile builds on


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(
        src, dst, ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info", ".pytest_cache")
    )


def _fill_golang(context: Path) -> None:
    goroot = run("go", "env", "GOROOT")
    if goroot.returncode != 0:
        raise StandInError("the golang stand-in copies this machine's Go toolchain, and `go` is not on PATH")
    _copy_tree(Path(goroot.stdout.strip()), context / "go")


def _fill_collector(context: Path) -> None:
    from .real_collector import build

    shutil.copy2(
        build.build(log=lambda line: print(line, file=sys.stderr, flush=True)), context / "otelcol-contrib"
    )


def _fill_clickhouse(context: Path) -> None:
    shutil.copy2(REPO_ROOT / "constraints.txt", context / "constraints.txt")
    requirements: list[str] = []
    for package in ("click-common", "otlp-rows", "local-stack"):
        (context / package).mkdir()
        shutil.copy2(REPO_ROOT / package / "pyproject.toml", context / package / "pyproject.toml")
        module = package.replace("-", "_")
        _copy_tree(REPO_ROOT / package / module, context / package / module)
        project = tomllib.loads((REPO_ROOT / package / "pyproject.toml").read_text())["project"]
        requirements += project["dependencies"]
    (context / "requirements.txt").write_text("\n".join(sorted(set(requirements))) + "\n")


STANDINS = [
    StandIn("python", "python"),
    StandIn("golang", "golang", _fill_golang),
    StandIn("nginx", "nginx"),
    StandIn("collector", "otel/opentelemetry-collector-contrib", _fill_collector),
    StandIn("clickhouse", "clickhouse/clickhouse-server", _fill_clickhouse, after=("python",)),
]


def repository(tag: str) -> str:
    """The tag's image repository (`python` of `python:3.11.16-slim`)."""
    return tag.rsplit(":", 1)[0]


def standin_for(tag: str) -> StandIn | None:
    return next((s for s in STANDINS if s.repository == repository(tag)), None)


# --------------------------------------------------------------------------------------------------
# Docker
# --------------------------------------------------------------------------------------------------
def image_label(tag: str) -> str | None:
    """None when the tag is absent; "" for an image that is not a stand-in; else the stand-in's folder."""
    out = run("docker", "image", "inspect", "--format", "{{json .Config.Labels}}", tag)
    if out.returncode != 0:
        return None
    labels = json.loads(out.stdout.strip() or "null") or {}
    return labels.get(LABEL, "")


def pullable(tag: str) -> bool:
    """Whether a registry answers for the tag (its manifest only: nothing is downloaded)."""
    try:
        return run("docker", "manifest", "inspect", tag, timeout=60).returncode == 0
    except subprocess.TimeoutExpired:
        return False


def apt_mirror() -> str:
    """The Debian mirror this machine's apt uses (a deb822 .sources file or sources.list)."""
    for path in [*sorted(Path("/etc/apt/sources.list.d").glob("*.sources")), Path("/etc/apt/sources.list")]:
        if path.is_file():
            for line in path.read_text().splitlines():
                words = line.split()
                if words[:1] == ["URIs:"] and len(words) > 1 and "security" not in words[1]:
                    return words[1]
                if words[:1] == ["deb"] and len(words) > 2 and "security" not in words[-2]:
                    return words[1] if not words[1].startswith("[") else words[2]
    return "http://deb.debian.org/debian"


def build_base(log: Callable[[str], None]) -> None:
    """Debian bookworm (minbase) with debootstrap, imported as BASE_TAG: the root of every stand-in."""
    if image_label(BASE_TAG) is not None:
        return
    if shutil.which("debootstrap") is None:
        raise StandInError("the stand-ins' base is made with debootstrap: apt-get install debootstrap")
    if os.geteuid() != 0:
        raise StandInError("debootstrap needs root: run `just docker-standins` as root")
    mirror = apt_mirror()
    log(f"standins: debootstrap bookworm from {mirror} (about a minute)")
    CACHE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        root = Path(tmp) / "rootfs"
        out = run("debootstrap", "--variant=minbase", "bookworm", str(root), mirror)
        if out.returncode != 0:
            raise StandInError(f"debootstrap failed: {(out.stderr or out.stdout).strip().splitlines()[-1:]}")
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for item in (root / leftover).glob("*"):
                if item.is_file():
                    item.unlink()
        certs = root / "usr/local/share/ca-certificates"
        certs.mkdir(parents=True, exist_ok=True)
        for cert in EXTRA_CAS.glob("*.crt"):
            shutil.copy2(cert, certs / cert.name)
        tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
        imported = subprocess.run(
            ["docker", "import", "--change", f"LABEL {LABEL}=debian", "--change", 'CMD ["bash"]', "-",
             BASE_TAG],
            stdin=tar.stdout, capture_output=True, text=True, check=False,
        )  # fmt: skip
        tar.wait()
        if imported.returncode != 0:
            raise StandInError(f"docker import failed: {imported.stderr.strip()}")
    log(f"standins: built {BASE_TAG}")


def build_standin(standin: StandIn, tag: str, tags: dict[str, str], log: Callable[[str], None]) -> None:
    folder = STANDINS_DIR / standin.folder
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        context = Path(tmp)
        for item in folder.iterdir():
            if item.name != "README.md":
                (shutil.copy2 if item.is_file() else _copy_tree)(item, context / item.name)
        standin.fill(context)
        cmd = ["docker", "build", "-q", "--label", f"{LABEL}={standin.folder}", "-t", tag]
        for repository in standin.after:
            cmd += ["--build-arg", f"BASE={tags[repository]}"]
        log(f"standins: building {tag} from local-stack/standins/{standin.folder}")
        out = run(*cmd, str(context), env={**os.environ, "DOCKER_BUILDKIT": "0"})
        if out.returncode != 0:
            raise StandInError(f"building {tag} failed:\n{out.stdout[-3000:]}{out.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack.standins", description=__doc__)
    parser.add_argument("-f", "--file", dest="files", action="append", type=Path,
                        help="compose files (default: docker-compose.yaml)")  # fmt: skip
    parser.add_argument("--env-file", type=Path, default=REPO_ROOT / ".env.example")
    parser.add_argument("--list", action="store_true", help="say what each tag needs, build nothing")
    args = parser.parse_args()

    def log(line: str) -> None:
        print(line, flush=True)

    try:
        compose = resolved_compose(args.files or [REPO_ROOT / "docker-compose.yaml"], args.env_file)
        needed = compose_tags(compose)
        plan: dict[str, StandIn] = {}
        missing: list[str] = []
        ui_only: list[str] = []
        for tag, services in needed.items():
            label = image_label(tag)
            standin = standin_for(tag)
            if label == "" or (label is None and pullable(tag)):
                log(f"standins: {tag}: {'present' if label == '' else 'pullable'}, nothing to build")
            elif standin is None:
                (ui_only if profile_only(compose, services, "ui") else missing).append(tag)
                log(f"standins: {tag}: absent, not pullable and no stand-in ({', '.join(services)})")
            else:
                plan[tag] = standin
                state = "a stand-in: rebuilt" if label else "absent and not pullable: a stand-in"
                log(f"standins: {tag}: {state} from local-stack/standins/{standin.folder}")
        if ui_only:
            log(
                f"standins: {len(ui_only)} tag(s) without a stand-in are for the `ui` profile only (HyperDX "
                "and MongoDB cannot be built here): `just up --headless` starts the stack without them"
            )
        if missing:
            raise StandInError(f"no stand-in for {', '.join(missing)}, which the headless stack needs")
        if args.list or not plan:
            return
        CACHE.mkdir(parents=True, exist_ok=True)
        build_base(log)
        tags = {repository(tag): tag for tag in needed}  # what a stand-in's BASE names, stand-in or real
        for tag, standin in sorted(plan.items(), key=lambda item: len(item[1].after)):
            build_standin(standin, tag, tags, log)
        log(f"standins: {len(plan)} stand-in(s) ready: {', '.join(sorted(plan))}")
    except StandInError as exc:
        print(f"standins: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
