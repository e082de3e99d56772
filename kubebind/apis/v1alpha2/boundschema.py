"""BoundSchema: a snapshot of one exported CRD's spec (reference §2.7).

Lives in the consumer's cluster namespace, named ``<resource>.<group or core>``. The konnector
installs it as a consumer CRD; ``versions[].schema`` is raw JSON that is either
``{"openAPIV3Schema": {...}}`` or a bare JSONSchemaProps (see ``kubebind.apis.boundschema``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from kubebind.apis.v1alpha2.base import KubeModel, KubeObject, k8s
from kubebind.apis.v1alpha2.common import VERSION_PATTERN, Condition, InformerScope, RawExtension

__all__ = [
    "APIResourceVersion",
    "BoundSchema",
    "BoundSchemaSpec",
    "BoundSchemaStatus",
    "CRDNames",
    "ConversionStrategy",
    "CustomResourceColumnDefinition",
    "CustomResourceConversion",
    "CustomResourceSubresourceScale",
    "CustomResourceSubresources",
    "WebhookClientConfig",
    "WebhookConversion",
]


#: CEL rule and message: ``conversion.webhook`` is set if and only if the strategy is Webhook.
WEBHOOK_RULE = "self.strategy == 'Webhook' ? has(self.webhook) : !has(self.webhook)"
WEBHOOK_MESSAGE = "webhook must be set if and only if strategy is Webhook"


class ConversionStrategy(StrEnum):
    NONE = "None"
    WEBHOOK = "Webhook"


class CRDNames(KubeModel):
    """``apiextensions/v1 CustomResourceDefinitionNames``."""

    plural: str = Field(json_schema_extra=k8s(min_length=1))
    singular: str | None = None
    short_names: list[str] | None = None
    kind: str = Field(json_schema_extra=k8s(min_length=1))
    list_kind: str | None = None
    categories: list[str] | None = None


class CustomResourceSubresourceScale(KubeModel):
    spec_replicas_path: str
    status_replicas_path: str
    label_selector_path: str | None = None


class CustomResourceSubresources(KubeModel):
    status: dict[str, Any] | None = Field(default=None, json_schema_extra=k8s(preserve_unknown=True))
    scale: CustomResourceSubresourceScale | None = None


class CustomResourceColumnDefinition(KubeModel):
    name: str
    type: str
    format: str | None = None
    description: str | None = None
    priority: int | None = None
    json_path: str


class APIResourceVersion(KubeModel):
    name: str = Field(json_schema_extra=k8s(pattern=VERSION_PATTERN))
    served: bool = Field(default=True, json_schema_extra=k8s(default=True, has_default=True))
    storage: bool = False
    deprecated: bool | None = None
    deprecation_warning: str | None = None
    schema_: RawExtension | None = Field(
        default=None, alias="schema", json_schema_extra=k8s(preserve_unknown=True)
    )
    subresources: CustomResourceSubresources | None = None
    additional_printer_columns: list[CustomResourceColumnDefinition] | None = None


class WebhookClientConfig(KubeModel):
    url: str | None = None
    ca_bundle: str | None = Field(default=None, json_schema_extra=k8s(fmt="byte"))


class WebhookConversion(KubeModel):
    client_config: WebhookClientConfig | None = None
    conversion_review_versions: list[str] | None = None


class CustomResourceConversion(KubeModel):
    strategy: ConversionStrategy
    webhook: WebhookConversion | None = None


class BoundSchemaSpec(KubeModel):
    """``informerScope`` plus the inlined CRD spec (``APICRDSpec``)."""

    informer_scope: InformerScope
    group: str = Field(json_schema_extra=k8s(min_length=1))
    names: CRDNames
    scope: InformerScope
    versions: list[APIResourceVersion] = Field(
        json_schema_extra=k8s(min_items=1, list_type="map", list_map_keys=["name"])
    )
    conversion: CustomResourceConversion | None = Field(
        default=None, json_schema_extra=k8s(rules=[{"rule": WEBHOOK_RULE, "message": WEBHOOK_MESSAGE}])
    )


class BoundSchemaStatus(KubeModel):
    accepted_names: CRDNames | None = None
    stored_versions: list[str] | None = None
    conditions: list[Condition] | None = None
    instantiations: int | None = None


class BoundSchema(KubeObject):
    KIND: ClassVar[str] = "BoundSchema"

    spec: BoundSchemaSpec
    status: BoundSchemaStatus | None = None
