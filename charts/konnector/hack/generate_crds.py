"""Regenerate ``crds/`` from the API models: ``.venv/bin/python charts/konnector/hack/generate_crds.py``.

The consumer CRDs are rendered by ``kubebind.apis.openapi.crd_manifest`` (the single source of
truth); ``tests/charts`` fails when the files here are stale.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from kubebind.apis import openapi

CRDS = {
    "APIServiceBinding": "apiservicebindings.yaml",
    "APIServiceBindingBundle": "apiservicebindingbundles.yaml",
}


def main() -> None:
    directory = Path(__file__).resolve().parent.parent / "crds"
    for kind, name in CRDS.items():
        text = f"# Generated from kubebind.apis.openapi.crd_manifest({kind!r}) by hack/generate_crds.py.\n"
        text += yaml.safe_dump(openapi.crd_manifest(kind), sort_keys=False)
        (directory / name).write_text(text)


if __name__ == "__main__":
    main()
