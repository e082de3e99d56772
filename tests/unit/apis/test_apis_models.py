"""Round-trips of reference-shaped objects (reference §3.3, §3.5, §11, Appendix A) through the models."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from kubebind.apis import v1alpha2 as api

TEMPLATE_COWBOYS: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "APIServiceExportTemplate",
    "metadata": {"name": "cowboys"},
    "spec": {
        "scope": "Namespaced",
        "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
        "permissionClaims": [
            {
                "group": "",
                "resource": "secrets",
                "selector": {"labelSelector": {"matchLabels": {"app": "cowboy"}}},
            }
        ],
        "schemaUpdatePolicy": "Never",
    },
}

TEMPLATE_SHERIFFS: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "APIServiceExportTemplate",
    "metadata": {"name": "sheriffs"},
    "spec": {
        "scope": "Cluster",
        "resources": [{"group": "wildwest.dev", "resource": "sheriffs", "versions": ["v1alpha1"]}],
        "permissionClaims": [
            {
                "group": "",
                "resource": "secrets",
                "selector": {
                    "labelSelector": {"matchLabels": {"app": "sheriff"}},
                    "references": [
                        {
                            "group": "wildwest.dev",
                            "resource": "sheriffs",
                            "jsonPath": {
                                "name": "spec.secretRefs.#.name",
                                "namespace": "spec.secretRefs.#.namespace",
                            },
                        }
                    ],
                },
            }
        ],
        "schemaUpdatePolicy": "Never",
    },
}

COLLECTION: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "Collection",
    "metadata": {"name": "all"},
    "spec": {"templates": [{"name": "cowboys"}, {"name": "sheriffs"}]},
}

CLUSTER_BINDING: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "ClusterBinding",
    "metadata": {
        "name": "cluster",
        "namespace": "kube-bind-37p3oxx6sh4fd",
        "annotations": {
            "backend.kube-bind.io/identity": "0f6b2e4a-uid",
            "backend.kube-bind.io/author": "admin",
            "backend.kube-bind.io/cluster-pretty-name": "consumer",
        },
    },
    "spec": {
        "kubeconfigSecretRef": {"name": "kubeconfig", "key": "kubeconfig"},
        "providerPrettyName": "Backend",
    },
    "status": {
        "lastHeartbeatTime": "2026-01-01T00:00:00Z",
        "heartbeatInterval": "5m0s",
        "konnectorVersion": "v0.8.1",
        "consumerSecretRef": {"name": "kubeconfig-x7k2p", "namespace": "kube-bind"},
        "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
            {"type": "SecretValid", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
            {"type": "ValidVersion", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
        ],
    },
}

BINDING: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "APIServiceBinding",
    "metadata": {"name": "cowboys"},
    "spec": {
        "kubeconfigSecretRef": {"namespace": "kube-bind", "name": "kubeconfig-abcde", "key": "kubeconfig"}
    },
    "status": {
        "providerPrettyName": "Backend",
        "boundSchemas": [{"group": "wildwest.dev", "resource": "cowboys"}],
        "conditions": [
            {
                "type": "Ready",
                "status": "False",
                "severity": "Info",
                "reason": "Pending",
                "lastTransitionTime": "2026-01-01T00:00:00Z",
            }
        ],
    },
}

EXPORT: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "APIServiceExport",
    "metadata": {
        "name": "cowboys",
        "namespace": "kube-bind-37p3oxx6sh4fd",
        "annotations": {"kube-bind.io/source-spec-hash": "ab" * 32},
    },
    "spec": {
        "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
        "permissionClaims": TEMPLATE_COWBOYS["spec"]["permissionClaims"],
        "informerScope": "Namespaced",
        "isolation": "Prefixed",
    },
}

BOUND_SCHEMA: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "BoundSchema",
    "metadata": {"name": "cowboys.wildwest.dev", "namespace": "kube-bind-37p3oxx6sh4fd"},
    "spec": {
        "informerScope": "Namespaced",
        "group": "wildwest.dev",
        "names": {"plural": "cowboys", "singular": "cowboy", "kind": "Cowboy", "listKind": "CowboyList"},
        "scope": "Namespaced",
        "versions": [
            {
                "name": "v1alpha1",
                "served": True,
                "storage": True,
                "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": {"type": "object"}}}},
                "subresources": {"status": {}},
            }
        ],
    },
}

NAMESPACE: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "APIServiceNamespace",
    "metadata": {
        "name": "wild-west",
        "namespace": "kube-bind-37p3oxx6sh4fd",
        "labels": {"kube-bind.io/owner": "provider"},
    },
    "spec": {},
    "status": {"namespace": "kube-bind-37p3oxx6sh4fd-wild-west"},
}

CLUSTER: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "Cluster",
    "metadata": {"name": "default"},
    "spec": {},
}

REQUEST: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "APIServiceExportRequest",
    "metadata": {"name": "cowboys", "namespace": "kube-bind-37p3oxx6sh4fd"},
    "spec": {
        "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
        "schemaUpdatePolicy": "Never",
    },
    "status": {"phase": "Succeeded"},
}

BUNDLE: dict[str, Any] = {
    "apiVersion": "kube-bind.io/v1alpha2",
    "kind": "APIServiceBindingBundle",
    "metadata": {"name": "provider"},
    "spec": {
        "kubeconfigSecretRef": {"namespace": "kube-bind", "name": "kubeconfig-provider", "key": "kubeconfig"}
    },
}

ROUND_TRIP_CASES: list[tuple[type[api.KubeObject], dict[str, Any]]] = [
    (api.APIServiceExportTemplate, TEMPLATE_COWBOYS),
    (api.APIServiceExportTemplate, TEMPLATE_SHERIFFS),
    (api.Collection, COLLECTION),
    (api.ClusterBinding, CLUSTER_BINDING),
    (api.APIServiceBinding, BINDING),
    (api.APIServiceExport, EXPORT),
    (api.BoundSchema, BOUND_SCHEMA),
    (api.APIServiceNamespace, NAMESPACE),
    (api.Cluster, CLUSTER),
    (api.APIServiceExportRequest, REQUEST),
    (api.APIServiceBindingBundle, BUNDLE),
]


@pytest.mark.parametrize(("model", "obj"), ROUND_TRIP_CASES, ids=lambda x: getattr(x, "__name__", ""))
def test_round_trip_is_lossless(model: type[api.KubeObject], obj: dict[str, Any]) -> None:
    parsed = model.model_validate(obj)
    assert api.to_dict(parsed) == obj
    assert api.unknown_fields(parsed) == []
    # and through JSON text, as a client would receive it
    assert api.to_dict(model.model_validate_json(json.dumps(obj))) == obj


def test_snake_case_construction_serialises_camel_case() -> None:
    binding = api.APIServiceBinding(
        metadata=api.ObjectMeta(name="cowboys"),
        spec=api.APIServiceBindingSpec(
            kubeconfig_secret_ref=api.ClusterSecretKeyRef(
                namespace="kube-bind", name="kubeconfig-abcde", key="kubeconfig"
            )
        ),
    )
    out = api.to_dict(binding)
    assert out == {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceBinding",
        "metadata": {"name": "cowboys"},
        "spec": {
            "kubeconfigSecretRef": {"name": "kubeconfig-abcde", "key": "kubeconfig", "namespace": "kube-bind"}
        },
    }


def test_kind_and_api_version_filled_when_missing() -> None:
    tpl = api.APIServiceExportTemplate.model_validate(
        {"metadata": {"name": "x"}, "spec": TEMPLATE_COWBOYS["spec"]}
    )
    assert tpl.kind == "APIServiceExportTemplate"
    assert tpl.api_version == "kube-bind.io/v1alpha2"


def test_unknown_fields_are_kept_and_reported() -> None:
    obj = json.loads(json.dumps(TEMPLATE_SHERIFFS))
    obj["spec"]["bogus"] = 1
    obj["spec"]["permissionClaims"][0]["selector"]["references"][0]["extra"] = "x"
    obj["topLevel"] = True
    tpl = api.APIServiceExportTemplate.model_validate(obj)
    assert sorted(api.unknown_fields(tpl)) == [
        "spec.bogus",
        "spec.permissionClaims[0].selector.references[0].extra",
        "topLevel",
    ]
    assert api.to_dict(tpl) == obj


def test_raw_passthrough_not_reported_and_nulls_kept() -> None:
    obj = json.loads(json.dumps(REQUEST))
    obj["spec"]["parameters"] = {"anything": {"goes": None}}
    req = api.APIServiceExportRequest.model_validate(obj)
    assert api.unknown_fields(req) == []
    assert api.to_dict(req)["spec"]["parameters"] == {"anything": {"goes": None}}


def test_request_status_defaults_to_pending() -> None:
    req = api.APIServiceExportRequest.model_validate({"metadata": {"name": "r"}, "spec": REQUEST["spec"]})
    assert req.status.phase == "Pending"
    assert api.to_dict(req)["status"] == {"phase": "Pending"}


def test_time_parsing_and_formatting() -> None:
    cb = api.ClusterBinding.model_validate(CLUSTER_BINDING)
    assert cb.status is not None
    assert cb.status.last_heartbeat_time == datetime(2026, 1, 1, tzinfo=UTC)
    cb.status.last_heartbeat_time = datetime(2026, 3, 4, 5, 6, 7, 890000, tzinfo=UTC)
    assert api.to_dict(cb)["status"]["lastHeartbeatTime"] == "2026-03-04T05:06:07Z"
    assert api.parse_time("2026-01-01T01:00:00+01:00") == datetime(2026, 1, 1, tzinfo=UTC)


def test_bind_request_body_from_go_cli_is_accepted() -> None:
    # The Go CLI marshals its struct as-is: no apiVersion/kind, creationTimestamp null, status {}.
    body = {
        "metadata": {"name": "cowboys", "creationTimestamp": None},
        "spec": {"templateRef": {"name": "cowboys"}, "clusterIdentity": {"identity": "uid-1"}, "author": ""},
        "status": {},
    }
    req = api.BindableResourcesRequest.model_validate(body)
    assert req.spec.template_ref.name == "cowboys"
    assert req.spec.cluster_identity.identity == "uid-1"
    assert req.metadata.creation_timestamp is None
    assert api.unknown_fields(req) == []


def test_binding_response_wire_shape() -> None:
    kubeconfig = b"apiVersion: v1\nkind: Config\n"
    request = api.APIServiceExportRequestResponse(
        metadata=api.NameObjectMeta(name="cowboys"),
        spec=api.APIServiceExportRequestSpec.model_validate(
            {
                "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
                "permissionClaims": [],
                "namespaces": [],
            }
        ),
    )
    resp = api.BindingResponse(
        authentication=api.BindingResponseAuthentication(
            oauth2_code_grant=api.BindingResponseAuthenticationOAuth2CodeGrant(
                sid="s1", id="https://issuer/sub"
            )
        ),
        kubeconfig=kubeconfig,
        requests=[request.to_raw()],
        provider_namespace="kube-bind-37p3oxx6sh4fd",
    )
    assert api.to_dict(resp) == {
        "kind": "BindingResponse",
        "apiVersion": "kube-bind.io/v1alpha2",
        "authentication": {"oauth2CodeGrant": {"sid": "s1", "id": "https://issuer/sub"}},
        "kubeconfig": base64.b64encode(kubeconfig).decode(),
        "requests": [
            {
                "kind": "APIServiceExportRequest",
                "apiVersion": "kube-bind.io/v1alpha2",
                "metadata": {"name": "cowboys"},
                "spec": {
                    "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
                    "permissionClaims": [],
                    "namespaces": [],
                    "schemaUpdatePolicy": "Never",
                },
                "status": {},
            }
        ],
        "providerNamespace": "kube-bind-37p3oxx6sh4fd",
    }
    parsed = api.BindingResponse.model_validate_json(json.dumps(api.to_dict(resp)))
    assert parsed.kubeconfig == kubeconfig
    assert parsed.authentication is not None and parsed.authentication.oauth2_code_grant is not None
    assert parsed.authentication.oauth2_code_grant.sid == "s1"


def test_binding_response_rejects_bad_base64() -> None:
    with pytest.raises(ValueError, match="base64"):
        api.BindingResponse.model_validate({"kubeconfig": "not base64!"})


def test_binding_provider_wire_shape() -> None:
    doc = {
        "kind": "BindingProvider",
        "apiVersion": "v1alpha2",
        "providerPrettyName": "backend",
        "version": "v0.8.1",
        "authenticationMethods": [
            {
                "method": "OAuth2CodeGrant",
                "oauth2CodeGrant": {"authenticatedURL": "http://h/api/authorize?x=1"},
            }
        ],
    }
    provider = api.BindingProvider.model_validate(doc)
    assert provider.authentication_methods[0].oauth2_code_grant is not None
    assert (
        provider.authentication_methods[0].oauth2_code_grant.authenticated_url == "http://h/api/authorize?x=1"
    )
    assert api.to_dict(provider) == doc
    built = api.BindingProvider(
        provider_pretty_name="backend",
        version="v0.8.1",
        authentication_methods=[
            api.AuthenticationMethod(
                oauth2_code_grant=api.OAuth2CodeGrant(authenticatedURL="http://h/api/authorize?x=1")
            )
        ],
    )
    assert api.to_dict(built) == doc


def test_error_body() -> None:
    err = api.Error(message="nope", code=api.ErrorCode.AUTHORIZATION_FAILED)
    assert api.to_dict(err) == {
        "kind": "Error",
        "apiVersion": "kube-bind.io/v1alpha2",
        "message": "nope",
        "code": "AUTHORIZATION_FAILED",
    }
    assert {c.value for c in api.ErrorCode} == {
        "AUTHENTICATION_FAILED",
        "AUTHORIZATION_FAILED",
        "RESOURCE_NOT_FOUND",
        "INTERNAL_ERROR",
        "BAD_REQUEST",
        "CLUSTER_CONNECTION_FAILED",
    }


def test_object_meta_passthrough_fields() -> None:
    meta = {
        "name": "x",
        "generateName": "x-",
        "namespace": "ns",
        "uid": "u",
        "resourceVersion": "12",
        "generation": 3,
        "creationTimestamp": "2026-01-01T00:00:00Z",
        "deletionTimestamp": "2026-01-02T00:00:00Z",
        "deletionGracePeriodSeconds": 0,
        "labels": {"a": "b"},
        "annotations": {"c": "d"},
        "finalizers": ["kubebind.io/syncer"],
        "ownerReferences": [
            {
                "apiVersion": "v1",
                "kind": "Namespace",
                "name": "n",
                "uid": "u2",
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ],
        "managedFields": [
            {
                "manager": "kube-bind.io",
                "operation": "Apply",
                "apiVersion": "wildwest.dev/v1alpha1",
                "time": "2026-01-01T00:00:00Z",
                "fieldsType": "FieldsV1",
                "fieldsV1": {"f:spec": {"f:intent": {}}},
            }
        ],
    }
    parsed = api.ObjectMeta.model_validate(meta)
    assert api.to_dict(parsed) == meta


def test_list_model() -> None:
    lst = api.ObjectList[api.Collection].model_validate(
        {
            "kind": "CollectionList",
            "metadata": {"resourceVersion": "5", "continue": "tok"},
            "items": [COLLECTION],
        }
    )
    assert lst.metadata.continue_ == "tok"
    assert isinstance(lst.items[0], api.Collection)
    assert api.to_dict(lst)["metadata"] == {"resourceVersion": "5", "continue": "tok"}


def test_resource_group_name_and_str() -> None:
    core = api.APIServiceExportResource(resource="secrets")
    assert core.resource_group_name() == "secrets.core"
    assert str(core) == "secrets"
    assert str(api.GroupResource(group="wildwest.dev", resource="cowboys")) == "cowboys.wildwest.dev"
