"""Heartbeat on ``ClusterBinding cluster`` and the credential-rotation copy (reference §6.4).

Every ``heartbeat_interval / 2`` (and on ClusterBinding events):

1. Read the provider Secret named by ``spec.kubeconfigSecretRef``; missing → ``SecretValid=False
   ProviderSecretNotFound``, missing key → ``ProviderSecretInvalid``.
2. Copy its ``data``/``type`` over every consumer Secret this provider's bindings use, when they
   differ (the backend rotates the token there; the konnector's Secret watch then swaps the
   provider client's credentials in place). Unlike the reference, a missing consumer Secret is
   created with the right name and namespace.
3. Merge-patch ``status``: ``lastHeartbeatTime``, ``heartbeatInterval`` (Go duration format),
   ``konnectorVersion`` (+ ``ValidVersion``), ``consumerSecretRef``, conditions, ``Ready``.
4. Mark the bindings ``Heartbeating`` True/False (``ClusterBindingUpdateFailed``).
"""

from __future__ import annotations

import copy
import logging
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from konnector import committer, kinds
from kubebind.apis import conditions, constants
from kubebind.kube import errors
from kubebind.kube.client import PatchType
from kubebind.kube.resources import SECRETS, Object, ObjectKey

if TYPE_CHECKING:
    from konnector.provider import Provider

__all__ = ["format_duration", "parse_version", "reconcile"]

log = logging.getLogger(__name__)

_VERSION = re.compile(r"v?(\d+)\.(\d+)\.(\d+)")


def parse_version(text: str) -> str | None:
    """``vX.Y.Z`` from a version string (``1.2.3``, ``v1.2.3-dev``, ``…+kube-bind-v1.2.3``)."""
    tail = text.rsplit("kube-bind-", 1)[-1]
    match = _VERSION.search(tail)
    return f"v{match.group(1)}.{match.group(2)}.{match.group(3)}" if match else None


def format_duration(seconds: float) -> str:
    """Go ``time.Duration.String()`` for whole seconds/fractions: ``5m0s``, ``1h0m0s``, ``30s``, ``1.5s``."""
    total = float(seconds)
    hours = int(total // 3600)
    total -= hours * 3600
    minutes = int(total // 60)
    secs = total - minutes * 60
    sec_text = f"{secs:.9f}".rstrip("0").rstrip(".") if secs != int(secs) else str(int(secs))
    if hours:
        return f"{hours}h{minutes}m{sec_text}s"
    if minutes:
        return f"{minutes}m{sec_text}s"
    return f"{sec_text}s"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def _copy_secret(p: Provider, provider_secret: Object) -> None:
    for ref in sorted(p.secret_refs, key=lambda r: (r.namespace, r.name)):
        data = provider_secret.get("data") or {}
        stype = provider_secret.get("type") or "Opaque"
        try:
            current = await p.consumer.get(SECRETS, ref.name, namespace=ref.namespace)
        except errors.ApiError as exc:
            if not errors.is_not_found(exc):
                raise
            await p.consumer.create(
                SECRETS,
                {"metadata": {"name": ref.name, "namespace": ref.namespace}, "type": stype, "data": data},
                namespace=ref.namespace,
            )
            continue
        if current.get("data") == data and (current.get("type") or "Opaque") == stype:
            continue
        if (current.get("type") or "Opaque") != stype:
            log.warning("consumer secret type differs; not overwriting secret=%s/%s", ref.namespace, ref.name)
            continue
        body = copy.deepcopy(current)
        body["data"] = data
        await p.consumer.update(SECRETS, body, namespace=ref.namespace)
        log.info("copied rotated provider kubeconfig secret=%s/%s", ref.namespace, ref.name)


async def reconcile(p: Provider) -> None:
    interval = p.options.heartbeat_interval
    try:
        await _heartbeat(p)
    finally:
        p.heartbeat.enqueue_after("cluster", interval / 2)


async def _heartbeat(p: Provider) -> None:
    cb = p.cluster_bindings.get(ObjectKey(p.namespace, constants.CLUSTER_BINDING_NAME))
    if cb is None:
        try:
            cb = await p.client.get(
                kinds.CLUSTER_BINDINGS, constants.CLUSTER_BINDING_NAME, namespace=p.namespace
            )
        except errors.ApiError as exc:
            await _mark_bindings(p, False, f"ClusterBinding not readable: {exc.message}")
            p.metrics.heartbeats.labels("error").inc()
            raise
    status: dict[str, Any] = copy.deepcopy(cb.get("status") or {})
    holder: Object = {"status": status}
    ref = (cb.get("spec") or {}).get("kubeconfigSecretRef") or {}
    secret_name = str(ref.get("name") or constants.KUBECONFIG_SECRET_NAME)
    secret_key = str(ref.get("key") or constants.KUBECONFIG_SECRET_KEY)
    try:
        secret = await p.client.get(SECRETS, secret_name, namespace=p.namespace)
    except errors.ApiError as exc:
        if not (errors.is_not_found(exc) or errors.is_forbidden(exc)):
            raise
        conditions.mark_false(
            holder,
            constants.CONDITION_SECRET_VALID,
            constants.REASON_PROVIDER_SECRET_NOT_FOUND,
            constants.SEVERITY_WARNING,
            f"Provider secret {p.namespace}/{secret_name} not found: {exc.message}",
        )
        secret = None
    if secret is not None:
        if not (secret.get("data") or {}).get(secret_key):
            conditions.mark_false(
                holder,
                constants.CONDITION_SECRET_VALID,
                constants.REASON_PROVIDER_SECRET_INVALID,
                constants.SEVERITY_WARNING,
                f"Provider secret {p.namespace}/{secret_name} is missing key {secret_key!r}",
            )
        else:
            await _copy_secret(p, secret)
            conditions.mark_true(holder, constants.CONDITION_SECRET_VALID)
    if p.secret_refs:
        first = sorted(p.secret_refs, key=lambda r: (r.namespace, r.name))[0]
        status["consumerSecretRef"] = {"name": first.name, "namespace": first.namespace}
    status["heartbeatInterval"] = format_duration(p.options.heartbeat_interval)
    status["lastHeartbeatTime"] = _now()
    version = parse_version(p.options.version)
    if version:
        status["konnectorVersion"] = version
        conditions.mark_true(holder, constants.CONDITION_VALID_VERSION)
    else:
        status["konnectorVersion"] = "unknown"
        conditions.mark_false(
            holder,
            constants.CONDITION_VALID_VERSION,
            constants.REASON_PARSE_ERROR,
            constants.SEVERITY_WARNING,
            f"cannot parse konnector version {p.options.version!r}",
        )
    conditions.set_summary(holder)
    try:
        await p.client.patch(
            kinds.CLUSTER_BINDINGS,
            constants.CLUSTER_BINDING_NAME,
            {"status": status},
            namespace=p.namespace,
            subresource="status",
            patch_type=PatchType.MERGE,
        )
    except errors.ApiError as exc:
        p.metrics.heartbeats.labels("error").inc()
        await _mark_bindings(p, False, f"cannot update ClusterBinding status: {exc.message}")
        raise
    p.metrics.heartbeats.labels("ok").inc()
    await _mark_bindings(p, True, "")


async def _mark_bindings(p: Provider, ok: bool, message: str) -> None:
    def mutate(obj: Object) -> None:
        if ok:
            conditions.mark_true(obj, constants.CONDITION_HEARTBEATING)
        else:
            conditions.mark_false(
                obj,
                constants.CONDITION_HEARTBEATING,
                constants.REASON_CLUSTER_BINDING_UPDATE_FAILED,
                constants.SEVERITY_WARNING,
                message,
            )

    for name in sorted(p.bindings):
        binding = p.owner.bindings.get(ObjectKey("", name))
        if binding is None:
            continue
        if ok and conditions.is_true(binding, constants.CONDITION_HEARTBEATING):
            continue
        try:
            await committer.update_status(p.consumer, kinds.API_SERVICE_BINDINGS, name, mutate)
        except errors.ApiError as exc:
            log.info("cannot mark binding heartbeating binding=%s error=%s", name, exc.message)
