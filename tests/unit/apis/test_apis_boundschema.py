"""BoundSchema <-> CRD conversion and the source-spec hash (reference §2.7, §5.3, §5.5, §6.5, §11)."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

from kubebind.apis import boundschema, constants, validation
from kubebind.apis import v1alpha2 as api

COWBOY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "spec": {
            "type": "object",
            "properties": {
                "intent": {"type": "string"},
                "secretRefs": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["name"],
                        "properties": {"name": {"type": "string"}},
                    },
                },
            },
        },
        "status": {"type": "object", "properties": {"result": {"type": "string"}}},
    },
}

CRD_COWBOYS: dict[str, Any] = {
    "apiVersion": "apiextensions.k8s.io/v1",
    "kind": "CustomResourceDefinition",
    "metadata": {
        "name": "cowboys.wildwest.dev",
        "labels": {"kube-bind.io/exported": "true"},
        "uid": "crd-uid",
        "resourceVersion": "42",
    },
    "spec": {
        "group": "wildwest.dev",
        "names": {"kind": "Cowboy", "listKind": "CowboyList", "plural": "cowboys", "singular": "cowboy"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": COWBOY_SCHEMA},
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Intent", "type": "string", "jsonPath": ".spec.intent"}
                ],
            }
        ],
        "conversion": {"strategy": "None"},
    },
    "status": {"acceptedNames": {"kind": "Cowboy", "plural": "cowboys"}},
}


def test_crd_to_bound_schema() -> None:
    bs = boundschema.crd_to_bound_schema(CRD_COWBOYS, namespace="kube-bind-abc", informer_scope="Namespaced")
    out = api.to_dict(bs)
    assert out["metadata"]["name"] == "cowboys.wildwest.dev"
    assert out["metadata"]["namespace"] == "kube-bind-abc"
    assert out["spec"] == {
        "informerScope": "Namespaced",
        "group": "wildwest.dev",
        "names": {"plural": "cowboys", "singular": "cowboy", "kind": "Cowboy", "listKind": "CowboyList"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": COWBOY_SCHEMA},
                "subresources": {"status": {}},
                "additionalPrinterColumns": [
                    {"name": "Intent", "type": "string", "jsonPath": ".spec.intent"}
                ],
            }
        ],
        "conversion": {"strategy": "None"},
    }
    assert out["metadata"]["annotations"] == {
        constants.ANNOTATION_SOURCE_SPEC_HASH: boundschema.spec_hash(bs.spec)
    }
    assert validation.validate_create("BoundSchema", validation.apply_defaults("BoundSchema", out)) == []


def test_namespaced_isolation_makes_consumer_scope_cluster() -> None:
    spec = boundschema.crd_to_bound_schema_spec(CRD_COWBOYS, informer_scope="Cluster", isolation="Namespaced")
    assert spec.scope == "Cluster"
    assert spec.informer_scope == "Cluster"
    for isolation in ("Prefixed", "None", None):
        assert boundschema.crd_to_bound_schema_spec(
            CRD_COWBOYS, informer_scope="Cluster", isolation=isolation
        ).scope == ("Namespaced")


def test_core_group_bound_schema_name() -> None:
    crd = copy.deepcopy(CRD_COWBOYS)
    crd["spec"]["group"] = ""
    bs = boundschema.crd_to_bound_schema(crd, namespace="n", informer_scope="Namespaced")
    assert bs.metadata.name == "cowboys.core"


def test_all_versions_copied() -> None:
    crd = copy.deepcopy(CRD_COWBOYS)
    v2 = copy.deepcopy(crd["spec"]["versions"][0])
    v2.update(name="v1beta1", storage=False, deprecated=True, deprecationWarning="old")
    crd["spec"]["versions"].append(v2)
    spec = boundschema.crd_to_bound_schema_spec(crd, informer_scope="Namespaced")
    assert [(v.name, v.storage, v.deprecated) for v in spec.versions] == [
        ("v1alpha1", True, None),
        ("v1beta1", False, True),
    ]


def test_webhook_conversion_copied_without_service() -> None:
    crd = copy.deepcopy(CRD_COWBOYS)
    crd["spec"]["conversion"] = {
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": {"url": "https://conv.example", "caBundle": "Q0E=", "service": {"name": "x"}},
            "conversionReviewVersions": ["v1"],
        },
    }
    spec = api.to_dict(boundschema.crd_to_bound_schema_spec(crd, informer_scope="Namespaced"))
    assert spec["conversion"] == {
        "strategy": "Webhook",
        "webhook": {
            "clientConfig": {"url": "https://conv.example", "caBundle": "Q0E="},
            "conversionReviewVersions": ["v1"],
        },
    }


def _bound(schema_raw: dict[str, Any] | None) -> dict[str, Any]:
    version: dict[str, Any] = {
        "name": "v1alpha1",
        "served": True,
        "storage": True,
        "subresources": {"status": {}},
    }
    if schema_raw is not None:
        version["schema"] = schema_raw
    return {
        "metadata": {"name": "cowboys.wildwest.dev", "namespace": "kube-bind-abc"},
        "spec": {
            "informerScope": "Namespaced",
            "group": "wildwest.dev",
            "names": {"plural": "cowboys", "singular": "cowboy", "kind": "Cowboy", "listKind": "CowboyList"},
            "scope": "Namespaced",
            "versions": [version],
            "conversion": {"strategy": "None"},
        },
    }


def test_bound_schema_to_crd_wrapped_schema() -> None:
    owner = boundschema.binding_owner_reference("cowboys", "binding-uid")
    crd = boundschema.bound_schema_to_crd(_bound({"openAPIV3Schema": COWBOY_SCHEMA}), owner=owner)
    assert crd == {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": "cowboys.wildwest.dev",
            "ownerReferences": [
                {
                    "apiVersion": "kube-bind.io/v1alpha2",
                    "kind": "APIServiceBinding",
                    "name": "cowboys",
                    "uid": "binding-uid",
                    "controller": True,
                }
            ],
        },
        "spec": {
            "group": "wildwest.dev",
            "names": {"plural": "cowboys", "singular": "cowboy", "kind": "Cowboy", "listKind": "CowboyList"},
            "scope": "Namespaced",
            "versions": [
                {
                    "name": "v1alpha1",
                    "served": True,
                    "storage": True,
                    "schema": {"openAPIV3Schema": COWBOY_SCHEMA},
                    "subresources": {"status": {}},
                }
            ],
            "conversion": {"strategy": "None"},
        },
    }


def test_bound_schema_to_crd_bare_schema_equals_wrapped() -> None:
    wrapped = boundschema.bound_schema_to_crd(_bound({"openAPIV3Schema": COWBOY_SCHEMA}))
    bare = boundschema.bound_schema_to_crd(_bound(COWBOY_SCHEMA))
    assert bare == wrapped
    # a model input gives the same result
    model = api.BoundSchema.model_validate(_bound(COWBOY_SCHEMA))
    assert boundschema.bound_schema_to_crd(model) == wrapped


def test_bound_schema_to_crd_missing_schema_preserves_unknown() -> None:
    crd = boundschema.bound_schema_to_crd(_bound(None))
    assert crd["spec"]["versions"][0]["schema"] == {
        "openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}
    }


def test_crd_round_trip_keeps_spec() -> None:
    spec = boundschema.crd_to_bound_schema_spec(CRD_COWBOYS, informer_scope="Namespaced")
    bs = api.BoundSchema(metadata=api.ObjectMeta(name="cowboys.wildwest.dev"), spec=spec)
    crd = boundschema.bound_schema_to_crd(bs)
    assert crd["spec"]["versions"] == CRD_COWBOYS["spec"]["versions"]
    assert crd["spec"]["names"] == CRD_COWBOYS["spec"]["names"]


def test_spec_hash_independent_computation() -> None:
    spec = boundschema.crd_to_bound_schema_spec(CRD_COWBOYS, informer_scope="Namespaced")
    canonical = (
        json.dumps(api.to_dict(spec), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
    )
    assert boundschema.spec_hash(spec) == hashlib.sha256(canonical.encode()).hexdigest()


def test_spec_hash_dict_model_and_defaults_agree() -> None:
    spec = boundschema.crd_to_bound_schema_spec(CRD_COWBOYS, informer_scope="Namespaced")
    as_dict = api.to_dict(spec)
    # reorder keys and drop a defaulted field: same schema, same hash
    shuffled = dict(reversed(list(as_dict.items())))
    del shuffled["versions"][0]["served"]
    assert boundschema.spec_hash(shuffled) == boundschema.spec_hash(spec)


def test_spec_hash_changes_with_content_and_order() -> None:
    a = boundschema.crd_to_bound_schema_spec(CRD_COWBOYS, informer_scope="Namespaced")
    crd = copy.deepcopy(CRD_COWBOYS)
    crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"]["properties"]["spec"]["properties"]["extra"] = {
        "type": "string"
    }
    b = boundschema.crd_to_bound_schema_spec(crd, informer_scope="Namespaced")
    assert boundschema.spec_hash(a) != boundschema.spec_hash(b)
    assert boundschema.spec_hash(a, b) != boundschema.spec_hash(b, a)
    canonical = "".join(
        json.dumps(api.to_dict(s), sort_keys=True, separators=(",", ":"), ensure_ascii=False) + "\n"
        for s in (a, b)
    )
    assert boundschema.spec_hash(a, b) == hashlib.sha256(canonical.encode()).hexdigest()


def test_first_served_version() -> None:
    obj = _bound(COWBOY_SCHEMA)
    obj["spec"]["versions"] = [
        {"name": "v1", "served": False},
        {"name": "v2", "served": True},
        {"name": "v3"},
    ]
    assert boundschema.first_served_version(obj) == "v2"
    obj["spec"]["versions"] = [{"name": "v1", "served": False}]
    assert boundschema.first_served_version(obj) is None


def test_version_schema_helper() -> None:
    assert boundschema.version_schema({"openAPIV3Schema": {"type": "object"}}) == {"type": "object"}
    assert boundschema.version_schema({"type": "string"}) == {"type": "string"}
