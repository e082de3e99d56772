"""BindableResourcesRequest: body of ``POST /api/bind`` and a CRD of its own (reference §2.13, §3.5).

As a body the Go CLI sends it without apiVersion/kind and with ``creationTimestamp: null`` and
``status: {}``; the model accepts that. As a kind it is processed by the backend-only flow and
uses standard ``metav1.Condition`` s, not Cluster-API ones.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject, Time, k8s
from kubebind.apis.v1alpha2.common import ClusterIdentity, LocalSecretKeyRef, MetaCondition, Phase
from kubebind.apis.v1alpha2.template import TemplateReference

__all__ = ["BindableResourcesRequest", "BindableResourcesRequestSpec", "BindableResourcesRequestStatus"]


class BindableResourcesRequestSpec(KubeModel):
    template_ref: TemplateReference
    cluster_identity: ClusterIdentity
    author: str | None = None
    kubeconfig_secret_ref: LocalSecretKeyRef | None = None
    #: Go duration string.
    ttl_after_finished: str | None = None


class BindableResourcesRequestStatus(KubeModel):
    phase: Phase = Field(
        default=Phase.PENDING, json_schema_extra=k8s(default=Phase.PENDING.value, has_default=True)
    )
    namespace: str | None = None
    kubeconfig_secret_ref: LocalSecretKeyRef | None = None
    completion_time: Time | None = None
    conditions: list[MetaCondition] | None = None


class BindableResourcesRequest(KubeObject):
    KIND: ClassVar[str] = "BindableResourcesRequest"

    spec: BindableResourcesRequestSpec
    status: BindableResourcesRequestStatus | None = None
