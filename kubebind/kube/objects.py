"""Helpers for Kubernetes objects held as plain JSON data (dicts, lists, strings, numbers)."""

from __future__ import annotations

import copy
import os
import threading
import uuid
from typing import TypeVar

import orjson

__all__ = ["deep_copy", "new_uid"]

T = TypeVar("T")


def deep_copy(obj: T) -> T:
    """A deep copy of JSON data: an orjson round trip, several times faster than ``copy.deepcopy``.

    Falls back to ``copy.deepcopy`` for data JSON cannot carry (non-string keys, huge integers).
    """
    try:
        copied: T = orjson.loads(orjson.dumps(obj))
    except (orjson.JSONEncodeError, TypeError):
        return copy.deepcopy(obj)
    return copied


_UID_BATCH = 256
_uid_lock = threading.Lock()
_uid_pool = b""
_uid_next = 0


def new_uid() -> str:
    """A random (version 4) UUID for ``metadata.uid``, as ``uuid.uuid4()`` but cheaper.

    The randomness comes from ``os.urandom`` like ``uuid4``'s, fetched for 256 UIDs at a time:
    one ``getrandom`` system call per UID was a measurable part of a create.
    """
    global _uid_pool, _uid_next
    with _uid_lock:
        if _uid_next >= len(_uid_pool):
            _uid_pool, _uid_next = os.urandom(16 * _UID_BATCH), 0
        raw = _uid_pool[_uid_next : _uid_next + 16]
        _uid_next += 16
    return str(uuid.UUID(bytes=raw, version=4))
