"""RBAC through the proxy, TokenReview + SAR on direct requests, and no header spoofing."""

from __future__ import annotations

import uuid

import httpx
import kubernetes.client
import pytest

from kubebind.localcluster.tls import client_context
from tests.aggregated.backend import GROUP_VERSION, KubeBindBackend
from tests.harness import wait_for

pytestmark = pytest.mark.cluster


def _export(name: str) -> dict[str, object]:
    return {
        "apiVersion": "kube-bind.io/v1alpha2",
        "kind": "APIServiceExport",
        "metadata": {"name": name},
        "spec": {
            "informerScope": "Namespaced",
            "isolation": "None",
            "resources": [{"group": "wildwest.dev", "resource": "cowboys", "versions": ["v1alpha1"]}],
        },
    }


def test_namespaced_role_allows_only_its_namespace(kube_bind_backend: KubeBindBackend) -> None:
    provider = kube_bind_backend.provider
    api = provider.api()
    core = kubernetes.client.CoreV1Api(api)
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    with provider.temporary_namespace("a") as ns_a, provider.temporary_namespace("b") as ns_b:
        with kube_bind_backend.provider_client() as admin:
            for ns in (ns_a, ns_b):
                r = admin.post(f"{GROUP_VERSION}/namespaces/{ns}/apiserviceexports", json=_export("cowboys"))
                assert r.status_code == 201, r.text
        core.create_namespaced_service_account(ns_a, {"metadata": {"name": "reader"}})
        rbac.create_namespaced_role(
            ns_a,
            {
                "metadata": {"name": "exports-reader"},
                "rules": [
                    {
                        "apiGroups": ["kube-bind.io"],
                        "resources": ["apiserviceexports"],
                        "verbs": ["get", "list"],
                    }
                ],
            },
        )
        rbac.create_namespaced_role_binding(
            ns_a,
            {
                "metadata": {"name": "reader"},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "Role",
                    "name": "exports-reader",
                },
                "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns_a}],
            },
        )
        token = provider.create_token(ns_a, "reader", seconds=600)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(
            base_url=provider.url, verify=client_context(provider.ca_file), headers=headers, timeout=30
        ) as sa:

            def can_list() -> bool:
                return sa.get(f"{GROUP_VERSION}/namespaces/{ns_a}/apiserviceexports").status_code == 200

            wait_for(can_list, timeout=15, what="RoleBinding to take effect")
            items = sa.get(f"{GROUP_VERSION}/namespaces/{ns_a}/apiserviceexports").json()["items"]
            assert [i["metadata"]["name"] for i in items] == ["cowboys"]
            denied = sa.get(f"{GROUP_VERSION}/namespaces/{ns_b}/apiserviceexports")
            assert denied.status_code == 403 and denied.json()["reason"] == "Forbidden"
            assert sa.get(f"{GROUP_VERSION}/apiserviceexports").status_code == 403
            assert (
                sa.post(f"{GROUP_VERSION}/namespaces/{ns_a}/apiserviceexports", json=_export("x")).status_code
                == 403
            )
        # The same token straight at the backend: TokenReview + SubjectAccessReview, same answers.
        with kube_bind_backend.direct_client(headers=headers) as direct:
            assert direct.get(f"{GROUP_VERSION}/namespaces/{ns_a}/apiserviceexports").status_code == 200
            r = direct.get(f"{GROUP_VERSION}/namespaces/{ns_b}/apiserviceexports")
            assert r.status_code == 403 and r.json()["kind"] == "Status", r.text
            assert direct.get(f"{GROUP_VERSION}/apiserviceexports").status_code == 403


def test_forged_identity_headers_are_rejected(kube_bind_backend: KubeBindBackend) -> None:
    forged = {"X-Remote-User": "kube-bind-admin", "X-Remote-Group": "system:masters"}
    path = f"{GROUP_VERSION}/apiserviceexporttemplates"
    with kube_bind_backend.direct_client() as anonymous:
        r = anonymous.get(path, headers=forged)
        assert r.status_code == 401 and r.json()["reason"] == "Unauthorized", r.text
        assert anonymous.get(path).status_code == 401
        assert anonymous.get(path, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    # A client certificate that is valid for the cluster but is not the front-proxy's: still 401.
    with kube_bind_backend.direct_client(cert=kube_bind_backend.admin_cert) as admin_cert:
        assert admin_cert.get(path, headers=forged).status_code == 401
        assert admin_cert.get(path).status_code == 200  # as itself (x509 user), it is fine
    # The real front-proxy certificate is trusted.
    with kube_bind_backend.direct_client(cert=kube_bind_backend.front_proxy_client) as proxy:
        assert proxy.get(path, headers=forged).status_code == 200
        assert proxy.get(path).status_code == 401  # no user header


def test_unprivileged_user_forbidden_by_backend_sar(kube_bind_backend: KubeBindBackend) -> None:
    """Defence in depth: a proxied request for a user without RBAC is refused by the backend too."""
    with kube_bind_backend.direct_client(cert=kube_bind_backend.front_proxy_client) as proxy:
        r = proxy.get(
            f"{GROUP_VERSION}/apiserviceexporttemplates",
            headers={
                "X-Remote-User": f"nobody-{uuid.uuid4().hex[:6]}",
                "X-Remote-Group": "system:authenticated",
            },
        )
    assert r.status_code == 403 and r.json()["reason"] == "Forbidden", r.text


async def test_registration_manifests_are_accepted(kube_bind_registration: KubeBindBackend) -> None:
    """The backend's own APIService/Service/RBAC manifests pass the real apiserver (dry run)."""
    from app import registration
    from app.settings import Settings
    from kubebind.kube.client import ApiClient

    settings = Settings(service_namespace="kube-system", service_external_name="localhost", service_port=8443)
    client = ApiClient.from_kubeconfig(kube_bind_registration.kubeconfig)
    try:
        applied = await registration.register(
            client, settings, kube_bind_registration.ca_file.read_bytes(), with_rbac=True, dry_run=True
        )
    finally:
        await client.aclose()
    kinds = [obj["kind"] for obj in applied]
    assert kinds == ["Service", "APIService", "ClusterRoleBinding", "RoleBinding"]
    apiservice = applied[1]
    assert apiservice["metadata"]["name"] == registration.apiservice_name() == "v1alpha2.kube-bind.io"
    assert apiservice["spec"]["service"]["port"] == 8443
