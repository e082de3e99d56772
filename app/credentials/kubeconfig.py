"""The kubeconfig handed to a consumer (reference Appendix A shape).

One cluster/context/user all named ``default``; the context namespace is the consumer's cluster
namespace, which is how the Go konnector and CLI learn where their objects live (§12.A.4, §12.B.1).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import yaml

__all__ = ["KubeconfigTarget", "build", "render"]


@dataclass(frozen=True)
class KubeconfigTarget:
    """Where minted kubeconfigs point: the provider API as consumers reach it."""

    server: str
    ca_pem: bytes | None
    tls_server_name: str = ""


def build(target: KubeconfigTarget, *, namespace: str, token: str) -> dict[str, Any]:
    cluster: dict[str, Any] = {"server": target.server}
    if target.ca_pem:
        cluster["certificate-authority-data"] = base64.b64encode(target.ca_pem).decode()
    if target.tls_server_name:
        cluster["tls-server-name"] = target.tls_server_name
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "default", "cluster": cluster}],
        "contexts": [
            {"name": "default", "context": {"cluster": "default", "user": "default", "namespace": namespace}}
        ],
        "users": [{"name": "default", "user": {"token": token}}],
        "current-context": "default",
        "preferences": {},
    }


def render(config: dict[str, Any]) -> bytes:
    return yaml.safe_dump(config, sort_keys=False).encode()
