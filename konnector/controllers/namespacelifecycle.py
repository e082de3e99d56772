"""Namespace lifecycle between APIServiceNamespaces and consumer Namespaces (reference §6.10).

* Provider-owned APIServiceNamespace (label ``kube-bind.io/owner: provider``, pre-seeded by a
  template) → create the consumer Namespace of that name, labelled ``kube-bind.io/owner: provider``.
* Consumer-owned APIServiceNamespace whose consumer Namespace is gone → delete it (the backend then
  removes the provider namespace). Consumer Namespaces are never deleted.
Keyed by name: an APIServiceNamespace and its consumer Namespace share it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from konnector import kinds
from kubebind.apis import constants
from kubebind.kube import errors
from kubebind.kube.client import Preconditions
from kubebind.kube.resources import NAMESPACES, ObjectKey

if TYPE_CHECKING:
    from konnector.provider import Provider

__all__ = ["reconcile"]

log = logging.getLogger(__name__)


async def reconcile(p: Provider, name: str) -> None:
    sns = p.service_namespaces.get(ObjectKey(p.namespace, name))
    if sns is None or (sns.get("metadata") or {}).get("deletionTimestamp"):
        return
    labels = (sns.get("metadata") or {}).get("labels") or {}
    consumer_ns = p.owner.namespaces.get(ObjectKey("", name))
    if labels.get(constants.LABEL_OWNER) == constants.OWNER_PROVIDER:
        if consumer_ns is None:
            try:
                await p.consumer.create(
                    NAMESPACES,
                    {"metadata": {"name": name, "labels": {constants.LABEL_OWNER: constants.OWNER_PROVIDER}}},
                )
                log.info(
                    "created consumer namespace for provider-owned APIServiceNamespace namespace=%s", name
                )
            except errors.ApiError as exc:
                if not errors.is_already_exists(exc):
                    raise
        return
    if consumer_ns is None and p.owner.namespaces.has_synced():
        # Double-check on the server: never delete because of a lagging cache.
        try:
            await p.consumer.get(NAMESPACES, name)
            return
        except errors.ApiError as exc:
            if not errors.is_not_found(exc):
                raise
        try:
            await p.client.delete(
                kinds.API_SERVICE_NAMESPACES,
                name,
                namespace=p.namespace,
                preconditions=Preconditions(uid=str(sns["metadata"].get("uid") or "")),
            )
            log.info("deleted APIServiceNamespace of deleted consumer namespace namespace=%s", name)
        except errors.ApiError as exc:
            if not (errors.is_not_found(exc) or errors.is_conflict(exc)):
                raise
