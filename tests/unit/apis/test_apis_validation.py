"""Validation and defaulting rules (reference §2.2-§2.13) with Kubernetes field-error types."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from kubebind.apis import validation
from kubebind.apis.validation import ErrorType, FieldError

NS = "kube-bind-37p3oxx6sh4fd"


def request(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
    }
    body.update(spec)
    return {"metadata": {"name": "cowboys", "namespace": NS}, "spec": body}


def template(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "scope": "Namespaced",
        "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
    }
    body.update(spec)
    return {"metadata": {"name": "cowboys"}, "spec": body}


def export(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
        "informerScope": "Namespaced",
        "isolation": "Prefixed",
    }
    body.update(spec)
    return {"metadata": {"name": "cowboys", "namespace": NS}, "spec": body}


def cluster_binding(name: str = "cluster") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "namespace": NS},
        "spec": {
            "kubeconfigSecretRef": {"name": "kubeconfig", "key": "kubeconfig"},
            "providerPrettyName": "Backend",
        },
    }


def binding() -> dict[str, Any]:
    return {
        "metadata": {"name": "cowboys"},
        "spec": {
            "kubeconfigSecretRef": {"name": "kubeconfig-abcde", "key": "kubeconfig", "namespace": "kube-bind"}
        },
    }


def bound_schema(**spec: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "informerScope": "Namespaced",
        "group": "wildwest.dev",
        "names": {"plural": "cowboys", "kind": "Cowboy"},
        "scope": "Namespaced",
        "versions": [{"name": "v1alpha1", "served": True, "storage": True}],
    }
    body.update(spec)
    return {"metadata": {"name": "cowboys.wildwest.dev", "namespace": NS}, "spec": body}


def errors(kind: str, obj: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.field, e.type.value) for e in validation.validate_create(kind, obj)]


# --- valid reference objects -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "obj"),
    [
        ("APIServiceExportRequest", request()),
        ("APIServiceExportTemplate", template()),
        ("APIServiceExport", export()),
        ("ClusterBinding", cluster_binding()),
        ("APIServiceBinding", binding()),
        ("BoundSchema", bound_schema()),
        ("Collection", {"metadata": {"name": "all"}, "spec": {"templates": [{"name": "cowboys"}]}}),
        ("Cluster", {"metadata": {"name": "default"}, "spec": {}}),
        ("APIServiceNamespace", {"metadata": {"name": "wild-west", "namespace": NS}, "spec": {}}),
        (
            "BindableResourcesRequest",
            {
                "metadata": {"name": "cowboys", "namespace": "default"},
                "spec": {"templateRef": {"name": "cowboys"}, "clusterIdentity": {"identity": "uid"}},
            },
        ),
        (
            "APIServiceBindingBundle",
            {"metadata": {"name": "p"}, "spec": binding()["spec"]},
        ),
    ],
)
def test_valid_objects_pass(kind: str, obj: dict[str, Any]) -> None:
    assert validation.validate_create(kind, validation.apply_defaults(kind, obj)) == []


# --- schema rules ----------------------------------------------------------------------------------


def test_required_fields() -> None:
    obj = request()
    del obj["spec"]["resources"]
    assert errors("APIServiceExportRequest", obj) == [("spec.resources", "FieldValueRequired")]
    assert errors("APIServiceExportRequest", {"metadata": {"name": "x", "namespace": NS}}) == [
        ("spec", "FieldValueRequired")
    ]
    obj = request(resources=[{"group": "g"}])
    assert errors("APIServiceExportRequest", obj) == [("spec.resources[0].resource", "FieldValueRequired")]


def test_required_value_message() -> None:
    obj = template()
    del obj["spec"]["scope"]
    (err,) = validation.validate_create("APIServiceExportTemplate", obj)
    assert err.as_dict() == {"field": "spec.scope", "type": "FieldValueRequired", "message": "Required value"}
    assert err.to_status_cause() == {
        "reason": "FieldValueRequired",
        "message": "Required value",
        "field": "spec.scope",
    }


def test_resource_pattern() -> None:
    (err,) = validation.validate_create(
        "APIServiceExportRequest", request(resources=[{"resource": "Cowboys"}])
    )
    assert err.field == "spec.resources[0].resource"
    assert err.type is ErrorType.INVALID
    assert err.message == (
        'Invalid value: "Cowboys": spec.resources[0].resource in body '
        "should match '^[a-z][-a-z0-9]*[a-z0-9]$'"
    )


@pytest.mark.parametrize("resource", ["c", "cow-", "-cow", "cow_boys", "1cows"])
def test_resource_pattern_rejects(resource: str) -> None:
    assert errors("APIServiceExportTemplate", template(resources=[{"resource": resource}])) == [
        ("spec.resources[0].resource", "FieldValueInvalid")
    ]


@pytest.mark.parametrize("group", ["", "wildwest.dev", "a", "x-y.z"])
def test_group_pattern_accepts(group: str) -> None:
    assert (
        errors("APIServiceExportTemplate", template(resources=[{"group": group, "resource": "cowboys"}]))
        == []
    )


@pytest.mark.parametrize("group", ["Wild.dev", "wild..dev", ".dev", "dev-"])
def test_group_pattern_rejects(group: str) -> None:
    assert errors(
        "APIServiceExportTemplate", template(resources=[{"group": group, "resource": "cowboys"}])
    ) == [("spec.resources[0].group", "FieldValueInvalid")]


def test_enums() -> None:
    assert errors("APIServiceExportTemplate", template(scope="Global")) == [
        ("spec.scope", "FieldValueNotSupported")
    ]
    (err,) = validation.validate_create("APIServiceExport", export(isolation="Strict"))
    assert err.field == "spec.isolation"
    assert err.message == 'Unsupported value: "Strict": supported values: "Prefixed", "Namespaced", "None"'
    assert errors("APIServiceExportRequest", request(schemaUpdatePolicy="Sometimes")) == [
        ("spec.schemaUpdatePolicy", "FieldValueNotSupported")
    ]
    obj = request()
    obj["status"] = {"phase": "Done"}
    assert errors("APIServiceExportRequest", obj) == [("status.phase", "FieldValueNotSupported")]


def test_min_items() -> None:
    (err,) = validation.validate_create("APIServiceExportRequest", request(resources=[]))
    assert (err.field, err.type) == ("spec.resources", ErrorType.INVALID)
    assert err.message == "Invalid value: 0: spec.resources in body should have at least 1 items"
    assert errors("Collection", {"metadata": {"name": "all"}, "spec": {"templates": []}}) == [
        ("spec.templates", "FieldValueInvalid")
    ]
    assert errors("BoundSchema", bound_schema(versions=[])) == [("spec.versions", "FieldValueInvalid")]


def test_min_length() -> None:
    obj = cluster_binding()
    obj["spec"]["providerPrettyName"] = ""
    (err,) = validation.validate_create("ClusterBinding", obj)
    assert (err.field, err.type) == ("spec.providerPrettyName", ErrorType.INVALID)
    assert "should be at least 1 chars long" in err.message
    obj = cluster_binding()
    obj["spec"]["kubeconfigSecretRef"]["name"] = ""
    assert errors("ClusterBinding", obj) == [("spec.kubeconfigSecretRef.name", "FieldValueInvalid")]


def test_type_errors() -> None:
    err, enum_err = validation.validate_create("APIServiceExportTemplate", template(scope=3))
    assert (err.field, err.type) == ("spec.scope", ErrorType.TYPE_INVALID)
    assert err.message == 'Invalid value: "integer": spec.scope in body must be of type string: "integer"'
    # like the apiserver, a wrong type is also reported against the enum
    assert enum_err.message == 'Unsupported value: 3: supported values: "Cluster", "Namespaced"'
    assert errors("APIServiceExportTemplate", template(resources={"a": 1})) == [
        ("spec.resources", "FieldValueTypeInvalid")
    ]
    assert errors("BoundSchema", bound_schema(versions=[{"name": "v1", "served": "yes"}])) == [
        ("spec.versions[0].served", "FieldValueTypeInvalid")
    ]
    assert validation.validate_create("Cluster", [])[0].type is ErrorType.TYPE_INVALID


def test_version_pattern() -> None:
    for good in ("v1", "v1alpha1", "v2beta3", "v10"):
        assert errors("BoundSchema", bound_schema(versions=[{"name": good, "storage": True}])) == []
    for bad in ("v0", "1", "v1alpha", "v1Alpha1", "v1alpha0"):
        assert errors("BoundSchema", bound_schema(versions=[{"name": bad, "storage": True}])) == [
            ("spec.versions[0].name", "FieldValueInvalid")
        ]


def test_list_map_keys_unique() -> None:
    obj = request(
        resources=[
            {"group": "wildwest.dev", "resource": "cowboys"},
            {"resource": "secrets"},
            {"group": "", "resource": "secrets"},
        ]
    )
    (err,) = validation.validate_create("APIServiceExportRequest", obj)
    assert (err.field, err.type) == ("spec.resources[2]", ErrorType.DUPLICATE)
    assert errors("BoundSchema", bound_schema(versions=[{"name": "v1"}, {"name": "v1"}])) == [
        ("spec.versions[1]", "FieldValueDuplicate")
    ]


def test_permission_claim_selector_required() -> None:
    obj = template(permissionClaims=[{"resource": "secrets"}])
    assert errors("APIServiceExportTemplate", obj) == [
        ("spec.permissionClaims[0].selector", "FieldValueRequired")
    ]
    obj = template(
        permissionClaims=[
            {"resource": "secrets", "selector": {"references": [{"resource": "cowboys", "jsonPath": {}}]}}
        ]
    )
    assert errors("APIServiceExportTemplate", obj) == [
        ("spec.permissionClaims[0].selector.references[0].jsonPath.name", "FieldValueRequired")
    ]


def test_cluster_secret_key_ref_requires_namespace() -> None:
    obj = binding()
    del obj["spec"]["kubeconfigSecretRef"]["namespace"]
    assert errors("APIServiceBinding", obj) == [("spec.kubeconfigSecretRef.namespace", "FieldValueRequired")]


def test_bindable_resources_request_requires_identity_and_template() -> None:
    obj = {
        "metadata": {"name": "x", "namespace": "default"},
        "spec": {"templateRef": {}, "clusterIdentity": {}},
    }
    assert errors("BindableResourcesRequest", obj) == [
        ("spec.templateRef.name", "FieldValueRequired"),
        ("spec.clusterIdentity.identity", "FieldValueRequired"),
    ]


def test_null_is_treated_as_absent() -> None:
    obj = request(permissionClaims=None)
    assert errors("APIServiceExportRequest", obj) == []


# --- kind rules ------------------------------------------------------------------------------------


def test_cluster_binding_must_be_named_cluster() -> None:
    (err,) = validation.validate_create("ClusterBinding", cluster_binding("other"))
    assert (err.field, err.type) == ("metadata.name", ErrorType.INVALID)
    assert "cluster" in err.message


def test_bound_schema_webhook_iff_strategy_webhook() -> None:
    ok = bound_schema(conversion={"strategy": "None"})
    assert errors("BoundSchema", ok) == []
    ok = bound_schema(conversion={"strategy": "Webhook", "webhook": {"clientConfig": {"url": "https://x"}}})
    assert errors("BoundSchema", ok) == []
    assert errors("BoundSchema", bound_schema(conversion={"strategy": "Webhook"})) == [
        ("spec.conversion", "FieldValueInvalid")
    ]
    assert errors("BoundSchema", bound_schema(conversion={"strategy": "None", "webhook": {}})) == [
        ("spec.conversion", "FieldValueInvalid")
    ]


# --- metadata --------------------------------------------------------------------------------------


def test_name_required_unless_generate_name() -> None:
    obj = template()
    del obj["metadata"]["name"]
    assert errors("APIServiceExportTemplate", obj) == [("metadata.name", "FieldValueRequired")]
    obj["metadata"]["generateName"] = "cowboys-"
    assert errors("APIServiceExportTemplate", obj) == []
    obj["metadata"]["generateName"] = "Cowboys-"
    assert errors("APIServiceExportTemplate", obj) == [("metadata.generateName", "FieldValueInvalid")]


@pytest.mark.parametrize("name", ["Cowboys", "cow_boys", "-x", "x-", "a" * 254, "a..b"])
def test_name_must_be_dns_subdomain(name: str) -> None:
    obj = template()
    obj["metadata"]["name"] = name
    assert ("metadata.name", "FieldValueInvalid") in errors("APIServiceExportTemplate", obj)


def test_subdomain_names_allowed_for_most_kinds() -> None:
    assert errors("BoundSchema", bound_schema()) == []  # "cowboys.wildwest.dev" has dots


def test_label_named_kinds() -> None:
    obj = {"metadata": {"name": "wild.west", "namespace": NS}, "spec": {}}
    assert errors("APIServiceNamespace", obj) == [("metadata.name", "FieldValueInvalid")]
    obj["metadata"]["name"] = "a" * 64
    assert errors("APIServiceNamespace", obj) == [("metadata.name", "FieldValueInvalid")]
    brr = {
        "metadata": {"name": "my.binding", "namespace": "default"},
        "spec": {"templateRef": {"name": "t"}, "clusterIdentity": {"identity": "i"}},
    }
    assert errors("BindableResourcesRequest", brr) == [("metadata.name", "FieldValueInvalid")]


def test_namespace_by_scope() -> None:
    obj = request()
    del obj["metadata"]["namespace"]
    assert errors("APIServiceExportRequest", obj) == [("metadata.namespace", "FieldValueRequired")]
    obj = template()
    obj["metadata"]["namespace"] = "default"
    assert errors("APIServiceExportTemplate", obj) == [("metadata.namespace", "FieldValueForbidden")]
    obj = binding()
    obj["metadata"]["namespace"] = "kube-bind"
    assert errors("APIServiceBinding", obj) == [("metadata.namespace", "FieldValueForbidden")]


def test_labels_annotations_finalizers() -> None:
    obj = template()
    obj["metadata"]["labels"] = {"kube-bind.io/owner": "provider", "bad key!": "x", "ok": "bad value!"}
    obj["metadata"]["annotations"] = {"kube-bind.io/source-spec-hash": "abc", "/nope": "x"}
    obj["metadata"]["finalizers"] = ["kubebind.io/syncer", "a/b/c"]
    assert errors("APIServiceExportTemplate", obj) == [
        ("metadata.labels", "FieldValueInvalid"),
        ("metadata.labels.ok", "FieldValueInvalid"),
        ("metadata.annotations", "FieldValueInvalid"),
        ("metadata.finalizers[1]", "FieldValueInvalid"),
    ]
    obj = template()
    obj["metadata"]["annotations"] = {"big": "x" * (256 * 1024)}
    assert errors("APIServiceExportTemplate", obj) == [("metadata.annotations", "FieldValueTooLong")]


def test_owner_references() -> None:
    obj = request()
    ref = {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExport",
        "name": "x",
        "uid": "u",
        "controller": True,
    }
    obj["metadata"]["ownerReferences"] = [ref, dict(ref, uid="v"), {"kind": "X"}]
    assert errors("APIServiceExportRequest", obj) == [
        ("metadata.ownerReferences[2].apiVersion", "FieldValueRequired"),
        ("metadata.ownerReferences[2].name", "FieldValueRequired"),
        ("metadata.ownerReferences[2].uid", "FieldValueRequired"),
        ("metadata.ownerReferences", "FieldValueInvalid"),
    ]


def test_api_version_and_kind_checked() -> None:
    obj = template()
    obj["apiVersion"] = "kube-bind.io/v1alpha1"
    obj["kind"] = "Collection"
    assert errors("APIServiceExportTemplate", obj) == [
        ("apiVersion", "FieldValueInvalid"),
        ("kind", "FieldValueInvalid"),
    ]


def test_name_helpers() -> None:
    assert validation.is_dns1123_label("wild-west") == []
    assert validation.is_dns1123_label("wild.west") != []
    assert validation.is_dns1123_subdomain("cowboys.wildwest.dev") == []
    assert validation.is_qualified_name("kube-bind.io/owner") == []
    assert validation.is_qualified_name("a/b/c") != []
    assert validation.is_valid_label_value("") == []
    assert validation.is_valid_label_value("x" * 64) != []


# --- defaults --------------------------------------------------------------------------------------


def test_defaults() -> None:
    obj = validation.apply_defaults(
        "APIServiceExportRequest", request(permissionClaims=[{"resource": "secrets", "selector": {}}])
    )
    assert obj["apiVersion"] == "kube-bind.io/v1alpha2"
    assert obj["kind"] == "APIServiceExportRequest"
    assert obj["spec"]["schemaUpdatePolicy"] == "Never"
    assert obj["status"] == {"phase": "Pending"}
    assert obj["spec"]["permissionClaims"][0]["group"] == ""
    tpl = validation.apply_defaults("APIServiceExportTemplate", template())
    assert tpl["spec"]["schemaUpdatePolicy"] == "Never"
    assert "status" not in tpl
    bs = validation.apply_defaults(
        "BoundSchema", bound_schema(versions=[{"name": "v1"}, {"name": "v2", "served": False}])
    )
    assert [v["served"] for v in bs["spec"]["versions"]] == [True, False]


def test_defaults_keep_explicit_values_and_fill_nulls() -> None:
    obj = validation.apply_defaults("APIServiceExportRequest", request(schemaUpdatePolicy="Always"))
    assert obj["spec"]["schemaUpdatePolicy"] == "Always"
    obj = request()
    obj["status"] = {"phase": None, "terminalMessage": "x"}
    validation.apply_defaults("APIServiceExportRequest", obj)
    assert obj["status"] == {"phase": "Pending", "terminalMessage": "x"}


def test_brr_status_phase_defaults_only_when_status_present() -> None:
    brr = {
        "metadata": {"name": "b", "namespace": "d"},
        "spec": {"templateRef": {"name": "t"}, "clusterIdentity": {"identity": "i"}},
    }
    assert "status" not in validation.apply_defaults("BindableResourcesRequest", copy.deepcopy(brr))
    brr["status"] = {}
    assert validation.apply_defaults("BindableResourcesRequest", brr)["status"] == {"phase": "Pending"}


# --- unknown fields --------------------------------------------------------------------------------


def test_unknown_fields_and_prune() -> None:
    obj = request()
    obj["spec"]["typo"] = 1
    assert validation.find_unknown_fields("APIServiceExportRequest", obj) == ["spec.typo"]
    validation.prune_unknown_fields("APIServiceExportRequest", obj)
    assert "typo" not in obj["spec"]


# --- updates ---------------------------------------------------------------------------------------


def upd(kind: str, new: dict[str, Any], old: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e.field, e.type.value) for e in validation.validate_update(kind, new, old)]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resources", [{"group": "wildwest.dev", "resource": "sheriffs"}]),
        ("permissionClaims", [{"resource": "secrets", "selector": {}}]),
        ("namespaces", [{"name": "wild-west"}]),
        ("schemaUpdatePolicy", "Always"),
        ("parameters", {"a": 1}),
    ],
)
def test_request_spec_immutable(field: str, value: Any) -> None:
    old = validation.apply_defaults("APIServiceExportRequest", request())
    new = copy.deepcopy(old)
    new["spec"][field] = value
    assert upd("APIServiceExportRequest", new, old) == [(f"spec.{field}", "FieldValueInvalid")]
    (err,) = validation.validate_update("APIServiceExportRequest", new, old)
    # as a real apiserver words a failed `self == oldSelf` rule (checked against kube-apiserver 1.36)
    if isinstance(value, str):
        assert err.message == f'Invalid value: "{value}": field is immutable'
    else:
        assert err.message == "Invalid value: field is immutable"


def test_removing_an_immutable_field_is_a_change() -> None:
    old = validation.apply_defaults("APIServiceExportRequest", request(namespaces=[{"name": "wild-west"}]))
    new = copy.deepcopy(old)
    del new["spec"]["namespaces"]
    (err,) = validation.validate_update("APIServiceExportRequest", new, old)
    assert (err.field, err.message) == ("spec.namespaces", "Invalid value: field is immutable")


def test_request_status_may_change_and_defaults_do_not_count_as_change() -> None:
    old = request()  # no schemaUpdatePolicy, no status
    new = validation.apply_defaults("APIServiceExportRequest", copy.deepcopy(old))
    new["status"] = {"phase": "Succeeded"}
    new["spec"]["permissionClaims"] = []  # empty == absent
    assert upd("APIServiceExportRequest", new, old) == []


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("resources", [{"group": "wildwest.dev", "resource": "sheriffs"}]),
        ("permissionClaims", [{"resource": "secrets", "selector": {}}]),
        ("informerScope", "Cluster"),
        ("isolation", "None"),
        ("clusterScopedIsolation", "Prefixed"),
    ],
)
def test_export_spec_immutable(field: str, value: Any) -> None:
    old = export()
    new = copy.deepcopy(old)
    new["spec"][field] = value
    assert upd("APIServiceExport", new, old) == [(f"spec.{field}", "FieldValueInvalid")]


@pytest.mark.parametrize(
    ("kind", "factory"),
    [
        ("ClusterBinding", cluster_binding),
        ("APIServiceBinding", binding),
        ("APIServiceBindingBundle", lambda: {"metadata": {"name": "p"}, "spec": binding()["spec"]}),
    ],
)
def test_kubeconfig_secret_ref_immutable(kind: str, factory: Any) -> None:
    old = factory()
    new = copy.deepcopy(old)
    new["spec"]["kubeconfigSecretRef"]["name"] = "other"
    assert upd(kind, new, old) == [("spec.kubeconfigSecretRef", "FieldValueInvalid")]


def test_cluster_binding_pretty_name_mutable() -> None:
    old = cluster_binding()
    new = copy.deepcopy(old)
    new["spec"]["providerPrettyName"] = "Renamed"
    assert upd("ClusterBinding", new, old) == []


def test_template_spec_mutable() -> None:
    old = template()
    new = template(schemaUpdatePolicy="Always", resources=[{"group": "wildwest.dev", "resource": "sheriffs"}])
    assert upd("APIServiceExportTemplate", new, old) == []


def test_metadata_immutable_on_update() -> None:
    old = export()
    old["metadata"].update(uid="u1", creationTimestamp="2026-01-01T00:00:00Z")
    new = copy.deepcopy(old)
    new["metadata"].update(
        name="other", uid="u2", creationTimestamp="2026-01-02T00:00:00Z", namespace="kube-bind-x"
    )
    assert upd("APIServiceExport", new, old) == [
        ("metadata.name", "FieldValueInvalid"),
        ("metadata.namespace", "FieldValueInvalid"),
        ("metadata.uid", "FieldValueInvalid"),
        ("metadata.creationTimestamp", "FieldValueInvalid"),
    ]


def test_update_also_validates_new_object() -> None:
    old = template()
    new = template(scope="Everywhere")
    assert upd("APIServiceExportTemplate", new, old) == [("spec.scope", "FieldValueNotSupported")]


def test_immutable_message_and_invalid_message() -> None:
    old = export()
    new = export(isolation="None")
    (err,) = validation.validate_update("APIServiceExport", new, old)
    assert err.message == 'Invalid value: "None": field is immutable'
    msg = validation.invalid_message("APIServiceExport", "cowboys", [err])
    assert msg == 'APIServiceExport.kube-bind.io "cowboys" is invalid: spec.isolation: ' + err.message
    two = [err, FieldError(ErrorType.REQUIRED, "spec.resources")]
    assert validation.invalid_message("APIServiceExport", "c", two).endswith(
        f"[spec.isolation: {err.message}, spec.resources: Required value]"
    )


def test_formats() -> None:
    obj = cluster_binding()
    obj["status"] = {"lastHeartbeatTime": "garbage", "heartbeatInterval": "5m0s"}
    (err,) = validation.validate_create("ClusterBinding", obj)
    assert (err.field, err.type) == ("status.lastHeartbeatTime", ErrorType.TYPE_INVALID)
    assert (
        err.message
        == 'Invalid value: "garbage": lastHeartbeatTime in body must be of type date-time: "garbage"'
    )
    obj["status"]["lastHeartbeatTime"] = "2026-01-01T00:00:00Z"
    assert errors("ClusterBinding", obj) == []
    bs = bound_schema(
        conversion={
            "strategy": "Webhook",
            "webhook": {"clientConfig": {"url": "https://x", "caBundle": "%%"}},
        }
    )
    assert errors("BoundSchema", bs) == [
        ("spec.conversion.webhook.clientConfig.caBundle", "FieldValueTypeInvalid")
    ]


def test_immutable_paths_come_from_schema() -> None:
    assert validation.immutable_paths("APIServiceExportRequest") == (
        "spec.parameters",
        "spec.resources",
        "spec.permissionClaims",
        "spec.namespaces",
        "spec.schemaUpdatePolicy",
    )
    assert validation.immutable_paths("APIServiceExportTemplate") == ()
