"""The console script: --help everywhere, one-line errors with exit codes, --dry-run touches nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from kubebind.localcluster.ports import free_port
from tests.cli.conftest import RunCLI, binding_response, cowboys_request, provider_kubeconfig

COMMANDS = [
    [],
    ["login"],
    ["apiservice"],
    ["templates"],
    ["collections"],
    ["deploy"],
    ["cluster-identity"],
    ["unbind"],
    ["dev"],
    ["dev", "up"],
    ["dev", "down"],
    ["dev", "status"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "bind")
def test_every_command_has_help(run_cli: RunCLI, command: list[str]) -> None:
    proc = run_cli(*command, "--help")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: kubectl bind")
    assert "-h, --help" in proc.stdout


def test_root_help_lists_the_commands(run_cli: RunCLI) -> None:
    out = run_cli("--help").stdout
    for verb in (
        "login",
        "apiservice",
        "templates",
        "collections",
        "deploy",
        "cluster-identity",
        "unbind",
        "dev",
    ):
        assert f"\n  {verb} " in out


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["not-a-url"], 2, "invalid server URL"),
        (["login", "kb.example.com"], 2, "invalid server URL"),
        (["templates", "-o", "wide"], 2, "invalid choice"),
        (["templates"], 1, "kubectl bind login"),
        (["apiservice"], 2, "exactly one of --template-name or -f"),
        (["apiservice", "--template-name", "x", "-f", "y"], 2, "exactly one of"),
        (
            ["apiservice", "-f", "/nonexistent.yaml", "--remote-kubeconfig", "/x"],
            2,
            "cannot read /nonexistent.yaml",
        ),
        (["deploy"], 2, "exactly one of -f/--file or --secret"),
        (["deploy", "--secret", "noslash"], 2, "NAMESPACE/NAME"),
        (["deploy", "-f", "-", "--konnector-host-alias", "bad"], 2, "invalid host alias"),
        (["unbind"], 2, "required: NAME"),
        (["bogus-flag-only", "--nope"], 2, "unrecognized arguments"),
    ],
)
def test_errors_are_one_line_with_exit_codes(
    run_cli: RunCLI, args: list[str], code: int, message: str
) -> None:
    proc = run_cli(*args, input="")
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert message in lines[0]
    assert "Traceback" not in proc.stderr


def test_flags_may_come_before_the_command(run_cli: RunCLI, tmp_path: Path) -> None:
    missing = tmp_path / "cfg"
    proc = run_cli("--config-file", str(missing), "-v", "templates")
    assert proc.returncode == 1 and "kubectl bind login" in proc.stderr
    assert not missing.exists(), "reading never creates the config file"
    proc = run_cli("--context", "templates", "--help")  # a flag value that looks like a command
    assert proc.returncode == 0 and "catalog page" in proc.stdout


def test_unreachable_backend_is_a_clear_error(run_cli: RunCLI) -> None:
    port = free_port()
    proc = run_cli("login", f"http://127.0.0.1:{port}", "--skip-browser", "--timeout", "5")
    assert proc.returncode == 1
    assert proc.stderr.strip().startswith(
        f"error: cannot reach the kube-bind backend at http://127.0.0.1:{port}"
    )


def test_expired_login_is_not_sent(run_cli: RunCLI, cli_home: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cfg = cli_home / ".kube-bind" / "config"
    cfg.parent.mkdir()
    cfg.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current": url,
                "servers": {
                    url: {
                        "url": url,
                        "accessToken": "old",
                        "tokenType": "Bearer",
                        "expiresAt": "2020-01-01T00:00:00Z",
                    }
                },
            }
        )
    )
    proc = run_cli("templates")
    assert proc.returncode == 1
    assert "has expired" in proc.stderr and f"kubectl bind login {url}" in proc.stderr


def _dead_kubeconfig(tmp_path: Path) -> Path:
    """A consumer kubeconfig pointing at a closed port: any cluster access would fail loudly."""
    path = tmp_path / "dead-kubeconfig"
    path.write_text(provider_kubeconfig(f"https://127.0.0.1:{free_port()}", "default"))
    return path


def test_deploy_dry_run_prints_every_object_and_touches_no_cluster(run_cli: RunCLI, tmp_path: Path) -> None:
    response = tmp_path / "response.json"
    kc = provider_kubeconfig("https://provider.example:6443", "kube-bind-abc")
    response.write_text(json.dumps(binding_response(kc, [cowboys_request("my-cowboys")])))
    proc = run_cli(
        "deploy", "-f", str(response), "--dry-run", "--kubeconfig", str(_dead_kubeconfig(tmp_path))
    )
    assert proc.returncode == 0, proc.stderr
    docs = list(yaml.safe_load_all(proc.stdout))
    kinds = [(d["kind"], d["metadata"].get("name") or d["metadata"].get("generateName")) for d in docs]
    assert kinds == [
        ("Namespace", "kube-bind"),
        ("CustomResourceDefinition", "apiservicebindings.kube-bind.io"),
        ("CustomResourceDefinition", "apiservicebindingbundles.kube-bind.io"),
        ("Secret", "kubeconfig-"),
        ("ServiceAccount", "konnector"),
        ("ClusterRole", "kube-bind-konnector"),
        ("ClusterRoleBinding", "kube-bind-konnector"),
        ("Role", "kube-bind-konnector"),
        ("RoleBinding", "kube-bind-konnector"),
        ("Deployment", "konnector"),
        ("APIServiceExportRequest", "my-cowboys"),
        ("APIServiceBinding", "my-cowboys"),
        ("ClusterRole", "kube-bind-konnector-my-cowboys"),
        ("ClusterRoleBinding", "kube-bind-konnector-my-cowboys"),
    ]
    secret = docs[3]
    assert secret["metadata"]["labels"] == {"kube-bind.io/provider-kubeconfig": "true"}
    assert (
        yaml.safe_load(secret["stringData"]["kubeconfig"])["contexts"][0]["context"]["namespace"]
        == "kube-bind-abc"
    )
    assert docs[10]["metadata"]["namespace"] == "kube-bind-abc"


def test_apiservice_file_dry_run_with_custom_image_and_skip(run_cli: RunCLI, tmp_path: Path) -> None:
    request = tmp_path / "request.yaml"
    request.write_text(yaml.safe_dump(cowboys_request("from-file")))
    remote = tmp_path / "remote"
    remote.write_text(provider_kubeconfig("https://provider.example:6443", "kube-bind-xyz"))
    dead = str(_dead_kubeconfig(tmp_path))
    proc = run_cli(
        "apiservice",
        "-f",
        str(request),
        "--remote-kubeconfig",
        str(remote),
        "--dry-run",
        "--konnector-image",
        "registry.local/konnector:dev",
        "--kubeconfig",
        dead,
        "-o",
        "json",
    )
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)["items"]
    deployment = next(i for i in items if i["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "registry.local/konnector:dev"
    proc = run_cli(
        "apiservice",
        "-f",
        str(request),
        "--remote-kubeconfig",
        str(remote),
        "--dry-run",
        "--skip-konnector",
        "--kubeconfig",
        dead,
    )
    kinds = [d["kind"] for d in yaml.safe_load_all(proc.stdout)]
    assert "Deployment" not in kinds and "ServiceAccount" not in kinds
    assert kinds[-2:] == ["APIServiceExportRequest", "APIServiceBinding"]


def test_request_file_must_be_v1alpha2(run_cli: RunCLI, tmp_path: Path) -> None:
    request = tmp_path / "request.yaml"
    bad = cowboys_request()
    bad["apiVersion"] = "kube-bind.io/v1alpha1"
    request.write_text(yaml.safe_dump(bad))
    remote = tmp_path / "remote"
    remote.write_text(provider_kubeconfig("https://p", "ns"))
    proc = run_cli("apiservice", "-f", str(request), "--remote-kubeconfig", str(remote), "--dry-run")
    assert (
        proc.returncode == 2 and "must be an APIServiceExportRequest of kube-bind.io/v1alpha2" in proc.stderr
    )
