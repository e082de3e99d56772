"""The backend process: ``create_app(settings)`` factory with its lifespan, and the ``kube-bind-backend`` CLI.

The lifespan builds every component from ``Settings`` (nothing at import time): database engine,
schema check or migration, object store, change feed, REST stores and garbage collector, the
provider cluster client, front-proxy/token authentication and the SubjectAccessReview authorizer,
optional APIService registration, and the change-log compactor. ``run()`` serves the app over TLS
with the client-certificate-aware uvicorn protocol from ``app.serving``.

Schema policy: with ``KUBE_BIND_MIGRATE_ON_START=true`` (default) the lifespan runs ``alembic
upgrade head`` (Postgres replicas serialise on an advisory lock); with ``false`` it refuses to start
unless the database is already at head.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import ssl
import sys
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import yaml
from fastapi import FastAPI
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from app import deps, registration, serving
from app.aggregated import routes, status
from app.aggregated.admission import NamespaceLifecycle
from app.auth.authorizer import Attributes, SubjectAccessReviewer
from app.auth.frontproxy import FrontProxyAuthenticator, RequestHeaderConfig, config_from_configmap
from app.auth.tokenreview import TokenAuthenticator
from app.handshake import service
from app.metrics import Metrics
from app.registry import kinds
from app.registry.rest import GarbageCollector, RestStore
from app.settings import Settings
from app.storage import engine as engines
from app.storage import errors, migrate
from app.storage.changefeed import ChangeFeed
from app.storage.objects import ObjectStore
from kubebind.apis import constants
from kubebind.kube.client import ApiClient
from kubebind.kube.kubeconfig import load_incluster_config, load_kubeconfig
from kubebind.runtime.gcpause import GCPauseGuard

log = logging.getLogger("app")


def provider_client(settings: Settings) -> ApiClient | None:
    """The provider cluster client from the kubeconfig setting, in-cluster config, or ``None``."""
    if settings.provider_kubeconfig is not None:
        return ApiClient(
            load_kubeconfig(settings.provider_kubeconfig), qps=200, burst=400, user_agent="kube-bind-backend"
        )
    if os.environ.get("KUBERNETES_SERVICE_HOST"):
        return ApiClient(load_incluster_config(), qps=200, burst=400, user_agent="kube-bind-backend")
    return None


def _static_requestheader(settings: Settings) -> RequestHeaderConfig | None:
    if settings.requestheader_client_ca_file is None:
        return None
    pem = settings.requestheader_client_ca_file.read_bytes()
    return config_from_configmap({"requestheader-client-ca-file": pem.decode()})


def _overrides(settings: Settings) -> dict[str, Any]:
    return {
        "allowed_names": settings.requestheader_allowed_names,
        "username_headers": settings.requestheader_username_headers,
        "group_headers": settings.requestheader_group_headers,
        "extra_prefixes": settings.requestheader_extra_headers_prefix,
    }


async def _compactor(store: ObjectStore, settings: Settings) -> None:
    while True:
        await asyncio.sleep(settings.compaction_interval_seconds)
        try:
            await store.compact(
                older_than_seconds=settings.changelog_retention_seconds,
                keep_min=settings.changelog_min_entries,
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("change log compaction failed")


def create_app(settings: Settings, *, registry: CollectorRegistry | None = None) -> FastAPI:
    """The ASGI application; components are built in its lifespan from ``settings``."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = engines.create_engine(settings.database_url, pool_size=settings.database_pool_size)
        tasks: list[asyncio.Task[None]] = []
        client: ApiClient | None = None
        store: ObjectStore | None = None
        service_stack = contextlib.AsyncExitStack()
        try:
            await migrate.ensure_schema(engine, migrate=settings.migrate_on_start)
            store = ObjectStore(engine, group=constants.GROUP, pool_size=settings.database_pool_size)
            feed = ChangeFeed(store, poll_interval=settings.watch_poll_interval_seconds)
            await feed.start()
            rest: dict[str, RestStore] = {}
            collector = GarbageCollector(store, rest)
            for plural, strategy in kinds.strategies().items():
                rest[plural] = RestStore(strategy, store, feed, collector=collector)
            collector.start()
            client = provider_client(settings)
            fp = FrontProxyAuthenticator(
                client=client,
                static=_static_requestheader(settings),
                overrides=_overrides(settings),
                refresh_seconds=settings.authentication_configmap_refresh_seconds,
            )
            if client is not None or settings.requestheader_client_ca_file is not None:
                await fp.load()
            ctx: ssl.SSLContext | None = getattr(app.state, "ssl_context", None)
            fp.start()
            reg = registry or CollectorRegistry()
            backend = deps.Backend(
                settings=settings,
                engine=engine,
                sessions=engines.session_factory(engine),
                store=store,
                feed=feed,
                rest=rest,
                collector=collector,
                frontproxy=fp,
                tokens=TokenAuthenticator(client) if client is not None else None,
                authorizer=SubjectAccessReviewer(
                    client,
                    ttl=settings.authorization_cache_ttl_seconds,
                    deny_ttl=settings.authorization_deny_cache_ttl_seconds,
                    always_allow_groups=tuple(settings.authorization_always_allow_groups),
                )
                if client is not None
                else None,
                provider=client,
                registry=reg,
                metrics=Metrics(reg),
                namespaces=NamespaceLifecycle(client),
                extras={"ssl_context": ctx},
            )
            app.state.backend = backend
            if settings.register_apiservice and client is not None:
                ca_file = settings.apiservice_ca_file or settings.tls_cert_file
                if ca_file is None:
                    raise RuntimeError("registering the APIService needs KUBE_BIND_APISERVICE_CA_FILE")
                ca_pem = await asyncio.to_thread(Path(ca_file).read_bytes)
                await registration.register(client, settings, ca_pem)
            if settings.serve_handshake and client is not None:
                # issue 4: handshake API, login and provider-side controllers share the engine
                service_settings = settings.service.model_copy(
                    update={
                        "provider_kubeconfig": str(settings.provider_kubeconfig or ""),
                        "database_url": settings.database_url,
                    }
                )
                service_ctx = await service.build_context(service_settings, engine=engine, registry=reg)
                service.attach(app, service_ctx)
                await service_stack.enter_async_context(service.run_service(service_ctx))
            tasks.append(asyncio.create_task(_compactor(store, settings), name="changelog-compactor"))
            log.info("backend started database=%s", settings.database_url.split("://")[0])
            yield
        finally:
            await service_stack.aclose()
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            backend_obj: deps.Backend | None = getattr(app.state, "backend", None)
            if backend_obj is not None:
                await backend_obj.collector.stop()
                await backend_obj.frontproxy.stop()
                await backend_obj.feed.stop()
            if client is not None:
                await client.aclose()
            if store is not None:
                await store.close()
            await engine.dispose()

    app = FastAPI(
        title="kube-bind backend",
        lifespan=lifespan,
        # the handshake API's own document (the aggregated API serves /openapi/v2 and /v3 itself)
        openapi_url="/api/openapi.json" if settings.serve_handshake else None,
        docs_url=None,
        redoc_url=None,
    )
    app.add_exception_handler(errors.StatusError, status.handle_status_error)
    app.add_exception_handler(Exception, status.handle_unexpected)
    app.include_router(routes.build_router())
    if settings.serve_handshake:
        service.mount(app)

    @app.get("/healthz", include_in_schema=False)
    @app.get("/livez", include_in_schema=False)
    async def healthz() -> PlainTextResponse:
        return PlainTextResponse("ok")

    @app.get("/readyz", include_in_schema=False)
    async def readyz(request: Request) -> PlainTextResponse:
        backend = deps.get_backend(request)
        try:
            await backend.store.current_revision()
        except Exception as exc:
            return PlainTextResponse(f"database: {exc}", status_code=503)
        return PlainTextResponse("ok")

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        backend = deps.get_backend(request)
        user = await deps.authenticate(request)
        await deps.authorize(request, user, Attributes(verb="get", path="/metrics"))
        return Response(generate_latest(backend.registry), media_type=CONTENT_TYPE_LATEST)

    return app


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out = {
            "ts": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


def configure_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if settings.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level.upper())


async def _tls_client_cas(settings: Settings) -> bytes:
    """Front-proxy CA + client CA for the TLS handshake (Python re-verifies per request)."""
    pems = b""
    if settings.requestheader_client_ca_file is not None:
        pems += settings.requestheader_client_ca_file.read_bytes()
    client = provider_client(settings)
    if client is not None:
        try:
            cm = await client.request(
                "GET", "/api/v1/namespaces/kube-system/configmaps/extension-apiserver-authentication"
            )
            data = cm.get("data") or {}
            pems += (data.get("requestheader-client-ca-file") or "").encode()
            pems += b"\n" + (data.get("client-ca-file") or "").encode()
        finally:
            await client.aclose()
    return pems


async def run(settings: Settings, *, started: asyncio.Event | None = None) -> None:
    """Serve until cancelled or signalled."""
    if not settings.migrate_on_start:
        engine = engines.create_engine(settings.database_url)
        try:
            await migrate.ensure_schema(engine, migrate=False)  # a clear error before serving
        finally:
            await engine.dispose()
    if not settings.tls_enabled:
        # TLS is not optional (the aggregator only speaks HTTPS, and bearer tokens must not cross
        # the network in clear text): without a configured certificate, make a self-signed one.
        directory = Path(tempfile.mkdtemp(prefix="kube-bind-backend-tls-"))
        cert, key = serving.self_signed(settings, directory)
        update: dict[str, Any] = {"tls_cert_file": cert, "tls_key_file": key}
        if settings.apiservice_ca_file is None:
            update["apiservice_ca_file"] = cert
        settings = settings.model_copy(update=update)
        log.warning("no serving certificate configured: using a self-signed one path=%s", cert)
    app = create_app(settings)
    ctx = serving.ssl_context(settings, await _tls_client_cas(settings))
    app.state.ssl_context = ctx
    server = serving.build_server(app, settings, ctx)
    # Process-wide: full garbage collections must not pause every request (kubebind.runtime.gcpause;
    # measured: a full collection of this process takes 50-70 ms, the p99 of a get is ~10 ms).
    gc_guard = asyncio.create_task(GCPauseGuard().run(), name="gc-pause-guard")
    try:
        await serving.serve(server, started)
    finally:
        gc_guard.cancel()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kube-bind-backend",
        description=(
            "kube-bind backend: serves the kube-bind.io/v1alpha2 API as an aggregated API server "
            "(Postgres or SQLite storage). "
            "Every option can also be set as KUBE_BIND_<NAME> in the environment."
        ),
    )
    parser.add_argument(
        "--database-url", help="sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db"
    )
    parser.add_argument("--bind-address", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8443)")
    parser.add_argument("--tls-cert-file", help="serving certificate (PEM), SAN <service>.<namespace>.svc")
    parser.add_argument("--tls-key-file", help="serving key (PEM)")
    parser.add_argument(
        "--provider-kubeconfig", help="kubeconfig of the provider cluster (default: in-cluster)"
    )
    parser.add_argument(
        "--register-apiservice", action="store_true", default=None, help="create/refresh the APIService"
    )
    parser.add_argument("--service-name", help="Service the APIService points to")
    parser.add_argument("--service-namespace", help="namespace of that Service")
    parser.add_argument("--service-external-name", help="make the Service an ExternalName (e.g. localhost)")
    parser.add_argument("--service-port", type=int, help="port in the APIService's service reference")
    parser.add_argument(
        "--apiservice-ca-file", help="CA bundle for the APIService (default: the serving cert)"
    )
    parser.add_argument(
        "--no-migrate", action="store_true", help="refuse to start on an outdated schema instead of migrating"
    )
    parser.add_argument("--migrate-only", action="store_true", help="run `alembic upgrade head` and exit")
    parser.add_argument(
        "--print-manifests",
        action="store_true",
        help="print the Service, APIService and RBAC manifests (YAML) for these settings and exit",
    )
    parser.add_argument("--log-level", help="DEBUG, INFO, WARNING, ERROR")
    parser.add_argument("--log-format", choices=["text", "json"])
    return parser


def cli(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    values: dict[str, Any] = {}
    for key in (
        "database_url",
        "bind_address",
        "port",
        "tls_cert_file",
        "tls_key_file",
        "provider_kubeconfig",
        "register_apiservice",
        "service_name",
        "service_namespace",
        "service_external_name",
        "service_port",
        "apiservice_ca_file",
        "log_level",
        "log_format",
    ):
        value = getattr(args, key)
        if value is not None:
            values[key] = value
    if args.no_migrate:
        values["migrate_on_start"] = False
    settings = Settings(**values)
    configure_logging(settings)
    if args.print_manifests:
        ca_file = settings.apiservice_ca_file or settings.tls_cert_file
        if ca_file is None:
            sys.stderr.write(
                "kube-bind-backend: --print-manifests needs --apiservice-ca-file or --tls-cert-file\n"
            )
            raise SystemExit(2)
        sys.stdout.write(yaml.safe_dump_all(registration.manifests(settings, Path(ca_file).read_bytes())))
        return
    if args.migrate_only:

        async def _migrate() -> None:
            engine = engines.create_engine(settings.database_url)
            try:
                await migrate.upgrade(engine)
            finally:
                await engine.dispose()

        asyncio.run(_migrate())
        return
    try:
        asyncio.run(run(settings))
    except KeyboardInterrupt:
        pass
    except migrate.SchemaOutdated as exc:
        sys.stderr.write(f"kube-bind-backend: {exc}\n")
        raise SystemExit(1) from exc


if __name__ == "__main__":
    cli()
