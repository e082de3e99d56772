"""Where built binaries and their Go caches live: outside the checkout, keyed by version.

``KUBE_BIND_CACHE`` overrides the root (default ``$XDG_CACHE_HOME/kube-bind-py`` or
``~/.cache/kube-bind-py``). Binaries land in ``<root>/bin/<tool>-<version>/`` so a version bump
builds afresh while the old build stays usable until removed.
"""

from __future__ import annotations

import os
from pathlib import Path

KUBERNETES_VERSION = "v1.36.2"
ETCD_VERSION = "v3.6.16"
HELM_VERSION = "v4.2.4"
DEX_VERSION = "v2.45.1"


def cache_root() -> Path:
    env = os.environ.get("KUBE_BIND_CACHE")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "kube-bind-py"


def bin_dir(tool: str, version: str) -> Path:
    return cache_root() / "bin" / f"{tool}-{version}"


def repo_root() -> Path:
    """The checkout this package was imported from (it holds the Go wrapper modules in tools/)."""
    return Path(__file__).resolve().parents[2]


def tools_dir() -> Path:
    return repo_root() / "tools"
