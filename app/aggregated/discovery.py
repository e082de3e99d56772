"""API discovery: legacy ``/apis`` documents and aggregated discovery (apidiscovery.k8s.io/v2).

kube-apiserver's aggregator asks an aggregated server for
``application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList`` at ``/apis`` and merges
the answer into the cluster's aggregated discovery; without it, it falls back to the legacy
documents. Both are served here from the same kind registry, so verbs, short names, categories
and subresources always agree.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from kubebind.apis import constants, resources

VERBS = list(resources.VERBS)
STATUS_VERBS = list(resources.STATUS_VERBS)
AGGREGATED_V2 = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1 = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def _group_version() -> dict[str, str]:
    return {"groupVersion": constants.API_VERSION, "version": constants.VERSION}


def api_group() -> dict[str, Any]:
    return {
        "kind": "APIGroup",
        "apiVersion": "v1",
        "name": constants.GROUP,
        "versions": [_group_version()],
        "preferredVersion": _group_version(),
    }


def api_group_list() -> dict[str, Any]:
    group = api_group()
    del group["kind"], group["apiVersion"]
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group]}


def _storage_hash(info: resources.ResourceInfo) -> str:
    digest = hashlib.sha256(f"{constants.GROUP}/{constants.VERSION}/{info.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def api_resource_list(kinds: tuple[resources.ResourceInfo, ...]) -> dict[str, Any]:
    out: list[dict[str, Any]] = []
    for info in kinds:
        entry: dict[str, Any] = {
            "name": info.plural,
            "singularName": info.singular,
            "namespaced": info.namespaced,
            "kind": info.kind,
            "verbs": VERBS,
            "categories": list(info.categories),
            "storageVersionHash": _storage_hash(info),
        }
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        out.append(entry)
        if info.status_subresource:
            out.append(
                {
                    "name": f"{info.plural}/status",
                    "singularName": "",
                    "namespaced": info.namespaced,
                    "kind": info.kind,
                    "verbs": STATUS_VERBS,
                }
            )
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": constants.API_VERSION,
        "resources": out,
    }


def aggregated_discovery(kinds: tuple[resources.ResourceInfo, ...], version: str = "v2") -> dict[str, Any]:
    res: list[dict[str, Any]] = []
    for info in kinds:
        kind_ref = {"group": constants.GROUP, "version": constants.VERSION, "kind": info.kind}
        entry: dict[str, Any] = {
            "resource": info.plural,
            "responseKind": kind_ref,
            "scope": "Namespaced" if info.namespaced else "Cluster",
            "singularResource": info.singular,
            "verbs": VERBS,
            "categories": list(info.categories),
        }
        if info.short_names:
            entry["shortNames"] = list(info.short_names)
        if info.status_subresource:
            entry["subresources"] = [
                {"subresource": "status", "responseKind": kind_ref, "verbs": STATUS_VERBS}
            ]
        res.append(entry)
    return {
        "kind": "APIGroupDiscoveryList",
        "apiVersion": f"apidiscovery.k8s.io/{version}",
        "metadata": {},
        "items": [
            {
                "metadata": {"name": constants.GROUP},
                "versions": [{"version": constants.VERSION, "resources": res, "freshness": "Current"}],
            }
        ],
    }


def negotiate_aggregated(accept: str) -> str | None:
    """The aggregated-discovery version the client prefers (``v2``/``v2beta1``), or ``None``."""
    for part in accept.split(","):
        params: dict[str, str] = {}
        pieces = [p.strip() for p in part.split(";")]
        for p in pieces[1:]:
            if "=" in p:
                k, v = p.split("=", 1)
                params[k.strip()] = v.strip()
        if params.get("g") == "apidiscovery.k8s.io" and params.get("as") == "APIGroupDiscoveryList":
            if params.get("v") in ("v2", "v2beta1"):
                return params["v"]
        elif pieces[0] in ("application/json", "*/*"):
            return None
    return None
