"""Front-proxy (requestheader) authentication of requests proxied by kube-apiserver.

kube-apiserver proxies aggregated API requests over mTLS with its *proxy client certificate* and
names the real caller in ``X-Remote-User`` / ``X-Remote-Group`` / ``X-Remote-Extra-*``. Those
headers are trusted **only** when the TLS peer presented a certificate that

* chains directly to a CA in ``requestheader-client-ca-file`` of the configmap
  ``kube-system/extension-apiserver-authentication`` (or ``KUBE_BIND_REQUESTHEADER_CLIENT_CA_FILE``),
* is currently valid and, when it has an extended key usage, allows client auth,
* has a common name in ``requestheader-allowed-names`` (an empty list allows any name signed by
  that CA, as in kube-apiserver).

The TLS layer already proved possession of the certificate's key; this module re-checks the chain
in Python against the *current* CA bundle (the configmap is re-read periodically, so a rotated CA
takes effect without a restart). A request with identity headers but without such a certificate is
rejected (401) — never downgraded to "anonymous", never trusted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

import orjson
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.auth.user import UserInfo
from kubebind.kube.client import ApiClient

log = logging.getLogger(__name__)

CONFIGMAP_NAMESPACE = "kube-system"
CONFIGMAP_NAME = "extension-apiserver-authentication"


@dataclass(slots=True)
class RequestHeaderConfig:
    ca_certs: list[x509.Certificate] = field(default_factory=list)
    ca_pem: bytes = b""
    allowed_names: list[str] = field(default_factory=list)
    username_headers: list[str] = field(default_factory=lambda: ["X-Remote-User"])
    group_headers: list[str] = field(default_factory=lambda: ["X-Remote-Group"])
    extra_prefixes: list[str] = field(default_factory=lambda: ["X-Remote-Extra-"])
    #: ``client-ca-file``: CAs of ordinary client certificates (direct requests, x509 users).
    client_ca_certs: list[x509.Certificate] = field(default_factory=list)
    client_ca_pem: bytes = b""

    @property
    def identity_headers(self) -> list[str]:
        return [h.lower() for h in self.username_headers + self.group_headers]


def _load_pems(pem: bytes) -> list[x509.Certificate]:
    return list(x509.load_pem_x509_certificates(pem)) if pem.strip() else []


def _json_list(value: str | None) -> list[str] | None:
    if value is None:
        return None
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError:
        return [v.strip() for v in value.split(",") if v.strip()]
    return [str(v) for v in data] if isinstance(data, list) else None


def config_from_configmap(data: dict[str, str]) -> RequestHeaderConfig:
    pem = (data.get("requestheader-client-ca-file") or "").encode()
    client_pem = (data.get("client-ca-file") or "").encode()
    cfg = RequestHeaderConfig(
        ca_certs=_load_pems(pem), ca_pem=pem, client_ca_certs=_load_pems(client_pem), client_ca_pem=client_pem
    )
    for key, attr in (
        ("requestheader-allowed-names", "allowed_names"),
        ("requestheader-username-headers", "username_headers"),
        ("requestheader-group-headers", "group_headers"),
        ("requestheader-extra-headers-prefix", "extra_prefixes"),
    ):
        values = _json_list(data.get(key))
        if values is not None:
            setattr(cfg, attr, values)
    return cfg


class FrontProxyAuthenticator:
    """Holds the current requestheader configuration and authenticates requests with it."""

    def __init__(
        self,
        *,
        client: ApiClient | None,
        static: RequestHeaderConfig | None = None,
        overrides: dict[str, Any] | None = None,
        refresh_seconds: float = 60.0,
    ) -> None:
        self._client = client
        self._static = static
        self._overrides = overrides or {}
        self._refresh = refresh_seconds
        self.config = static or RequestHeaderConfig()
        self._task: asyncio.Task[None] | None = None
        # Verified certificates per DER (a connection's certificate is re-checked on every request:
        # this saves the signature check). Cleared whenever the CA configuration is reloaded.
        self._verified: dict[tuple[str, bytes], tuple[float, object]] = {}

    def _apply_overrides(self, cfg: RequestHeaderConfig) -> RequestHeaderConfig:
        for key, value in self._overrides.items():
            if value is not None:
                setattr(cfg, key, value)
        return cfg

    async def load(self) -> RequestHeaderConfig:
        """Read the configmap (unless a static CA was configured); keeps the old config on error."""
        if self._static is not None or self._client is None:
            self.config = self._apply_overrides(self.config)
            return self.config
        cm = await self._client.request(
            "GET", f"/api/v1/namespaces/{CONFIGMAP_NAMESPACE}/configmaps/{CONFIGMAP_NAME}"
        )
        cfg = self._apply_overrides(config_from_configmap(cm.get("data") or {}))
        if not cfg.ca_certs:
            raise RuntimeError(
                f"{CONFIGMAP_NAMESPACE}/{CONFIGMAP_NAME} has no requestheader-client-ca-file: "
                "kube-apiserver must run with --requestheader-client-ca-file for aggregated APIs"
            )
        self.config = cfg
        self._verified.clear()
        return cfg

    def start(self) -> None:
        if self._static is None and self._client is not None:
            self._task = asyncio.create_task(self._refresh_loop(), name="frontproxy-ca-refresh")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def _refresh_loop(self) -> None:
        while True:
            await asyncio.sleep(self._refresh)
            try:
                await self.load()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning(
                    "frontproxy: refreshing %s/%s failed error=%r", CONFIGMAP_NAMESPACE, CONFIGMAP_NAME, exc
                )

    def has_identity_headers(self, headers: dict[str, list[str]]) -> bool:
        cfg = self.config
        if any(h in headers for h in cfg.identity_headers):
            return True
        prefixes = [p.lower() for p in cfg.extra_prefixes]
        return any(name.startswith(p) for name in headers for p in prefixes)

    def _cached(self, kind: str, der: bytes, compute: Any) -> Any:
        key = (kind, der)
        now = time.monotonic()
        hit = self._verified.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        value = compute()
        if len(self._verified) > 1000:
            self._verified.clear()
        self._verified[key] = (now + 30.0, value)
        return value

    def verify_certificate(self, der: bytes) -> str | None:
        """The client certificate's CN if it is a valid front-proxy certificate, else ``None``."""
        result: str | None = self._cached("proxy", der, lambda: self._verify_proxy(der))
        return result

    def client_certificate_user(self, der: bytes) -> UserInfo | None:
        """x509 user (CN = name, O = groups) of a certificate signed by ``client-ca-file``."""
        result: UserInfo | None = self._cached("client", der, lambda: self._client_user(der))
        return result

    def _verify_proxy(self, der: bytes) -> str | None:
        cert = _verified(der, self.config.ca_certs)
        if cert is None:
            return None
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        cn = str(cns[0].value) if cns else ""
        allowed = self.config.allowed_names
        if allowed and cn not in allowed:
            return None
        return cn

    def _client_user(self, der: bytes) -> UserInfo | None:
        cert = _verified(der, self.config.client_ca_certs)
        if cert is None:
            return None
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        if not cns:
            return None
        groups = [str(o.value) for o in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)]
        return UserInfo(name=str(cns[0].value), groups=(*groups, "system:authenticated"), via="x509")

    def user_from_headers(self, headers: dict[str, list[str]]) -> UserInfo | None:
        cfg = self.config
        name = ""
        for h in cfg.username_headers:
            values = headers.get(h.lower())
            if values and values[0]:
                name = values[0]
                break
        if not name:
            return None
        groups: list[str] = []
        for h in cfg.group_headers:
            groups.extend(headers.get(h.lower(), []))
        extra: dict[str, list[str]] = {}
        for prefix in cfg.extra_prefixes:
            p = prefix.lower()
            for key, values in headers.items():
                if key.startswith(p):
                    extra.setdefault(unquote(key[len(p) :]).lower(), []).extend(values)
        return UserInfo(
            name=name,
            groups=tuple(groups),
            extra={k: tuple(v) for k, v in extra.items()},
            via="front-proxy",
        )


def _verified(der: bytes, cas: list[x509.Certificate]) -> x509.Certificate | None:
    """The certificate if it is valid now, allows client auth and is directly issued by a CA."""
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError:
        return None
    now = datetime.now(UTC)
    if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
        return None
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if (
            ExtendedKeyUsageOID.CLIENT_AUTH not in eku
            and ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
        ):
            return None
    except x509.ExtensionNotFound:
        pass
    for ca in cas:
        try:
            cert.verify_directly_issued_by(ca)
        except Exception:
            continue
        if ca.not_valid_before_utc <= now <= ca.not_valid_after_utc:
            return cert
    return None
