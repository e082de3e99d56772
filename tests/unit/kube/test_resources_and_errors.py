"""REST paths from ResourceRef, ObjectKey forms, Status → typed ApiError mapping, the token bucket."""

from __future__ import annotations

import asyncio

import pytest

from kubebind.kube import errors
from kubebind.kube.ratelimit import TokenBucket
from kubebind.kube.resources import CONFIGMAPS, NAMESPACES, ObjectKey, ResourceRef, object_key
from kubebind.runtime.clock import FakeClock


def test_paths() -> None:
    cowboys = ResourceRef("wildwest.dev", "v1alpha1", "cowboys", kind="Cowboy")
    assert cowboys.path() == "/apis/wildwest.dev/v1alpha1/cowboys"
    assert cowboys.path(namespace="ns") == "/apis/wildwest.dev/v1alpha1/namespaces/ns/cowboys"
    assert cowboys.path(namespace="ns", name="b", subresource="status") == (
        "/apis/wildwest.dev/v1alpha1/namespaces/ns/cowboys/b/status"
    )
    assert CONFIGMAPS.path(namespace="ns", name="a") == "/api/v1/namespaces/ns/configmaps/a"
    assert NAMESPACES.path(namespace="ignored", name="kube-system") == "/api/v1/namespaces/kube-system"
    assert cowboys.api_version == "wildwest.dev/v1alpha1" and CONFIGMAPS.api_version == "v1"
    assert cowboys.group_resource == "cowboys.wildwest.dev"
    with pytest.raises(ValueError):
        CONFIGMAPS.path(namespace="ns", name="")
    with pytest.raises(ValueError):
        CONFIGMAPS.path(subresource="status")


def test_object_keys() -> None:
    assert object_key({"metadata": {"namespace": "n", "name": "a"}}) == ObjectKey("n", "a")
    assert object_key({"metadata": {"name": "a"}}) == ObjectKey("", "a")
    assert str(ObjectKey("n", "a")) == "n/a" and str(ObjectKey("", "a")) == "a"
    assert ObjectKey.parse("n/a") == ObjectKey("n", "a") and ObjectKey.parse("a") == ObjectKey("", "a")


def status(code: int, reason: str) -> dict[str, object]:
    return {
        "kind": "Status",
        "apiVersion": "v1",
        "status": "Failure",
        "code": code,
        "reason": reason,
        "message": "m",
    }


@pytest.mark.parametrize(
    ("code", "reason", "cls", "predicate"),
    [
        (404, "NotFound", errors.NotFoundError, errors.is_not_found),
        (409, "Conflict", errors.ConflictError, errors.is_conflict),
        (409, "AlreadyExists", errors.AlreadyExistsError, errors.is_already_exists),
        (410, "Expired", errors.GoneError, errors.is_gone),
        (403, "Forbidden", errors.ForbiddenError, errors.is_forbidden),
        (401, "Unauthorized", errors.UnauthorizedError, errors.is_unauthorized),
        (422, "Invalid", errors.InvalidError, errors.is_invalid),
    ],
)
def test_status_maps_to_typed_errors(
    code: int, reason: str, cls: type[errors.ApiError], predicate: object
) -> None:
    exc = errors.ApiError.from_response(code, status(code, reason))
    assert type(exc) is cls
    assert predicate(exc)  # type: ignore[operator]
    assert exc.code == code and exc.reason == reason and exc.message == "m"
    assert not predicate(ValueError())  # type: ignore[operator]


def test_already_exists_is_not_a_conflict() -> None:
    exc = errors.ApiError.from_response(409, status(409, "AlreadyExists"))
    assert not errors.is_conflict(exc) and errors.is_already_exists(exc)


def test_non_status_body_is_synthesised() -> None:
    exc = errors.ApiError.from_response(503, None, fallback_message="upstream down")
    assert exc.status["kind"] == "Status" and exc.reason == "ServiceUnavailable"
    assert exc.message == "upstream down" and type(exc) is errors.ApiError
    watch_error = errors.ApiError.from_status({"kind": "Status", "code": 410, "reason": "Expired"})
    assert isinstance(watch_error, errors.GoneError)


async def test_token_bucket_admits_burst_then_qps() -> None:
    clock = FakeClock()
    bucket = TokenBucket(qps=2, burst=2, clock=clock)
    await bucket.acquire()
    await bucket.acquire()
    third = asyncio.create_task(bucket.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not third.done()
    await clock.advance(0.5)
    assert third.done()
    assert bucket.reserve() == pytest.approx(0.5)
    assert TokenBucket(qps=0, burst=0).reserve() == 0
