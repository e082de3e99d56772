"""Registry of the kube-bind kinds: names, scope, subresources, printer columns, model class.

Why: the aggregated API server (discovery, Table output), the CRD renderer
(``kubebind.apis.openapi``), the konnector (installing consumer CRDs) and clients all need the same
facts per kind. Keeping them in one table means ``kubectl get`` shows the same columns whether the
kind is served by our backend or as a CRD by a real apiserver (reference §2.0, §2.3-§2.13).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from kubebind.apis import constants
from kubebind.apis.v1alpha2 import (
    APIServiceBinding,
    APIServiceBindingBundle,
    APIServiceExport,
    APIServiceExportRequest,
    APIServiceExportTemplate,
    APIServiceNamespace,
    BindableResourcesRequest,
    BoundSchema,
    Cluster,
    ClusterBinding,
    Collection,
    KubeObject,
)

__all__ = [
    "ALL",
    "CONSUMER_KINDS",
    "PROVIDER_KINDS",
    "STATUS_VERBS",
    "VERBS",
    "PrinterColumn",
    "ResourceInfo",
    "Scope",
    "Side",
    "by_kind",
    "by_plural",
    "get",
]


#: Verbs every kube-bind kind supports (what a CRD advertises in discovery).
VERBS: tuple[str, ...] = ("delete", "deletecollection", "get", "list", "patch", "create", "update", "watch")
#: Verbs of the ``/status`` subresource.
STATUS_VERBS: tuple[str, ...] = ("get", "patch", "update")


class Scope(StrEnum):
    NAMESPACED = "Namespaced"
    CLUSTER = "Cluster"


class Side(StrEnum):
    """Which cluster holds the kind: the provider (served by our backend) or the consumer (CRD)."""

    PROVIDER = "provider"
    CONSUMER = "consumer"


@dataclass(frozen=True, slots=True)
class PrinterColumn:
    """One ``additionalPrinterColumns`` entry (also a Table column definition)."""

    name: str
    type: str
    json_path: str
    description: str = ""
    priority: int = 0
    format: str = ""

    def to_crd(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "type": self.type, "jsonPath": self.json_path}
        if self.description:
            out["description"] = self.description
        if self.priority:
            out["priority"] = self.priority
        if self.format:
            out["format"] = self.format
        return out


@dataclass(frozen=True, slots=True)
class ResourceInfo:
    kind: str
    plural: str
    singular: str
    scope: Scope
    side: Side
    model: type[KubeObject]
    categories: tuple[str, ...]
    short_names: tuple[str, ...] = ()
    status_subresource: bool = True
    printer_columns: tuple[PrinterColumn, ...] = field(default=())
    description: str = ""

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"

    @property
    def group(self) -> str:
        return constants.GROUP

    @property
    def version(self) -> str:
        return constants.VERSION

    @property
    def api_version(self) -> str:
        return constants.API_VERSION

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{constants.GROUP}"

    @property
    def namespaced(self) -> bool:
        return self.scope is Scope.NAMESPACED

    @property
    def verbs(self) -> tuple[str, ...]:
        """Discovery verbs: the full CRUD set, as for a CRD."""
        return VERBS


def _ready(name: str = "Ready") -> PrinterColumn:
    return PrinterColumn(
        name, "string", f'.status.conditions[?(@.type=="{constants.CONDITION_READY}")].status'
    )


_AGE = PrinterColumn(
    "Age",
    "date",
    ".metadata.creationTimestamp",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
)
_NS = Scope.NAMESPACED
_CL = Scope.CLUSTER
_BINDINGS = (constants.CATEGORY_KUBE_BINDINGS,)
_BIND = (constants.CATEGORY_KUBE_BIND,)

ALL: tuple[ResourceInfo, ...] = (
    ResourceInfo(
        kind="APIServiceExportTemplate",
        plural="apiserviceexporttemplates",
        singular="apiserviceexporttemplate",
        scope=_CL,
        side=Side.PROVIDER,
        model=APIServiceExportTemplate,
        categories=_BIND,
        printer_columns=(
            PrinterColumn("Resources", "string", ".spec.resources[*].group"),
            PrinterColumn("PermissionClaims", "string", ".spec.permissionClaims[*].resource"),
            _AGE,
        ),
        description="A catalog entry: resources and permission claims a consumer can bind.",
    ),
    ResourceInfo(
        kind="Collection",
        plural="collections",
        singular="collection",
        scope=_CL,
        side=Side.PROVIDER,
        model=Collection,
        categories=_BIND,
        printer_columns=(
            PrinterColumn("Description", "string", ".spec.description"),
            PrinterColumn("Templates", "string", ".spec.templates[*].name"),
            _AGE,
        ),
        description="A named group of APIServiceExportTemplates.",
    ),
    ResourceInfo(
        kind="Cluster",
        plural="clusters",
        singular="cluster",
        scope=_CL,
        side=Side.PROVIDER,
        model=Cluster,
        categories=_BIND,
        printer_columns=(_AGE,),
        description="The provider cluster anchor object (owner of OIDC RBAC).",
    ),
    ResourceInfo(
        kind="APIServiceExportRequest",
        plural="apiserviceexportrequests",
        singular="apiserviceexportrequest",
        scope=_NS,
        side=Side.PROVIDER,
        model=APIServiceExportRequest,
        categories=_BINDINGS,
        printer_columns=(_ready(), _AGE),
        description="A consumer's request to bind a set of resources.",
    ),
    ResourceInfo(
        kind="APIServiceExport",
        plural="apiserviceexports",
        singular="apiserviceexport",
        scope=_NS,
        side=Side.PROVIDER,
        model=APIServiceExport,
        categories=_BINDINGS,
        printer_columns=(
            PrinterColumn("Established", "string", '.status.conditions[?(@.type=="Established")].status'),
            _AGE,
        ),
        description="The exported resources a consumer's konnector syncs.",
    ),
    ResourceInfo(
        kind="BoundSchema",
        plural="boundschemas",
        singular="boundschema",
        scope=_NS,
        side=Side.PROVIDER,
        model=BoundSchema,
        categories=_BINDINGS,
        short_names=("bs",),
        printer_columns=(_AGE,),
        description="A snapshot of an exported CRD spec, installed on the consumer.",
    ),
    ResourceInfo(
        kind="APIServiceNamespace",
        plural="apiservicenamespaces",
        singular="apiservicenamespace",
        scope=_NS,
        side=Side.PROVIDER,
        model=APIServiceNamespace,
        categories=_BINDINGS,
        printer_columns=(PrinterColumn("Namespace", "string", ".status.namespace"), _AGE),
        description="Maps a consumer namespace to a provider namespace.",
    ),
    ResourceInfo(
        kind="ClusterBinding",
        plural="clusterbindings",
        singular="clusterbinding",
        scope=_NS,
        side=Side.PROVIDER,
        model=ClusterBinding,
        categories=_BINDINGS,
        printer_columns=(
            PrinterColumn("Konnector Version", "string", ".status.konnectorVersion"),
            PrinterColumn("Last Heartbeat", "date", ".status.lastHeartbeatTime"),
            _ready(),
            _AGE,
        ),
        description="The consumer cluster's binding (named cluster) in its cluster namespace.",
    ),
    ResourceInfo(
        kind="BindableResourcesRequest",
        plural="bindableresourcesrequests",
        singular="bindableresourcesrequest",
        scope=_NS,
        side=Side.PROVIDER,
        model=BindableResourcesRequest,
        categories=_BINDINGS,
        printer_columns=(
            PrinterColumn("Template", "string", ".spec.templateRef.name"),
            PrinterColumn("Phase", "string", ".status.phase"),
            _AGE,
        ),
        description="Backend-only binding request (also the body of POST /api/bind).",
    ),
    ResourceInfo(
        kind="APIServiceBinding",
        plural="apiservicebindings",
        singular="apiservicebinding",
        scope=_CL,
        side=Side.CONSUMER,
        model=APIServiceBinding,
        categories=_BINDINGS,
        short_names=("sb",),
        printer_columns=(
            PrinterColumn("Provider", "string", ".status.providerPrettyName"),
            PrinterColumn(
                "Resources", "string", ".metadata.annotations.kube-bind\\.io/resources", priority=1
            ),
            _ready(),
            PrinterColumn("Message", "string", '.status.conditions[?(@.type=="Ready")].message'),
            _AGE,
        ),
        description="Binds an APIServiceExport of a provider into this consumer cluster.",
    ),
    ResourceInfo(
        kind="APIServiceBindingBundle",
        plural="apiservicebindingbundles",
        singular="apiservicebindingbundle",
        scope=_CL,
        side=Side.CONSUMER,
        model=APIServiceBindingBundle,
        categories=_BINDINGS,
        short_names=("sbb",),
        printer_columns=(_ready(), _AGE),
        description="Creates one APIServiceBinding per APIServiceExport of a provider.",
    ),
)

_BY_PLURAL = {info.plural: info for info in ALL}
_BY_KIND = {info.kind: info for info in ALL}
_BY_LOWER_KIND = {info.kind.lower(): info for info in ALL}

PROVIDER_KINDS: tuple[ResourceInfo, ...] = tuple(i for i in ALL if i.side is Side.PROVIDER)
CONSUMER_KINDS: tuple[ResourceInfo, ...] = tuple(i for i in ALL if i.side is Side.CONSUMER)


def by_plural(plural: str) -> ResourceInfo:
    """Look up by plural resource name; raises ``KeyError`` for unknown names."""
    return _BY_PLURAL[plural]


def by_kind(kind: str) -> ResourceInfo:
    """Look up by Kind; raises ``KeyError`` for unknown kinds."""
    return _BY_KIND[kind]


def get(name: str) -> ResourceInfo | None:
    """Look up by kind, plural, singular, short name or ``<plural>.kube-bind.io``; ``None`` if unknown."""
    if name in _BY_KIND:
        return _BY_KIND[name]
    key = name.lower().removesuffix(f".{constants.GROUP}")
    if key in _BY_PLURAL:
        return _BY_PLURAL[key]
    if key in _BY_LOWER_KIND:
        return _BY_LOWER_KIND[key]
    for info in ALL:
        if key in info.short_names:
            return info
    return None
