"""The seed walkthrough of the README, performed like a new user would, end to end.

1. ``kubectl bind dev up``: local provider and consumer, the backend (SQLite, embedded OIDC)
   registered as the provider's aggregated API, the Cowboys CRD and template exported;
2. ``kubectl get apiserviceexporttemplates`` on the provider shows ``cowboys``;
3. ``kubectl bind login`` — the login page is completed in real Chromium (Playwright);
4. ``kubectl bind`` — the catalog page in Chromium, "Bind" on cowboys; the CLI applies the
   consumer side (kubeconfig Secret, konnector RBAC + Deployment, request → Succeeded, binding);
5. the konnector runs (as a local process with the ServiceAccount token the Deployment's pods
   would get — there is no kubelet here) and installs ``cowboys.wildwest.dev`` on the consumer;
6. ``kubectl apply`` of billy-the-kid, ``kubectl get cowboys`` lists it, the provider has the
   copy, and the status the provider writes flows back;
7. ``kubectl bind unbind cowboys`` and ``kubectl bind dev down`` clean up.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from kubebind.localcluster import kubeconfig as kubeconfig_files
from kubebind.localcluster import paths
from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess
from tests.harness import kubectl_binary, wait_for

pytestmark = [pytest.mark.cluster, pytest.mark.browser]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
BIN = Path(sys.prefix) / "bin"
REPO = paths.repo_root()


class User:
    """A shell session of the walkthrough: HOME, kube-bind config and dev dir in a temp dir."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.env = {k: v for k, v in os.environ.items() if k not in ("KUBECONFIG", "BROWSER")}
        self.env.update(
            HOME=str(home),
            KUBE_BIND_CONFIG=str(home / ".kube-bind" / "config"),
            KUBE_BIND_DEV_DIR=str(home / "dev"),
            KUBE_BIND_CACHE=str(paths.cache_root()),
            BROWSER="false",
        )

    def bind(self, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(
            [str(BIN / "kubectl-bind"), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
            cwd=REPO,
        )
        assert proc.returncode == 0, f"kubectl bind {' '.join(args)}: {proc.stderr}"
        return proc

    def bind_with_browser(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [str(BIN / "kubectl-bind"), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=self.env,
            cwd=REPO,
        )

    def kubectl(self, kubeconfig: str, *args: str, input: str | None = None) -> str:
        proc = subprocess.run(
            [kubectl_binary(), f"--kubeconfig={kubeconfig}", *args],
            capture_output=True,
            text=True,
            timeout=60,
            input=input,
            cwd=REPO,
        )
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc.stdout


def printed_url(proc: subprocess.Popen[str]) -> str:
    """The URL the CLI prints for the user to open (``--skip-browser``)."""
    assert proc.stderr is not None
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            raise AssertionError(f"CLI exited before printing a URL: {proc.wait()}")
        if line.strip().startswith(("http://", "https://")):
            return line.strip()
    raise AssertionError("no URL printed")


def finish(proc: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return out, err


def login_in_page(page: Any) -> None:
    page.fill("#username", "kube-bind")
    page.fill("#password", "kube-bind")
    page.click("#login")


def test_readme_walkthrough(tmp_path: Path) -> None:
    if not CHROMIUM.is_file():
        pytest.fail("Debian chromium is required: `apt-get install chromium` (never `playwright install`)")
    from playwright.sync_api import sync_playwright

    user = User(tmp_path)
    konnector: ManagedProcess | None = None
    try:
        # 1. one command brings everything up
        user.bind("dev", "up", "--timeout", "240")
        state = json.loads(user.bind("dev", "status", "-o", "json").stdout)
        provider = state["clusters"]["provider"]["kubeconfig"]
        consumer = state["clusters"]["consumer"]["kubeconfig"]
        backend, ca = state["backend"]["url"], state["backend"]["caFile"]

        # 2. the provider exports the Cowboys service
        assert "cowboys" in user.kubectl(provider, "get", "apiserviceexporttemplates")
        assert "cowboys.wildwest.dev" in user.kubectl(
            provider, "get", "crd", "-l", "kube-bind.io/exported=true"
        )

        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            try:
                context = browser.new_context(
                    ignore_https_errors=True
                )  # the dev CA is not in Chromium's store
                page = context.new_page()
                page.set_default_timeout(30_000)

                # 3. kubectl bind login, completed in the browser
                login = user.bind_with_browser(
                    "login", backend, "--skip-browser", "--certificate-authority", ca
                )
                page.goto(printed_url(login))
                login_in_page(page)
                _, err = finish(login)
                assert f"Logged in to {backend}" in err
                assert "cowboys" in user.bind("templates").stdout

                # 4. kubectl bind: the catalog page, Bind on cowboys
                bind = user.bind_with_browser(
                    backend,
                    "--skip-browser",
                    "--kubeconfig",
                    consumer,
                    "--konnector-image",
                    "registry.local/kube-bind/konnector:e2e",
                )
                page.goto(printed_url(bind))
                if page.locator("#login").count():
                    page.click("#login")
                    if page.locator("#username").count():
                        login_in_page(page)
                page.wait_for_selector("article.template[data-template=cowboys]")
                page.click("#bind-cowboys")
                out, err = finish(bind)
            finally:
                browser.close()
        assert out.splitlines()[0].split()[:4] == ["NAME", "PROVIDER", "SECRET", "READY"]
        assert out.splitlines()[1].startswith("cowboys ")
        secrets = json.loads(
            user.kubectl(
                consumer,
                "get",
                "secrets",
                "-n",
                "kube-bind",
                "-l",
                "kube-bind.io/provider-kubeconfig=true",
                "-o",
                "json",
            )
        )["items"]
        assert len(secrets) == 1
        provider_ns = yaml.safe_load(base64.b64decode(secrets[0]["data"]["kubeconfig"]))["contexts"][0][
            "context"
        ]["namespace"]
        request = json.loads(
            user.kubectl(
                provider, "get", "apiserviceexportrequest", "cowboys", "-n", provider_ns, "-o", "json"
            )
        )
        assert request["status"]["phase"] == "Succeeded"
        deployment = json.loads(
            user.kubectl(consumer, "get", "deployment", "konnector", "-n", "kube-bind", "-o", "json")
        )
        assert deployment["spec"]["replicas"] == 2

        # 5. the konnector, with exactly the identity its pods would have
        token = json.loads(
            user.kubectl(
                consumer, "create", "token", "konnector", "-n", "kube-bind", "--duration=2h", "-o", "json"
            )
        )["status"]["token"]
        consumer_cfg = yaml.safe_load(Path(consumer).read_text())
        cluster = consumer_cfg["clusters"][0]["cluster"]
        sa_kubeconfig = kubeconfig_files.write_kubeconfig(
            tmp_path / "konnector.kubeconfig",
            kubeconfig_files.build_kubeconfig(
                name="consumer",
                server=cluster["server"],
                ca_pem=base64.b64decode(cluster["certificate-authority-data"]),
                user=kubeconfig_files.token_user(token),
                namespace="kube-bind",
            ),
        )
        health = free_port()
        konnector = ManagedProcess(
            "konnector",
            [
                str(BIN / "konnector"),
                f"--kubeconfig={sa_kubeconfig}",
                "--lease-namespace=kube-bind",
                f"--server-address=127.0.0.1:{health}",
            ],
            tmp_path / "konnector.log",
            env={**os.environ, "POD_NAME": "konnector-e2e", "POD_NAMESPACE": "kube-bind"},
        ).start()

        def healthy() -> bool:
            assert konnector is not None
            konnector.check_alive()
            try:
                return httpx.get(f"http://127.0.0.1:{health}/healthz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(healthy, timeout=60, interval=0.5, what="konnector /healthz")
        wait_for(
            lambda: "cowboys.wildwest.dev" in user.kubectl(consumer, "get", "crd"),
            timeout=60,
            interval=0.5,
            what="cowboys CRD on the consumer",
        )
        user.kubectl(consumer, "wait", "--for=condition=Ready", "apiservicebinding/cowboys", "--timeout=60s")

        # 6. use the bound API
        user.kubectl(consumer, "apply", "-f", "examples/billy-the-kid.yaml")
        assert "billy-the-kid" in user.kubectl(consumer, "get", "cowboys", "-A")
        copy_ns = f"{provider_ns}-wild-west"
        wait_for(
            lambda: "billy-the-kid" in user.kubectl(provider, "get", "cowboys", "-A"),
            timeout=60,
            interval=0.5,
            what="the provider-side copy of billy-the-kid",
        )
        copies = json.loads(user.kubectl(provider, "get", "cowboys", "-A", "-o", "json"))["items"]
        assert [(c["metadata"]["namespace"], c["spec"]["intent"]) for c in copies] == [
            (copy_ns, "ride into town")
        ]
        user.kubectl(
            provider,
            "patch",
            "cowboy",
            "billy-the-kid",
            "-n",
            copy_ns,
            "--subresource=status",
            "--type=merge",
            "-p",
            '{"status":{"result":"arrested"}}',
        )
        wait_for(
            lambda: (
                user.kubectl(
                    consumer,
                    "get",
                    "cowboy",
                    "billy-the-kid",
                    "-n",
                    "wild-west",
                    "-o",
                    "jsonpath={.status.result}",
                )
                == "arrested"
            ),
            timeout=60,
            interval=0.5,
            what="status flowing back to the consumer",
        )

        # 7. clean up
        user.bind("unbind", "cowboys", "--kubeconfig", consumer)
        assert "cowboys" not in user.kubectl(consumer, "get", "apiservicebindings")
    finally:
        if konnector is not None:
            konnector.stop()
        subprocess.run(
            [str(BIN / "kubectl-bind"), "dev", "down"], env=user.env, capture_output=True, timeout=120
        )
