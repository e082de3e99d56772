"""``kubectl bind unbind NAME``: remove a binding on both sides.

1. Reads ``APIServiceBinding NAME`` and the provider kubeconfig its Secret holds.
2. Deletes ``APIServiceExportRequest NAME`` on the provider with that credential; the backend then
   removes the export, its RBAC and the synced copies (provider-side cleanup).
3. Deletes the APIServiceBinding and waits until it is gone (the konnector's finalizers remove the
   consumer-side CRD/objects it manages).
4. Deletes the konnector's per-binding ClusterRole/Binding, and the kubeconfig Secret once no other
   binding uses it (``--keep-secret`` keeps it).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import time

import httpx

from kubebind.apis import constants
from kubebind.kube import errors as kube_errors
from kubebind.kube.resources import SECRETS
from kubectl_bind import manifests, progress
from kubectl_bind.binder import API_SERVICE_BINDINGS, EXPORT_REQUESTS, ref_for
from kubectl_bind.clusters import api_errors, consumer_client, remote_client
from kubectl_bind.commands import common
from kubectl_bind.errors import CLIError, UsageError
from kubectl_bind.response import parse_kubeconfig


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "unbind",
        help="remove a binding on the consumer and the provider",
        description="Remove APIServiceBinding NAME: its request on the provider, the binding, "
        "the konnector's "
        "grants for it and (when unused) the provider kubeconfig Secret.",
    )
    p.add_argument("name", metavar="NAME", help="APIServiceBinding name")
    common.add_kube_flags(p)
    p.add_argument("--keep-secret", action="store_true", help="keep the provider kubeconfig Secret")
    p.add_argument(
        "--timeout", type=float, default=120.0, help="seconds to wait for the binding to go (default 120)"
    )
    p.add_argument("--no-wait", action="store_true", help="do not wait for the binding to be removed")
    p.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    async with consumer_client(args.kubeconfig, args.context) as client:
        async with api_errors(f"reading APIServiceBinding {args.name}"):
            try:
                binding = await client.get(API_SERVICE_BINDINGS, args.name)
            except kube_errors.NotFoundError as exc:
                raise CLIError(f"APIServiceBinding {args.name} not found on the consumer") from exc
        ref = (binding.get("spec") or {}).get("kubeconfigSecretRef") or {}
        secret_ns = ref.get("namespace") or constants.KONNECTOR_NAMESPACE
        secret_name = ref.get("name") or ""
        secret_key = ref.get("key") or constants.KUBECONFIG_SECRET_KEY

        # Provider side first, while the credential is still there.
        kubeconfig = None
        try:
            secret = await client.get(SECRETS, secret_name, namespace=secret_ns) if secret_name else None
            encoded = ((secret or {}).get("data") or {}).get(secret_key)
            if encoded:
                kubeconfig = parse_kubeconfig(base64.b64decode(encoded).decode())
        except (kube_errors.ApiError, CLIError, ValueError) as exc:
            progress.info(
                f"warning: cannot read the provider kubeconfig ({exc}); "
                "the provider side is left to the backend"
            )
        if kubeconfig is not None:
            async with remote_client(kubeconfig.data) as remote:
                try:
                    await remote.delete(EXPORT_REQUESTS, args.name, namespace=kubeconfig.namespace)
                    progress.info(f"deleted APIServiceExportRequest {args.name} on the provider")
                except kube_errors.NotFoundError:
                    pass
                except (kube_errors.ApiError, httpx.HTTPError, OSError) as exc:
                    progress.info(f"warning: could not delete the request on the provider: {exc}")

        async with api_errors(f"deleting APIServiceBinding {args.name}"):
            try:
                await client.delete(API_SERVICE_BINDINGS, args.name)
            except kube_errors.NotFoundError:
                pass
        if not args.no_wait:
            deadline = time.monotonic() + args.timeout
            with progress.waiting(f"waiting for APIServiceBinding {args.name} to be removed") as p:
                while True:
                    try:
                        current = await client.get(API_SERVICE_BINDINGS, args.name)
                    except kube_errors.NotFoundError:
                        break
                    finalizers = (current.get("metadata") or {}).get("finalizers") or []
                    p.update(f"finalizers: {', '.join(finalizers)}" if finalizers else "terminating")
                    if time.monotonic() > deadline:
                        raise CLIError(
                            f"APIServiceBinding {args.name} is still terminating after {args.timeout:.0f}s "
                            f"(finalizers {finalizers}); is the konnector running?"
                        )
                    await asyncio.sleep(0.5)

        for obj in manifests.binding_rbac(args.name, {}):
            try:
                await client.delete(ref_for(obj), obj["metadata"]["name"])
            except kube_errors.NotFoundError:
                pass

        if secret_name and not args.keep_secret:
            async with api_errors("listing APIServiceBindings"):
                others, _ = await client.list_all(API_SERVICE_BINDINGS)
            still_used = any(
                ((o.get("spec") or {}).get("kubeconfigSecretRef") or {}).get("name") == secret_name
                and ((o.get("spec") or {}).get("kubeconfigSecretRef") or {}).get("namespace") == secret_ns
                for o in others
                if (o.get("metadata") or {}).get("name") != args.name
            )
            if not still_used:
                try:
                    await client.delete(SECRETS, secret_name, namespace=secret_ns)
                    progress.info(f"deleted Secret {secret_ns}/{secret_name}")
                except kube_errors.NotFoundError:
                    pass
    progress.info(f"unbound {args.name}")
    return 0
