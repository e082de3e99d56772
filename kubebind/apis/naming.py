"""Names kube-bind derives rather than chooses (reference §4.1, §5.5, §5.6, §6.6).

Why in the shared package: the backend creates these objects and the konnector and CLI look them
up by the same rules; two implementations of a hash would split one consumer into two namespaces.

* consumer cluster namespace: ``<prefix>`` + lowercase base36 of the first 8 bytes of
  SHA-224(identity), where base36 treats the bytes as a big-endian integer and writes one leading
  ``0`` per leading zero byte (the Go ``base36.EncodeBytes`` convention);
* BoundSchema / resource-group name: ``<resource>.<group or "core">``;
* provider namespace for an APIServiceNamespace: ``<clusterNs>-<name>`` (``<name>`` under isolation
  None, where the Go backend shares it across consumers);
* Prefixed isolation object names: ``<clusterNs>-<name>``.
"""

from __future__ import annotations

import hashlib

from kubebind.apis import constants

__all__ = [
    "api_service_namespace_annotation",
    "base36_encode_bytes",
    "bound_schema_name",
    "cluster_namespace_hash",
    "cluster_namespace_name",
    "crd_name",
    "prefixed_name",
    "provider_namespace_name",
    "resource_group_name",
    "unprefixed_name",
]

_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def base36_encode_bytes(data: bytes) -> str:
    """Lowercase base36 of ``data`` as a big-endian integer, one ``0`` per leading zero byte."""
    zeros = len(data) - len(data.lstrip(b"\x00"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, rem = divmod(number, 36)
        digits.append(_DIGITS[rem])
    return "0" * zeros + "".join(reversed(digits))


def cluster_namespace_hash(identity: str) -> str:
    """The hash part of a consumer's cluster namespace name."""
    return base36_encode_bytes(hashlib.sha224(identity.encode("utf-8")).digest()[:8])


def cluster_namespace_name(identity: str, prefix: str = constants.DEFAULT_NAMESPACE_PREFIX) -> str:
    """Cluster (contract) namespace of a consumer identity, e.g. ``kube-bind-37p3oxx6sh4fd``."""
    return f"{prefix}{cluster_namespace_hash(identity)}"


def resource_group_name(resource: str, group: str) -> str:
    """``<resource>.<group>``, with ``core`` for the core group (Go ``ResourceGroupName``)."""
    return f"{resource}.{group or constants.CORE_GROUP_NAME}"


def bound_schema_name(resource: str, group: str) -> str:
    """Name of the BoundSchema for an exported resource (same as :func:`resource_group_name`)."""
    return resource_group_name(resource, group)


def crd_name(plural: str, group: str) -> str:
    """Name of a CustomResourceDefinition: ``<plural>.<group>``."""
    return f"{plural}.{group}"


def provider_namespace_name(cluster_namespace: str, name: str, *, shared: bool = False) -> str:
    """Provider namespace for APIServiceNamespace ``name`` in ``cluster_namespace``.

    ``shared=True`` reproduces the Go backend's isolation ``None`` mapping (the consumer namespace
    name itself); the default is the per-consumer ``<clusterNs>-<name>``.
    """
    return name if shared else f"{cluster_namespace}-{name}"


def api_service_namespace_annotation(cluster_namespace: str, name: str) -> str:
    """Value of ``kube-bind.io/api-service-namespace`` on the provider Namespace."""
    return f"{cluster_namespace}/{name}"


def prefixed_name(provider_namespace: str, name: str) -> str:
    """Provider name of a cluster-scoped consumer object under isolation ``Prefixed``."""
    return f"{provider_namespace}-{name}"


def unprefixed_name(provider_namespace: str, name: str) -> str | None:
    """Reverse of :func:`prefixed_name`; ``None`` when ``name`` does not carry the prefix."""
    prefix = f"{provider_namespace}-"
    if not name.startswith(prefix) or len(name) == len(prefix):
        return None
    return name[len(prefix) :]
