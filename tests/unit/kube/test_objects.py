"""kubebind.kube.objects.deep_copy: independent copies of JSON data."""

from __future__ import annotations

import uuid
from typing import Any

from kubebind.kube.objects import deep_copy, new_uid


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


def test_new_uid_is_a_random_uuid_and_never_repeats() -> None:
    uids = [new_uid() for _ in range(2000)]  # crosses several refills of the pool
    assert len(set(uids)) == 2000
    for u in uids[:300]:
        parsed = uuid.UUID(u)
        assert parsed.version == 4 and parsed.variant == uuid.RFC_4122 and str(parsed) == u
