"""Permission-claimed objects (Secrets, ConfigMaps, ServiceAccounts) synced both ways (reference §6.9).

An object is *claimed* when the claim's label selector matches, a named resource matches, or a
reference matches: some object of an exported resource in the consumer points at it through a
gjson-style path (``spec.secretName``, ``spec.credentials.#.name`` for arrays). Objects already
labelled ``kube-bind.io/owner`` are always considered.

Ownership decides the direction: ``owner=consumer`` objects are copied to the provider (into the
namespace assigned to the consumer namespace) and deleted there when deleted in the consumer;
``owner=provider`` objects are copied to the consumer and deleted there when deleted on the
provider. An unlabelled object that exists on one side only is owned by that side. Copies carry
the trace annotations; writes are plain create/update of the whole object (data included).
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
from collections.abc import Callable
from typing import Any

from konnector.engine.controller import Controller, Requeue
from konnector.engine.informer import Informer, MultiNamespaceInformer
from konnector.metrics import Metrics
from konnector.sync.isolation import NamespaceLookup
from kubebind.apis import constants
from kubebind.kube import errors
from kubebind.kube.client import ApiClient, Preconditions
from kubebind.kube.resources import Object, ObjectKey, ResourceRef, object_key
from kubebind.kube.selectors import LabelSelector

__all__ = ["ClaimSyncer", "claim_ref", "json_path_values"]

log = logging.getLogger(__name__)

_KINDS = {"configmaps": "ConfigMap", "secrets": "Secret", "serviceaccounts": "ServiceAccount"}
_SKIP_TOP = ("apiVersion", "kind", "metadata", "status")
_SKIP_META = (
    "uid",
    "resourceVersion",
    "managedFields",
    "creationTimestamp",
    "generation",
    "ownerReferences",
    "finalizers",
)

ReferenceSource = Callable[[str, str], list[Object] | None]


def claim_ref(claim: dict[str, Any]) -> ResourceRef:
    resource = str(claim.get("resource"))
    return ResourceRef(str(claim.get("group") or ""), "v1", resource, True, _KINDS.get(resource, ""))


def json_path_values(obj: Any, path: str) -> list[str]:
    """Values at a gjson-style dotted path; ``#`` fans out over arrays."""
    current: list[Any] = [obj]
    for part in [p for p in path.split(".") if p]:
        nxt: list[Any] = []
        for value in current:
            if part == "#":
                if isinstance(value, list):
                    nxt.extend(value)
            elif isinstance(value, dict) and part in value:
                nxt.append(value[part])
            elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
                nxt.append(value[int(part)])
        current = nxt
    out: list[str] = []
    for value in current:
        if isinstance(value, list):
            out.extend(str(v) for v in value if isinstance(v, str | int))
        elif isinstance(value, str | int):
            out.append(str(value))
    return out


class ClaimSyncer:
    def __init__(
        self,
        *,
        name: str,
        consumer: ApiClient,
        provider: ApiClient,
        claim: dict[str, Any],
        cluster_namespace: str,
        namespaces: NamespaceLookup,
        informer_scope: str,
        ensure_service_namespace: Callable[[str], object],
        metrics: Metrics,
        resync: float,
        references: ReferenceSource | None = None,
    ) -> None:
        self.name = name
        self.consumer = consumer
        self.provider = provider
        self.claim = claim
        self.ref = claim_ref(claim)
        self.cluster_namespace = cluster_namespace
        self.namespaces = namespaces
        self.ensure_service_namespace = ensure_service_namespace
        self.references = references
        #: Names of resource syncers whose consumer events re-check our references.
        self.attached: set[str] = set()
        selector = claim.get("selector") or {}
        self.label_selector = (
            LabelSelector.from_dict(selector.get("labelSelector")) if selector.get("labelSelector") else None
        )
        self.named = [(n.get("name"), n.get("namespace")) for n in selector.get("namedResources") or []]
        self.reference_rules = list(selector.get("references") or [])
        self.consumer_informer = Informer(
            consumer, self.ref, resync=resync, name=f"consumer-claim:{self.ref}", on_created=metrics.track
        )
        self.provider_informer: Informer | MultiNamespaceInformer
        if informer_scope == "Cluster":
            self.provider_informer = Informer(
                provider, self.ref, resync=resync, name=f"provider-claim:{self.ref}", on_created=metrics.track
            )
        else:
            self.provider_informer = MultiNamespaceInformer(
                lambda ns: Informer(
                    provider,
                    self.ref,
                    namespace=ns,
                    resync=resync,
                    name=f"provider-claim:{self.ref}@{ns}",
                    metric_name=f"provider-claim:{self.ref}",
                    on_created=metrics.track,
                )
            )
        self.controller: Controller[ObjectKey] = Controller(
            f"claims:{name}",
            self._reconcile,
            workers=2,
            metrics=metrics.queue_metrics,
            on_result=metrics.on_result,
        )

    # -- selection ---------------------------------------------------------------------------------

    def selected(self, obj: Object, consumer_ns: str) -> bool:
        meta = obj.get("metadata") or {}
        labels = meta.get("labels") or {}
        if constants.LABEL_OWNER in labels:
            return True
        name = meta.get("name")
        if (
            self.label_selector is not None
            and not self.label_selector.empty()
            and self.label_selector.matches(labels)
        ):
            return True
        for n, ns in self.named:
            if n == name and (not ns or ns == consumer_ns):
                return True
        for rule in self.reference_rules:
            if self._referenced(rule, str(name), consumer_ns):
                return True
        return False

    def _referenced(self, rule: dict[str, Any], name: str, consumer_ns: str) -> bool:
        if self.references is None:
            return False
        objs = self.references(str(rule.get("group") or ""), str(rule.get("resource")))
        if not objs:
            return False
        paths = rule.get("jsonPath") or {}
        for ref_obj in objs:
            if name not in json_path_values(ref_obj, str(paths.get("name") or "")):
                continue
            ns_path = paths.get("namespace")
            if ns_path:
                values = json_path_values(ref_obj, str(ns_path))
                if values and consumer_ns not in values:
                    continue
            elif (ref_obj.get("metadata") or {}).get("namespace") not in (None, "", consumer_ns):
                continue
            return True
        return False

    # -- events ------------------------------------------------------------------------------------

    def _on_consumer(self, event: str, obj: Object) -> None:
        self.controller.enqueue(object_key(obj))

    def _on_provider(self, event: str, obj: Object) -> None:
        meta = obj.get("metadata") or {}
        cns = self.namespaces.consumer_namespace(str(meta.get("namespace") or ""))
        if cns is not None:
            self.controller.enqueue(ObjectKey(cns, str(meta.get("name"))))

    def on_reference_change(self, event: str, obj: Object) -> None:
        """An exported object changed: re-check what its references point at."""
        ns = str((obj.get("metadata") or {}).get("namespace") or "")
        for rule in self.reference_rules:
            paths = rule.get("jsonPath") or {}
            for name in json_path_values(obj, str(paths.get("name") or "")):
                nss = (
                    json_path_values(obj, str(paths.get("namespace") or "")) if paths.get("namespace") else []
                )
                for target_ns in nss or [ns]:
                    if target_ns:
                        self.controller.enqueue(ObjectKey(target_ns, name))

    def service_namespaces_changed(self) -> None:
        if isinstance(self.provider_informer, MultiNamespaceInformer):
            self.provider_informer.set_namespaces(self.namespaces.provider_namespaces())
        for key in self.consumer_informer.keys():
            self.controller.enqueue(key)

    async def start(self) -> None:
        self.consumer_informer.add_handler(self._on_consumer)
        self.provider_informer.add_handler(self._on_provider)
        self.consumer_informer.start()
        self.provider_informer.start()
        self.service_namespaces_changed()
        await self.consumer_informer.wait_synced(60)
        await self.provider_informer.wait_synced(60)
        self.controller.start()

    def synced(self) -> bool:
        """Both informers have listed once."""
        return self.consumer_informer.has_synced() and self.provider_informer.has_synced()

    async def stop(self) -> None:
        await asyncio.gather(
            self.controller.stop(),
            self.consumer_informer.stop(),
            self.provider_informer.stop(),
            return_exceptions=True,
        )

    # -- reconcile ---------------------------------------------------------------------------------

    def _copy(self, src: Object, namespace: str, owner: str, trace: dict[str, str]) -> Object:
        meta = src.get("metadata") or {}
        labels = {
            k: v for k, v in (meta.get("labels") or {}).items() if "claimed.internal.apis.kcp.io" not in k
        }
        labels[constants.LABEL_OWNER] = owner
        annotations = {
            k: v
            for k, v in (meta.get("annotations") or {}).items()
            if "kcp.io/cluster" not in k
            and k
            not in (
                constants.ANNOTATION_CONSUMER_NAMESPACE,
                constants.ANNOTATION_CONSUMER_UID,
                constants.ANNOTATION_PROVIDER_NAMESPACE,
                constants.ANNOTATION_PROVIDER_UID,
            )
        }
        annotations.update(trace)
        body: Object = {
            "apiVersion": self.ref.api_version,
            "kind": self.ref.kind,
            "metadata": {
                "name": meta.get("name"),
                "namespace": namespace,
                "labels": labels,
                "annotations": annotations,
            },
        }
        for key, value in src.items():
            if key not in _SKIP_TOP:
                body[key] = copy.deepcopy(value)
        return body

    @staticmethod
    def _differs(desired: Object, current: Object) -> bool:
        for key, value in desired.items():
            if key == "metadata":
                continue
            if current.get(key) != value:
                return True
        cmeta = current.get("metadata") or {}
        for field in ("labels", "annotations"):
            cur = cmeta.get(field) or {}
            if any(cur.get(k) != v for k, v in (desired["metadata"].get(field) or {}).items()):
                return True
        return False

    async def _write(self, client: ApiClient, desired: Object, current: Object | None) -> None:
        ns = desired["metadata"]["namespace"]
        if current is None:
            try:
                await client.create(self.ref, desired, namespace=ns)
            except errors.ApiError as exc:
                if not errors.is_already_exists(exc):
                    raise
                raise Requeue(0.2, "claimed object appeared concurrently") from exc
            return
        if not self._differs(desired, current):
            return
        body = copy.deepcopy(current)
        for key, value in desired.items():
            if key == "metadata":
                continue
            body[key] = value
        body["metadata"].setdefault("labels", {}).update(desired["metadata"]["labels"])
        body["metadata"].setdefault("annotations", {}).update(desired["metadata"]["annotations"])
        for key in list(body):
            if key not in _SKIP_TOP and key not in desired:
                body.pop(key)
        await client.update(self.ref, body, namespace=ns)

    async def _delete(self, client: ApiClient, obj: Object) -> None:
        meta = obj.get("metadata") or {}
        try:
            await client.delete(
                self.ref,
                str(meta["name"]),
                namespace=meta.get("namespace"),
                preconditions=Preconditions(uid=meta.get("uid")),
            )
        except errors.ApiError as exc:
            if not (errors.is_not_found(exc) or errors.is_conflict(exc)):
                raise

    async def _reconcile(self, key: ObjectKey) -> None:
        cobj = self.consumer_informer.get(key)
        pns = self.namespaces.provider_namespace(key.namespace)
        if pns is None:
            if cobj is not None and self.selected(cobj, key.namespace):
                await _maybe_await(self.ensure_service_namespace(key.namespace))
                raise Requeue(0.5, "waiting for provider namespace")
            return
        pkey = ObjectKey(pns, key.name)
        pobj = self.provider_informer.get(pkey)
        plabels = ((pobj or {}).get("metadata") or {}).get("labels") or {}
        clabels = ((cobj or {}).get("metadata") or {}).get("labels") or {}
        owner = plabels.get(constants.LABEL_OWNER) or clabels.get(constants.LABEL_OWNER)
        if owner is None:
            if cobj is not None and pobj is None:
                owner = constants.OWNER_CONSUMER
            elif pobj is not None and cobj is None:
                owner = constants.OWNER_PROVIDER
            else:
                return  # both exist, neither labelled: not ours to decide
        if owner == constants.OWNER_CONSUMER:
            if cobj is None:
                if pobj is not None and plabels.get(constants.LABEL_OWNER) == constants.OWNER_CONSUMER:
                    await self._delete(self.provider, pobj)
                return
            if not self.selected(cobj, key.namespace):
                return
            if clabels.get(constants.LABEL_OWNER) != constants.OWNER_CONSUMER:
                meta = cobj["metadata"]
                cobj = await self.consumer.patch(
                    self.ref,
                    key.name,
                    {
                        "metadata": {
                            "labels": {constants.LABEL_OWNER: constants.OWNER_CONSUMER},
                            "resourceVersion": meta.get("resourceVersion"),
                        }
                    },
                    namespace=key.namespace,
                )
            cmeta = cobj.get("metadata") or {}
            desired = self._copy(
                cobj,
                pns,
                constants.OWNER_CONSUMER,
                {
                    constants.ANNOTATION_CONSUMER_NAMESPACE: key.namespace,
                    constants.ANNOTATION_CONSUMER_UID: str(cmeta.get("uid") or ""),
                },
            )
            await self._write(self.provider, desired, pobj)
            return
        # provider-owned
        if pobj is None:
            if cobj is not None and clabels.get(constants.LABEL_OWNER) == constants.OWNER_PROVIDER:
                await self._delete(self.consumer, cobj)
            return
        if not self.selected(pobj, key.namespace):
            return
        if plabels.get(constants.LABEL_OWNER) != constants.OWNER_PROVIDER:
            meta = pobj["metadata"]
            pobj = await self.provider.patch(
                self.ref,
                key.name,
                {
                    "metadata": {
                        "labels": {constants.LABEL_OWNER: constants.OWNER_PROVIDER},
                        "resourceVersion": meta.get("resourceVersion"),
                    }
                },
                namespace=pns,
            )
        pmeta = pobj.get("metadata") or {}
        desired = self._copy(
            pobj,
            key.namespace,
            constants.OWNER_PROVIDER,
            {
                constants.ANNOTATION_PROVIDER_NAMESPACE: pns,
                constants.ANNOTATION_PROVIDER_UID: str(pmeta.get("uid") or ""),
            },
        )
        await self._write(self.consumer, desired, cobj)


async def _maybe_await(value: object) -> None:
    if inspect.isawaitable(value):
        await value
