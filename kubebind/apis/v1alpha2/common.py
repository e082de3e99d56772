"""Sub-types shared by several kube-bind kinds (reference §2.1, §2.2).

Why one module: GroupResource, PermissionClaim, secret references and conditions appear in
templates, requests, exports and bindings alike; the backend copies them verbatim from one kind to
the next (template → request → export → binding status), so they must be the very same classes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, Time, k8s

__all__ = [
    "DNS_GROUP_PATTERN",
    "RESOURCE_PATTERN",
    "VERSION_PATTERN",
    "APIServiceExportResource",
    "ClusterIdentity",
    "ClusterSecretKeyRef",
    "Condition",
    "ConditionSeverity",
    "ConditionStatus",
    "GroupResource",
    "InformerScope",
    "Isolation",
    "LabelSelector",
    "LabelSelectorRequirement",
    "LocalSecretKeyRef",
    "LocalSecretRef",
    "MetaCondition",
    "NameObjectMeta",
    "NamedResource",
    "Namespace",
    "Owner",
    "PermissionClaim",
    "Phase",
    "SchemaUpdatePolicy",
    "Selector",
    "SelectorReference",
    "SelectorReferenceJSONPath",
]

#: ``GroupResource.resource``: a lowercase plural.
RESOURCE_PATTERN = r"^[a-z][-a-z0-9]*[a-z0-9]$"
#: ``GroupResource.group``: empty (core) or a DNS subdomain.
DNS_GROUP_PATTERN = r"^(|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)$"
#: ``APIResourceVersion.name`` (Kubernetes version names such as v1, v1alpha2).
VERSION_PATTERN = r"^v[1-9][0-9]*([a-z]+[1-9][0-9]*)?$"


class InformerScope(StrEnum):
    """Scope in which the konnector watches provider objects (also a template's scope)."""

    CLUSTER = "Cluster"
    NAMESPACED = "Namespaced"


class Isolation(StrEnum):
    """How cluster-scoped consumer objects are mapped on the provider (reference §6.6)."""

    PREFIXED = "Prefixed"
    NAMESPACED = "Namespaced"
    NONE = "None"


class SchemaUpdatePolicy(StrEnum):
    """Whether BoundSchemas follow later changes of the provider CRD."""

    NEVER = "Never"
    ALWAYS = "Always"


class Owner(StrEnum):
    """Value of the ``kube-bind.io/owner`` label."""

    PROVIDER = "provider"
    CONSUMER = "consumer"


class Phase(StrEnum):
    """Phase of APIServiceExportRequest and BindableResourcesRequest."""

    PENDING = "Pending"
    FAILED = "Failed"
    SUCCEEDED = "Succeeded"


class ConditionStatus(StrEnum):
    TRUE = "True"
    FALSE = "False"
    UNKNOWN = "Unknown"


class ConditionSeverity(StrEnum):
    """Cluster-API severity; only meaningful when status is False."""

    ERROR = "Error"
    WARNING = "Warning"
    INFO = "Info"
    NONE = ""


class Condition(KubeModel):
    """Cluster-API style condition used by all kube-bind kinds except BindableResourcesRequest."""

    type: str = Field(json_schema_extra=k8s(min_length=1))
    status: ConditionStatus
    severity: ConditionSeverity | None = None
    last_transition_time: Time
    reason: str | None = None
    message: str | None = None


class MetaCondition(KubeModel):
    """Standard ``metav1.Condition`` (BindableResourcesRequest only)."""

    type: str = Field(json_schema_extra=k8s(min_length=1))
    status: ConditionStatus
    observed_generation: int | None = None
    last_transition_time: Time
    reason: str
    message: str


class GroupResource(KubeModel):
    """A group and a plural resource name; ``group`` "" is the core group."""

    group: str = Field(
        default="", json_schema_extra=k8s(pattern=DNS_GROUP_PATTERN, default="", has_default=True)
    )
    resource: str = Field(json_schema_extra=k8s(pattern=RESOURCE_PATTERN))

    def __str__(self) -> str:
        # Go's GroupResource.String(): "resource.group", or just "resource" for the core group.
        return f"{self.resource}.{self.group}" if self.group else self.resource


class APIServiceExportResource(GroupResource):
    """GroupResource plus versions (empty means "provider chooses")."""

    versions: list[str] | None = None

    def resource_group_name(self) -> str:
        """``<resource>.<group or "core">``: the BoundSchema name for this resource."""
        return f"{self.resource}.{self.group or 'core'}"


class LabelSelectorRequirement(KubeModel):
    key: str
    operator: str
    values: list[str] | None = None


class LabelSelector(KubeModel):
    """``metav1.LabelSelector``."""

    match_labels: dict[str, str] | None = None
    match_expressions: list[LabelSelectorRequirement] | None = None


class NamedResource(KubeModel):
    name: str = Field(json_schema_extra=k8s(min_length=1))
    namespace: str | None = None


class SelectorReferenceJSONPath(KubeModel):
    """gjson paths (not Kubernetes JSONPath) into the referencing object."""

    name: str = Field(json_schema_extra=k8s(min_length=1))
    namespace: str | None = None


class SelectorReference(GroupResource):
    versions: list[str] | None = None
    json_path: SelectorReferenceJSONPath


class Selector(KubeModel):
    """Which objects a permission claim selects: the three kinds are ORed; empty selects nothing."""

    named_resources: list[NamedResource] | None = None
    label_selector: LabelSelector | None = None
    references: list[SelectorReference] | None = None


class PermissionClaim(GroupResource):
    selector: Selector


class Namespace(KubeModel):
    """A provider namespace to pre-seed."""

    name: str = Field(json_schema_extra=k8s(min_length=1))


class LocalSecretKeyRef(KubeModel):
    name: str = Field(json_schema_extra=k8s(min_length=1))
    key: str = Field(json_schema_extra=k8s(min_length=1))


class ClusterSecretKeyRef(LocalSecretKeyRef):
    namespace: str = Field(json_schema_extra=k8s(min_length=1))


class LocalSecretRef(KubeModel):
    name: str | None = None
    namespace: str | None = None


class ClusterIdentity(KubeModel):
    identity: str = Field(json_schema_extra=k8s(min_length=1))
    pretty_name: str | None = None


class NameObjectMeta(KubeModel):
    """Metadata of APIServiceExportRequestResponse: just a name."""

    name: str | None = None


#: Raw JSON (``runtime.RawExtension``) — any JSON object, kept verbatim.
RawExtension = dict[str, Any]
