"""Credential minting for one consumer identity (reference §4.1-§4.2, design §2.6).

``Minter.bind`` ensures, in this order, with rollback of everything it created if a later step
fails (a failed bind leaves no orphan namespace or ServiceAccount):

1. the cluster namespace ``<prefix><base36(sha224(identity)[:8])>`` with identity/author
   annotations (an existing namespace of another identity is a conflict, never reused);
2. ``ClusterBinding cluster`` (kept if present; its Secret reference is honoured);
3. ServiceAccount ``kube-binder``; Role + RoleBinding ``kube-binder`` with the §4.2 rules confined
   to this namespace;
4. a TokenRequest token with the configured lifetime (not a legacy token Secret);
5. the kubeconfig, also written to the ClusterBinding's kubeconfig Secret with issue/expiry
   annotations that drive rotation.

Rebinding the same identity reuses the namespace and ServiceAccount and mints a fresh token.
:meth:`Minter.rotate` re-mints the token and rewrites the Secret; :meth:`Minter.unbind` revokes
(deleting the ServiceAccount invalidates every token it was issued at once) and removes all of
the consumer's objects.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from app.credentials import kubeconfig as kubeconfigs
from app.credentials import naming, rbac, refs
from kubebind.apis import constants
from kubebind.apis.v1alpha2 import format_time, parse_time
from kubebind.kube import ApiClient, errors
from kubebind.kube.resources import ResourceRef

__all__ = ["BindResult", "IdentityConflict", "Minter"]

log = logging.getLogger(__name__)


class IdentityConflict(Exception):
    """The namespace for this identity exists but belongs to someone else."""


@dataclass
class BindResult:
    namespace: str
    kubeconfig: bytes
    expires_at: datetime
    created_namespace: bool


@dataclass
class _Undo:
    steps: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)

    def push(self, step: Callable[[], Awaitable[Any]]) -> None:
        self.steps.append(step)

    async def run(self) -> None:
        for step in reversed(self.steps):
            try:
                await step()
            except errors.ApiError as exc:
                if not errors.is_not_found(exc):
                    log.warning("rollback step failed error=%s", exc)


class Minter:
    """Mints and revokes consumer credentials with the backend's provider client."""

    def __init__(
        self,
        client: ApiClient,
        *,
        target: kubeconfigs.KubeconfigTarget,
        prefix: str,
        pretty_name: str,
        lifetime: timedelta,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.client = client
        self.target = target
        self.prefix = prefix
        self.pretty_name = pretty_name
        self.lifetime = lifetime
        self.clock = clock

    def namespace_for(self, identity: str) -> str:
        return naming.cluster_namespace(identity, self.prefix)

    # -- bind -----------------------------------------------------------------------------------

    async def bind(self, *, identity: str, author: str, cluster_pretty_name: str) -> BindResult:
        undo = _Undo()
        try:
            ns, created = await self._ensure_namespace(identity, author, undo)
            secret_name, secret_key = await self._ensure_cluster_binding(
                ns, identity, author, cluster_pretty_name, undo
            )
            await self._ensure_service_account(ns, undo)
            await self._ensure_rbac(ns, secret_name, undo)
            kubeconfig, expires = await self._mint_and_store(ns, secret_name, secret_key, undo)
        except BaseException:
            await undo.run()
            raise
        log.info("bound consumer namespace=%s created=%s expires=%s", ns, created, format_time(expires))
        return BindResult(namespace=ns, kubeconfig=kubeconfig, expires_at=expires, created_namespace=created)

    async def _create(self, ref: ResourceRef, body: dict[str, Any], undo: _Undo) -> bool:
        """Create ``body``; True if created (and registered for rollback), False if it existed."""
        meta = body["metadata"]
        try:
            await self.client.create(ref, body)
        except errors.ApiError as exc:
            if errors.is_already_exists(exc):
                return False
            raise
        name, namespace = meta["name"], meta.get("namespace")
        undo.push(lambda: self.client.delete(ref, name, namespace=namespace))
        return True

    async def _ensure_namespace(self, identity: str, author: str, undo: _Undo) -> tuple[str, bool]:
        ns = self.namespace_for(identity)
        body = {
            "metadata": {
                "name": ns,
                "annotations": {constants.ANNOTATION_IDENTITY: identity, constants.ANNOTATION_AUTHOR: author},
                "labels": {naming.LABEL_MANAGED_BY: naming.MANAGED_BY_VALUE},
            }
        }
        if await self._create(refs.NAMESPACES, body, undo):
            return ns, True
        existing = await self.client.get(refs.NAMESPACES, ns)
        annotations = (existing.get("metadata") or {}).get("annotations") or {}
        owner = annotations.get(constants.ANNOTATION_IDENTITY) or annotations.get(
            constants.ANNOTATION_LEGACY_IDENTITY
        )
        if owner != identity:
            raise IdentityConflict(f"namespace {ns} exists and belongs to a different identity")
        if (existing.get("metadata") or {}).get("deletionTimestamp"):
            raise IdentityConflict(f"namespace {ns} is being deleted (unbind in progress); retry shortly")
        if constants.ANNOTATION_IDENTITY not in annotations:  # migrate the legacy annotation
            await self.client.patch(
                refs.NAMESPACES, ns, {"metadata": {"annotations": {constants.ANNOTATION_IDENTITY: identity}}}
            )
        return ns, False

    async def _ensure_cluster_binding(
        self, ns: str, identity: str, author: str, cluster_pretty_name: str, undo: _Undo
    ) -> tuple[str, str]:
        body = {
            "apiVersion": constants.API_VERSION,
            "kind": "ClusterBinding",
            "metadata": {
                "name": constants.CLUSTER_BINDING_NAME,
                "namespace": ns,
                "annotations": {
                    constants.ANNOTATION_IDENTITY: identity,
                    constants.ANNOTATION_AUTHOR: author,
                    constants.ANNOTATION_CLUSTER_PRETTY_NAME: cluster_pretty_name,
                },
            },
            "spec": {
                "kubeconfigSecretRef": {
                    "name": constants.KUBECONFIG_SECRET_NAME,
                    "key": constants.KUBECONFIG_SECRET_KEY,
                },
                "providerPrettyName": self.pretty_name,
            },
        }
        if await self._create(refs.CLUSTER_BINDINGS, body, undo):
            return constants.KUBECONFIG_SECRET_NAME, constants.KUBECONFIG_SECRET_KEY
        existing = await self.client.get(refs.CLUSTER_BINDINGS, constants.CLUSTER_BINDING_NAME, namespace=ns)
        ref = (existing.get("spec") or {}).get("kubeconfigSecretRef") or {}
        return (
            str(ref.get("name") or constants.KUBECONFIG_SECRET_NAME),
            str(ref.get("key") or constants.KUBECONFIG_SECRET_KEY),
        )

    async def _ensure_service_account(self, ns: str, undo: _Undo) -> None:
        await self._create(
            refs.SERVICE_ACCOUNTS, {"metadata": {"name": naming.BINDER_NAME, "namespace": ns}}, undo
        )

    async def _ensure_rbac(self, ns: str, secret_name: str, undo: _Undo) -> None:
        role = {
            "metadata": {"name": naming.BINDER_NAME, "namespace": ns},
            "rules": rbac.binder_rules(ns, secret_name),
        }
        if not await self._create(refs.ROLES, role, undo):
            await self.client.patch(refs.ROLES, naming.BINDER_NAME, {"rules": role["rules"]}, namespace=ns)
        binding = {
            "metadata": {"name": naming.BINDER_NAME, "namespace": ns},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": naming.BINDER_NAME},
            "subjects": [{"kind": "ServiceAccount", "name": naming.BINDER_NAME, "namespace": ns}],
        }
        if not await self._create(refs.ROLE_BINDINGS, binding, undo):
            await self.client.patch(
                refs.ROLE_BINDINGS, naming.BINDER_NAME, {"subjects": binding["subjects"]}, namespace=ns
            )

    # -- tokens ---------------------------------------------------------------------------------

    async def mint_token(self, ns: str) -> tuple[str, datetime]:
        """A TokenRequest token of the binder ServiceAccount and its real expiry."""
        body = {
            "apiVersion": "authentication.k8s.io/v1",
            "kind": "TokenRequest",
            "spec": {"expirationSeconds": int(self.lifetime.total_seconds())},
        }
        result = await self.client.create(
            refs.SERVICE_ACCOUNTS, body, namespace=ns, name=naming.BINDER_NAME, subresource="token"
        )
        status = result.get("status") or {}
        token = str(status.get("token") or "")
        if not token:
            raise RuntimeError("TokenRequest returned no token")
        expires = (
            parse_time(status["expirationTimestamp"])
            if status.get("expirationTimestamp")
            else (self.clock() + self.lifetime)
        )
        return token, expires

    async def _mint_and_store(
        self, ns: str, secret_name: str, secret_key: str, undo: _Undo | None
    ) -> tuple[bytes, datetime]:
        token, expires = await self.mint_token(ns)
        data = kubeconfigs.render(kubeconfigs.build(self.target, namespace=ns, token=token))
        await self._write_secret(ns, secret_name, secret_key, data, expires, undo)
        return data, expires

    async def _write_secret(
        self, ns: str, name: str, key: str, data: bytes, expires: datetime, undo: _Undo | None
    ) -> None:
        import base64

        annotations = {
            naming.ANNOTATION_TOKEN_ISSUED: format_time(self.clock()),
            naming.ANNOTATION_TOKEN_EXPIRES: format_time(expires),
        }
        body = {
            "metadata": {"name": name, "namespace": ns, "annotations": annotations},
            "type": "Opaque",
            "data": {key: base64.b64encode(data).decode()},
        }
        if undo is not None and await self._create(refs.SECRETS, body, undo):
            return
        if undo is None:
            with contextlib.suppress(errors.AlreadyExistsError):
                await self.client.create(refs.SECRETS, body)
                return
        await self.client.patch(
            refs.SECRETS, name, {"metadata": {"annotations": annotations}, "data": body["data"]}, namespace=ns
        )

    async def rotate(self, ns: str) -> datetime:
        """Mint a new token for ``ns`` and rewrite its kubeconfig Secret; returns the new expiry."""
        cb = await self.client.get(refs.CLUSTER_BINDINGS, constants.CLUSTER_BINDING_NAME, namespace=ns)
        ref = (cb.get("spec") or {}).get("kubeconfigSecretRef") or {}
        name = str(ref.get("name") or constants.KUBECONFIG_SECRET_NAME)
        key = str(ref.get("key") or constants.KUBECONFIG_SECRET_KEY)
        _, expires = await self._mint_and_store(ns, name, key, None)
        log.info("rotated consumer token namespace=%s expires=%s", ns, format_time(expires))
        return expires

    # -- unbind ---------------------------------------------------------------------------------

    async def unbind(self, ns: str) -> None:
        """Revoke and remove everything of the consumer whose cluster namespace is ``ns``.

        Order matters for "revoked at once": first every RoleBinding/ClusterRoleBinding naming the
        consumer's ServiceAccount (RBAC changes apply immediately, so each request is Forbidden from
        here on), then the ServiceAccount (its tokens stop authenticating once the apiserver's
        ~10 s token cache expires), then the namespaces with everything in them.
        """
        selector = {naming.LABEL_CLUSTER_NAMESPACE: ns}
        provider_namespaces, _ = await self.client.list_all(refs.NAMESPACES, label_selector=selector)
        for item in provider_namespaces:
            with contextlib.suppress(errors.NotFoundError):
                await self.client.delete(
                    refs.ROLE_BINDINGS, naming.EXPORTS_ROLE_NAME, namespace=item["metadata"]["name"]
                )
        for name in (naming.BINDER_NAME, naming.EXPORTS_ROLE_NAME):
            with contextlib.suppress(errors.NotFoundError):
                await self.client.delete(refs.ROLE_BINDINGS, name, namespace=ns)
        with contextlib.suppress(errors.NotFoundError):
            await self.client.delete_collection(refs.CLUSTER_ROLE_BINDINGS, label_selector=selector)
        with contextlib.suppress(errors.NotFoundError):
            await self.client.delete(refs.SERVICE_ACCOUNTS, naming.BINDER_NAME, namespace=ns)
        with contextlib.suppress(errors.NotFoundError):
            await self.client.delete_collection(refs.CLUSTER_ROLES, label_selector=selector)
        for item in provider_namespaces:
            with contextlib.suppress(errors.NotFoundError):
                await self.client.delete(refs.NAMESPACES, item["metadata"]["name"])
        with contextlib.suppress(errors.NotFoundError):
            await self.client.delete(refs.NAMESPACES, ns, propagation_policy="Background")
        log.info("unbound consumer namespace=%s provider_namespaces=%d", ns, len(provider_namespaces))
