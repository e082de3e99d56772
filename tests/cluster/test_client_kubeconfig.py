"""Kubeconfig TLS and identity options against a real apiserver: CA and client certificate from
files relative to the kubeconfig, tls-server-name (accepted when in the serving certificate's SANs,
rejected otherwise), insecure-skip-tls-verify, an untrusted server, and a token file."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubebind.kube import client as kclient
from kubebind.kube import errors, kubeconfig
from kubebind.kube.resources import SERVICE_ACCOUNTS, ResourceRef
from tests.harness import Cluster

pytestmark = [pytest.mark.cluster, pytest.mark.timeout(60)]

SELF_SUBJECT_REVIEWS = ResourceRef(
    "authentication.k8s.io", "v1", "selfsubjectreviews", namespaced=False, kind="SelfSubjectReview"
)


def admin_config(cluster: Cluster) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(Path(cluster.kubeconfig).read_text())
    return config


async def whoami(api: kclient.ApiClient) -> str:
    review = await api.create(SELF_SUBJECT_REVIEWS, {})
    return str(review["status"]["userInfo"]["username"])


async def test_files_relative_to_the_kubeconfig(provider: Cluster, tmp_path: Path) -> None:
    config = admin_config(provider)
    cluster = config["clusters"][0]["cluster"]
    user = config["users"][0]["user"]
    (tmp_path / "pki").mkdir()
    (tmp_path / "pki" / "ca.crt").write_bytes(base64.b64decode(cluster.pop("certificate-authority-data")))
    if "client-certificate-data" not in user:
        pytest.fail("the admin kubeconfig is expected to use a client certificate")
    (tmp_path / "pki" / "admin.crt").write_bytes(base64.b64decode(user.pop("client-certificate-data")))
    (tmp_path / "pki" / "admin.key").write_bytes(base64.b64decode(user.pop("client-key-data")))
    cluster["certificate-authority"] = "pki/ca.crt"
    user["client-certificate"] = "pki/admin.crt"
    user["client-key"] = "pki/admin.key"
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    async with kclient.ApiClient.from_kubeconfig(path) as api:
        assert await whoami(api) != ""


@pytest.mark.parametrize(
    ("server_name", "accepted"), [("kubernetes.default.svc", True), ("wrong.example", False)]
)
async def test_tls_server_name(provider: Cluster, server_name: str, accepted: bool) -> None:
    config = admin_config(provider)
    config["clusters"][0]["cluster"]["tls-server-name"] = server_name
    async with kclient.ApiClient.from_kubeconfig(config) as api:
        if accepted:
            assert (await api.server_version())["major"] == "1"
        else:
            with pytest.raises(httpx.ConnectError, match=r"(?i)certificate|hostname"):
                await api.server_version()


async def test_untrusted_server_is_refused_unless_verification_is_skipped(provider: Cluster) -> None:
    config = admin_config(provider)
    del config["clusters"][0]["cluster"]["certificate-authority-data"]
    async with kclient.ApiClient.from_kubeconfig(config) as api:
        with pytest.raises(httpx.ConnectError):
            await api.server_version()
    config["clusters"][0]["cluster"]["insecure-skip-tls-verify"] = True
    async with kclient.ApiClient.from_kubeconfig(config) as api:
        assert (await api.server_version())["major"] == "1"


async def test_token_file_user(provider: Cluster, provider_namespace: str, tmp_path: Path) -> None:
    async with kclient.ApiClient.from_kubeconfig(provider.kubeconfig) as admin:
        await admin.create(SERVICE_ACCOUNTS, {"metadata": {"name": "filer"}}, namespace=provider_namespace)
    token = provider.create_token(provider_namespace, "filer", seconds=600)
    (tmp_path / "token").write_text(token + "\n")
    config = admin_config(provider)
    config["users"][0]["user"] = {"tokenFile": "token"}
    config["contexts"][0]["context"]["namespace"] = provider_namespace
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    rest = kubeconfig.load_kubeconfig(path)
    assert rest.namespace == provider_namespace
    async with kclient.ApiClient(rest) as api:
        assert await whoami(api) == f"system:serviceaccount:{provider_namespace}:filer"
        with pytest.raises(errors.ForbiddenError):
            await api.list(SERVICE_ACCOUNTS)  # all namespaces: no RBAC granted to this account
