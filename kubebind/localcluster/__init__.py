"""Real local Kubernetes control planes and Postgres, for tests, benchmarks and `kubectl bind dev`.

Nothing here is a fake: the binaries are kube-apiserver, kube-controller-manager and etcd built
from their published Go modules (see :mod:`kubebind.localcluster.build`), and Debian's Postgres.
A provider and a consumer cluster share one etcd under different key prefixes, each with its own
PKI and service-account issuer, so a token of one is never accepted by the other.

Every process is started by :mod:`kubebind.localcluster.process`, which kills it when the Python
process exits — also when it is interrupted or killed (``PR_SET_PDEATHSIG``).

Public entry points: :func:`kubebind.localcluster.build.ensure_binaries`,
:class:`kubebind.localcluster.cluster.ClusterPair`, :class:`kubebind.localcluster.postgres.Postgres`.
"""
