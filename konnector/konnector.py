"""The konnector process: consumer informers, leader election, and one Provider per provider.

Start-up order (reference §1.2, §6.1): install/update the consumer CRDs and wait for Established;
start the consumer informers (APIServiceBindings, APIServiceBindingBundles, Secrets, Namespaces,
CRDs) on every replica; serve ``/healthz``, ``/readyz``, ``/metrics``; then, only while leader,
run the binding and bundle controllers, which fan out to one :class:`~konnector.provider.Provider`
per distinct provider (API server + cluster namespace). A rotated kubeconfig for the same provider
swaps the credentials of the running connection instead of restarting it.
"""

from __future__ import annotations

import asyncio
import logging
from importlib import metadata

from prometheus_client import CollectorRegistry

from konnector import crd, kinds
from konnector.controllers import binding as binding_controller
from konnector.controllers import bundle as bundle_controller
from konnector.engine.controller import Controller
from konnector.engine.httpserver import HealthServer
from konnector.engine.informer import Informer
from konnector.events import EventRecorder
from konnector.metrics import Metrics
from konnector.options import Options
from konnector.provider import Provider, ProviderKey, SecretRef
from kubebind.apis import constants
from kubebind.kube.client import ApiClient
from kubebind.kube.kubeconfig import RestConfig, load_incluster_config, load_kubeconfig
from kubebind.kube.resources import (
    CUSTOM_RESOURCE_DEFINITIONS,
    NAMESPACES,
    SECRETS,
    Object,
    ObjectKey,
    ResourceRef,
)
from kubebind.runtime.leaderelection import LeaderElectionConfig, LeaderElector

__all__ = ["Konnector", "consumer_config"]

log = logging.getLogger(__name__)

HEARTBEAT_KEY_PREFIX = "__heartbeat__"


def konnector_version() -> str:
    try:
        return "v" + metadata.version("kube-bind-py").lstrip("v")
    except metadata.PackageNotFoundError:
        return "v0.0.0"


def consumer_config(options: Options) -> RestConfig:
    if options.kubeconfig:
        return load_kubeconfig(options.kubeconfig, context=options.context)
    return load_incluster_config()


class Konnector:
    def __init__(
        self,
        options: Options,
        *,
        consumer: ApiClient | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        options.validate()
        if not options.version:
            options.version = konnector_version()
        self.options = options
        self.registry = registry or CollectorRegistry()
        self.metrics = Metrics(self.registry)
        self.consumer = consumer or ApiClient(
            consumer_config(options),
            qps=options.qps,
            burst=options.burst,
            user_agent="kube-bind-konnector",
            http2=options.http2,
            metrics=self.metrics.consumer_requests,
        )
        self.events = EventRecorder(self.consumer, instance=options.identity)
        resync = options.resync_period

        def informer(ref: ResourceRef, what: str) -> Informer:
            return Informer(
                self.consumer,
                ref,
                resync=resync,
                name=f"consumer:{what}",
                metric_name=f"consumer:{what}",
                on_created=self.metrics.track,
            )

        self.bindings = informer(kinds.API_SERVICE_BINDINGS, "apiservicebindings")
        self.bundles = informer(kinds.API_SERVICE_BINDING_BUNDLES, "apiservicebindingbundles")
        self.secrets = informer(SECRETS, "secrets")
        self.namespaces = informer(NAMESPACES, "namespaces")
        self.crds = informer(CUSTOM_RESOURCE_DEFINITIONS, "customresourcedefinitions")
        self.binding_controller: Controller[str] = Controller(
            "apiservicebinding",
            self._binding_reconcile,
            workers=options.workers,
            metrics=self.metrics.queue_metrics,
            on_result=self.metrics.on_result,
        )
        self.bundle_controller: Controller[str] = Controller(
            "apiservicebindingbundle",
            lambda name: bundle_controller.reconcile(self, name),
            workers=options.workers,
            metrics=self.metrics.queue_metrics,
            on_result=self.metrics.on_result,
        )
        self.providers: dict[ProviderKey, Provider] = {}
        self._regroup_lock = asyncio.Lock()
        self.elector = LeaderElector(
            self.consumer,
            LeaderElectionConfig(
                lease_namespace=options.lease_namespace,
                lease_name=options.lease_name,
                identity=options.identity,
                lease_duration=options.lease_duration,
                renew_deadline=options.renew_deadline,
                retry_period=options.retry_period,
            ),
            on_started_leading=self._lead,
            on_new_leader=lambda who: log.info("leader observed lease=%s leader=%s", options.lease_name, who),
        )
        self.leading = False
        self.started = asyncio.Event()
        self.health = HealthServer(
            options.server_host,
            options.server_port,
            registry=self.registry,
            health_checks={"ping": lambda: True, "informers": self._informers_running},
            ready_checks={"informers": self._informers_synced},
        )

    def _informers_running(self) -> bool:
        """Unhealthy only when a consumer informer has failed and never synced (stuck)."""
        return all(i.has_synced() or i.last_error is None for i in self._consumer_informers())

    def _consumer_informers(self) -> tuple[Informer, ...]:
        return (self.bindings, self.bundles, self.secrets, self.namespaces, self.crds)

    def _informers_synced(self) -> bool:
        return all(
            i.has_synced() for i in (self.bindings, self.bundles, self.secrets, self.namespaces, self.crds)
        )

    # -- event handlers ------------------------------------------------------------------------------

    def _on_binding(self, event: str, obj: Object) -> None:
        name = str(obj["metadata"]["name"])
        self.binding_controller.enqueue(name)
        for provider in self.providers.values():
            if name in provider.bindings:
                provider.binding_controller.enqueue(name)

    def _on_bundle(self, event: str, obj: Object) -> None:
        if event != "DELETED":
            self.bundle_controller.enqueue(str(obj["metadata"]["name"]))

    def _on_secret(self, event: str, obj: Object) -> None:
        meta = obj.get("metadata") or {}
        key = (meta.get("namespace"), meta.get("name"))
        for b in self.bindings.list():
            ref = binding_controller.secret_ref(b)
            if ref is not None and (ref[0], ref[1]) == key:
                self.binding_controller.enqueue(str(b["metadata"]["name"]))
        for b in self.bundles.list():
            ref = binding_controller.secret_ref(b)
            if ref is not None and (ref[0], ref[1]) == key:
                self.bundle_controller.enqueue(str(b["metadata"]["name"]))
        if (meta.get("labels") or {}).get(constants.LABEL_PROVIDER_KUBECONFIG) == constants.LABEL_VALUE_TRUE:
            self.binding_controller.enqueue(
                f"{HEARTBEAT_KEY_PREFIX}{meta.get('namespace')}/{meta.get('name')}"
            )

    def _on_namespace(self, event: str, obj: Object) -> None:
        for provider in self.providers.values():
            provider.on_consumer_namespace(event, obj)

    def _on_crd(self, event: str, obj: Object) -> None:
        for provider in self.providers.values():
            provider.on_consumer_crd(event, obj)

    # -- provider grouping ---------------------------------------------------------------------------

    async def regroup(self) -> None:
        """Bring the provider connections in line with the current bindings and labelled Secrets."""
        if not self.leading:
            return
        async with self._regroup_lock:
            desired: dict[
                ProviderKey, tuple[binding_controller.ParsedKubeconfig, set[str], set[SecretRef]]
            ] = {}
            for b in self.bindings.list():
                result = binding_controller.validate(self, b)
                if isinstance(result, binding_controller.KubeconfigError):
                    continue
                ref = binding_controller.secret_ref(b)
                assert ref is not None
                key = ProviderKey(result.config.server, result.namespace)
                entry = desired.setdefault(key, (result, set(), set()))
                entry[1].add(str(b["metadata"]["name"]))
                entry[2].add(SecretRef(*ref))
            for secret in self.secrets.list():
                meta = secret.get("metadata") or {}
                if (meta.get("labels") or {}).get(
                    constants.LABEL_PROVIDER_KUBECONFIG
                ) != constants.LABEL_VALUE_TRUE:
                    continue
                ns, name = str(meta.get("namespace")), str(meta.get("name"))
                try:
                    parsed = binding_controller.parse_secret_kubeconfig(
                        secret, ns, name, constants.KUBECONFIG_SECRET_KEY
                    )
                except binding_controller.KubeconfigError:
                    continue
                key = ProviderKey(parsed.config.server, parsed.namespace)
                entry = desired.setdefault(key, (parsed, set(), set()))
                entry[2].add(SecretRef(ns, name, constants.KUBECONFIG_SECRET_KEY))
            for key in [k for k in self.providers if k not in desired]:
                provider = self.providers.pop(key)
                await provider.stop()
            for key, (parsed, names, refs) in desired.items():
                existing = self.providers.get(key)
                if existing is None:
                    created = Provider(self, key, parsed.config, parsed.raw)
                    created.set_bindings(names, refs)
                    self.providers[key] = created
                    await created.start()
                else:
                    existing.update_credentials(parsed.config, parsed.raw)
                    existing.set_bindings(names, refs)

    async def _binding_reconcile(self, name: str) -> None:
        if name.startswith(HEARTBEAT_KEY_PREFIX):
            await self.regroup()
            return
        await binding_controller.reconcile(self, name)

    # -- lifecycle -----------------------------------------------------------------------------------

    async def _lead(self) -> None:
        self.leading = True
        try:
            self.binding_controller.start()
            self.bundle_controller.start()
            for b in self.bindings.list():
                self.binding_controller.enqueue(str(b["metadata"]["name"]))
            for b in self.bundles.list():
                self.bundle_controller.enqueue(str(b["metadata"]["name"]))
            await self.regroup()
            await asyncio.Event().wait()
        finally:
            self.leading = False
            await self.binding_controller.stop()
            await self.bundle_controller.stop()
            providers = list(self.providers.values())
            self.providers.clear()
            await asyncio.gather(*(p.stop() for p in providers), return_exceptions=True)
            # Fresh controllers for the next term (a shut-down queue cannot be restarted).
            self.binding_controller = Controller(
                "apiservicebinding",
                self._binding_reconcile,
                workers=self.options.workers,
                metrics=self.metrics.queue_metrics,
                on_result=self.metrics.on_result,
            )
            self.bundle_controller = Controller(
                "apiservicebindingbundle",
                lambda name: bundle_controller.reconcile(self, name),
                workers=self.options.workers,
                metrics=self.metrics.queue_metrics,
                on_result=self.metrics.on_result,
            )

    async def run(self) -> None:
        """Run until cancelled."""
        await self.health.start()
        try:
            if self.options.install_crds:
                await crd.install_consumer_crds(self.consumer)
            self.bindings.add_handler(self._on_binding)
            self.bundles.add_handler(self._on_bundle)
            self.secrets.add_handler(self._on_secret)
            self.namespaces.add_handler(self._on_namespace)
            self.crds.add_handler(self._on_crd)
            informers = (self.bindings, self.bundles, self.secrets, self.namespaces, self.crds)
            for inf in informers:
                inf.start()
            await asyncio.gather(*(i.wait_synced(60) for i in informers))
            self.started.set()
            log.info("konnector started identity=%s version=%s", self.options.identity, self.options.version)
            if self.options.leader_elect:
                while True:  # run() returns when leadership is lost: stand for election again
                    await self.elector.run()
            else:
                await self._lead()
        finally:
            await asyncio.gather(
                *(i.stop() for i in (self.bindings, self.bundles, self.secrets, self.namespaces, self.crds)),
                return_exceptions=True,
            )
            await self.health.stop()

    async def aclose(self) -> None:
        await self.consumer.aclose()

    def provider_for(self, binding_name: str) -> Provider | None:
        for provider in self.providers.values():
            if binding_name in provider.bindings:
                return provider
        return None

    def binding(self, name: str) -> Object | None:
        return self.bindings.get(ObjectKey("", name))
