"""Connecting to the consumer cluster (the user's kubeconfig) and to the provider (minted kubeconfig).

Why a module: every command that touches a cluster resolves ``--kubeconfig``/``--context`` the way
kubectl does (flag, then ``$KUBECONFIG``, then ``~/.kube/config``) and turns Kubernetes and network
failures into one-line :class:`~kubectl_bind.errors.CLIError` messages. The async client of
``kubebind.kube`` does the talking.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from kubebind.kube import ApiClient, ApiError, RestConfig, load_default, load_kubeconfig
from kubebind.kube.kubeconfig import ConfigError, load_kubeconfig_dict
from kubectl_bind.errors import CLIError

__all__ = ["USER_AGENT", "api_errors", "consumer_client", "load_consumer_config", "remote_client"]

USER_AGENT = "kubectl-bind-py"


def load_consumer_config(kubeconfig: str | None, context: str | None) -> RestConfig:
    try:
        if kubeconfig:
            return load_kubeconfig(kubeconfig, context=context)
        return load_default(context=context)
    except ConfigError as exc:
        if not kubeconfig and "not running in a cluster" in str(exc):
            raise CLIError(
                "no consumer kubeconfig: pass --kubeconfig, set KUBECONFIG, or create ~/.kube/config"
            ) from exc
        raise CLIError(f"consumer kubeconfig: {exc}") from exc


def consumer_client(kubeconfig: str | None, context: str | None) -> ApiClient:
    return ApiClient(load_consumer_config(kubeconfig, context), user_agent=USER_AGENT, http2=False)


def remote_client(kubeconfig: dict[str, Any]) -> ApiClient:
    """A client for the provider from a decoded (minted) kubeconfig."""
    try:
        return ApiClient(load_kubeconfig_dict(kubeconfig), user_agent=USER_AGENT, http2=False)
    except ConfigError as exc:
        raise CLIError(f"provider kubeconfig: {exc}") from exc


@contextlib.asynccontextmanager
async def api_errors(what: str) -> AsyncIterator[None]:
    """Turn ApiError and connection errors inside the block into ``CLIError("<what>: …")``."""
    try:
        yield
    except ApiError as exc:
        raise CLIError(f"{what}: {exc.message or exc.reason} (HTTP {exc.code})") from exc
    except httpx.HTTPError as exc:
        raise CLIError(f"{what}: {type(exc).__name__}: {exc}") from exc
