"""Prometheus metrics of the service side, registered on a registry passed in (never at import time)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram

__all__ = ["ServiceMetrics"]

_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class ServiceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry
        self.logins = Counter(
            "kube_bind_logins_total",
            "Completed OIDC logins by client type and outcome.",
            ["client_type", "outcome"],
            registry=registry,
        )
        self.binds = Counter(
            "kube_bind_binds_total", "POST /api/bind by outcome.", ["outcome"], registry=registry
        )
        self.bind_latency = Histogram(
            "kube_bind_bind_duration_seconds",
            "Credential minting latency of successful binds.",
            buckets=_BUCKETS,
            registry=registry,
        )
        self.rotations = Counter(
            "kube_bind_credential_rotations_total",
            "Consumer tokens re-minted before expiry.",
            registry=registry,
        )
        self.unbinds = Counter("kube_bind_unbinds_total", "Consumers unbound.", registry=registry)
