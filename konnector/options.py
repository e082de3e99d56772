"""Konnector options: command-line flags, each with a ``KUBE_BIND_*`` environment default.

Why one dataclass: ``main`` parses flags into :class:`Options`, tests build :class:`Options`
directly, and :class:`konnector.konnector.Konnector` only ever sees the validated result.
Defaults follow the reference (§6.1) except where design.md §4 asks for configurability
(heartbeat interval, resync period, QPS/burst).
"""

from __future__ import annotations

import argparse
import os
import random
import socket
from dataclasses import dataclass, field

__all__ = ["Options", "build_parser", "parse"]


def _env(name: str, default: str) -> str:
    return os.environ.get(f"KUBE_BIND_{name}", default)


@dataclass
class Options:
    kubeconfig: str | None = None
    context: str | None = None
    #: Namespace of the konnector's own Lease (and, by convention, kubeconfig Secrets).
    lease_namespace: str = "kube-system"
    lease_name: str = "kube-bind"
    identity: str = field(default_factory=lambda: f"{socket.gethostname()}-{random.randrange(1 << 30)}")
    leader_elect: bool = True
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    server_address: str = "127.0.0.1:8090"
    heartbeat_interval: float = 300.0
    resync_period: float = 1800.0
    provider_polling_interval: float = 15.0
    qps: float = 50.0
    burst: int = 100
    provider_qps: float = 50.0
    provider_burst: int = 100
    workers: int = 2
    #: HTTP/2 multiplexes every watch on one connection; off by default (see README: a stalled
    #: stream can then delay every request of that client).
    http2: bool = False
    sync_workers: int = 4
    install_crds: bool = True
    log_level: str = "INFO"
    log_format: str = "text"
    #: ``vX.Y.Z`` reported in ClusterBinding.status.konnectorVersion.
    version: str = ""

    def validate(self) -> None:
        if self.heartbeat_interval <= 0:
            raise ValueError("--heartbeat-interval must be positive")
        if self.resync_period < 0:
            raise ValueError("--resync-period must be >= 0")
        if self.qps <= 0 or self.burst <= 0 or self.provider_qps <= 0 or self.provider_burst <= 0:
            raise ValueError("--qps/--burst must be positive")
        if not (0 < self.retry_period * 1.2 < self.renew_deadline < self.lease_duration):
            raise ValueError(
                "need 0 < 1.2 x --leader-elect-retry-period < --leader-elect-renew-deadline"
                " < --leader-elect-lease-duration"
            )
        _host, sep, port = self.server_address.rpartition(":")
        if not sep or not port.isdigit():
            raise ValueError(f"--server-address must be host:port, got {self.server_address!r}")

    @property
    def server_host(self) -> str:
        host = self.server_address.rpartition(":")[0]
        return host or "0.0.0.0"

    @property
    def server_port(self) -> int:
        return int(self.server_address.rpartition(":")[2])


def _duration(text: str) -> float:
    """Seconds from ``90``, ``90s``, ``5m``, ``1h``, ``500ms`` or ``1m30s``."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    total = 0.0
    num = ""
    i = 0
    units = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    while i < len(text):
        ch = text[i]
        if ch.isdigit() or ch == ".":
            num += ch
            i += 1
            continue
        unit = "ms" if text[i : i + 2] == "ms" else ch
        if unit not in units or not num:
            raise argparse.ArgumentTypeError(f"invalid duration {text!r}")
        total += float(num) * units[unit]
        num = ""
        i += len(unit)
    if num:
        raise argparse.ArgumentTypeError(f"invalid duration {text!r} (missing unit)")
    return total


def build_parser() -> argparse.ArgumentParser:
    d = Options()
    p = argparse.ArgumentParser(
        prog="konnector",
        description=(
            "kube-bind konnector: runs in a consumer cluster, installs bound APIs and syncs their "
            "objects with the service provider. Every flag can also be set with the environment "
            "variable shown."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    add = p.add_argument
    add(
        "--kubeconfig",
        default=_env("KUBECONFIG", os.environ.get("KUBECONFIG", "")) or None,
        help="consumer kubeconfig (env KUBE_BIND_KUBECONFIG / KUBECONFIG); in-cluster config when unset",
    )
    add("--context", default=_env("CONTEXT", "") or None, help="kubeconfig context (env KUBE_BIND_CONTEXT)")
    add(
        "--lease-name", default=_env("LEASE_NAME", d.lease_name), help="Lease name (env KUBE_BIND_LEASE_NAME)"
    )
    add(
        "--lease-namespace",
        default=_env("LEASE_NAMESPACE", os.environ.get("POD_NAMESPACE", d.lease_namespace)),
        help="Lease namespace (env KUBE_BIND_LEASE_NAMESPACE, POD_NAMESPACE)",
    )
    add(
        "--identity",
        default=_env("IDENTITY", os.environ.get("POD_NAME", "")) or None,
        help="leader-election identity (env KUBE_BIND_IDENTITY, POD_NAME; default host name + random)",
    )
    add(
        "--leader-elect",
        default=_env("LEADER_ELECT", "true"),
        choices=["true", "false"],
        help="run leader election (env KUBE_BIND_LEADER_ELECT)",
    )
    add(
        "--leader-elect-lease-duration",
        type=_duration,
        default=_env("LEASE_DURATION", "15s"),
        help="Lease duration (env KUBE_BIND_LEASE_DURATION)",
    )
    add(
        "--leader-elect-renew-deadline",
        type=_duration,
        default=_env("RENEW_DEADLINE", "10s"),
        help="renew deadline (env KUBE_BIND_RENEW_DEADLINE)",
    )
    add(
        "--leader-elect-retry-period",
        type=_duration,
        default=_env("RETRY_PERIOD", "2s"),
        help="retry period (env KUBE_BIND_RETRY_PERIOD)",
    )
    add(
        "--server-address",
        default=_env("SERVER_ADDRESS", ":8090"),
        help="host:port for /healthz, /readyz and /metrics (env KUBE_BIND_SERVER_ADDRESS)",
    )
    add(
        "--heartbeat-interval",
        type=_duration,
        default=_env("HEARTBEAT_INTERVAL", "5m"),
        help="ClusterBinding heartbeat interval (env KUBE_BIND_HEARTBEAT_INTERVAL)",
    )
    add(
        "--resync-period",
        type=_duration,
        default=_env("RESYNC_PERIOD", "30m"),
        help="informer resync period, 0 disables (env KUBE_BIND_RESYNC_PERIOD)",
    )
    add(
        "--provider-polling-interval",
        type=_duration,
        default=_env("PROVIDER_POLLING_INTERVAL", "15s"),
        help="APIServiceBindingBundle export polling (env KUBE_BIND_PROVIDER_POLLING_INTERVAL)",
    )
    add(
        "--qps",
        type=float,
        default=float(_env("QPS", str(d.qps))),
        help="consumer client QPS (env KUBE_BIND_QPS)",
    )
    add(
        "--burst",
        type=int,
        default=int(_env("BURST", str(d.burst))),
        help="consumer client burst (env KUBE_BIND_BURST)",
    )
    add(
        "--provider-qps",
        type=float,
        default=float(_env("PROVIDER_QPS", str(d.provider_qps))),
        help="per-provider client QPS (env KUBE_BIND_PROVIDER_QPS)",
    )
    add(
        "--provider-burst",
        type=int,
        default=int(_env("PROVIDER_BURST", str(d.provider_burst))),
        help="per-provider client burst (env KUBE_BIND_PROVIDER_BURST)",
    )
    add(
        "--sync-workers",
        type=int,
        default=int(_env("SYNC_WORKERS", str(d.sync_workers))),
        help="workers per synced resource and direction (env KUBE_BIND_SYNC_WORKERS)",
    )
    add(
        "--http2",
        action="store_true",
        default=_env("HTTP2", "") == "true",
        help="use HTTP/2 to the API servers (env KUBE_BIND_HTTP2=true); off by default, see README",
    )
    add(
        "--no-install-crds",
        action="store_true",
        default=_env("NO_INSTALL_CRDS", "") == "true",
        help="do not install/update the consumer CRDs on start (env KUBE_BIND_NO_INSTALL_CRDS=true)",
    )
    add("--log-level", default=_env("LOG_LEVEL", d.log_level), help="log level (env KUBE_BIND_LOG_LEVEL)")
    add(
        "--log-format",
        default=_env("LOG_FORMAT", d.log_format),
        choices=["text", "json"],
        help="log format (env KUBE_BIND_LOG_FORMAT)",
    )
    return p


def parse(argv: list[str] | None = None) -> Options:
    args = build_parser().parse_args(argv)

    def dur(v: object) -> float:
        return v if isinstance(v, float) else _duration(str(v))

    opts = Options(
        kubeconfig=args.kubeconfig,
        context=args.context,
        lease_name=args.lease_name,
        lease_namespace=args.lease_namespace,
        leader_elect=args.leader_elect == "true",
        lease_duration=dur(args.leader_elect_lease_duration),
        renew_deadline=dur(args.leader_elect_renew_deadline),
        retry_period=dur(args.leader_elect_retry_period),
        server_address=args.server_address,
        heartbeat_interval=dur(args.heartbeat_interval),
        resync_period=dur(args.resync_period),
        provider_polling_interval=dur(args.provider_polling_interval),
        qps=args.qps,
        burst=args.burst,
        provider_qps=args.provider_qps,
        provider_burst=args.provider_burst,
        sync_workers=args.sync_workers,
        install_crds=not args.no_install_crds,
        http2=args.http2,
        log_level=args.log_level,
        log_format=args.log_format,
    )
    if args.identity:
        opts.identity = args.identity
    opts.validate()
    return opts
