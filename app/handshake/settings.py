"""Settings of the service side of the backend: login, handshake, credential minting, controllers.

Why a class of its own here: issue 3 owns ``app/settings.py``; these fields are meant to be folded
into that one class (same ``KUBE_BIND_`` env prefix) when both land. Every value has a safe default
for the one-machine setup: the embedded dev OIDC issuer, SQLite, a 1 h credential lifetime.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kubebind.apis import constants

__all__ = ["DevUser", "ServiceSettings"]


class DevUser(BaseSettings):
    """One user of the embedded dev issuer."""

    password: str
    groups: list[str] = Field(default_factory=list)
    email: str = ""


def _default_dev_users() -> dict[str, DevUser]:
    return {
        "kube-bind": DevUser(
            password="kube-bind", groups=["engineering", "devops"], email="kube-bind@example.com"
        )
    }


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KUBE_BIND_", env_nested_delimiter="__", extra="ignore")

    # --- provider cluster -------------------------------------------------------------------------
    #: kubeconfig of the provider cluster (the backend's own identity there); empty = in-cluster.
    provider_kubeconfig: str = ""
    #: ``server`` put into minted kubeconfigs; empty = the provider kubeconfig's server.
    external_address: str = ""
    #: PEM file of the CA put into minted kubeconfigs; empty = the provider kubeconfig's CA.
    external_ca_file: str = ""
    #: ``tls-server-name`` of minted kubeconfigs (omitted when empty).
    external_server_name: str = ""
    namespace_prefix: str = constants.DEFAULT_NAMESPACE_PREFIX
    pretty_name: str = "Backend"
    consumer_scope: Literal["Namespaced", "Cluster"] = "Namespaced"
    isolation: Literal["Prefixed", "Namespaced", "None"] = "Prefixed"
    #: Lifetime of the TokenRequest token inside minted kubeconfigs; rotated at half-life.
    credential_lifetime_seconds: int = Field(default=3600, ge=600, le=7 * 24 * 3600)
    #: Konnector image advertised by /api/konnector-manifests.
    konnector_image: str = "ghcr.io/kube-bind/konnector:v0.8.1"
    backend_version: str = "v0.8.1"

    # --- database ---------------------------------------------------------------------------------
    database_url: str = "sqlite+aiosqlite:///kube-bind.db"

    # --- login ------------------------------------------------------------------------------------
    #: External issuer URL; empty = the embedded dev issuer mounted at ``<public_url>/oidc``.
    oidc_issuer_url: str = ""
    oidc_client_id: str = "kube-bind"
    oidc_client_secret: str = ""
    #: PEM CA bundle to trust for the issuer (TLS); empty = system trust.
    oidc_ca_file: str = ""
    oidc_scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email", "groups"])
    #: Claim holding group names in the ID token.
    oidc_groups_claim: str = "groups"
    oidc_allowed_users: list[str] = Field(default_factory=list)
    oidc_allowed_groups: list[str] = Field(default_factory=list)
    #: The backend's own public URL (scheme://host[:port]); empty = taken from each request.
    public_url: str = ""
    #: Lifetime of a login session, the cookie and the CLI bearer token (one clock for all three).
    session_lifetime_seconds: int = Field(default=3600, ge=60, le=30 * 24 * 3600)
    #: How long an authorize→callback round trip may take.
    login_timeout_seconds: int = Field(default=600, ge=30, le=3600)
    dev_users: dict[str, DevUser] = Field(default_factory=_default_dev_users)
    #: Largest accepted request body on /api (bytes).
    max_body_bytes: int = 1 << 20

    # --- controllers ------------------------------------------------------------------------------
    run_controllers: bool = True
    #: Only the holder of this Lease runs the controllers (off: every replica does, still safe).
    leader_elect: bool = True
    leader_election_namespace: str = "kube-system"
    leader_election_lease: str = "kube-bind-backend-controllers"
    heartbeat_check_seconds: float = Field(default=30.0, gt=0)
    schema_sync_seconds: float = Field(default=300.0, ge=1)
    resync_seconds: float = Field(default=300.0, ge=1)

    @field_validator("public_url", "oidc_issuer_url", "external_address")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def embedded_issuer(self) -> bool:
        return not self.oidc_issuer_url
