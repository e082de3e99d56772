"""Smoke tests that prove the local control planes are real Kubernetes, not stand-ins.

Each test exercises a behaviour later issues depend on: CRDs and watch, TokenRequest tokens with
namespaced RBAC, separate service-account issuers per cluster, namespace deletion and garbage
collection by the controller-manager, and aggregated APIs reaching a backend on 127.0.0.1 with the
front-proxy identity headers.
"""

from __future__ import annotations

import base64
import json
import ssl
import threading
import time
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import kubernetes.client
import kubernetes.watch
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from kubernetes.client import ApiException

from kubebind.localcluster import pki
from kubebind.localcluster.cluster import ClusterPair
from kubebind.localcluster.tls import client_context as tls
from tests.harness import Cluster, wait_for, wildwest_crd

pytestmark = pytest.mark.cluster

COWBOY_CRD = wildwest_crd()


def _ensure_cowboy_crd(cluster: Cluster) -> None:
    cluster.apply(COWBOY_CRD)
    cluster.kubectl("wait", "--for=condition=Established", "--timeout=30s", "crd/cowboys.wildwest.dev")


def test_crd_object_and_watch(provider: Cluster, provider_namespace: str) -> None:
    _ensure_cowboy_crd(provider)
    custom = kubernetes.client.CustomObjectsApi(provider.api())
    args = ("wildwest.dev", "v1alpha1", provider_namespace, "cowboys")
    listing: Any = custom.list_namespaced_custom_object(*args)
    rv = listing["metadata"]["resourceVersion"]

    events: list[tuple[str, str]] = []

    def watch() -> None:
        w = kubernetes.watch.Watch()
        for event in w.stream(
            custom.list_namespaced_custom_object, *args, resource_version=rv, timeout_seconds=20
        ):
            events.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                w.stop()

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    body = {
        "apiVersion": "wildwest.dev/v1alpha1",
        "kind": "Cowboy",
        "metadata": {"name": "billy-the-kid"},
        "spec": {"intent": "ride"},
    }
    created: Any = custom.create_namespaced_custom_object(*args, body)
    assert created["metadata"]["uid"]
    created["spec"]["intent"] = "shoot"
    custom.replace_namespaced_custom_object(*args, "billy-the-kid", created)
    custom.patch_namespaced_custom_object_status(*args, "billy-the-kid", {"status": {"result": "ok"}})
    got: Any = custom.get_namespaced_custom_object(*args, "billy-the-kid")
    assert got["spec"]["intent"] == "shoot" and got["status"]["result"] == "ok"
    custom.delete_namespaced_custom_object(*args, "billy-the-kid")
    watcher.join(timeout=25)
    assert [t for t, _ in events] == ["ADDED", "MODIFIED", "MODIFIED", "DELETED"], events
    assert {n for _, n in events} == {"billy-the-kid"}


def test_token_request_with_namespaced_role(provider: Cluster, provider_namespace: str) -> None:
    api = provider.api()
    core = kubernetes.client.CoreV1Api(api)
    rbac = kubernetes.client.RbacAuthorizationV1Api(api)
    ns = provider_namespace
    core.create_namespaced_service_account(ns, {"metadata": {"name": "reader"}})
    core.create_namespaced_config_map(ns, {"metadata": {"name": "hello"}, "data": {"a": "b"}})
    rbac.create_namespaced_role(
        ns,
        {
            "metadata": {"name": "read-configmaps"},
            "rules": [{"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"]}],
        },
    )
    rbac.create_namespaced_role_binding(
        ns,
        {
            "metadata": {"name": "reader"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-configmaps"},
            "subjects": [{"kind": "ServiceAccount", "name": "reader", "namespace": ns}],
        },
    )
    token = provider.create_token(ns, "reader", seconds=600)
    as_reader = kubernetes.client.CoreV1Api(provider.token_api(token))
    # RBAC caches update asynchronously after the binding is created.
    names = wait_for(
        lambda: _try_list_configmaps(as_reader, ns), timeout=10, what="RoleBinding to take effect"
    )
    assert "hello" in names
    with provider.temporary_namespace("other") as other:
        with pytest.raises(ApiException) as denied:
            as_reader.list_namespaced_config_map(other)
        assert denied.value.status == 403
    with pytest.raises(ApiException) as cluster_wide:
        as_reader.list_config_map_for_all_namespaces()
    assert cluster_wide.value.status == 403
    with pytest.raises(ApiException) as write:
        as_reader.create_namespaced_config_map(ns, {"metadata": {"name": "nope"}})
    assert write.value.status == 403


def _try_list_configmaps(api: kubernetes.client.CoreV1Api, ns: str) -> list[str] | None:
    try:
        return [str(cm.metadata.name) for cm in api.list_namespaced_config_map(ns).items]
    except ApiException as exc:
        if exc.status == 403:
            return None
        raise


def test_provider_token_rejected_by_consumer(
    provider: Cluster, consumer: Cluster, provider_namespace: str
) -> None:
    core = kubernetes.client.CoreV1Api(provider.api())
    core.create_namespaced_service_account(provider_namespace, {"metadata": {"name": "probe"}})
    token = provider.create_token(provider_namespace, "probe")
    # Accepted (authenticated, if not authorised) by its own cluster ...
    own = httpx.get(
        f"{provider.url}/api/v1/namespaces",
        verify=tls(provider.ca_file),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert own.status_code == 403, own.text
    # ... and unauthenticated on the other one: separate issuers and signing keys.
    other = httpx.get(
        f"{consumer.url}/api/v1/namespaces",
        verify=tls(consumer.ca_file),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert other.status_code == 401, other.text
    # The consumer's serving certificate is not signed by the provider's CA either.
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{consumer.url}/readyz", verify=tls(provider.ca_file))


def test_namespace_lifecycle_and_garbage_collection(provider: Cluster) -> None:
    _ensure_cowboy_crd(provider)
    core = kubernetes.client.CoreV1Api(provider.api())
    custom = kubernetes.client.CustomObjectsApi(provider.api())
    name = f"doomed-{uuid.uuid4().hex[:8]}"
    core.create_namespace({"metadata": {"name": name}})
    # serviceaccount-controller and root-ca publisher populate new namespaces.
    wait_for(
        lambda: _exists(lambda: core.read_namespaced_service_account("default", name)),
        what="default ServiceAccount",
    )
    wait_for(
        lambda: _exists(lambda: core.read_namespaced_config_map("kube-root-ca.crt", name)),
        what="kube-root-ca.crt",
    )
    owner = core.create_namespaced_config_map(name, {"metadata": {"name": "owner"}})
    core.create_namespaced_config_map(
        name,
        {
            "metadata": {
                "name": "dependent",
                "ownerReferences": [
                    {"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": owner.metadata.uid}
                ],
            }
        },
    )
    custom.create_namespaced_custom_object(
        "wildwest.dev",
        "v1alpha1",
        name,
        "cowboys",
        {"apiVersion": "wildwest.dev/v1alpha1", "kind": "Cowboy", "metadata": {"name": "jesse"}},
    )
    core.delete_namespaced_config_map("owner", name)
    wait_for(
        lambda: not _exists(lambda: core.read_namespaced_config_map("dependent", name)),
        what="garbage collection of the dependent ConfigMap",
    )
    core.delete_namespace(name)
    wait_for(
        lambda: not _exists(lambda: core.read_namespace(name)),
        timeout=60,
        what="namespace deletion to finish (namespace controller)",
    )


def _exists(read: Any) -> bool:
    try:
        read()
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


# --- aggregated API -----------------------------------------------------------------------------

GROUP = "smoke.kube-bind.test"


class _Recorder:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.lock = threading.Lock()


def _serve_aggregated(
    tmp: Path, front_proxy_ca: Path, recorder: _Recorder
) -> tuple[ThreadingHTTPServer, bytes]:
    ca = pki.create_ca(tmp, "backend-ca", "smoke-backend-ca")
    serving = pki.issue_cert(
        ca,
        tmp,
        "backend",
        "smoke-backend",
        dns_names=("smoke-backend.kube-system.svc", "localhost"),
        ip_addresses=("127.0.0.1",),
        server=True,
    )

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _json(self, code: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            peer = self.connection.getpeercert()
            cn = None
            if peer:
                for rdn in peer.get("subject", ()):
                    for key, value in rdn:
                        if key == "commonName":
                            cn = value
            with recorder.lock:
                recorder.requests.append(
                    {
                        "path": self.path,
                        "cn": cn,
                        "user": self.headers.get("X-Remote-User"),
                        "groups": self.headers.get_all("X-Remote-Group") or [],
                    }
                )
            path = self.path.split("?")[0]
            if path == f"/apis/{GROUP}/v1":
                self._json(
                    200,
                    {
                        "kind": "APIResourceList",
                        "apiVersion": "v1",
                        "groupVersion": f"{GROUP}/v1",
                        "resources": [
                            {
                                "name": "widgets",
                                "singularName": "widget",
                                "namespaced": True,
                                "kind": "Widget",
                                "verbs": ["get", "list"],
                            }
                        ],
                    },
                )
            elif path.endswith("/widgets"):
                self._json(
                    200,
                    {
                        "kind": "WidgetList",
                        "apiVersion": f"{GROUP}/v1",
                        "metadata": {"resourceVersion": "1"},
                        "items": [],
                    },
                )
            else:
                self._json(
                    404,
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "reason": "NotFound",
                        "code": 404,
                    },
                )

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(serving.cert, serving.key)
    ctx.load_verify_locations(front_proxy_ca)
    ctx.verify_mode = ssl.CERT_OPTIONAL
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, ca.cert_pem()


@pytest.fixture
def aggregated_backend(
    tmp_path: Path, provider: Cluster, cluster_pair: ClusterPair
) -> Iterator[tuple[_Recorder, int]]:
    recorder = _Recorder()
    server, ca_pem = _serve_aggregated(tmp_path, cluster_pair.provider.front_proxy_ca_file, recorder)
    port = server.server_address[1]
    provider.apply(
        [
            {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "smoke-backend", "namespace": "kube-system"},
                "spec": {"type": "ExternalName", "externalName": "localhost"},
            },
            {
                "apiVersion": "apiregistration.k8s.io/v1",
                "kind": "APIService",
                "metadata": {"name": f"v1.{GROUP}"},
                "spec": {
                    "group": GROUP,
                    "version": "v1",
                    "groupPriorityMinimum": 1000,
                    "versionPriority": 15,
                    "service": {"name": "smoke-backend", "namespace": "kube-system", "port": port},
                    "caBundle": base64.b64encode(ca_pem).decode(),
                },
            },
        ]
    )
    try:
        yield recorder, port
    finally:
        provider.kubectl("delete", "apiservice", f"v1.{GROUP}", "--ignore-not-found")
        provider.kubectl("delete", "service", "-n", "kube-system", "smoke-backend", "--ignore-not-found")
        server.shutdown()


def test_aggregated_apiservice_gets_front_proxy_identity(
    provider: Cluster, aggregated_backend: tuple[_Recorder, int]
) -> None:
    recorder, _ = aggregated_backend
    wait_for(lambda: _available(provider), timeout=30, what="APIService Available=True")
    resp = provider.kubectl("get", "--raw", f"/apis/{GROUP}/v1/namespaces/default/widgets")
    assert json.loads(resp.stdout)["kind"] == "WidgetList"
    proxied = [
        r for r in recorder.requests if r["path"].startswith(f"/apis/{GROUP}/v1/namespaces/default/widgets")
    ]
    assert proxied, recorder.requests
    last = proxied[-1]
    assert last["cn"] == "front-proxy-client"  # verified against the requestheader CA
    assert last["user"] == "kube-bind-admin"
    assert "system:masters" in last["groups"] and "system:authenticated" in last["groups"]
    # kube-apiserver applies RBAC before proxying: an unprivileged token never reaches the backend.
    before = len(recorder.requests)
    core = kubernetes.client.CoreV1Api(provider.api())
    with provider.temporary_namespace("agg") as ns:
        core.create_namespaced_service_account(ns, {"metadata": {"name": "nobody"}})
        token = provider.create_token(ns, "nobody")
        denied = httpx.get(
            f"{provider.url}/apis/{GROUP}/v1/namespaces/{ns}/widgets",
            verify=tls(provider.ca_file),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert denied.status_code == 403
    time.sleep(0.2)
    assert not [r for r in recorder.requests[before:] if r["path"].endswith("/widgets")]


def _available(provider: Cluster) -> bool:
    out = provider.kubectl("get", "apiservice", f"v1.{GROUP}", "-o", "json").stdout
    conditions = json.loads(out).get("status", {}).get("conditions", [])
    return any(c["type"] == "Available" and c["status"] == "True" for c in conditions)


def test_pki_certificates_chain_to_their_own_ca(cluster_pair: ClusterPair) -> None:
    prov = cluster_pair.provider.apiserver.pki
    cert = x509.load_pem_x509_certificate(prov.front_proxy_client.cert_pem())
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "front-proxy-client"
    fp_ca = x509.load_pem_x509_certificate(prov.front_proxy_ca.cert_pem())
    cert.verify_directly_issued_by(fp_ca)
    cluster_ca = x509.load_pem_x509_certificate(prov.ca.cert_pem())
    with pytest.raises(ValueError):
        cert.verify_directly_issued_by(cluster_ca)
