"""Status-subresource semantics of create/update (as a CRD-backed apiserver applies them)."""

from __future__ import annotations

import copy
from typing import Any

from kubebind.apis import strategy, validation

NS = "kube-bind-abc"


def req() -> dict[str, Any]:
    return {
        "metadata": {"name": "r", "namespace": NS},
        "spec": {"resources": [{"group": "wildwest.dev", "resource": "cowboys"}]},
        "status": {"phase": "Succeeded", "terminalMessage": "client-set"},
    }


def test_create_drops_client_status_then_defaults_add_pending() -> None:
    obj = strategy.prepare_for_create("APIServiceExportRequest", req())
    assert "status" not in obj
    assert obj["metadata"]["generation"] == 1
    validation.apply_defaults("APIServiceExportRequest", obj)
    assert obj["status"] == {"phase": "Pending"}


def test_update_keeps_old_status_and_bumps_generation_on_spec_change() -> None:
    old = req()
    old["metadata"]["generation"] = 3
    new = copy.deepcopy(old)
    new["status"] = {"phase": "Failed"}
    new["metadata"]["labels"] = {"a": "b"}
    out = strategy.prepare_for_update("APIServiceExportRequest", new, old)
    assert out["status"] == old["status"]
    assert out["metadata"]["generation"] == 3  # metadata/status only: no bump
    new2 = copy.deepcopy(old)
    new2["spec"]["schemaUpdatePolicy"] = "Always"
    assert strategy.prepare_for_update("APIServiceExportRequest", new2, old)["metadata"]["generation"] == 4


def test_update_without_old_status_removes_new_status() -> None:
    old = req()
    del old["status"]
    new = req()
    assert "status" not in strategy.prepare_for_update("ClusterBinding", new, old)


def test_status_update_takes_only_status() -> None:
    old = req()
    old["metadata"]["generation"] = 2
    new = copy.deepcopy(old)
    new["spec"]["resources"] = []
    new["metadata"]["labels"] = {"sneaky": "yes"}
    new["metadata"]["managedFields"] = [{"manager": "konnector"}]
    new["status"] = {"phase": "Failed", "terminalMessage": "bad"}
    out = strategy.prepare_for_status_update("APIServiceExportRequest", new, old)
    assert out["spec"] == old["spec"]
    assert "labels" not in out["metadata"]
    assert out["status"] == {"phase": "Failed", "terminalMessage": "bad"}
    assert out["metadata"]["managedFields"] == [{"manager": "konnector"}]
    assert old["status"]["phase"] == "Succeeded"  # input untouched


def test_spec_changed() -> None:
    a = req()
    b = copy.deepcopy(a)
    b["metadata"]["annotations"] = {"x": "y"}
    b["status"] = {}
    assert not strategy.spec_changed(b, a)
    b["spec"]["permissionClaims"] = []
    assert strategy.spec_changed(b, a)
