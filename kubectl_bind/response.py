"""Decoding what the backend hands back: BindingResponse / BindingResourceResponse and kubeconfigs.

Why strict here: the binding response carries a credential for the provider. It is checked before
anything touches a cluster — ``kind``, every request's ``apiVersion`` (must be
``kube-bind.io/v1alpha2``, as the Go CLI requires), and a kubeconfig whose current context names a
namespace (the consumer's namespace on the provider, mandatory for the konnector). The browser
callback's ``binding_response`` may be URL-safe or standard base64, padded or not (reference §3.6).
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import yaml

from kubebind.apis import constants
from kubectl_bind.errors import CLIError

__all__ = ["BindingResult", "decode_b64", "parse_binding_response", "parse_kubeconfig"]

_RESPONSE_KINDS = {constants.KIND_BINDING_RESPONSE, constants.KIND_BINDING_RESOURCE_RESPONSE}


def decode_b64(value: str, what: str) -> bytes:
    """Decode URL-safe or standard base64, with or without padding."""
    text = "".join(value.split())
    text += "=" * (-len(text) % 4)
    try:
        if "-" in text or "_" in text:
            return base64.urlsafe_b64decode(text)
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise CLIError(f"{what} is not valid base64") from exc


@dataclass
class Kubeconfig:
    raw: str
    data: dict[str, Any]
    server: str
    namespace: str

    @property
    def host(self) -> str:
        return urlsplit(self.server).netloc or self.server


def parse_kubeconfig(text: str, what: str = "provider kubeconfig") -> Kubeconfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise CLIError(f"{what} is not valid YAML") from exc
    if not isinstance(data, dict):
        raise CLIError(f"{what} is not a kubeconfig")
    current = data.get("current-context")
    contexts = {
        c.get("name"): c.get("context") or {} for c in data.get("contexts") or [] if isinstance(c, dict)
    }
    if not current or current not in contexts:
        raise CLIError(f"{what} has no valid current-context")
    ctx = contexts[current]
    clusters = {
        c.get("name"): c.get("cluster") or {} for c in data.get("clusters") or [] if isinstance(c, dict)
    }
    server = str((clusters.get(ctx.get("cluster")) or {}).get("server") or "")
    if not server:
        raise CLIError(f"{what}: the current context's cluster has no server")
    namespace = str(ctx.get("namespace") or "")
    if not namespace:
        raise CLIError(
            f"{what}: the current context has no namespace (the consumer's namespace on the provider)"
        )
    return Kubeconfig(text, data, server, namespace)


@dataclass
class BindingResult:
    kubeconfig: Kubeconfig
    requests: list[dict[str, Any]] = field(default_factory=list)
    provider_namespace: str = ""
    raw: dict[str, Any] = field(default_factory=dict)


def parse_binding_response(body: Any, *, require_requests: bool = False) -> BindingResult:
    """Validate a BindingResponse (``/api/bind``, browser callback) or BindingResourceResponse."""
    if not isinstance(body, dict):
        raise CLIError("the binding response is not a JSON object")
    kind = body.get("kind") or ""
    if kind and kind not in _RESPONSE_KINDS:
        raise CLIError(f"unexpected binding response kind {kind!r}")
    encoded = body.get("kubeconfig")
    if not encoded or not isinstance(encoded, str):
        raise CLIError("the binding response carries no kubeconfig")
    try:
        text = decode_b64(encoded, "the binding response's kubeconfig").decode()
    except UnicodeDecodeError as exc:
        raise CLIError("the binding response's kubeconfig is not text") from exc
    kubeconfig = parse_kubeconfig(text)
    requests: list[dict[str, Any]] = []
    for index, req in enumerate(body.get("requests") or []):
        if not isinstance(req, dict):
            raise CLIError(f"binding response request {index} is not an object")
        if req.get("apiVersion") != constants.API_VERSION:
            raise CLIError(
                f"binding response request {index} has apiVersion {req.get('apiVersion')!r}, "
                f"expected {constants.API_VERSION}"
            )
        if req.get("kind", "APIServiceExportRequest") != "APIServiceExportRequest":
            raise CLIError(
                f"binding response request {index} is a {req.get('kind')}, not an APIServiceExportRequest"
            )
        if not isinstance(req.get("spec"), dict) or not req["spec"].get("resources"):
            raise CLIError(f"binding response request {index} has no spec.resources")
        requests.append(req)
    if require_requests and not requests:
        raise CLIError("the binding response contains no APIServiceExportRequest")
    provider_ns = str(body.get("providerNamespace") or kubeconfig.namespace)
    return BindingResult(kubeconfig, requests, provider_ns, body)


def decode_callback_response(value: str) -> BindingResult:
    """The ``binding_response`` query parameter of the catalog callback."""
    raw = decode_b64(value, "binding_response")
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CLIError("binding_response is not a JSON BindingResponse") from exc
    return parse_binding_response(body, require_requests=True)


def parse_secret_payload(data: bytes, what: str) -> BindingResult:
    """A backend-only Secret value: BindingResourceResponse JSON, or a bare kubeconfig."""
    text = data.decode(errors="replace")
    stripped = text.lstrip()
    if stripped.startswith("{"):
        try:
            body = json.loads(stripped)
        except json.JSONDecodeError:
            body = None
        if (
            isinstance(body, dict)
            and body.get("kind") in _RESPONSE_KINDS | {None, ""}
            and "kubeconfig" in body
        ):
            return parse_binding_response(body)
    return BindingResult(parse_kubeconfig(text, what))
