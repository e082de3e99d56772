"""BoundSchema ⇄ CustomResourceDefinition, and the schema spec hash (reference §2.7, §5.3, §5.5, §6.5).

Why shared: the backend derives BoundSchemas from provider CRDs, the konnector turns them back
into consumer CRDs, and both compare hashes. Conversions work on plain dicts (what a dynamic
client returns) and accept models.

* :func:`crd_to_bound_schema_spec` copies group, names, scope, *all* versions (schema stored as
  ``{"openAPIV3Schema": …}``) and the conversion strategy; with isolation ``Namespaced`` a
  namespaced CRD becomes cluster-scoped for the consumer.
* :func:`bound_schema_to_crd` accepts ``versions[].schema`` either wrapped in ``openAPIV3Schema``
  (derived from a CRD) or bare JSONSchemaProps (derived from a kcp APIResourceSchema), names the
  CRD ``<plural>.<group>`` and makes the APIServiceBinding its controller owner.
* :func:`spec_hash` is the ``kube-bind.io/source-spec-hash`` value: hex SHA-256 over the canonical
  JSON (sorted keys, compact) of each spec followed by a newline, in resource order. It is stable
  across our components but deliberately not byte-identical to Go's encoder output, which nothing
  on the wire depends on (reference §12.C).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import BaseModel

from kubebind.apis import constants, naming
from kubebind.apis.v1alpha2 import base
from kubebind.apis.v1alpha2.boundschema import BoundSchema, BoundSchemaSpec
from kubebind.apis.v1alpha2.common import InformerScope, Isolation

__all__ = [
    "binding_owner_reference",
    "bound_schema_to_crd",
    "crd_to_bound_schema",
    "crd_to_bound_schema_spec",
    "first_served_version",
    "spec_hash",
    "version_schema",
]

_OPEN_API_V3_SCHEMA = "openAPIV3Schema"
_FALLBACK_SCHEMA: dict[str, Any] = {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def _as_dict(value: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(value, BaseModel):
        return base.to_dict(value)
    return copy.deepcopy(dict(value))


def version_schema(raw: Mapping[str, Any] | None) -> dict[str, Any]:
    """The JSONSchemaProps inside a BoundSchema version's raw ``schema``, wrapped or bare."""
    if not raw:
        return copy.deepcopy(_FALLBACK_SCHEMA)
    inner = raw.get(_OPEN_API_V3_SCHEMA) if _OPEN_API_V3_SCHEMA in raw else raw
    if not isinstance(inner, Mapping) or not inner:
        return copy.deepcopy(_FALLBACK_SCHEMA)
    return copy.deepcopy(dict(inner))


def binding_owner_reference(binding_name: str, binding_uid: str) -> dict[str, Any]:
    """Controller owner reference from a consumer CRD to its APIServiceBinding."""
    return {
        "apiVersion": constants.API_VERSION,
        "kind": "APIServiceBinding",
        "name": binding_name,
        "uid": binding_uid,
        "controller": True,
    }


def bound_schema_to_crd(
    bound_schema: BoundSchema | Mapping[str, Any], *, owner: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Consumer ``apiextensions.k8s.io/v1`` CRD for a BoundSchema (``owner``: an owner reference,
    see :func:`binding_owner_reference`)."""
    bs = _as_dict(bound_schema)
    spec = bs.get("spec") or {}
    names = copy.deepcopy(spec.get("names") or {})
    group = str(spec.get("group") or "")
    versions: list[dict[str, Any]] = []
    for ver in spec.get("versions") or []:
        out: dict[str, Any] = {
            "name": ver.get("name"),
            "served": bool(ver.get("served", True)),
            "storage": bool(ver.get("storage", False)),
            "schema": {_OPEN_API_V3_SCHEMA: version_schema(ver.get("schema"))},
        }
        if ver.get("deprecated"):
            out["deprecated"] = True
        if ver.get("deprecationWarning"):
            out["deprecationWarning"] = ver["deprecationWarning"]
        if ver.get("subresources"):
            out["subresources"] = copy.deepcopy(ver["subresources"])
        if ver.get("additionalPrinterColumns"):
            out["additionalPrinterColumns"] = copy.deepcopy(ver["additionalPrinterColumns"])
        versions.append(out)
    metadata: dict[str, Any] = {"name": naming.crd_name(str(names.get("plural") or ""), group)}
    if owner is not None:
        metadata["ownerReferences"] = [dict(owner)]
    crd_spec: dict[str, Any] = {
        "group": group,
        "names": names,
        "scope": spec.get("scope"),
        "versions": versions,
    }
    conversion = spec.get("conversion")
    if conversion:
        crd_spec["conversion"] = copy.deepcopy(conversion)
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": metadata,
        "spec": crd_spec,
    }


_NAME_KEYS = ("plural", "singular", "shortNames", "kind", "listKind", "categories")


def crd_to_bound_schema_spec(
    crd: Mapping[str, Any], *, informer_scope: InformerScope | str, isolation: Isolation | str | None = None
) -> BoundSchemaSpec:
    """BoundSchema spec from a provider CRD (all versions copied)."""
    spec = crd.get("spec") or {}
    scope = str(spec.get("scope") or "")
    if isolation == Isolation.NAMESPACED and scope == InformerScope.NAMESPACED:
        # The consumer sees the resource cluster-scoped; provider copies live in the cluster namespace.
        scope = InformerScope.CLUSTER.value
    names_in = spec.get("names") or {}
    names = {k: copy.deepcopy(names_in[k]) for k in _NAME_KEYS if names_in.get(k)}
    versions: list[dict[str, Any]] = []
    for ver in spec.get("versions") or []:
        out: dict[str, Any] = {
            "name": ver.get("name"),
            "served": bool(ver.get("served", False)),
            "storage": bool(ver.get("storage", False)),
        }
        for key in ("deprecated", "deprecationWarning", "subresources", "additionalPrinterColumns"):
            if ver.get(key):
                out[key] = copy.deepcopy(ver[key])
        raw_schema = (ver.get("schema") or {}).get(_OPEN_API_V3_SCHEMA)
        if raw_schema:
            out["schema"] = {_OPEN_API_V3_SCHEMA: copy.deepcopy(raw_schema)}
        versions.append(out)
    result: dict[str, Any] = {
        "informerScope": str(informer_scope),
        "group": spec.get("group"),
        "names": names,
        "scope": scope,
        "versions": versions,
    }
    conversion = spec.get("conversion")
    if isinstance(conversion, Mapping) and conversion.get("strategy"):
        conv: dict[str, Any] = {"strategy": conversion["strategy"]}
        webhook = conversion.get("webhook")
        if isinstance(webhook, Mapping):
            client = webhook.get("clientConfig") or {}
            hook: dict[str, Any] = {}
            client_out = {k: client[k] for k in ("url", "caBundle") if client.get(k)}
            if client_out:
                hook["clientConfig"] = client_out
            if webhook.get("conversionReviewVersions"):
                hook["conversionReviewVersions"] = list(webhook["conversionReviewVersions"])
            conv["webhook"] = hook
        result["conversion"] = conv
    return BoundSchemaSpec.model_validate(result)


def crd_to_bound_schema(
    crd: Mapping[str, Any],
    *,
    namespace: str,
    informer_scope: InformerScope | str,
    isolation: Isolation | str | None = None,
) -> BoundSchema:
    """A new BoundSchema ``<plural>.<group or core>`` in ``namespace`` with the spec-hash annotation."""
    spec = crd_to_bound_schema_spec(crd, informer_scope=informer_scope, isolation=isolation)
    name = naming.bound_schema_name(spec.names.plural, spec.group)
    return BoundSchema.model_validate(
        {
            "metadata": {
                "name": name,
                "namespace": namespace,
                "annotations": {constants.ANNOTATION_SOURCE_SPEC_HASH: spec_hash(spec)},
            },
            "spec": spec,
        }
    )


def _canonical(spec: BoundSchemaSpec | Mapping[str, Any]) -> str:
    model = spec if isinstance(spec, BoundSchemaSpec) else BoundSchemaSpec.model_validate(dict(spec))
    return json.dumps(base.to_dict(model), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def spec_hash(*specs: BoundSchemaSpec | Mapping[str, Any]) -> str:
    """``kube-bind.io/source-spec-hash`` of one BoundSchema spec, or of several in resource order
    (APIServiceExport). Dict and model forms of the same spec hash equal (defaults are applied)."""
    return _hash_all(specs)


def _hash_all(specs: Iterable[BoundSchemaSpec | Mapping[str, Any]]) -> str:
    digest = hashlib.sha256()
    for spec in specs:
        digest.update(_canonical(spec).encode("utf-8"))
        digest.update(b"\n")
    return digest.hexdigest()


def first_served_version(bound_schema: BoundSchema | Mapping[str, Any]) -> str | None:
    """The sync version: the first served version, as the konnector uses on both sides."""
    bs = _as_dict(bound_schema)
    for ver in (bs.get("spec") or {}).get("versions") or []:
        if ver.get("served", True):
            name = ver.get("name")
            return str(name) if name else None
    return None
