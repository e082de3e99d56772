"""Shared API types of kube-bind for Python: group ``kube-bind.io``, version ``v1alpha2``.

Why a package of its own: the backend (``app/``), the konnector (``konnector/``) and the CLI
(``kubectl_bind/``) exchange the same objects with each other and with the Go implementation, so
the wire shapes, names, hashes and rules live in exactly one place. This package is a **leaf**: it
imports nothing else of ours (only pydantic and the standard library), does no I/O, keeps no
global state and is safe to import anywhere.

Contract, module by module (import modules, not names: ``from kubebind.apis import conditions``):

* ``v1alpha2`` - pydantic models, one module per kind; camelCase on the wire, snake_case in Python;
  unknown fields kept and reported (``unknown_fields``); ``to_dict`` gives the wire form.
* ``constants`` - every label, annotation, finalizer, condition type and reason string.
* ``conditions`` - Cluster-API condition semantics (set, get, ``set_summary``) on dicts or models.
* ``resources`` - the kind registry: names, scope, categories, printer columns, model class.
* ``openapi`` - structural OpenAPI v3 schemas and full CRD manifests generated from the models.
* ``validation`` - ``apply_defaults``, ``validate_create``, ``validate_update`` with Kubernetes
  field-error types; unknown-field detection and pruning for strict field validation.
  ``fielderrors`` holds the error type, ``objectmeta`` the name/metadata rules it uses.
* ``naming`` - derived names: consumer cluster namespace hash, BoundSchema names, provider
  namespaces, Prefixed isolation names.
* ``strategy`` - what an apiserver does to ``status``/``generation`` on create, update and
  ``/status`` update of kinds with a status subresource.
* ``columns`` - printer-column cells (JSONPath subset) for Table output and CLI listings.
* ``boundschema`` - BoundSchema ⇄ CRD conversion and the ``kube-bind.io/source-spec-hash``.
* ``duration`` - Go duration strings (``5m0s``) and Kubernetes age text (``37s``).

Compatibility: field names, kinds and strings follow the Go kube-bind v0.8 wire format (see
``docs/kube-bind-reference.md`` §2 and §12); deliberate differences (stricter immutability,
canonical spec hash) are documented in the module that makes them.
"""
