"""``kubectl bind dev up|status|down`` end to end: real control planes, backend and konnector processes.

``dev up --bind cowboys`` must return with everything ready (Cowboys CRD and template exported
through the backend's aggregated API, the dev user logged in, the binding Ready through the local
konnector), be idempotent, and ``dev down`` must stop every process it recorded.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from tests.cli.conftest import RunCLI
from tests.harness import kubectl_binary, wait_for

pytestmark = pytest.mark.cluster


def _pids(status: dict) -> list[int]:  # type: ignore[type-arg]
    pids = [status["supervisorPid"], status["backend"]["pid"], status["etcdPid"]]
    for cluster in status["clusters"].values():
        pids += [cluster["kube-apiserver"], cluster["kube-controller-manager"]]
    return [int(p) for p in pids]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_dev_up_status_down(run_cli: RunCLI, tmp_path: Path) -> None:
    workdir = tmp_path / "dev"
    env = {"KUBE_BIND_DEV_DIR": str(workdir)}
    pids: list[int] = []
    try:
        up = run_cli("dev", "up", "--bind", "cowboys", "--timeout", "240", env=env, timeout=300)
        assert up.returncode == 0, up.stderr + up.stdout
        assert "kube-bind dev environment is ready" in up.stdout
        assert "APIServiceExportTemplate/cowboys" in up.stdout
        assert "bound:            cowboys" in up.stdout
        status = run_cli("dev", "status", "-o", "json", env=env)
        assert status.returncode == 0, status.stderr
        state = json.loads(status.stdout)
        pids = [*_pids(state), int(state["konnector"]["pid"])]
        assert all(_alive(p) for p in pids)
        provider_kubeconfig = state["clusters"]["provider"]["kubeconfig"]
        got = subprocess.run(
            [
                kubectl_binary(),
                f"--kubeconfig={provider_kubeconfig}",
                "get",
                "apiserviceexporttemplates",
                "-o",
                "name",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert got.stdout.split() == ["apiserviceexporttemplate.kube-bind.io/cowboys"], got.stderr
        crd = subprocess.run(
            [
                kubectl_binary(),
                f"--kubeconfig={provider_kubeconfig}",
                "get",
                "crd",
                "cowboys.wildwest.dev",
                "-o",
                "jsonpath={.metadata.labels.kube-bind\\.io/exported}",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert crd.stdout == "true"
        consumer_kubeconfig = state["clusters"]["consumer"]["kubeconfig"]
        ready = subprocess.run(
            [
                kubectl_binary(),
                f"--kubeconfig={consumer_kubeconfig}",
                "wait",
                "--for=condition=Ready",
                "apiservicebinding/cowboys",
                "--timeout=60s",
            ],
            capture_output=True,
            text=True,
            timeout=90,
        )
        assert ready.returncode == 0, ready.stderr
        # dev up --bind also left a login behind: the catalog is readable right away.
        templates = run_cli("templates", "-o", "json", env=env)
        assert templates.returncode == 0, templates.stderr
        assert [t["metadata"]["name"] for t in json.loads(templates.stdout)["items"]] == ["cowboys"]
        # Supervision: a crashed konnector is restarted and the new PID recorded.
        old_konnector = int(state["konnector"]["pid"])
        os.killpg(old_konnector, signal.SIGKILL)

        def restarted() -> int:
            current = json.loads(run_cli("dev", "status", "-o", "json", env=env).stdout)
            pid = int(current["konnector"]["pid"])
            return pid if pid != old_konnector and _alive(pid) else 0

        new_konnector = wait_for(restarted, timeout=30, interval=0.5, what="the konnector restarted")
        pids.append(new_konnector)
        again = run_cli("dev", "up", env=env)
        assert again.returncode == 0 and "already running" in again.stderr

        down = run_cli("dev", "down", env=env, timeout=120)
        assert down.returncode == 0, down.stderr
        assert "leftover" not in down.stderr, "the supervisor must stop its children itself"
        assert not [p for p in pids if _alive(p)]
        after = run_cli("dev", "status", env=env)
        assert after.returncode == 1 and "no dev environment running" in after.stderr
    finally:
        for pid in pids:
            if _alive(pid):
                os.killpg(pid, signal.SIGKILL)


def test_dev_down_without_environment_is_harmless(run_cli: RunCLI, tmp_path: Path) -> None:
    proc = run_cli("dev", "down", "--workdir", str(tmp_path / "nothing"))
    assert proc.returncode == 0 and "no dev environment recorded" in proc.stderr
