"""Flags and helpers shared by several verbs (reference §7.1, §7.3).

``--kubeconfig``/``--context`` select the consumer cluster like kubectl; ``--server`` (``url`` or
``url@cluster``), ``--cluster``, ``--insecure-skip-tls-verify`` and ``--config-file`` select the
kube-bind backend and the stored login. Konnector and binding flags (``--skip-konnector``,
``--konnector-image``, ``--konnector-host-alias``, ``--cluster-identity``, ``--dry-run``, ``-o``)
are added only to the verbs that bind.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from kubebind.kube import ApiClient
from kubebind.kube import errors as kube_errors
from kubebind.kube.resources import NAMESPACES
from kubectl_bind import config as config_mod
from kubectl_bind import manifests, output
from kubectl_bind.backend import BackendClient
from kubectl_bind.binder import BinderOptions
from kubectl_bind.clusters import api_errors
from kubectl_bind.errors import CLIError, UsageError

__all__ = [
    "ResolvedServer",
    "add_bind_flags",
    "add_kube_flags",
    "add_output_flag",
    "add_server_flags",
    "binder_options",
    "cluster_identity",
    "open_backend",
    "resolve_server",
]

#: Root flags that take a value (used to find the verb behind leading flags).
VALUE_FLAGS = {
    "--kubeconfig",
    "--context",
    "--server",
    "--cluster",
    "--config-file",
    "--konnector-image",
    "--konnector-host-alias",
    "--cluster-identity",
    "--cluster-identity-namespace",
    "-o",
    "--output",
    "--timeout",
    "--certificate-authority",
}


def add_kube_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("consumer cluster")
    group.add_argument(
        "--kubeconfig", help="kubeconfig of the consumer cluster (default: $KUBECONFIG, ~/.kube/config)"
    )
    group.add_argument("--context", help="kubeconfig context to use")


def add_server_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("kube-bind backend")
    group.add_argument(
        "--server",
        default="",
        help="kube-bind backend URL (`url` or `url@cluster`); default: the current login",
    )
    group.add_argument("--cluster", default="", help="backend cluster id (multi-cluster backends)")
    group.add_argument(
        "--insecure-skip-tls-verify", action="store_true", help="do not verify the backend's TLS certificate"
    )
    group.add_argument(
        "--config-file", default="", help="kube-bind config file (default: ~/.kube-bind/config)"
    )
    group.add_argument(
        "--certificate-authority", default="", help="PEM file to trust for the backend's TLS certificate"
    )


def add_output_flag(parser: argparse.ArgumentParser, default: str = "table") -> None:
    parser.add_argument(
        "-o", "--output", default=default, choices=output.FORMATS, help="output format (default %(default)s)"
    )


def add_bind_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("binding")
    group.add_argument(
        "--skip-konnector", action="store_true", help="do not deploy the konnector (it is managed elsewhere)"
    )
    group.add_argument(
        "--konnector-image",
        default="",
        help=f"konnector image to deploy (default {manifests.DEFAULT_KONNECTOR_IMAGE})",
    )
    group.add_argument(
        "--konnector-host-alias",
        action="append",
        default=[],
        metavar="IP:HOST[,HOST]",
        help="host alias for the konnector pods (repeatable)",
    )
    group.add_argument(
        "--cluster-identity", default="", help="consumer identity (default: UID of the kube-system namespace)"
    )
    group.add_argument(
        "--cluster-identity-namespace",
        default="kube-system",
        help="namespace whose UID is the identity (default %(default)s)",
    )
    group.add_argument(
        "-d",
        "--dry-run",
        action="store_true",
        help="touch no cluster: print every object that would be created (YAML)",
    )
    group.add_argument(
        "--timeout",
        type=float,
        default=600.0,
        help="seconds to wait for the provider to accept a request (default 600)",
    )


def binder_options(args: argparse.Namespace) -> BinderOptions:
    for alias in args.konnector_host_alias:
        try:
            manifests.parse_host_alias(alias)
        except ValueError as exc:
            raise UsageError(str(exc)) from exc
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    return BinderOptions(
        skip_konnector=args.skip_konnector,
        konnector_image=args.konnector_image,
        host_aliases=list(args.konnector_host_alias),
        request_timeout=args.timeout,
    )


@dataclass
class ResolvedServer:
    config: config_mod.Config
    url: str
    cluster: str
    server: config_mod.Server | None


def load_config(args: argparse.Namespace) -> config_mod.Config:
    path = Path(args.config_file).expanduser() if getattr(args, "config_file", "") else None
    return config_mod.Config.load(path)


def resolve_server(args: argparse.Namespace, url: str = "", *, require_login: bool = True) -> ResolvedServer:
    """Backend URL + stored login from ``url``/``--server``/``--cluster`` or the current login."""
    cfg = load_config(args)
    cluster = args.cluster
    raw = url or args.server
    if raw:
        base, at_cluster = config_mod.split_server(raw)
        cluster = cluster or at_cluster
        server = cfg.servers.get(config_mod.server_key(base, cluster))
        if server is None and require_login:
            raise CLIError(
                f"not logged in to {config_mod.server_key(base, cluster)}: run `kubectl bind login {base}`"
            )
        return ResolvedServer(cfg, base, cluster, server)
    if not require_login and (not cfg.current or cfg.current not in cfg.servers):
        raise UsageError("no kube-bind server given: pass the backend URL or log in first")
    server = cfg.lookup()
    return ResolvedServer(cfg, server.url, server.cluster, server)


def open_backend(args: argparse.Namespace, resolved: ResolvedServer) -> BackendClient:
    return BackendClient(
        resolved.url,
        server=resolved.server,
        insecure_skip_tls_verify=args.insecure_skip_tls_verify,
        certificate_authority=args.certificate_authority,
    )


async def cluster_identity(client: ApiClient, namespace: str = "kube-system") -> str:
    """The consumer's identity: the UID of its ``kube-system`` namespace."""
    async with api_errors(f"reading namespace {namespace} on the consumer"):
        try:
            ns = await client.get(NAMESPACES, namespace)
        except kube_errors.NotFoundError as exc:
            raise CLIError(f"namespace {namespace} not found on the consumer") from exc
    uid = str((ns.get("metadata") or {}).get("uid") or "")
    if not uid:
        raise CLIError(f"namespace {namespace} has no UID")
    return uid
