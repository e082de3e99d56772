"""Runtime: controllers (cache ⇢ queue ⇢ workers), leader election, clocks, task supervision, and
the process-wide GC pause guard (:mod:`kubebind.runtime.gcpause`).

The only package that joins ``kubebind.cache`` with ``kubebind.workqueue``. Re-exports below are
the public surface (the one place where names rather than modules are imported).
"""

from kubebind.kube.resources import ObjectKey
from kubebind.runtime.clock import Clock, FakeClock, RealClock
from kubebind.runtime.controller import Controller, ControllerMetrics, PrometheusControllerMetrics, Result
from kubebind.runtime.events import EventRecorder
from kubebind.runtime.leaderelection import LeaderElectionConfig, LeaderElector, default_identity
from kubebind.runtime.tasks import Supervisor, cancel_and_wait

__all__ = [
    "Clock",
    "Controller",
    "ControllerMetrics",
    "EventRecorder",
    "FakeClock",
    "LeaderElectionConfig",
    "LeaderElector",
    "ObjectKey",
    "PrometheusControllerMetrics",
    "RealClock",
    "Result",
    "Supervisor",
    "cancel_and_wait",
    "default_identity",
]
