"""EventRecorder.event never blocks or raises on a full buffer and validates the event type."""

from __future__ import annotations

import pytest

from kubebind.kube.client import ApiClient
from kubebind.kube.kubeconfig import RestConfig
from kubebind.runtime.events import EventRecorder


async def test_full_buffer_drops_and_bad_type_is_rejected() -> None:
    async with ApiClient(RestConfig(server="https://127.0.0.1:9")) as client:
        recorder = EventRecorder(client, controller="c", instance="i", buffer=1)
        obj = {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "a", "namespace": "n", "uid": "u"},
        }
        recorder.event(obj, "Normal", "One", "first")
        recorder.event(obj, "Normal", "Two", "dropped, buffer is full")
        assert recorder._queue.qsize() == 1
        queued = recorder._queue.get_nowait()
        assert queued.body["regarding"] == {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "name": "a",
            "uid": "u",
            "namespace": "n",
        }
        assert queued.body["metadata"] == {"namespace": "n"}
        recorder.event(obj, "Warning", "Long", "x" * 5000)
        assert len(recorder._queue.get_nowait().body["note"]) == 1024
        with pytest.raises(ValueError):
            recorder.event(obj, "Fatal", "Bad", "no such type")
