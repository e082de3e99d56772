"""Every Kubernetes string kube-bind puts on the wire: group, labels, annotations, finalizers,
condition types and reasons.

Why a module of its own: the Go konnector, the Go CLI and our own components find each other's
objects by these exact strings (reference §2.19, §12). A typo in one place silently breaks sync, so
the rest of the project imports them from here and never spells them out. Values are grouped by
the object that carries them; comments say who writes and who reads them.
"""

from __future__ import annotations

from typing import Final

# --- API group / version -------------------------------------------------------------------------
GROUP: Final = "kube-bind.io"
VERSION: Final = "v1alpha2"
API_VERSION: Final = f"{GROUP}/{VERSION}"
#: Categories the CRDs advertise (`kubectl get kube-bindings`).
CATEGORY_KUBE_BINDINGS: Final = "kube-bindings"
CATEGORY_KUBE_BIND: Final = "kube-bind"

# --- Labels ----------------------------------------------------------------------------------------
#: On provider CRDs (value "true"): the schema may be exported.
LABEL_EXPORTED: Final = "kube-bind.io/exported"
#: Ownership for bidirectional claim sync and pre-seeded APIServiceNamespaces; values below.
LABEL_OWNER: Final = "kube-bind.io/owner"
OWNER_PROVIDER: Final = "provider"
OWNER_CONSUMER: Final = "consumer"
#: On the consumer Secret holding a provider kubeconfig (value "true"); konnector heartbeats early.
LABEL_PROVIDER_KUBECONFIG: Final = "kube-bind.io/provider-kubeconfig"
#: On per-export ClusterRoles aggregated into `kube-binder-exports` (value "true").
LABEL_AGGREGATE_TO_PARENT: Final = "rbac.kube-bind.io/aggregate-to-parent"
#: Konnector Deployment/pod label (`app: konnector`).
LABEL_APP: Final = "app"
LABEL_APP_KONNECTOR: Final = "konnector"
#: Value used for boolean labels.
LABEL_VALUE_TRUE: Final = "true"

# --- Annotations -----------------------------------------------------------------------------------
#: SHA-256 hex of the BoundSchema spec(s); on BoundSchema and APIServiceExport (backend).
ANNOTATION_SOURCE_SPEC_HASH: Final = "kube-bind.io/source-spec-hash"
#: On the provider Namespace created for an APIServiceNamespace: `<clusterNs>/<snsName>`.
ANNOTATION_API_SERVICE_NAMESPACE: Final = "kube-bind.io/api-service-namespace"
#: On every provider-side synced instance: the cluster (contract) namespace (konnector).
ANNOTATION_CLUSTER_NAMESPACE: Final = "kube-bind.io/cluster-namespace"
#: Source trace on provider-side copies (konnector).
ANNOTATION_CONSUMER_NAMESPACE: Final = "kube-bind.io/consumer-namespace"
ANNOTATION_CONSUMER_UID: Final = "kube-bind.io/consumer-uid"
#: Source trace on consumer-side objects (konnector).
ANNOTATION_PROVIDER_NAMESPACE: Final = "kube-bind.io/provider-namespace"
ANNOTATION_PROVIDER_UID: Final = "kube-bind.io/provider-uid"
#: Print column of APIServiceBinding ("Resources"); the Go code never sets it.
ANNOTATION_RESOURCES: Final = "kube-bind.io/resources"
#: Consumer identity on the cluster Namespace and ClusterBinding; the namespace lookup key (backend).
ANNOTATION_IDENTITY: Final = "backend.kube-bind.io/identity"
#: OIDC subject of whoever bound first (backend).
ANNOTATION_AUTHOR: Final = "backend.kube-bind.io/author"
ANNOTATION_CLUSTER_PRETTY_NAME: Final = "backend.kube-bind.io/cluster-pretty-name"
#: Legacy identity annotation, migrated to ANNOTATION_IDENTITY when found.
ANNOTATION_LEGACY_IDENTITY: Final = "example-backend.kube-bind.io/identity"
#: kcp mode: template generated from an APIBinding.
ANNOTATION_OWNER_BINDING: Final = "apibindingtemplate.kube-bind.io/owner-binding"
#: Bootstrap helpers.
ANNOTATION_BOOTSTRAP_CREATE_ONLY: Final = "bootstrap.kube-bind.io/create-only"
ANNOTATION_BOOTSTRAP_BATTERY: Final = "bootstrap.kube-bind.io/battery"
#: Legacy SA-token Secret annotation (Kubernetes' own key).
ANNOTATION_SERVICE_ACCOUNT_NAME: Final = "kubernetes.io/service-account.name"

# --- Finalizers ------------------------------------------------------------------------------------
#: On consumer-side synced instances; note: no dash in `kubebind.io` (reference §2.10).
FINALIZER_SYNCER: Final = "kubebind.io/syncer"

# --- Field manager ---------------------------------------------------------------------------------
#: Server-side apply field manager used by the konnector on the provider.
FIELD_MANAGER: Final = "kube-bind.io"

# --- Well-known object names -----------------------------------------------------------------------
CLUSTER_BINDING_NAME: Final = "cluster"
DEFAULT_CLUSTER_NAME: Final = "default"
KUBECONFIG_SECRET_NAME: Final = "kubeconfig"
KUBECONFIG_SECRET_KEY: Final = "kubeconfig"
DEFAULT_NAMESPACE_PREFIX: Final = "kube-bind-"
#: Consumer-side namespace of the konnector and its kubeconfig Secrets.
KONNECTOR_NAMESPACE: Final = "kube-bind"
#: BoundSchema/resource-group name suffix for the core ("") group.
CORE_GROUP_NAME: Final = "core"
#: Identity sentinel the bundled UI sends to /api/bind.
UI_IDENTITY: Final = "ui-identity"

# --- Condition status / severity -------------------------------------------------------------------
STATUS_TRUE: Final = "True"
STATUS_FALSE: Final = "False"
STATUS_UNKNOWN: Final = "Unknown"
SEVERITY_ERROR: Final = "Error"
SEVERITY_WARNING: Final = "Warning"
SEVERITY_INFO: Final = "Info"
SEVERITY_NONE: Final = ""

# --- Condition types -------------------------------------------------------------------------------
#: Summary condition on every kind with conditions.
CONDITION_READY: Final = "Ready"
# APIServiceExportRequest
CONDITION_EXPORTS_READY: Final = "ExportsReady"
# APIServiceExport (+ PermissionClaim also used on requests)
CONDITION_CONNECTED: Final = "Connected"
CONDITION_PROVIDER_IN_SYNC: Final = "ProviderInSync"
CONDITION_CONSUMER_IN_SYNC: Final = "ConsumerInSync"
CONDITION_PERMISSION_CLAIM: Final = "PermissionClaim"
# BoundSchema
CONDITION_VALID: Final = "Valid"
CONDITION_ESTABLISHED: Final = "Established"
CONDITION_NAMES_ACCEPTED: Final = "NamesAccepted"
# ClusterBinding
CONDITION_SECRET_VALID: Final = "SecretValid"
CONDITION_VALID_VERSION: Final = "ValidVersion"
CONDITION_HEALTHY: Final = "Healthy"
# APIServiceBinding
CONDITION_INFORMERS_SYNCED: Final = "InformersSynced"
CONDITION_HEARTBEATING: Final = "Heartbeating"
CONDITION_SCHEMA_IN_SYNC: Final = "SchemaInSync"
#: An APIServiceBinding is Ready only once each of these was reported (and none is False): the
#: kubeconfig Secret checked, the provider reached, every bound CRD established and syncing.
BINDING_READY_REQUIRES: Final = (CONDITION_SECRET_VALID, CONDITION_CONNECTED, CONDITION_SCHEMA_IN_SYNC)
# APIServiceBindingBundle
CONDITION_SYNCED: Final = "Synced"

# --- Condition reasons -----------------------------------------------------------------------------
# APIServiceExportRequest (backend)
REASON_BOUND_SCHEMA_NOT_FOUND: Final = "BoundSchemaNotFound"
REASON_SCHEMA_NOT_FOUND: Final = "SchemaNotFound"
REASON_DIFFERENT_SCOPES: Final = "DifferentScopes"
REASON_INVALID_PERMISSION_CLAIM: Final = "InvalidPermissionClaim"
REASON_DUPLICATE_PERMISSION_CLAIM: Final = "DuplicatePermissionClaim"
# APIServiceExport
REASON_BOUND_SCHEMA_MISSING: Final = "BoundSchemaMissing"
REASON_API_SERVICE_BINDING_NOT_FOUND: Final = "APIServiceBindingNotFound"
REASON_NA: Final = "NA"
REASON_UNKNOWN: Final = "Unknown"
REASON_BOUND_SCHEMAS_NOT_VALID: Final = "BoundSchemasNotValid"
# BoundSchema (declared; Valid condition)
REASON_ACCEPTED: Final = "Accepted"
REASON_REJECTED: Final = "Rejected"
REASON_PENDING: Final = "Pending"
REASON_DRIFT_DETECTED: Final = "DriftDetected"
# ClusterBinding: konnector
REASON_PROVIDER_SECRET_NOT_FOUND: Final = "ProviderSecretNotFound"
REASON_PROVIDER_SECRET_INVALID: Final = "ProviderSecretInvalid"
REASON_PARSE_ERROR: Final = "ParseError"
# ClusterBinding: backend
REASON_FIRST_HEARTBEAT_PENDING: Final = "FirstHeartbeatPending"
REASON_HEARTBEAT_INTERVAL_MISSING: Final = "HeartbeatIntervalMissing"
REASON_HEARTBEAT_TIMEOUT: Final = "HeartbeatTimeout"
REASON_HEARTBEAT_TIME_DRIFT: Final = "HeartbeatTimeDrift"
# APIServiceBinding (konnector; the CLI writes Ready=False REASON_PENDING first)
REASON_KUBECONFIG_SECRET_NOT_FOUND: Final = "KubeconfigSecretNotFound"
REASON_KUBECONFIG_SECRET_INVALID: Final = "KubeconfigSecretInvalid"
REASON_INFORMER_SYNC_TIMEOUT: Final = "InformerSyncTimeout"
REASON_CLUSTER_BINDING_UPDATE_FAILED: Final = "ClusterBindingUpdateFailed"
REASON_API_SERVICE_EXPORT_FAILED: Final = "APIServiceExportFailed"
REASON_API_SERVICE_EXPORT_NOT_FOUND: Final = "APIServiceExportNotFound"
REASON_BOUND_SCHEMA_FETCH_FAILED: Final = "BoundSchemaFetchFailed"
REASON_CRD_CREATE_FAILED: Final = "CustomResourceDefinitionCreateFailed"
REASON_FOREIGN_CRD: Final = "ForeignCustomResourceDefinition"
REASON_CRD_UPDATE_FAILED: Final = "CustomResourceDefinitionUpdateFailed"
# APIServiceBinding not Ready yet, without a failure (severity Info)
REASON_CRD_NOT_ESTABLISHED: Final = "CustomResourceDefinitionNotEstablished"
REASON_INFORMERS_SYNCING: Final = "InformersSyncing"
# APIServiceBindingBundle
REASON_PROVIDER_CLIENT_ERROR: Final = "ProviderClientError"
REASON_LIST_EXPORTS_FAILED: Final = "ListExportsFailed"
REASON_LIST_BINDINGS_FAILED: Final = "ListBindingsFailed"
REASON_SYNC_ERRORS: Final = "SyncErrors"
# BindableResourcesRequest (metav1.Condition, type Ready)
REASON_TEMPLATE_NOT_FOUND: Final = "TemplateNotFound"
REASON_HANDLE_RESOURCES_FAILED: Final = "HandleResourcesFailed"
REASON_SECRET_CREATION_FAILED: Final = "SecretCreationFailed"
REASON_SECRET_READY: Final = "SecretReady"

# --- Permission claims -----------------------------------------------------------------------------
#: (group, resource) pairs that may be claimed (reference §2.17); all core/v1 and namespaced.
CLAIMABLE_APIS: Final = frozenset({("", "configmaps"), ("", "secrets"), ("", "serviceaccounts")})

# --- Handshake wire values -------------------------------------------------------------------------
AUTH_METHOD_OAUTH2_CODE_GRANT: Final = "OAuth2CodeGrant"
KIND_BINDING_PROVIDER: Final = "BindingProvider"
KIND_BINDING_RESPONSE: Final = "BindingResponse"
#: Kind string of the Secret payload written by the BindableResourcesRequest controller.
KIND_BINDING_RESOURCE_RESPONSE: Final = "BindingResourceResponse"
KIND_ERROR: Final = "Error"
