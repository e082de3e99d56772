"""Connection settings from a kubeconfig (file or dict) or from the in-cluster service account.

Why our own parser: we need exactly the fields that reach the wire (server, trust, client
identity, namespace) as an immutable value that :class:`~kubebind.kube.client.ApiClient` can swap
at runtime when a credential is rotated, and we must resolve relative file paths against the
kubeconfig's directory as kubectl does. Exec plugins and auth providers are not supported: the
kube-bind credentials are bearer tokens or client certificates.

Contract of :class:`RestConfig`:

* ``server`` is the API server URL without a trailing slash.
* Certificate material is held as PEM bytes (``*_data``); ``*_file`` fields are read when loading.
  ``token_file`` is *kept* as a path and re-read (at most every ``token_file_refresh`` seconds), so
  projected service-account tokens rotated by the kubelet are picked up, like client-go does.
* ``namespace`` is the current context's namespace, ``"default"`` when unset (for in-cluster
  configs: the pod's namespace).
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "ConfigError",
    "RestConfig",
    "load_default",
    "load_incluster_config",
    "load_kubeconfig",
    "load_kubeconfig_dict",
]

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")


class ConfigError(ValueError):
    """The kubeconfig is missing, malformed, or lacks what is needed to connect."""


@dataclass(frozen=True)
class RestConfig:
    server: str
    ca_data: bytes | None = None
    client_cert_data: bytes | None = None
    client_key_data: bytes | None = None
    token: str | None = None
    token_file: str | None = None
    username: str | None = None
    password: str | None = None
    tls_server_name: str | None = None
    insecure_skip_tls_verify: bool = False
    namespace: str = "default"
    token_file_refresh: float = 60.0
    _token_cache: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def bearer_token(self) -> str | None:
        """The token to send: ``token`` if set, else the (cached) content of ``token_file``."""
        if self.token:
            return self.token
        if not self.token_file:
            return None
        now = time.monotonic()
        cached = self._token_cache.get("value")
        if cached is not None and now - float(self._token_cache.get("at", 0.0)) < self.token_file_refresh:
            return str(cached)
        value = Path(self.token_file).read_text().strip()
        self._token_cache.update(value=value, at=now)
        return value

    def with_token(self, token: str) -> RestConfig:
        """A copy that authenticates with ``token`` instead (drops client certs and basic auth)."""
        return replace(
            self,
            token=token,
            token_file=None,
            client_cert_data=None,
            client_key_data=None,
            username=None,
            password=None,
            _token_cache={},
        )

    def transport_key(self) -> tuple[object, ...]:
        """What requires a new connection pool when it changes (everything but header auth)."""
        return (
            self.server,
            self.ca_data,
            self.client_cert_data,
            self.client_key_data,
            self.tls_server_name,
            self.insecure_skip_tls_verify,
        )


def _read_data(entry: Mapping[str, Any], data_key: str, file_key: str, base_dir: Path | None) -> bytes | None:
    data = entry.get(data_key)
    if data:
        try:
            return base64.b64decode("".join(str(data).split()), validate=True)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"{data_key} is not valid base64") from exc
    path = entry.get(file_key)
    if path:
        resolved = Path(path)
        if not resolved.is_absolute() and base_dir is not None:
            resolved = base_dir / resolved
        try:
            return resolved.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read {file_key} {resolved}: {exc}") from exc
    return None


def _named(entries: Any, name: str, what: str) -> Mapping[str, Any]:
    for entry in entries or []:
        if isinstance(entry, Mapping) and entry.get("name") == name:
            body = entry.get(what)
            if isinstance(body, Mapping):
                return body
            return {}
    raise ConfigError(f"kubeconfig has no {what} named {name!r}")


def load_kubeconfig_dict(
    config: Mapping[str, Any], *, context: str | None = None, base_dir: str | Path | None = None
) -> RestConfig:
    """Build a :class:`RestConfig` from a decoded kubeconfig.

    ``context`` defaults to ``current-context``; relative file paths resolve against ``base_dir``.
    """
    base = Path(base_dir) if base_dir is not None else None
    ctx_name = context or config.get("current-context")
    if not ctx_name:
        contexts = config.get("contexts") or []
        if len(contexts) != 1:
            raise ConfigError("kubeconfig has no current-context")
        ctx_name = contexts[0].get("name")
    ctx = _named(config.get("contexts"), str(ctx_name), "context")
    cluster = _named(config.get("clusters"), str(ctx.get("cluster", "")), "cluster")
    user: Mapping[str, Any] = {}
    if ctx.get("user"):
        user = _named(config.get("users"), str(ctx["user"]), "user")
    if user.get("exec") or user.get("auth-provider"):
        raise ConfigError("exec and auth-provider credentials are not supported")
    server = str(cluster.get("server") or "").rstrip("/")
    if not server:
        raise ConfigError(f"cluster of context {ctx_name!r} has no server")
    token_file = user.get("tokenFile")
    if token_file and base is not None and not Path(token_file).is_absolute():
        token_file = str(base / token_file)
    return RestConfig(
        server=server,
        ca_data=_read_data(cluster, "certificate-authority-data", "certificate-authority", base),
        client_cert_data=_read_data(user, "client-certificate-data", "client-certificate", base),
        client_key_data=_read_data(user, "client-key-data", "client-key", base),
        token=user.get("token") or None,
        token_file=token_file or None,
        username=user.get("username") or None,
        password=user.get("password") or None,
        tls_server_name=cluster.get("tls-server-name") or None,
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        namespace=str(ctx.get("namespace") or "default"),
    )


def load_kubeconfig(source: str | os.PathLike[str] | bytes, *, context: str | None = None) -> RestConfig:
    """Load from a kubeconfig file path, or from kubeconfig YAML/JSON given as ``bytes``."""
    if isinstance(source, bytes):
        text, base = source.decode(), None
    else:
        path = Path(source).expanduser()
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read kubeconfig {path}: {exc}") from exc
        base = path.parent
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"kubeconfig is not valid YAML: {exc}") from exc
    if not isinstance(data, Mapping):
        raise ConfigError("kubeconfig is not a mapping")
    return load_kubeconfig_dict(data, context=context, base_dir=base)


def load_incluster_config(
    *, sa_dir: str | Path = SERVICE_ACCOUNT_DIR, environ: Mapping[str, str] | None = None
) -> RestConfig:
    """The pod's service account: ``KUBERNETES_SERVICE_HOST``/``PORT``, token file, CA, namespace."""
    env = os.environ if environ is None else environ
    host, port = env.get("KUBERNETES_SERVICE_HOST"), env.get("KUBERNETES_SERVICE_PORT")
    if not host or not port:
        raise ConfigError("not running in a cluster: KUBERNETES_SERVICE_HOST/PORT unset")
    directory = Path(sa_dir)
    token_file = directory / "token"
    if not token_file.exists():
        raise ConfigError(f"service account token {token_file} missing")
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    namespace_file = directory / "namespace"
    namespace = namespace_file.read_text().strip() if namespace_file.exists() else "default"
    ca_file = directory / "ca.crt"
    return RestConfig(
        server=f"https://{host}:{port}",
        ca_data=ca_file.read_bytes() if ca_file.exists() else None,
        token_file=str(token_file),
        namespace=namespace or "default",
    )


def load_default(*, context: str | None = None) -> RestConfig:
    """``$KUBECONFIG`` (first entry), else ``~/.kube/config``, else the in-cluster config."""
    env = os.environ.get("KUBECONFIG")
    if env:
        first = next((p for p in env.split(os.pathsep) if p), None)
        if first:
            return load_kubeconfig(first, context=context)
    home = Path("~/.kube/config").expanduser()
    if home.exists():
        return load_kubeconfig(home, context=context)
    return load_incluster_config()
