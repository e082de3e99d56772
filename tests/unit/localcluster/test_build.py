"""Binary lookup: cached binaries are found by version; missing ones fail with how to get them."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubebind.localcluster import build, paths


def test_missing_binaries_name_the_build_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_BIND_CACHE", str(tmp_path))
    with pytest.raises(build.BuildError) as err:
        build.require_binaries(["etcd"])
    message = str(err.value)
    assert "python -m kubebind.localcluster.build etcd" in message
    assert str(tmp_path) in message


def test_cached_binaries_are_found_by_version(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBE_BIND_CACHE", str(tmp_path))
    etcd_dir = paths.bin_dir("etcd", paths.ETCD_VERSION)
    etcd_dir.mkdir(parents=True)
    (etcd_dir / "etcd").write_text("#!/bin/sh\n")
    assert build.require_binaries(["etcd"]) == {"etcd": etcd_dir / "etcd"}
    # present() short-circuits the build: no Go toolchain is needed when the cache is warm.
    assert build.build_tool(build.ETCD) is build.ETCD


def test_kubernetes_version_ldflags_are_set() -> None:
    flags = " ".join(build.KUBE.ldflags)
    assert f"k8s.io/component-base/version.gitVersion={paths.KUBERNETES_VERSION}" in flags
    assert "k8s.io/component-base/version.gitMinor=36" in flags
    assert f"k8s.io/client-go/pkg/version.gitVersion={paths.KUBERNETES_VERSION}" in flags


def test_wrapper_modules_pin_the_versions() -> None:
    kube_mod = (paths.tools_dir() / "kube" / "go.mod").read_text()
    assert f"k8s.io/kubernetes {paths.KUBERNETES_VERSION}" in kube_mod
    assert kube_mod.count("=> k8s.io/") == 33
    etcd_mod = (paths.tools_dir() / "etcd" / "go.mod").read_text()
    assert f"go.etcd.io/etcd/server/v3 {paths.ETCD_VERSION}" in etcd_mod
