"""Async Kubernetes API client: kubeconfig loading, requests, watches, typed errors, throttling.

Import modules, not names (``from kubebind.kube import client, errors``); this ``__init__``
re-exports the handful of names every caller needs, and is the one exception.
"""

from kubebind.kube.client import ApiClient, PatchType, Preconditions, Watch, WatchEvent
from kubebind.kube.errors import ApiError, GoneError
from kubebind.kube.kubeconfig import RestConfig, load_default, load_incluster_config, load_kubeconfig
from kubebind.kube.metrics import PrometheusRequestMetrics, RequestMetrics
from kubebind.kube.resources import GVR, Object, ObjectKey, ResourceRef, object_key
from kubebind.kube.selectors import LabelSelector

__all__ = [
    "GVR",
    "ApiClient",
    "ApiError",
    "GoneError",
    "LabelSelector",
    "Object",
    "ObjectKey",
    "PatchType",
    "Preconditions",
    "PrometheusRequestMetrics",
    "RequestMetrics",
    "ResourceRef",
    "RestConfig",
    "Watch",
    "WatchEvent",
    "load_default",
    "load_incluster_config",
    "load_kubeconfig",
    "object_key",
]
