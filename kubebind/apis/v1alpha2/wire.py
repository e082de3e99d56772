"""Wire-only kinds of the binding handshake (reference §2.14-§2.16, §3.3, §3.5).

These never live in a cluster; they are the JSON bodies of ``GET /api/exports``, ``POST /api/bind``
and error answers. Field names and quirks are kept exactly, because the Go CLI decodes them:
``BindingProvider.apiVersion`` is the bare ``"v1alpha2"``, the bind response's kind is
``BindingResponse`` with ``authentication.oauth2CodeGrant.{sid,id}`` and a base64 kubeconfig.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar

from pydantic import Field

from kubebind.apis import constants
from kubebind.apis.v1alpha2.base import Base64Bytes, KubeModel
from kubebind.apis.v1alpha2.common import RawExtension

__all__ = [
    "AuthenticationMethod",
    "BindingProvider",
    "BindingResourceResponse",
    "BindingResponse",
    "BindingResponseAuthentication",
    "BindingResponseAuthenticationOAuth2CodeGrant",
    "Error",
    "ErrorCode",
    "OAuth2CodeGrant",
]


class OAuth2CodeGrant(KubeModel):
    authenticated_url: str = Field(alias="authenticatedURL")


class AuthenticationMethod(KubeModel):
    method: str = constants.AUTH_METHOD_OAUTH2_CODE_GRANT
    oauth2_code_grant: OAuth2CodeGrant | None = None


class BindingProvider(KubeModel):
    """``GET /api/exports``: who the provider is and how to log in."""

    KIND: ClassVar[str] = constants.KIND_BINDING_PROVIDER

    kind: str = constants.KIND_BINDING_PROVIDER
    #: The Go backend sends the bare version, not ``kube-bind.io/v1alpha2``.
    api_version: str = constants.VERSION
    provider_pretty_name: str
    version: str
    authentication_methods: list[AuthenticationMethod] = Field(default_factory=list)


class BindingResponseAuthenticationOAuth2CodeGrant(KubeModel):
    #: Session id (JSON tag ``sid``).
    sid: str
    #: ``<issuer>/<subject>`` of the user (JSON tag ``id``).
    id: str


class BindingResponseAuthentication(KubeModel):
    oauth2_code_grant: BindingResponseAuthenticationOAuth2CodeGrant | None = None


class BindingResourceResponse(KubeModel):
    """``POST /api/bind`` answer; the Go CLI requires ``authentication.oauth2CodeGrant``."""

    KIND: ClassVar[str] = constants.KIND_BINDING_RESPONSE

    kind: str = constants.KIND_BINDING_RESPONSE
    api_version: str = constants.API_VERSION
    authentication: BindingResponseAuthentication | None = None
    #: Kubeconfig YAML bytes; standard base64 on the wire.
    kubeconfig: Base64Bytes | None = None
    #: Raw APIServiceExportRequest objects (``APIServiceExportRequestResponse.to_raw()``).
    requests: list[RawExtension] | None = None
    provider_namespace: str | None = None
    binding_name: str | None = None


#: Go's type name is BindingResourceResponse; the kind on the wire is BindingResponse.
BindingResponse = BindingResourceResponse


class ErrorCode(StrEnum):
    AUTHENTICATION_FAILED = "AUTHENTICATION_FAILED"
    AUTHORIZATION_FAILED = "AUTHORIZATION_FAILED"
    RESOURCE_NOT_FOUND = "RESOURCE_NOT_FOUND"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    BAD_REQUEST = "BAD_REQUEST"
    CLUSTER_CONNECTION_FAILED = "CLUSTER_CONNECTION_FAILED"


class Error(KubeModel):
    """Handshake API error body."""

    KIND: ClassVar[str] = constants.KIND_ERROR

    kind: str = constants.KIND_ERROR
    api_version: str = constants.API_VERSION
    message: str
    code: ErrorCode
    details: Any = None
