"""Derived names (reference §4.1, §5.5, §5.6): expected values are computed independently here."""

from __future__ import annotations

import hashlib
import string

import pytest

from kubebind.apis import naming

ALPHABET = string.digits + string.ascii_uppercase  # Go base36 digits, lower-cased afterwards


def reference_base36(data: bytes) -> str:
    """Independent base36: long division over the byte array (like the Go library), not int()."""
    digits: list[int] = []
    for byte in data:
        carry = byte
        for i in range(len(digits)):
            carry += digits[i] << 8
            digits[i] = carry % 36
            carry //= 36
        while carry:
            digits.append(carry % 36)
            carry //= 36
    leading_zeros = 0
    for byte in data:
        if byte:
            break
        leading_zeros += 1
    text = "0" * leading_zeros + "".join(ALPHABET[d] for d in reversed(digits))
    return text.lower()


def test_reference_example() -> None:
    assert naming.cluster_namespace_name("test-id-123") == "kube-bind-37p3oxx6sh4fd"
    assert naming.cluster_namespace_name("test-id-123", prefix="cluster-") == "cluster-37p3oxx6sh4fd"


@pytest.mark.parametrize("identity", ["test-id-123", "0f6b2e4a-3c1d-4e5f-8a9b-0c1d2e3f4a5b", "x", "ünïcode"])
def test_hash_matches_independent_computation(identity: str) -> None:
    digest = hashlib.sha224(identity.encode()).digest()[:8]
    assert naming.cluster_namespace_hash(identity) == reference_base36(digest)


def test_leading_zero_bytes_each_become_a_zero_digit() -> None:
    identity = next(f"id-{i}" for i in range(100000) if hashlib.sha224(f"id-{i}".encode()).digest()[0] == 0)
    value = naming.cluster_namespace_hash(identity)
    assert value.startswith("0")
    assert value == reference_base36(hashlib.sha224(identity.encode()).digest()[:8])
    assert naming.base36_encode_bytes(b"\x00\x00\x01") == "001"
    assert naming.base36_encode_bytes(b"\x00\x00") == "00"
    assert naming.base36_encode_bytes(b"\x01\x00") == "74"  # 256 = 7*36 + 4


def test_namespace_name_is_a_valid_label() -> None:
    name = naming.cluster_namespace_name("some-uid")
    assert len(name) <= 63
    assert name == name.lower()


def test_resource_and_bound_schema_names() -> None:
    assert naming.resource_group_name("cowboys", "wildwest.dev") == "cowboys.wildwest.dev"
    assert naming.resource_group_name("secrets", "") == "secrets.core"
    assert naming.bound_schema_name("cowboys", "wildwest.dev") == "cowboys.wildwest.dev"
    assert naming.crd_name("cowboys", "wildwest.dev") == "cowboys.wildwest.dev"


def test_provider_namespace_names() -> None:
    assert naming.provider_namespace_name("kube-bind-abc", "wild-west") == "kube-bind-abc-wild-west"
    assert naming.provider_namespace_name("kube-bind-abc", "wild-west", shared=True) == "wild-west"
    assert naming.api_service_namespace_annotation("kube-bind-abc", "wild-west") == "kube-bind-abc/wild-west"


def test_prefixed_names_round_trip() -> None:
    assert naming.prefixed_name("kube-bind-abc", "wyatt-earp") == "kube-bind-abc-wyatt-earp"
    assert naming.unprefixed_name("kube-bind-abc", "kube-bind-abc-wyatt-earp") == "wyatt-earp"
    assert naming.unprefixed_name("kube-bind-abc", "other-wyatt-earp") is None
    assert naming.unprefixed_name("kube-bind-abc", "kube-bind-abc-") is None
