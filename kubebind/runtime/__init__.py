"""Runtime: controllers (cache ⇢ queue ⇢ workers), leader election, clocks, task supervision.

The only package that joins ``kubebind.cache`` with ``kubebind.workqueue``. Re-exports below are
the public surface (the one place where names rather than modules are imported).
"""

from kubebind.runtime.clock import Clock, FakeClock, RealClock
from kubebind.runtime.controller import Controller, ControllerMetrics, PrometheusControllerMetrics, Result
from kubebind.runtime.leaderelection import LeaderElectionConfig, LeaderElector
from kubebind.runtime.tasks import Supervisor, cancel_and_wait

__all__ = [
    "Clock",
    "Controller",
    "ControllerMetrics",
    "FakeClock",
    "LeaderElectionConfig",
    "LeaderElector",
    "PrometheusControllerMetrics",
    "RealClock",
    "Result",
    "Supervisor",
    "cancel_and_wait",
]
