"""Store and indices: keys, replace, incremental index maintenance, custom indexers, listers."""

from __future__ import annotations

import pytest

from kubebind.cache.index import NAMESPACE_INDEX, label_index_func, namespace_index_func, owner_uid_index_func
from kubebind.cache.listers import Lister
from kubebind.cache.store import IndexedStore
from kubebind.kube.resources import Object, ObjectKey


def obj(
    ns: str, name: str, rv: str = "1", labels: dict[str, str] | None = None, owners: tuple[str, ...] = ()
) -> Object:
    return {
        "metadata": {
            "namespace": ns,
            "name": name,
            "resourceVersion": rv,
            "labels": labels or {},
            "ownerReferences": [{"uid": u} for u in owners],
        }
    }


def make_store() -> IndexedStore:
    return IndexedStore(
        {NAMESPACE_INDEX: namespace_index_func, "app": label_index_func("app"), "owner": owner_uid_index_func}
    )


def test_add_get_update_delete() -> None:
    store = make_store()
    store.add(obj("a", "x"))
    assert store.get_by_key(ObjectKey("a", "x")) is not None
    assert ObjectKey("a", "x") in store and len(store) == 1
    store.update(obj("a", "x", rv="2"))
    assert store.get(obj("a", "x"))["metadata"]["resourceVersion"] == "2"  # type: ignore[index]
    store.delete(obj("a", "x"))
    assert len(store) == 0 and store.get_by_key(ObjectKey("a", "x")) is None
    store.delete(obj("a", "x"))  # deleting twice is harmless


def test_indices_follow_updates_and_deletes() -> None:
    store = make_store()
    store.add(obj("a", "x", labels={"app": "web"}, owners=("u1",)))
    store.add(obj("a", "y", labels={"app": "db"}, owners=("u1", "u2")))
    store.add(obj("b", "z", labels={"app": "web"}))
    assert store.index_keys("app", "web") == [ObjectKey("a", "x"), ObjectKey("b", "z")]
    assert [o["metadata"]["name"] for o in store.by_index("owner", "u1")] == ["x", "y"]
    assert sorted(store.index_values(NAMESPACE_INDEX)) == ["a", "b"]

    store.update(obj("a", "x", labels={"app": "db"}, owners=()))
    assert store.index_keys("app", "web") == [ObjectKey("b", "z")]
    assert store.index_keys("owner", "u1") == [ObjectKey("a", "y")]
    store.delete(obj("b", "z"))
    assert store.index_keys("app", "web") == []
    assert "web" not in store.index_values("app"), "empty index buckets are dropped"
    assert [o["metadata"]["name"] for o in store.index("app", obj("q", "q", labels={"app": "db"}))] == [
        "x",
        "y",
    ]


def test_replace_rebuilds_everything() -> None:
    store = make_store()
    store.add(obj("a", "old", labels={"app": "web"}))
    store.replace([obj("b", "new", labels={"app": "web"})])
    assert store.list_keys() == [ObjectKey("b", "new")]
    assert store.index_keys("app", "web") == [ObjectKey("b", "new")]
    assert store.index_keys(NAMESPACE_INDEX, "a") == []


def test_indexers_only_on_empty_store_and_unknown_index_errors() -> None:
    store = IndexedStore()
    store.add_indexers({"app": label_index_func("app")})
    with pytest.raises(ValueError):
        store.add_indexers({"app": label_index_func("app")})
    store.add(obj("a", "x"))
    with pytest.raises(RuntimeError):
        store.add_indexers({"late": label_index_func("late")})
    with pytest.raises(KeyError):
        store.by_index("nope", "v")
    with pytest.raises(KeyError):
        store.index("nope", obj("a", "x"))


def test_lister_filters_by_namespace_and_selector() -> None:
    for store in (make_store(), IndexedStore()):  # with and without a namespace index
        store.add(obj("a", "x", labels={"app": "web", "tier": "fe"}))
        store.add(obj("a", "y", labels={"app": "db"}))
        store.add(obj("b", "z", labels={"app": "web"}))
        lister = Lister(store)
        assert {o["metadata"]["name"] for o in lister.list()} == {"x", "y", "z"}
        assert {o["metadata"]["name"] for o in lister.list("a")} == {"x", "y"}
        assert {o["metadata"]["name"] for o in lister.list(selector="app=web")} == {"x", "z"}
        assert {o["metadata"]["name"] for o in lister.list("a", selector={"app": "web"})} == {"x"}
        assert lister.get("y", "a") is not None and lister.get("y", "b") is None
        assert lister.list("a", selector="") == lister.list("a")
        assert len(lister.list("")) == 3, '"" means all namespaces, as in client-go'
