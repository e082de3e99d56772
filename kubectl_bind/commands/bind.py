"""``kubectl bind [URL]``: pick a service on the backend's catalog page in the browser, then bind it.

The browser is opened at the backend URL (the positional ``URL``, else ``--server``, else the
current login) with ``session_id``, ``redirect_url`` (loopback callback), ``cluster_id`` and
``consumer_id`` (the consumer identity). The page logs the user in, binds, and redirects back
with ``binding_response`` (URL-safe or standard base64 of the BindingResponse, reference §3.6.2).
The callback must carry the same ``session_id``. Then the shared :class:`~kubectl_bind.binder.Binder`
applies the consumer side; ``--dry-run`` prints the objects instead (nothing is applied).
"""

from __future__ import annotations

import argparse
import secrets

from kubectl_bind import output, progress
from kubectl_bind.backend import add_query
from kubectl_bind.binder import Binder
from kubectl_bind.callback import CallbackServer
from kubectl_bind.clusters import consumer_client
from kubectl_bind.commands import common, login
from kubectl_bind.commands.tables import print_bindings
from kubectl_bind.config import normalize_url
from kubectl_bind.errors import CLIError
from kubectl_bind.response import decode_callback_response


def configure(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "url",
        nargs="?",
        default="",
        metavar="URL",
        help="backend (catalog page) URL; default: --server or the current login",
    )
    common.add_kube_flags(p)
    common.add_server_flags(p)
    common.add_bind_flags(p)
    p.add_argument(
        "--skip-browser", action="store_true", help="print the catalog URL instead of opening a browser"
    )
    p.add_argument(
        "--browser-timeout", type=float, default=600.0, help="seconds to wait for the browser (default 600)"
    )
    common.add_output_flag(p)
    p.set_defaults(func=run)


async def run(args: argparse.Namespace) -> int:
    options = common.binder_options(args)
    if args.url:
        normalize_url(args.url)  # validates scheme/host
        page = args.url
        resolved_cluster = args.cluster
    else:
        resolved = common.resolve_server(args, require_login=False)
        page, resolved_cluster = resolved.url, resolved.cluster
    identity = args.cluster_identity
    consumer = None if args.dry_run else consumer_client(args.kubeconfig, args.context)
    try:
        if consumer is not None and not identity:
            identity = await common.cluster_identity(consumer, args.cluster_identity_namespace)
        session_id = secrets.token_urlsafe(20)
        with CallbackServer(session_id) as callback:
            url = add_query(
                page,
                {
                    "session_id": session_id,
                    "redirect_url": callback.url,
                    "cluster_id": resolved_cluster,
                    "consumer_id": identity,
                },
            )
            login.open_or_print(url, "choose a service to bind", args.skip_browser)
            with progress.waiting("waiting for the binding in the browser"):
                query = await callback.wait(args.browser_timeout)
        if query.get("error") or query.get("success") == "false":
            reason = query.get("error_description") or query.get("error") or query.get("message")
            raise CLIError(f"binding failed: {reason or 'unknown error'}")
        encoded = query.get("binding_response")
        if not encoded:
            raise CLIError("the browser returned no binding_response")
        result = decode_callback_response(encoded)
        binder = Binder(consumer, options)
        if args.dry_run:
            output.print_objects(binder.plan(result), "yaml" if args.output == "table" else args.output)
            return 0
        bindings = await binder.run(result)
        print_bindings(bindings, args.output)
        return 0
    finally:
        if consumer is not None:
            await consumer.aclose()
