"""The dependency direction of the shared machinery, checked on the source (as import-linter would):
workqueue imports nothing of ours; kube imports neither cache, workqueue nor runtime; cache never
imports workqueue or runtime; nothing here imports app, konnector or kubectl_bind."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import kubebind

ROOT = Path(kubebind.__file__).parent

FORBIDDEN = {
    "workqueue": ("kubebind", "app", "konnector", "kubectl_bind"),
    "kube": ("kubebind.cache", "kubebind.workqueue", "kubebind.runtime", "app", "konnector", "kubectl_bind"),
    "cache": ("kubebind.workqueue", "kubebind.runtime", "app", "konnector", "kubectl_bind"),
    "runtime": ("app", "konnector", "kubectl_bind"),
}


def imported_modules(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_respects_the_layering(package: str) -> None:
    own = f"kubebind.{package}"
    violations = []
    for path in sorted((ROOT / package).glob("*.py")):
        for module in imported_modules(path):
            if module == own or module.startswith(own + "."):
                continue
            if any(module == bad or module.startswith(bad + ".") for bad in FORBIDDEN[package]):
                violations.append(f"{path.name} imports {module}")
    assert not violations, violations
