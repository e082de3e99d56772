"""Fixtures of the chart tests: the real Helm binary, built from Go modules (tools/helm)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from kubebind.localcluster import build, paths

CHARTS = paths.repo_root() / "charts"

Helm = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture(scope="session")
def helm_binary() -> Path:
    try:
        tool = build.build_tool(build.HELM)  # ~1 min once, cached under ~/.cache/kube-bind-py
    except build.BuildError as exc:
        pytest.fail(f"cannot build helm: {exc} (`python -m kubebind.localcluster.build helm`)", pytrace=False)
    return tool.binary("helm")


@pytest.fixture
def helm(helm_binary: Path, tmp_path: Path) -> Helm:
    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        env = {
            "HOME": str(tmp_path),
            "HELM_CACHE_HOME": str(tmp_path / "cache"),
            "HELM_CONFIG_HOME": str(tmp_path / "config"),
            "HELM_DATA_HOME": str(tmp_path / "data"),
            "PATH": "/usr/bin:/bin",
        }
        proc = subprocess.run([str(helm_binary), *args], capture_output=True, text=True, timeout=120, env=env)
        if check and proc.returncode != 0:
            raise AssertionError(f"helm {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run
