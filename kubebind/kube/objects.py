"""Helpers for Kubernetes objects held as plain JSON data (dicts, lists, strings, numbers)."""

from __future__ import annotations

import copy
from typing import TypeVar

import orjson

__all__ = ["deep_copy"]

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
