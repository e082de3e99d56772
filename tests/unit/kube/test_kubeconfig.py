"""Kubeconfig and in-cluster loading: every field that reaches the wire, relative paths, errors."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from kubebind.kube import kubeconfig
from kubebind.kube.kubeconfig import ConfigError, RestConfig


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def write(path: Path, config: dict[str, object]) -> Path:
    path.write_text(yaml.safe_dump(config))
    return path


def two_context_config(tmp_path: Path) -> dict[str, object]:
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_bytes(b"CA-FROM-FILE")
    (tmp_path / "certs" / "client.crt").write_bytes(b"CERT-FROM-FILE")
    (tmp_path / "certs" / "client.key").write_bytes(b"KEY-FROM-FILE")
    (tmp_path / "token").write_text("file-token\n")
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": "data",
        "clusters": [
            {
                "name": "c-data",
                "cluster": {
                    "server": "https://127.0.0.1:6443/",
                    "certificate-authority-data": b64(b"CA-DATA"),
                    "tls-server-name": "kubernetes.default.svc",
                },
            },
            {
                "name": "c-file",
                "cluster": {
                    "server": "https://10.0.0.1",
                    "certificate-authority": "certs/ca.crt",
                    "insecure-skip-tls-verify": True,
                },
            },
        ],
        "users": [
            {"name": "u-token", "user": {"token": "abc"}},
            {
                "name": "u-files",
                "user": {
                    "client-certificate": "certs/client.crt",
                    "client-key": "certs/client.key",
                    "tokenFile": "token",
                },
            },
        ],
        "contexts": [
            {
                "name": "data",
                "context": {"cluster": "c-data", "user": "u-token", "namespace": "kube-bind-abc"},
            },
            {"name": "files", "context": {"cluster": "c-file", "user": "u-files"}},
        ],
    }


def test_current_context_with_inline_data(tmp_path: Path) -> None:
    cfg = kubeconfig.load_kubeconfig(write(tmp_path / "config", two_context_config(tmp_path)))
    assert cfg.server == "https://127.0.0.1:6443"
    assert cfg.ca_data == b"CA-DATA"
    assert cfg.tls_server_name == "kubernetes.default.svc"
    assert cfg.bearer_token() == "abc"
    assert cfg.namespace == "kube-bind-abc"
    assert not cfg.insecure_skip_tls_verify


def test_named_context_with_files_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    cfg = kubeconfig.load_kubeconfig(
        write(tmp_path / "config", two_context_config(tmp_path)), context="files"
    )
    assert cfg.ca_data == b"CA-FROM-FILE"
    assert cfg.client_cert_data == b"CERT-FROM-FILE"
    assert cfg.client_key_data == b"KEY-FROM-FILE"
    assert cfg.insecure_skip_tls_verify
    assert cfg.namespace == "default"
    assert cfg.bearer_token() == "file-token"


def test_token_file_is_reread_after_refresh_interval(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("one")
    cfg = RestConfig(server="https://x", token_file=str(token), token_file_refresh=0.0)
    assert cfg.bearer_token() == "one"
    token.write_text("two")
    assert cfg.bearer_token() == "two"
    cached = RestConfig(server="https://x", token_file=str(token), token_file_refresh=3600)
    assert cached.bearer_token() == "two"
    token.write_text("three")
    assert cached.bearer_token() == "two"


def test_with_token_replaces_other_credentials() -> None:
    cfg = RestConfig(server="https://x", client_cert_data=b"c", client_key_data=b"k", namespace="ns")
    swapped = cfg.with_token("t")
    assert swapped.bearer_token() == "t"
    assert swapped.client_cert_data is None and swapped.namespace == "ns"
    assert swapped.transport_key() != cfg.transport_key()
    assert cfg.with_token("a").transport_key() == cfg.with_token("b").transport_key()


def test_bytes_and_dict_sources() -> None:
    raw = yaml.safe_dump(
        {
            "clusters": [{"name": "c", "cluster": {"server": "https://h:1"}}],
            "users": [{"name": "u", "user": {"token": "t"}}],
            "contexts": [{"name": "only", "context": {"cluster": "c", "user": "u"}}],
        }
    ).encode()
    assert kubeconfig.load_kubeconfig(raw).server == "https://h:1"  # single context, no current-context
    assert kubeconfig.load_kubeconfig_dict(yaml.safe_load(raw)).bearer_token() == "t"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda c: c.update({"current-context": "nope"}), "no context named 'nope'"),
        (lambda c: c["clusters"][0]["cluster"].pop("server"), "has no server"),
        (lambda c: c["users"][0]["user"].update({"exec": {"command": "x"}}), "not supported"),
        (lambda c: c["clusters"][0]["cluster"].update({"certificate-authority-data": "%%%"}), "base64"),
    ],
)
def test_invalid_configs_raise_config_error(tmp_path: Path, mutate: object, message: str) -> None:
    config = two_context_config(tmp_path)
    mutate(config)  # type: ignore[operator]
    with pytest.raises(ConfigError, match=message):
        kubeconfig.load_kubeconfig_dict(config, base_dir=tmp_path)


def test_missing_file_and_missing_referenced_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read kubeconfig"):
        kubeconfig.load_kubeconfig(tmp_path / "absent")
    config = two_context_config(tmp_path)
    (tmp_path / "certs" / "ca.crt").unlink()
    with pytest.raises(ConfigError, match="certificate-authority"):
        kubeconfig.load_kubeconfig_dict(config, context="files", base_dir=tmp_path)


def test_in_cluster_config(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("sa-token")
    (tmp_path / "ca.crt").write_bytes(b"CA")
    (tmp_path / "namespace").write_text("konnector-ns")
    env = {"KUBERNETES_SERVICE_HOST": "10.96.0.1", "KUBERNETES_SERVICE_PORT": "443"}
    cfg = kubeconfig.load_incluster_config(sa_dir=tmp_path, environ=env)
    assert cfg.server == "https://10.96.0.1:443"
    assert cfg.bearer_token() == "sa-token" and cfg.ca_data == b"CA" and cfg.namespace == "konnector-ns"
    v6 = kubeconfig.load_incluster_config(
        sa_dir=tmp_path, environ={**env, "KUBERNETES_SERVICE_HOST": "fd00::1"}
    )
    assert v6.server == "https://[fd00::1]:443"
    with pytest.raises(ConfigError, match="not running in a cluster"):
        kubeconfig.load_incluster_config(sa_dir=tmp_path, environ={})


def test_load_default_prefers_kubeconfig_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path / "config", two_context_config(tmp_path))
    monkeypatch.setenv("KUBECONFIG", f"{path}:/nonexistent")
    assert kubeconfig.load_default().namespace == "kube-bind-abc"
