"""Cluster-API condition semantics (reference §2.1) on dicts and models, with a pinned clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from kubebind.apis import conditions, constants
from kubebind.apis import v1alpha2 as api


class FakeClock:
    def __init__(self) -> None:
        self.now = datetime(2026, 1, 1, 12, 0, 0, 750000, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def step(self, seconds: int = 60) -> None:
        self.now += timedelta(seconds=seconds)


def _obj() -> dict[str, Any]:
    return {"metadata": {"name": "x"}}


def _types(obj: dict[str, Any]) -> list[str]:
    return [c["type"] for c in obj["status"]["conditions"]]


def test_set_creates_status_and_truncates_time_to_seconds() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_true(obj, "SecretValid", clock=clock)
    assert obj["status"]["conditions"] == [
        {"type": "SecretValid", "status": "True", "lastTransitionTime": "2026-01-01T12:00:00Z"}
    ]


def test_set_keeps_time_when_state_unchanged() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_false(obj, "Connected", "X", "Error", "boom", clock=clock)
    clock.step()
    conditions.mark_false(obj, "Connected", "X", "Error", "boom", clock=clock)
    assert obj["status"]["conditions"][0]["lastTransitionTime"] == "2026-01-01T12:00:00Z"


@pytest.mark.parametrize(
    ("reason", "severity", "message"),
    [("Y", "Error", "boom"), ("X", "Warning", "boom"), ("X", "Error", "other")],
)
def test_set_moves_time_when_reason_severity_or_message_change(
    reason: str, severity: str, message: str
) -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_false(obj, "Connected", "X", "Error", "boom", clock=clock)
    clock.step()
    conditions.mark_false(obj, "Connected", reason, severity, message, clock=clock)
    cond = obj["status"]["conditions"][0]
    assert cond["lastTransitionTime"] == "2026-01-01T12:01:00Z"
    assert (cond["reason"], cond["severity"], cond["message"]) == (reason, severity, message)


def test_set_moves_time_when_status_changes() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_false(obj, "Connected", "X", "Error", clock=clock)
    clock.step(5)
    conditions.mark_true(obj, "Connected", clock=clock)
    assert obj["status"]["conditions"] == [
        {"type": "Connected", "status": "True", "lastTransitionTime": "2026-01-01T12:00:05Z"}
    ]


def test_sorted_ready_first_then_by_type() -> None:
    clock = FakeClock()
    obj = _obj()
    for ctype in ("SchemaInSync", "Connected", "Ready", "Heartbeating"):
        conditions.mark_true(obj, ctype, clock=clock)
    assert _types(obj) == ["Ready", "Connected", "Heartbeating", "SchemaInSync"]


def test_summary_error_beats_warning_and_info() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_false(obj, "A", "InfoReason", "Info", "i", clock=clock)
    conditions.mark_false(obj, "B", "WarnReason", "Warning", "w", clock=clock)
    conditions.mark_false(obj, "C", "ErrReason", "Error", "e", clock=clock)
    conditions.mark_true(obj, "D", clock=clock)
    conditions.set_summary(obj, clock=clock)
    ready = conditions.get(obj, "Ready")
    assert ready is not None
    assert (ready.status, ready.severity, ready.reason, ready.message) == ("False", "Error", "ErrReason", "e")


def test_summary_warning_beats_info_and_type_order_breaks_ties() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_false(obj, "Z", "Z", "Warning", "z", clock=clock)
    conditions.mark_false(obj, "A", "InfoReason", "Info", "i", clock=clock)
    conditions.mark_false(obj, "M", "M", "Warning", "m", clock=clock)
    conditions.set_summary(obj, clock=clock)
    assert conditions.get_reason(obj, "Ready") == "M"
    assert conditions.get_severity(obj, "Ready") == "Warning"
    assert conditions.get_message(obj, "Ready") == "m"


def test_summary_all_true_is_true() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_true(obj, "A", clock=clock)
    conditions.mark_true(obj, "B", clock=clock)
    conditions.set_summary(obj, clock=clock)
    assert conditions.is_true(obj, "Ready")
    assert obj["status"]["conditions"][0] == {
        "type": "Ready",
        "status": "True",
        "lastTransitionTime": "2026-01-01T12:00:00Z",
    }


def test_summary_waits_for_required_conditions() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_true(obj, constants.CONDITION_SECRET_VALID, clock=clock)
    conditions.set_summary(obj, clock=clock, required=constants.BINDING_READY_REQUIRES)
    assert conditions.is_false(obj, "Ready")
    assert conditions.get_reason(obj, "Ready") == constants.REASON_PENDING
    assert conditions.get_message(obj, "Ready") == "waiting for Connected, SchemaInSync"
    conditions.mark_false(obj, constants.CONDITION_CONNECTED, "Down", "Error", "no provider", clock=clock)
    conditions.set_summary(obj, clock=clock, required=constants.BINDING_READY_REQUIRES)
    assert conditions.get_reason(obj, "Ready") == "Down", "a reported failure beats a missing condition"
    conditions.mark_true(obj, constants.CONDITION_CONNECTED, clock=clock)
    conditions.mark_true(obj, constants.CONDITION_SCHEMA_IN_SYNC, clock=clock)
    conditions.set_summary(obj, clock=clock, required=constants.BINDING_READY_REQUIRES)
    assert conditions.is_true(obj, "Ready")


def test_summary_unknown_when_not_all_true_and_none_false() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_true(obj, "A", clock=clock)
    conditions.mark_unknown(obj, "B", "Waiting", "still waiting", clock=clock)
    conditions.set_summary(obj, clock=clock)
    assert conditions.is_unknown(obj, "Ready")
    assert conditions.get_reason(obj, "Ready") == "Waiting"
    assert not conditions.is_true(obj, "Ready")
    assert not conditions.is_false(obj, "Ready")


def test_summary_without_other_conditions_leaves_ready_alone() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.set_summary(obj, clock=clock)
    assert "status" not in obj
    conditions.mark_false(obj, "Ready", "Pending", "Info", clock=clock)
    conditions.set_summary(obj, clock=clock)
    assert conditions.get_reason(obj, "Ready") == "Pending"


def test_summary_recomputed_keeps_time_if_same() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_true(obj, "A", clock=clock)
    conditions.set_summary(obj, clock=clock)
    clock.step()
    conditions.mark_true(obj, "A", clock=clock)
    conditions.set_summary(obj, clock=clock)
    assert all(c["lastTransitionTime"] == "2026-01-01T12:00:00Z" for c in obj["status"]["conditions"])


def test_getters_on_missing_condition() -> None:
    obj = _obj()
    assert conditions.get(obj, "Ready") is None
    assert not conditions.has(obj, "Ready")
    assert not conditions.is_true(obj, "Ready")
    assert not conditions.is_false(obj, "Ready")
    assert conditions.is_unknown(obj, "Ready")
    assert conditions.get_reason(obj, "Ready") == ""


def test_delete() -> None:
    clock = FakeClock()
    obj = _obj()
    conditions.mark_true(obj, "A", clock=clock)
    conditions.mark_true(obj, "B", clock=clock)
    conditions.delete(obj, "A")
    assert _types(obj) == ["B"]


def test_works_on_models() -> None:
    clock = FakeClock()
    binding = api.APIServiceBinding(
        metadata=api.ObjectMeta(name="b"),
        spec=api.APIServiceBindingSpec(
            kubeconfig_secret_ref=api.ClusterSecretKeyRef(name="s", key="kubeconfig", namespace="kube-bind")
        ),
    )
    assert binding.status is None
    conditions.mark_true(binding, constants.CONDITION_SECRET_VALID, clock=clock)
    conditions.mark_false(
        binding,
        constants.CONDITION_CONNECTED,
        constants.REASON_API_SERVICE_EXPORT_NOT_FOUND,
        "Error",
        "gone",
        clock=clock,
    )
    conditions.set_summary(binding, clock=clock)
    assert binding.status is not None
    assert binding.status.conditions is not None
    assert [c.type for c in binding.status.conditions] == ["Ready", "Connected", "SecretValid"]
    assert all(isinstance(c, api.Condition) for c in binding.status.conditions)
    assert conditions.is_false(binding, "Ready")
    assert conditions.get_reason(binding, "Ready") == "APIServiceExportNotFound"
    assert api.to_dict(binding)["status"]["conditions"][0] == {
        "type": "Ready",
        "status": "False",
        "severity": "Error",
        "reason": "APIServiceExportNotFound",
        "message": "gone",
        "lastTransitionTime": "2026-01-01T12:00:00Z",
    }


def test_bindable_resources_request_uses_meta_conditions() -> None:
    clock = FakeClock()
    brr = api.BindableResourcesRequest.model_validate(
        {
            "metadata": {"name": "r"},
            "spec": {"templateRef": {"name": "t"}, "clusterIdentity": {"identity": "i"}},
        }
    )
    conditions.set(
        brr,
        {"type": "Ready", "status": "True", "reason": constants.REASON_SECRET_READY, "message": "ok"},
        clock=clock,
    )
    assert brr.status is not None and brr.status.conditions is not None
    assert isinstance(brr.status.conditions[0], api.MetaCondition)
    assert conditions.is_true(brr, "Ready")


def test_empty_type_rejected() -> None:
    with pytest.raises(ValueError, match="type"):
        conditions.set(_obj(), {"type": "", "status": "True"})


def test_default_clock_is_utc_now() -> None:
    obj = _obj()
    before = datetime.now(UTC).replace(microsecond=0)
    conditions.mark_true(obj, "A")
    stamp = api.parse_time(obj["status"]["conditions"][0]["lastTransitionTime"])
    assert before <= stamp <= datetime.now(UTC)
