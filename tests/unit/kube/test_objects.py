"""kubebind.kube.objects.deep_copy: independent copies of JSON data."""

from __future__ import annotations

from typing import Any

from kubebind.kube.objects import deep_copy


def test_deep_copy_is_equal_and_independent() -> None:
    obj: dict[str, Any] = {
        "metadata": {"name": "a", "labels": {"x": "1"}},
        "spec": {"items": [1, 2.5, True, None, {"k": "v"}]},
    }
    copied = deep_copy(obj)
    assert copied == obj
    copied["metadata"]["labels"]["x"] = "2"
    copied["spec"]["items"][4]["k"] = "w"
    assert obj["metadata"]["labels"] == {"x": "1"}
    assert obj["spec"]["items"][4] == {"k": "v"}


def test_deep_copy_falls_back_for_data_json_cannot_carry() -> None:
    obj = {"big": 2**70, 1: "non-string key"}
    copied = deep_copy(obj)
    assert copied == obj and copied is not obj
