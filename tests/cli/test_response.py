"""Binding responses: both base64 alphabets, strict validation before anything touches a cluster."""

from __future__ import annotations

import base64
import json

import pytest

from kubectl_bind.errors import CLIError
from kubectl_bind.response import decode_callback_response, parse_binding_response, parse_secret_payload
from tests.cli.conftest import binding_response, cowboys_request, provider_kubeconfig


def _encode(body: dict[str, object], alphabet: str, pad: bool) -> str:
    raw = json.dumps(body, ensure_ascii=False).encode()
    text = (base64.urlsafe_b64encode if alphabet == "url" else base64.b64encode)(raw).decode()
    return text if pad else text.rstrip("=")


def _body_with_both_alphabets() -> dict[str, object]:
    # Find a request name whose JSON encodes to '+'/'/' in standard and '-'/'_' in URL-safe base64.
    for i in range(12):
        body = binding_response(
            provider_kubeconfig("https://p:6443", "kube-bind-abc"),
            [cowboys_request("x" * i + "???>>>~~~ÿÿÿ")],
        )
        std = _encode(body, "std", True)
        if "+" in std and "/" in std:
            return body
    raise AssertionError("no payload with +/ found")


@pytest.mark.parametrize("alphabet", ["url", "std"])
@pytest.mark.parametrize("pad", [True, False])
def test_callback_accepts_url_safe_and_standard_base64(alphabet: str, pad: bool) -> None:
    body = _body_with_both_alphabets()
    result = decode_callback_response(_encode(body, alphabet, pad))
    assert result.kubeconfig.namespace == "kube-bind-abc"
    assert result.kubeconfig.host == "p:6443"
    assert [r["metadata"]["name"] for r in result.requests] == [body["requests"][0]["metadata"]["name"]]  # type: ignore[index]


def test_rejects_bad_payloads() -> None:
    with pytest.raises(CLIError, match="not valid base64"):
        decode_callback_response("%%%")
    with pytest.raises(CLIError, match="not a JSON"):
        decode_callback_response(base64.b64encode(b"nope").decode())
    kc = provider_kubeconfig("https://p", "ns")
    wrong = cowboys_request()
    wrong["apiVersion"] = "kube-bind.io/v1alpha1"
    with pytest.raises(CLIError, match="apiVersion"):
        parse_binding_response(binding_response(kc, [wrong]))
    with pytest.raises(CLIError, match="contains no APIServiceExportRequest"):
        decode_callback_response(_encode(binding_response(kc, []), "url", True))
    with pytest.raises(CLIError, match="no kubeconfig"):
        parse_binding_response({"kind": "BindingResponse"})
    with pytest.raises(CLIError, match="kind"):
        parse_binding_response({"kind": "Pod", "kubeconfig": "eA=="})


def test_kubeconfig_must_name_the_provider_namespace() -> None:
    kc = provider_kubeconfig("https://p", "ns").replace("namespace: ns", "namespace: ''")
    with pytest.raises(CLIError, match="no namespace"):
        parse_binding_response(binding_response(kc))


def test_secret_payload_is_response_json_or_bare_kubeconfig() -> None:
    kc = provider_kubeconfig("https://p", "ns1")
    as_json = json.dumps(
        {
            "kind": "BindingResourceResponse",
            "apiVersion": "kube-bind.io/v1alpha2",
            "kubeconfig": base64.b64encode(kc.encode()).decode(),
        }
    ).encode()
    assert parse_secret_payload(as_json, "s").kubeconfig.namespace == "ns1"
    assert parse_secret_payload(kc.encode(), "s").kubeconfig.namespace == "ns1"
    with pytest.raises(CLIError):
        parse_secret_payload(b"random: [", "s")
