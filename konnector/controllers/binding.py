"""Top-level APIServiceBinding controller: kubeconfig Secret validation and provider grouping.

Reference §6.2 (1)+(2). For each binding: read ``spec.kubeconfigSecretRef``; the Secret must exist
(``KubeconfigSecretNotFound``, "Rerun kubectl bind for repair."), have the key, parse as a
kubeconfig with a current context that names a namespace (``KubeconfigSecretInvalid`` with the
precise cause). ``SecretValid`` is written on the binding. Then the owner regroups bindings by
provider (server + cluster namespace) so that there is one provider connection per provider.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

from konnector import committer, kinds
from kubebind.apis import conditions, constants
from kubebind.kube.kubeconfig import ConfigError, RestConfig, load_kubeconfig
from kubebind.kube.resources import Object, ObjectKey

if TYPE_CHECKING:
    from konnector.konnector import Konnector

__all__ = ["KubeconfigError", "ParsedKubeconfig", "parse_secret_kubeconfig", "reconcile"]


class KubeconfigError(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


@dataclass(frozen=True)
class ParsedKubeconfig:
    raw: bytes
    config: RestConfig
    namespace: str


def parse_kubeconfig_bytes(raw: bytes, where: str) -> ParsedKubeconfig:
    invalid = constants.REASON_KUBECONFIG_SECRET_INVALID
    try:
        doc = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise KubeconfigError(invalid, f"{where}: kubeconfig is not valid YAML: {exc}") from exc
    if not isinstance(doc, dict):
        raise KubeconfigError(invalid, f"{where}: kubeconfig is not a mapping")
    current = doc.get("current-context")
    if not current:
        raise KubeconfigError(invalid, f"{where}: kubeconfig has no current-context")
    ctx = next(
        (c for c in doc.get("contexts") or [] if isinstance(c, dict) and c.get("name") == current), None
    )
    if ctx is None:
        raise KubeconfigError(invalid, f"{where}: current-context {current!r} not found in kubeconfig")
    namespace = str((ctx.get("context") or {}).get("namespace") or "")
    if not namespace:
        raise KubeconfigError(invalid, f"{where}: current context {current!r} has no namespace")
    try:
        config = load_kubeconfig(raw)
    except (ConfigError, ValueError, KeyError, OSError) as exc:
        raise KubeconfigError(invalid, f"{where}: cannot build a client config: {exc}") from exc
    return ParsedKubeconfig(raw, config, namespace)


def parse_secret_kubeconfig(secret: Object | None, namespace: str, name: str, key: str) -> ParsedKubeconfig:
    where = f"Secret {namespace}/{name}"
    if secret is None:
        raise KubeconfigError(
            constants.REASON_KUBECONFIG_SECRET_NOT_FOUND, f"{where} not found. Rerun kubectl bind for repair."
        )
    encoded = (secret.get("data") or {}).get(key)
    if not encoded:
        raise KubeconfigError(constants.REASON_KUBECONFIG_SECRET_INVALID, f"{where} has no key {key!r}")
    try:
        raw = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise KubeconfigError(
            constants.REASON_KUBECONFIG_SECRET_INVALID, f"{where}: key {key!r} is not base64"
        ) from exc
    return parse_kubeconfig_bytes(raw, where)


def secret_ref(obj: Object) -> tuple[str, str, str] | None:
    ref = (obj.get("spec") or {}).get("kubeconfigSecretRef") or {}
    if not ref.get("name") or not ref.get("namespace") or not ref.get("key"):
        return None
    return str(ref["namespace"]), str(ref["name"]), str(ref["key"])


def validate(k: Konnector, obj: Object) -> ParsedKubeconfig | KubeconfigError:
    ref = secret_ref(obj)
    if ref is None:
        return KubeconfigError(
            constants.REASON_KUBECONFIG_SECRET_INVALID, "spec.kubeconfigSecretRef is incomplete"
        )
    ns, name, key = ref
    try:
        return parse_secret_kubeconfig(k.secrets.get(ObjectKey(ns, name)), ns, name, key)
    except KubeconfigError as exc:
        return exc


async def reconcile(k: Konnector, name: str) -> None:
    obj = k.bindings.get(ObjectKey("", name))
    if obj is not None:
        result = validate(k, obj)

        def mutate(o: Object) -> None:
            if isinstance(result, KubeconfigError):
                conditions.mark_false(
                    o,
                    constants.CONDITION_SECRET_VALID,
                    result.reason,
                    constants.SEVERITY_ERROR,
                    result.message,
                )
            else:
                conditions.mark_true(o, constants.CONDITION_SECRET_VALID)

        await committer.update_status(k.consumer, kinds.API_SERVICE_BINDINGS, name, mutate)
        if isinstance(result, KubeconfigError):
            await k.events.warning(obj, result.reason, result.message)
    await k.regroup()
