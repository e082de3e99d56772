"""``kubectl bind apiservice``: bind a template directly (``--template-name``) or a request file (``-f``).

Template mode (reference §3.6.3): ``POST /api/bind`` with a BindableResourcesRequest naming the
template and the consumer identity, then the shared Binder (§7.4). File mode: an
APIServiceExportRequest YAML (``-`` = stdin) bound with a provider kubeconfig given as a file
(``--remote-kubeconfig``) or a consumer Secret (``--remote-kubeconfig-namespace/-name``).
``--dry-run`` touches no cluster and mints nothing: in template mode the request is built from the
template as listed by ``GET /api/templates``; every consumer-side object is printed as YAML.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import sys
from pathlib import Path
from typing import Any

import yaml

from kubebind.apis import constants
from kubebind.kube.resources import SECRETS
from kubectl_bind import output
from kubectl_bind.binder import Binder
from kubectl_bind.clusters import api_errors, consumer_client
from kubectl_bind.commands import common
from kubectl_bind.commands.tables import print_bindings
from kubectl_bind.errors import CLIError, UsageError
from kubectl_bind.response import BindingResult, Kubeconfig, parse_binding_response, parse_kubeconfig

_PLACEHOLDER_NS = "<your namespace on the provider>"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "apiservice",
        help="bind a template (--template-name) or an APIServiceExportRequest file (-f)",
        description="Bind an API service from a kube-bind backend without the browser: by template name "
        "(needs `kubectl bind login`), or from an APIServiceExportRequest file and a provider kubeconfig.",
    )
    p.add_argument(
        "--template-name", default="", help="APIServiceExportTemplate to bind (see `kubectl bind templates`)"
    )
    p.add_argument("--name", default="", help="binding name (default: the template name)")
    p.add_argument("-f", "--file", default="", help="APIServiceExportRequest YAML file (`-` = stdin)")
    p.add_argument("--remote-kubeconfig", default="", help="provider kubeconfig file (file mode)")
    p.add_argument(
        "--remote-kubeconfig-namespace",
        default="",
        help="namespace of a consumer Secret holding the provider kubeconfig",
    )
    p.add_argument("--remote-kubeconfig-name", default="", help="name of that Secret (key `kubeconfig`)")
    p.add_argument(
        "--remote-namespace", default="", help="override the provider namespace of the kubeconfig context"
    )
    common.add_kube_flags(p)
    common.add_server_flags(p)
    common.add_bind_flags(p)
    common.add_output_flag(p)
    p.set_defaults(func=run)


def _read_request_file(path: str) -> dict[str, Any]:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from exc
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as exc:
        raise UsageError(f"{path} is not valid YAML") from exc
    if len(docs) != 1 or not isinstance(docs[0], dict):
        raise UsageError(f"{path} must contain exactly one APIServiceExportRequest")
    doc = docs[0]
    if doc.get("apiVersion") != constants.API_VERSION or doc.get("kind") != "APIServiceExportRequest":
        raise UsageError(
            f"{path} must be an APIServiceExportRequest of {constants.API_VERSION} "
            f"(got {doc.get('apiVersion')}/{doc.get('kind')})"
        )
    if not (doc.get("spec") or {}).get("resources"):
        raise UsageError(f"{path}: spec.resources must not be empty")
    return doc


async def _remote_kubeconfig(args: argparse.Namespace, consumer: Any) -> Kubeconfig:
    if args.remote_kubeconfig:
        try:
            text = await asyncio.to_thread(Path(args.remote_kubeconfig).read_text)
        except OSError as exc:
            raise UsageError(f"cannot read {args.remote_kubeconfig}: {exc.strerror}") from exc
        kubeconfig = parse_kubeconfig(text, args.remote_kubeconfig) if not args.remote_namespace else None
        if kubeconfig is None:
            return _with_namespace(text, args.remote_namespace)
        return kubeconfig
    if args.remote_kubeconfig_namespace and args.remote_kubeconfig_name:
        if consumer is None:
            raise UsageError(
                "--dry-run cannot read the provider kubeconfig from a Secret: use --remote-kubeconfig"
            )
        async with api_errors("reading the provider kubeconfig Secret"):
            secret = await consumer.get(
                SECRETS, args.remote_kubeconfig_name, namespace=args.remote_kubeconfig_namespace
            )
        encoded = (secret.get("data") or {}).get(constants.KUBECONFIG_SECRET_KEY)
        if not encoded:
            raise CLIError(
                f"Secret {args.remote_kubeconfig_namespace}/{args.remote_kubeconfig_name} "
                "has no key kubeconfig"
            )
        text = base64.b64decode(encoded).decode()
        return (
            _with_namespace(text, args.remote_namespace) if args.remote_namespace else parse_kubeconfig(text)
        )
    raise UsageError(
        "-f needs --remote-kubeconfig, or --remote-kubeconfig-namespace and --remote-kubeconfig-name"
    )


def _with_namespace(text: str, namespace: str) -> Kubeconfig:
    data = yaml.safe_load(text)
    if not isinstance(data, dict):
        raise CLIError("provider kubeconfig is not a kubeconfig")
    current = data.get("current-context")
    for ctx in data.get("contexts") or []:
        if isinstance(ctx, dict) and ctx.get("name") == current:
            ctx.setdefault("context", {})["namespace"] = namespace
    return parse_kubeconfig(yaml.safe_dump(data))


def _bind_body(name: str, template: str, identity: str) -> dict[str, Any]:
    return {
        "metadata": {"name": name},
        "spec": {"templateRef": {"name": template}, "clusterIdentity": {"identity": identity}, "author": ""},
    }


async def _dry_run_template(args: argparse.Namespace, name: str) -> BindingResult:
    resolved = common.resolve_server(args)
    async with common.open_backend(args, resolved) as backend:
        templates = await backend.templates()
    for template in templates:
        if (template.get("metadata") or {}).get("name") == args.template_name:
            spec = {
                k: v
                for k, v in (template.get("spec") or {}).items()
                if k in ("resources", "permissionClaims", "namespaces", "schemaUpdatePolicy")
            }
            request = {
                "apiVersion": constants.API_VERSION,
                "kind": "APIServiceExportRequest",
                "metadata": {"name": name},
                "spec": spec,
            }
            placeholder = Kubeconfig(
                "# minted by the backend when you bind\n", {}, resolved.url, _PLACEHOLDER_NS
            )
            return BindingResult(placeholder, [request], _PLACEHOLDER_NS)
    raise CLIError(
        f"template {args.template_name!r} not found on {resolved.url}: see `kubectl bind templates`"
    )


async def run(args: argparse.Namespace) -> int:
    options = common.binder_options(args)
    if bool(args.template_name) == bool(args.file):
        raise UsageError("give exactly one of --template-name or -f/--file")
    if args.name and not args.name.replace("-", "").replace(".", "").isalnum():
        raise UsageError(
            f"invalid --name {args.name!r}: use a DNS subdomain (lowercase letters, digits, '-', '.')"
        )
    file_request = _read_request_file(args.file) if args.file else None
    consumer = None if args.dry_run else consumer_client(args.kubeconfig, args.context)
    try:
        if args.template_name:
            name = args.name or args.template_name
            if args.dry_run:
                result = await _dry_run_template(args, name)
            else:
                assert consumer is not None
                resolved = common.resolve_server(args)
                identity = args.cluster_identity or await common.cluster_identity(
                    consumer, args.cluster_identity_namespace
                )
                async with common.open_backend(args, resolved) as backend:
                    body = await backend.bind(_bind_body(name, args.template_name, identity))
                result = parse_binding_response(body, require_requests=True)
                if not (body.get("authentication") or {}).get("oauth2CodeGrant"):
                    raise CLIError("POST /api/bind: the response has no authentication.oauth2CodeGrant")
        else:
            assert file_request is not None
            request = file_request
            if args.name:
                request.setdefault("metadata", {})["name"] = args.name
            result = BindingResult(await _remote_kubeconfig(args, consumer), [request])
        binder = Binder(consumer, options)
        if args.dry_run:
            output.print_objects(binder.plan(result), "yaml" if args.output == "table" else args.output)
            return 0
        print_bindings(await binder.run(result), args.output)
        return 0
    finally:
        if consumer is not None:
            await consumer.aclose()
