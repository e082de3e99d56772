"""The backend's one settings class (pydantic-settings, environment prefix ``KUBE_BIND_``).

Why one class: the app factory, the alembic ``env.py`` and the CLI all read the same values, so
there is a single source of truth. Nothing here is built at import time; callers construct
``Settings()`` (from the environment) or pass explicit values (tests).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.handshake.settings import ServiceSettings


def _default_database_url() -> str:
    return "sqlite+aiosqlite:///./kube-bind.db"


class Settings(BaseSettings):
    """Backend configuration. Every field can be set as ``KUBE_BIND_<FIELD_NAME>``."""

    model_config = SettingsConfigDict(env_prefix="KUBE_BIND_", extra="ignore")

    # --- database ---------------------------------------------------------------------------
    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy async URL: sqlite+aiosqlite:///path or postgresql+asyncpg://…",
    )
    migrate_on_start: bool = Field(
        default=True,
        description="Run `alembic upgrade head` at start; when false, refuse to start on an outdated schema.",
    )
    database_pool_size: int = Field(default=10, ge=1)

    # --- serving ----------------------------------------------------------------------------
    bind_address: str = "127.0.0.1"
    port: int = Field(default=8443, ge=0, le=65535)
    tls_cert_file: Path | None = Field(default=None, description="Serving certificate (PEM).")
    tls_key_file: Path | None = Field(default=None, description="Serving key (PEM).")
    max_body_bytes: int = Field(
        default=3 * 1024 * 1024, ge=1024, description="Largest accepted request body."
    )
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"

    # --- provider cluster -------------------------------------------------------------------
    provider_kubeconfig: Path | None = Field(
        default=None, description="Kubeconfig of the provider cluster; in-cluster config when unset."
    )

    # --- authentication / authorization ------------------------------------------------------
    requestheader_client_ca_file: Path | None = Field(
        default=None,
        description="Front-proxy CA bundle; "
        "read from kube-system/extension-apiserver-authentication when unset.",
    )
    requestheader_allowed_names: list[str] | None = Field(
        default=None,
        description="Allowed front-proxy client CNs; from the configmap when unset (empty = any).",
    )
    requestheader_username_headers: list[str] | None = None
    requestheader_group_headers: list[str] | None = None
    requestheader_extra_headers_prefix: list[str] | None = None
    authentication_configmap_refresh_seconds: float = Field(default=60.0, gt=0)
    authorization_cache_ttl_seconds: float = Field(default=10.0, ge=0)
    authorization_deny_cache_ttl_seconds: float = Field(default=2.0, ge=0)
    authorization_always_allow_groups: list[str] = Field(
        default_factory=lambda: ["system:masters"],
        description="Groups whose proxied requests skip the SubjectAccessReview.",
    )
    authenticate_direct_requests: bool = Field(
        default=True, description="Accept bearer tokens (TokenReview + SAR) on direct, non-proxied requests."
    )

    # --- watch / change log -------------------------------------------------------------------
    watch_bookmark_interval_seconds: float = Field(default=30.0, gt=0)
    watch_poll_interval_seconds: float = Field(
        default=1.0, gt=0, description="Fallback poll of the change log (SQLite, lost notifications)."
    )
    changelog_retention_seconds: float = Field(default=900.0, gt=0)
    changelog_min_entries: int = Field(
        default=1000, ge=0, description="Entries always kept after compaction."
    )
    compaction_interval_seconds: float = Field(default=60.0, gt=0)
    list_default_limit: int = Field(
        default=0, ge=0, description="0 = unlimited when the client sends no limit."
    )

    # --- registration ---------------------------------------------------------------------------
    register_apiservice: bool = Field(
        default=False, description="Create/refresh the APIService + Service at start."
    )
    service_name: str = "kube-bind-backend"
    service_namespace: str = "kube-bind"
    service_external_name: str | None = Field(
        default=None,
        description="Make the Service an ExternalName (e.g. `localhost` for out-of-cluster use).",
    )
    service_port: int = Field(default=443, ge=1, le=65535)
    apiservice_ca_file: Path | None = Field(default=None, description="CA bundle put into the APIService.")

    # --- service side (issue 4): handshake /api, OIDC login, credential minting, controllers --
    # The fields live in app/handshake/settings.py (same KUBE_BIND_ environment variables);
    # database_url and provider_kubeconfig above are passed down and win over its own copies.
    serve_handshake: bool = Field(
        default=True, description="Serve /api/*, login, the web page and run the provider-side controllers."
    )
    service: ServiceSettings = Field(default_factory=ServiceSettings)

    @field_validator("database_url")
    @classmethod
    def _normalise_url(cls, value: str) -> str:
        if value.startswith("postgres://"):
            value = "postgresql://" + value.removeprefix("postgres://")
        if value.startswith("postgresql://"):
            value = "postgresql+asyncpg://" + value.removeprefix("postgresql://")
        if value.startswith("sqlite:///"):
            value = "sqlite+aiosqlite:///" + value.removeprefix("sqlite:///")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def tls_enabled(self) -> bool:
        return self.tls_cert_file is not None and self.tls_key_file is not None
