"""APIServiceNamespace and ClusterBinding: per-consumer control objects on the provider
(reference §2.8, §2.9).

An APIServiceNamespace maps a consumer namespace (its name) to a provider namespace
(``status.namespace``, assigned by the backend). The ClusterBinding, always named ``cluster``, is
the konnector's heartbeat target and names the Secret that carries the consumer's kubeconfig
(the credential rotation channel).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject, Time, k8s
from kubebind.apis.v1alpha2.common import Condition, LocalSecretKeyRef, LocalSecretRef, RawExtension

__all__ = [
    "APIServiceNamespace",
    "APIServiceNamespaceSpec",
    "APIServiceNamespaceStatus",
    "ClusterBinding",
    "ClusterBindingSpec",
    "ClusterBindingStatus",
]


class APIServiceNamespaceSpec(KubeModel):
    """Empty by design."""


class APIServiceNamespaceStatus(KubeModel):
    namespace: str | None = None


class APIServiceNamespace(KubeObject):
    KIND: ClassVar[str] = "APIServiceNamespace"

    spec: APIServiceNamespaceSpec | None = None
    status: APIServiceNamespaceStatus | None = None


class ClusterBindingSpec(KubeModel):
    kubeconfig_secret_ref: LocalSecretKeyRef = Field(json_schema_extra=k8s(immutable=True))
    provider_pretty_name: str = Field(json_schema_extra=k8s(min_length=1))
    service_provider_spec: RawExtension | None = Field(
        default=None, json_schema_extra=k8s(preserve_unknown=True)
    )


class ClusterBindingStatus(KubeModel):
    last_heartbeat_time: Time | None = None
    #: Go duration string, e.g. "5m0s" (see ``kubebind.apis.duration``).
    heartbeat_interval: str | None = None
    konnector_version: str | None = None
    consumer_secret_ref: LocalSecretRef | None = None
    conditions: list[Condition] | None = None


#: CEL rule (on the CRD root) and message: the one ClusterBinding per namespace is named ``cluster``.
NAME_RULE = "self.metadata.name == 'cluster'"
NAME_MESSAGE = "ClusterBinding name must be 'cluster'"


class ClusterBinding(KubeObject):
    KIND: ClassVar[str] = "ClusterBinding"
    #: Extra CEL rules for the root of the CRD schema.
    ROOT_RULES: ClassVar[tuple[dict[str, str], ...]] = ({"rule": NAME_RULE, "message": NAME_MESSAGE},)

    spec: ClusterBindingSpec
    status: ClusterBindingStatus | None = None
