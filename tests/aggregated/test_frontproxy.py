"""Front-proxy certificate checks: CA, allowed names, client-auth usage, header parsing."""

from __future__ import annotations

from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from app.auth.frontproxy import FrontProxyAuthenticator, config_from_configmap
from kubebind.localcluster import pki


def _der(pair: pki.KeyPair) -> bytes:
    return x509.load_pem_x509_certificate(pair.cert_pem()).public_bytes(serialization.Encoding.DER)


def test_certificate_rules(tmp_path: Path) -> None:
    ca = pki.create_ca(tmp_path, "fp-ca", "front-proxy-ca")
    other_ca = pki.create_ca(tmp_path, "other-ca", "other-ca")
    good = pki.issue_cert(ca, tmp_path, "good", "front-proxy-client", client=True)
    wrong_name = pki.issue_cert(ca, tmp_path, "wrong-name", "someone-else", client=True)
    server_only = pki.issue_cert(ca, tmp_path, "server", "front-proxy-client", server=True)
    foreign = pki.issue_cert(other_ca, tmp_path, "foreign", "front-proxy-client", client=True)
    cfg = config_from_configmap(
        {
            "requestheader-client-ca-file": ca.cert_pem().decode(),
            "requestheader-allowed-names": '["front-proxy-client"]',
            "requestheader-username-headers": '["X-Remote-User"]',
            "requestheader-group-headers": '["X-Remote-Group"]',
            "requestheader-extra-headers-prefix": '["X-Remote-Extra-"]',
            "client-ca-file": other_ca.cert_pem().decode(),
        }
    )
    fp = FrontProxyAuthenticator(client=None, static=cfg)
    assert fp.verify_certificate(_der(good)) == "front-proxy-client"
    assert fp.verify_certificate(_der(wrong_name)) is None
    assert fp.verify_certificate(_der(server_only)) is None
    assert fp.verify_certificate(_der(foreign)) is None
    assert fp.verify_certificate(b"not a certificate") is None
    # An empty allowed-names list accepts any client certificate of the requestheader CA.
    fp_any = FrontProxyAuthenticator(
        client=None, static=config_from_configmap({"requestheader-client-ca-file": ca.cert_pem().decode()})
    )
    assert fp_any.verify_certificate(_der(wrong_name)) == "someone-else"
    # The client CA authenticates x509 users, never the front proxy.
    user = fp.client_certificate_user(_der(foreign))
    assert user is not None and user.name == "front-proxy-client" and "system:authenticated" in user.groups
    headers = {
        "x-remote-user": ["alice"],
        "x-remote-group": ["devs", "system:authenticated"],
        "x-remote-extra-scopes": ["a", "b"],
        "x-remote-extra-acme.com%2fproject": ["p1"],
    }
    info = fp.user_from_headers(headers)
    assert info is not None and info.name == "alice" and info.groups == ("devs", "system:authenticated")
    assert info.extra == {"scopes": ("a", "b"), "acme.com/project": ("p1",)}
    assert fp.has_identity_headers(headers) and not fp.has_identity_headers({"accept": ["*/*"]})
    assert fp.user_from_headers({"x-remote-group": ["g"]}) is None
