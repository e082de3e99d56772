"""The consumer-side objects ``kubectl bind`` creates, as plain dicts (no I/O).

Why pure functions: ``--dry-run`` prints exactly what a real run applies, the Helm chart
``charts/konnector`` is tested against the same shape, and tests can assert on them without a
cluster. Objects (reference §7.4, §4.6, with least privilege instead of the Go ``*/*/*``):

* Namespace ``kube-bind``; Secret ``kubeconfig-xxxxx`` (label ``kube-bind.io/provider-kubeconfig``);
* konnector: ServiceAccount, a base ClusterRole (its own kinds, CRD create/read, namespaces,
  events, Secret reads), a Role in ``kube-bind`` (writing kubeconfig Secrets, leader-election
  Leases), bindings, and a
  2-replica Deployment (leader election, probes, non-root, read-only root FS);
* per binding: ClusterRole ``kube-bind-konnector-<binding>`` granting exactly the bound resources,
  their CRDs by name, and the claimed resources — removed again by ``kubectl bind unbind``;
* ``APIServiceBinding <name>`` referencing the kubeconfig Secret.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kubebind.apis import constants, openapi

__all__ = [
    "DEFAULT_KONNECTOR_IMAGE",
    "FIELD_MANAGER",
    "KONNECTOR_NAME",
    "api_service_binding",
    "binding_rbac",
    "binding_rbac_name",
    "consumer_crds",
    "konnector_manifests",
    "kubeconfig_secret",
    "namespace",
]

#: The Python konnector image (published by the project's release pipeline, not built here).
DEFAULT_KONNECTOR_IMAGE = "ghcr.io/kube-bind-py/konnector:v0.1.0"
#: Server-side apply field manager of the CLI on the consumer.
FIELD_MANAGER = "kubectl-bind"
KONNECTOR_NAME = "konnector"
KONNECTOR_CLUSTER_ROLE = "kube-bind-konnector"
#: The konnector serves /healthz, /readyz and /metrics on one port.
SERVER_PORT = 8090

_VERBS_RW = ["get", "list", "watch", "create", "update", "patch", "delete"]
_VERBS_RO = ["get", "list", "watch"]


def namespace(name: str = constants.KONNECTOR_NAMESPACE) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}


def kubeconfig_secret(kubeconfig: str, *, name: str = "") -> dict[str, Any]:
    """The Secret holding a provider kubeconfig (``generateName: kubeconfig-`` when unnamed)."""
    meta: dict[str, Any] = {
        "namespace": constants.KONNECTOR_NAMESPACE,
        "labels": {constants.LABEL_PROVIDER_KUBECONFIG: constants.LABEL_VALUE_TRUE},
    }
    if name:
        meta["name"] = name
    else:
        meta["generateName"] = "kubeconfig-"
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "Opaque",
        "stringData": {constants.KUBECONFIG_SECRET_KEY: kubeconfig},
    }


def consumer_crds() -> list[dict[str, Any]]:
    """CRDs of the consumer-side kinds (APIServiceBinding, APIServiceBindingBundle)."""
    return [openapi.crd_manifest("APIServiceBinding"), openapi.crd_manifest("APIServiceBindingBundle")]


def _labels() -> dict[str, str]:
    return {constants.LABEL_APP: constants.LABEL_APP_KONNECTOR, "app.kubernetes.io/part-of": "kube-bind"}


def _konnector_base_rules() -> list[dict[str, Any]]:
    own_crds = [
        openapi.crd_manifest(k)["metadata"]["name"] for k in ("APIServiceBinding", "APIServiceBindingBundle")
    ]
    return [
        {
            "apiGroups": [constants.GROUP],
            "resources": ["apiservicebindings", "apiservicebindingbundles"],
            "verbs": _VERBS_RW,
        },
        {
            "apiGroups": [constants.GROUP],
            "resources": [
                "apiservicebindings/status",
                "apiservicebindingbundles/status",
                "apiservicebindings/finalizers",
            ],
            "verbs": ["get", "update", "patch"],
        },
        # Installing bound CRDs: create cannot be limited by name; updates are granted per binding.
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "verbs": [*_VERBS_RO, "create"],
        },
        {
            "apiGroups": ["apiextensions.k8s.io"],
            "resources": ["customresourcedefinitions"],
            "resourceNames": own_crds,
            "verbs": ["update", "patch"],
        },
        # Consumer namespaces pre-seeded by the provider are created by the konnector.
        {"apiGroups": [""], "resources": ["namespaces"], "verbs": [*_VERBS_RO, "create"]},
        # Its Secret informer is cluster-wide (kubeconfig references may name any namespace);
        # writes are limited to its own namespace (Role below) and to claimed kinds per binding.
        {"apiGroups": [""], "resources": ["secrets"], "verbs": _VERBS_RO},
        {"apiGroups": ["", "events.k8s.io"], "resources": ["events"], "verbs": ["create", "patch", "update"]},
    ]


def _konnector_namespace_rules() -> list[dict[str, Any]]:
    return [
        # Provider kubeconfig Secrets (the konnector refreshes them from the provider: rotation).
        {"apiGroups": [""], "resources": ["secrets"], "verbs": [*_VERBS_RO, "create", "update", "patch"]},
        {
            "apiGroups": ["coordination.k8s.io"],
            "resources": ["leases"],
            "verbs": ["get", "list", "watch", "create", "update", "patch"],
        },
    ]


def konnector_manifests(
    image: str = DEFAULT_KONNECTOR_IMAGE,
    *,
    replicas: int = 2,
    host_aliases: Sequence[str] = (),
    with_deployment: bool = True,
) -> list[dict[str, Any]]:
    """ServiceAccount, RBAC and (optionally) the Deployment of the konnector in ``kube-bind``."""
    ns = constants.KONNECTOR_NAMESPACE
    subject = [{"kind": "ServiceAccount", "name": KONNECTOR_NAME, "namespace": ns}]
    objs: list[dict[str, Any]] = [
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {"name": KONNECTOR_NAME, "namespace": ns, "labels": _labels()},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": KONNECTOR_CLUSTER_ROLE, "labels": _labels()},
            "rules": _konnector_base_rules(),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": KONNECTOR_CLUSTER_ROLE, "labels": _labels()},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": KONNECTOR_CLUSTER_ROLE,
            },
            "subjects": subject,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": {"name": KONNECTOR_CLUSTER_ROLE, "namespace": ns, "labels": _labels()},
            "rules": _konnector_namespace_rules(),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": {"name": KONNECTOR_CLUSTER_ROLE, "namespace": ns, "labels": _labels()},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": KONNECTOR_CLUSTER_ROLE,
            },
            "subjects": subject,
        },
    ]
    if with_deployment:
        objs.append(konnector_deployment(image, replicas=replicas, host_aliases=host_aliases))
    return objs


def parse_host_alias(value: str) -> dict[str, Any]:
    """``IP:host1,host2`` → a pod ``hostAliases`` entry."""
    ip, sep, hosts = value.partition(":")
    names = [h for h in hosts.split(",") if h]
    if not sep or not ip or not names:
        raise ValueError(f"invalid host alias {value!r}: expected IP:host1,host2")
    return {"ip": ip, "hostnames": names}


def konnector_deployment(
    image: str, *, replicas: int = 2, host_aliases: Sequence[str] = ()
) -> dict[str, Any]:
    ns = constants.KONNECTOR_NAMESPACE

    def field_env(name: str, path: str) -> dict[str, Any]:
        return {"name": name, "valueFrom": {"fieldRef": {"fieldPath": path}}}

    def probe(path: str) -> dict[str, Any]:
        return {"httpGet": {"path": path, "port": "http"}, "periodSeconds": 10}

    pod_spec: dict[str, Any] = {
        "serviceAccountName": KONNECTOR_NAME,
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": KONNECTOR_NAME,
                "image": image,
                "env": [
                    field_env("POD_NAME", "metadata.name"),
                    field_env("POD_NAMESPACE", "metadata.namespace"),
                ],
                "args": [
                    f"--lease-namespace={constants.KONNECTOR_NAMESPACE}",
                    f"--server-address=:{SERVER_PORT}",
                ],
                "ports": [{"name": "http", "containerPort": SERVER_PORT}],
                "readinessProbe": probe("/readyz"),
                "livenessProbe": {**probe("/healthz"), "initialDelaySeconds": 15, "failureThreshold": 6},
                "resources": {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"memory": "512Mi"}},
                "securityContext": {
                    "allowPrivilegeEscalation": False,
                    "readOnlyRootFilesystem": True,
                    "runAsNonRoot": True,
                    "runAsUser": 65532,
                    "capabilities": {"drop": ["ALL"]},
                },
            }
        ],
    }
    if host_aliases:
        pod_spec["hostAliases"] = [parse_host_alias(a) for a in host_aliases]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": KONNECTOR_NAME, "namespace": ns, "labels": _labels()},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {constants.LABEL_APP: constants.LABEL_APP_KONNECTOR}},
            "template": {"metadata": {"labels": _labels()}, "spec": pod_spec},
        },
    }


def binding_rbac_name(binding: str) -> str:
    return f"{KONNECTOR_CLUSTER_ROLE}-{binding}"[:253]


def _group_resources(spec: dict[str, Any], key: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for item in spec.get(key) or []:
        if isinstance(item, dict) and item.get("resource"):
            pair = (str(item.get("group") or ""), str(item["resource"]))
            if pair not in out:
                out.append(pair)
    return out


def binding_rbac(binding: str, request_spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Per-binding ClusterRole + ClusterRoleBinding: the bound resources, their CRDs, the claims."""
    resources = _group_resources(request_spec, "resources")
    claims = _group_resources(request_spec, "permissionClaims")
    rules: list[dict[str, Any]] = []
    for group, resource in resources:
        rules.append({"apiGroups": [group], "resources": [resource], "verbs": _VERBS_RW})
        rules.append(
            {"apiGroups": [group], "resources": [f"{resource}/status"], "verbs": ["get", "update", "patch"]}
        )
    crd_names = [f"{r}.{g}" for g, r in resources if g]
    if crd_names:
        rules.append(
            {
                "apiGroups": ["apiextensions.k8s.io"],
                "resourceNames": crd_names,
                "resources": ["customresourcedefinitions"],
                "verbs": ["get", "update", "patch", "delete"],
            }
        )
    for group, resource in claims:
        rules.append({"apiGroups": [group], "resources": [resource], "verbs": _VERBS_RW})
    name = binding_rbac_name(binding)
    labels = {**_labels(), "kube-bind.io/binding": binding[:63]}
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": name, "labels": labels},
            "rules": rules,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": {"name": name, "labels": labels},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
            "subjects": [
                {"kind": "ServiceAccount", "name": KONNECTOR_NAME, "namespace": constants.KONNECTOR_NAMESPACE}
            ],
        },
    ]


def api_service_binding(name: str, secret_name: str) -> dict[str, Any]:
    return {
        "apiVersion": constants.API_VERSION,
        "kind": "APIServiceBinding",
        "metadata": {"name": name},
        "spec": {
            "kubeconfigSecretRef": {
                "namespace": constants.KONNECTOR_NAMESPACE,
                "name": secret_name,
                "key": constants.KUBECONFIG_SECRET_KEY,
            }
        },
    }


def export_request(request: dict[str, Any], namespace: str) -> dict[str, Any]:
    """The APIServiceExportRequest to create on the provider (status dropped, namespace set)."""
    meta = dict(request.get("metadata") or {})
    out_meta: dict[str, Any] = {"namespace": namespace}
    if meta.get("name"):
        out_meta["name"] = meta["name"]
    else:
        out_meta["generateName"] = "export-"
    return {
        "apiVersion": constants.API_VERSION,
        "kind": "APIServiceExportRequest",
        "metadata": out_meta,
        "spec": dict(request.get("spec") or {}),
    }


def names(objs: Iterable[dict[str, Any]]) -> list[str]:
    return [f"{o['kind']}/{(o.get('metadata') or {}).get('name', '')}" for o in objs]
