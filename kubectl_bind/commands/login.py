"""``kubectl bind login URL``: log in to a kube-bind backend through the browser (reference §3.6.1).

GET ``<url>/api/exports`` names the authorize URL; the CLI adds ``redirect_url`` (its loopback
callback), a random ``session_id``, ``client_type=cli`` and ``cluster_id``, opens the browser (or,
with ``--skip-browser``, prints the URL for the user to open anywhere), and waits for the backend's
redirect carrying ``access_token``/``token_type``/``expires_in``. The token is stored in
``~/.kube-bind/config`` (0600) and the server becomes the current one.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import webbrowser

from kubectl_bind import config as config_mod
from kubectl_bind import progress
from kubectl_bind.backend import BackendClient, add_query, discover_authorize_url
from kubectl_bind.callback import CallbackServer
from kubectl_bind.commands import common
from kubectl_bind.errors import CLIError, UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "login",
        help="log in to a kube-bind backend (browser + loopback callback)",
        description="Log in to a kube-bind backend. Opens the browser at the backend's login page and "
        "stores the resulting token in ~/.kube-bind/config.",
    )
    p.add_argument("url", metavar="SERVER_URL", help="backend URL, e.g. https://kube-bind.example.com")
    p.add_argument("--cluster", default="", help="backend cluster id (multi-cluster backends)")
    p.add_argument(
        "--skip-browser", action="store_true", help="print the login URL instead of opening a browser"
    )
    p.add_argument("--show-token", action="store_true", help="print the access token after login")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for the login (default 300)")
    p.add_argument(
        "--insecure-skip-tls-verify", action="store_true", help="do not verify the backend's TLS certificate"
    )
    p.add_argument("--config-file", default="", help="kube-bind config file (default: ~/.kube-bind/config)")
    p.add_argument(
        "--certificate-authority",
        default="",
        help="PEM file to trust for the backend's TLS (stored with the login)",
    )
    p.set_defaults(func=run)


def open_or_print(url: str, what: str, skip_browser: bool) -> None:
    if not skip_browser:
        try:
            opened = webbrowser.open(url)
        except webbrowser.Error:
            opened = False
        if opened:
            progress.info(f"Opened the browser to {what}. If nothing happens, open this URL:\n\n    {url}\n")
            return
    progress.info(f"Open this URL in a browser to {what}:\n\n    {url}\n")


def _absolute(path: str) -> str:
    return os.path.abspath(path) if path else ""


async def run(args: argparse.Namespace) -> int:
    ca = _absolute(args.certificate_authority)
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    url = config_mod.normalize_url(args.url)
    session_id = secrets.token_urlsafe(20)
    async with BackendClient(
        url, insecure_skip_tls_verify=args.insecure_skip_tls_verify, certificate_authority=ca
    ) as backend:
        provider = await backend.exports()
    authorize = discover_authorize_url(provider)
    # The Go backend does not echo session_id on the login redirect; ours may: then it must match.
    with CallbackServer(session_id, require_session=False) as callback:
        login_url = add_query(
            authorize,
            {
                "redirect_url": callback.url,
                "session_id": session_id,
                "client_type": "cli",
                "cluster_id": args.cluster,
            },
        )
        open_or_print(login_url, f"log in to {provider.get('providerPrettyName') or url}", args.skip_browser)
        with progress.waiting("waiting for the browser login to finish"):
            query = await callback.wait(args.timeout)
    if query.get("error"):
        raise CLIError(f"login failed: {query.get('error_description') or query['error']}")
    token = query.get("access_token", "")
    if not token:
        raise CLIError("login failed: the backend returned no access token")
    cfg = common.load_config(args)
    server = config_mod.Server(
        url=url,
        cluster=query.get("cluster_id") or args.cluster,
        access_token=token,
        token_type=query.get("token_type") or "Bearer",
        expires_at=config_mod.token_expiry(query.get("expires_in")),
        certificate_authority=ca,
    )
    cfg.set_server(server)
    cfg.save()
    progress.info(f"Logged in to {server.key}; credentials saved in {cfg.path}")
    if args.show_token:
        sys.stdout.write(f"{token}\n")
    return 0
