"""Cluster-scoped objects (KubeKumaSettings) have no namespace: the cache stores and finds them."""

from __future__ import annotations

from app.store import ResourceRecord, Store


def test_a_cluster_scoped_object_is_cached_with_an_empty_namespace(store: Store) -> None:
    rec = ResourceRecord(
        uid="settings-uid", kind="KubeKumaSettings", namespace="", name="default",
        spec={"retention": {"heartbeats": "7d"}}, spec_hash="h1",
    )  # fmt: skip
    store.resources.sync([rec])
    got = store.resources.get("KubeKumaSettings", "", "default")
    assert got is not None and got.namespace == "" and got.spec == rec.spec
    assert [r.name for r in store.resources.list(kind="KubeKumaSettings")] == ["default"]
    store.resources.set_status(rec.uid, {"observedGeneration": 1})
    assert store.resources.get_uid(rec.uid).status == {"observedGeneration": 1}  # type: ignore[union-attr]
