"""The real OpenTelemetry Collector, built from source with the OpenTelemetry Collector Builder (ocb).

`config/otelcol-builder.yaml` lists the components; the binary lands in `.cache/otelcol/<manifest hash>/`
(ignored by git), so a second build of the same manifest is a no-op and a changed manifest builds anew.
ocb itself is installed into `.cache/otelcol/ocb-<version>/`. Go's module and build caches stay where Go keeps
them (outside the repository). `python -m local_stack.real_collector.build` builds and prints the binary's
path.
"""

from __future__ import annotations

import argparse
import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from ..paths import CONFIG_DIR, REPO_ROOT

MANIFEST = CONFIG_DIR / "otelcol-builder.yaml"
CACHE_DIR = REPO_ROOT / ".cache" / "otelcol"
OCB_VERSION = "v0.159.0"
OCB_MODULE = "go.opentelemetry.io/collector/cmd/builder"
DIST_NAME = "otelcol-clickai"
# Go's fallback location when `go` is not on PATH (the official tarball's install path).
GO_FALLBACKS = (Path("/usr/local/go/bin/go"),)
# The Go module proxy serves some opentelemetry-collector-contrib modules whose checksums the checksum
# database (reached through the same proxy) does not answer for: their hashes go to the build's go.sum
# unverified.
NOSUMDB = "github.com/open-telemetry/opentelemetry-collector-contrib"


class GoMissing(RuntimeError):
    """No Go toolchain: the real collector cannot be built on this machine."""


def manifest_key(manifest: Path = MANIFEST) -> str:
    return hashlib.sha256(manifest.read_bytes()).hexdigest()[:16]


def build_dir(manifest: Path = MANIFEST) -> Path:
    return CACHE_DIR / manifest_key(manifest)


def binary_path(manifest: Path = MANIFEST) -> Path:
    return build_dir(manifest) / "src" / DIST_NAME


def find_go() -> Path:
    found = shutil.which("go")
    if found:
        return Path(found)
    for candidate in GO_FALLBACKS:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    raise GoMissing("no Go toolchain (`go` is not on PATH nor at /usr/local/go/bin/go)")


def go_env(go: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = f"{go.parent}{os.pathsep}{env.get('PATH', '')}"
    env["GONOSUMDB"] = ",".join(filter(None, (env.get("GONOSUMDB"), NOSUMDB)))
    env.setdefault("CGO_ENABLED", "0")
    return env


def with_output_path(manifest_text: str, output: Path) -> str:
    """The manifest with `dist.output_path` set (ocb has no flag for it)."""
    lines = manifest_text.splitlines()
    at = lines.index("dist:")
    return "\n".join([*lines[: at + 1], f"  output_path: {output}", *lines[at + 1 :]]) + "\n"


def install_ocb(go: Path, log) -> Path:
    ocb_dir = CACHE_DIR / f"ocb-{OCB_VERSION}"
    ocb = ocb_dir / "builder"
    if not ocb.is_file():
        ocb_dir.mkdir(parents=True, exist_ok=True)
        log(f"otelcol: installing ocb {OCB_VERSION} into {ocb_dir}")
        env = go_env(go) | {"GOBIN": str(ocb_dir)}
        subprocess.run([str(go), "install", f"{OCB_MODULE}@{OCB_VERSION}"], env=env, check=True)
    return ocb


def build(manifest: Path = MANIFEST, log=print) -> Path:
    """The collector binary for `manifest`, built first when it is not in the cache."""
    binary = binary_path(manifest)
    if binary.is_file():
        return binary
    go = find_go()
    CACHE_DIR.mkdir(parents=True, exist_ok=True)
    with open(CACHE_DIR / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one build at a time (parallel test sessions)
        if binary.is_file():
            return binary
        ocb = install_ocb(go, log)
        final = build_dir(manifest)
        work = final.with_name(final.name + ".partial")
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        (work / "manifest.yaml").write_text(with_output_path(manifest.read_text(), final / "src"))
        log(f"otelcol: building {manifest.name} into {final} (the first build downloads modules: minutes)")
        started = time.monotonic()
        # ocb writes the sources to output_path; generate into the final place, and only then mark it complete
        shutil.rmtree(final, ignore_errors=True)
        final.mkdir(parents=True)
        subprocess.run(
            [str(ocb), "--config", str(work / "manifest.yaml")], env=go_env(go), cwd=work, check=True
        )
        if not binary.is_file():
            raise RuntimeError(f"ocb finished but {binary} is missing")
        (work / "manifest.yaml").rename(final / "manifest.yaml")
        work.rmdir()
        log(f"otelcol: built {binary} in {time.monotonic() - started:.0f} s")
    return binary


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m local_stack.real_collector.build", description=__doc__)
    parser.add_argument("--manifest", type=Path, default=MANIFEST)
    args = parser.parse_args()
    try:
        binary = build(args.manifest, log=lambda line: print(line, file=sys.stderr, flush=True))
    except GoMissing as exc:
        print(f"otelcol: {exc}; install Go (https://go.dev/dl/) to build the real collector", file=sys.stderr)
        sys.exit(3)
    except subprocess.CalledProcessError as exc:
        print(
            f"otelcol: build failed: {' '.join(map(str, exc.cmd))} exited {exc.returncode}", file=sys.stderr
        )
        sys.exit(1)
    print(binary)


if __name__ == "__main__":
    main()
