"""Patch math: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and server-side apply.

Strategic merge patch is refused with 415, as kube-apiserver does for custom resources (kubectl
then falls back to a merge patch). Server-side apply is implemented as "the applied configuration
merged into the live object" without managedFields bookkeeping: fields the applier no longer
sends are not removed. That is enough for ``kubectl apply --server-side`` and the konnector's
create-or-update use; conflicts between field managers are not detected.
"""

from __future__ import annotations

import copy
from typing import Any

from app.storage import errors

MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC = "application/strategic-merge-patch+json"
APPLY = "application/apply-patch+yaml"
APPLY_CBOR = "application/apply-patch+cbor"
SUPPORTED = (JSON_PATCH, MERGE, APPLY)


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge recursively, ``null`` deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _unescape(token: str) -> str:
    return token.replace("~1", "/").replace("~0", "~")


def _pointer(path: str) -> list[str]:
    if path == "":
        return []
    if not path.startswith("/"):
        raise errors.BadRequest(f"invalid JSON pointer {path!r}: must start with '/'")
    return [_unescape(t) for t in path[1:].split("/")]


def _index(container: list[Any], token: str, *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(container)
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise errors.Invalid(f"invalid array index {token!r}")
    idx = int(token)
    if idx > len(container) or (idx == len(container) and not allow_end):
        raise errors.Invalid(f"array index {idx} out of range")
    return idx


def _parent(doc: Any, tokens: list[str]) -> Any:
    cur = doc
    for token in tokens[:-1]:
        if isinstance(cur, dict):
            if token not in cur:
                raise errors.Invalid(f"path segment {token!r} does not exist")
            cur = cur[token]
        elif isinstance(cur, list):
            cur = cur[_index(cur, token, allow_end=False)]
        else:
            raise errors.Invalid(f"path segment {token!r} does not exist")
    return cur


def _get(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return doc
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise errors.Invalid(f"path {'/'.join(tokens)!r} does not exist")
        return parent[last]
    if isinstance(parent, list):
        return parent[_index(parent, last, allow_end=False)]
    raise errors.Invalid(f"path {'/'.join(tokens)!r} does not exist")


def _add(doc: Any, tokens: list[str], value: Any) -> Any:
    if not tokens:
        return value
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, last, allow_end=True), value)
    else:
        raise errors.Invalid(f"cannot add at {'/'.join(tokens)!r}")
    return doc


def _remove(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        raise errors.Invalid("cannot remove the whole document")
    parent = _parent(doc, tokens)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise errors.Invalid(f"unable to remove nonexistent key: {last}")
        del parent[last]
    elif isinstance(parent, list):
        del parent[_index(parent, last, allow_end=False)]
    else:
        raise errors.Invalid(f"cannot remove {'/'.join(tokens)!r}")
    return doc


def json_patch(doc: Any, operations: Any) -> Any:
    """RFC 6902 operations add/remove/replace/move/copy/test, applied atomically to a copy."""
    if not isinstance(operations, list):
        raise errors.BadRequest("a JSON patch must be a JSON array of operations")
    result = copy.deepcopy(doc)
    for i, op in enumerate(operations):
        if not isinstance(op, dict) or "op" not in op or "path" not in op:
            raise errors.BadRequest(f"JSON patch operation {i} needs 'op' and 'path'")
        kind = op["op"]
        tokens = _pointer(str(op["path"]))
        if kind == "add":
            result = _add(result, tokens, copy.deepcopy(op.get("value")))
        elif kind == "remove":
            result = _remove(result, tokens)
        elif kind == "replace":
            _get(result, tokens)
            result = _remove(result, tokens) if tokens else result
            result = _add(result, tokens, copy.deepcopy(op.get("value")))
        elif kind in ("move", "copy"):
            if "from" not in op:
                raise errors.BadRequest(f"JSON patch operation {i} ({kind}) needs 'from'")
            source = _pointer(str(op["from"]))
            value = copy.deepcopy(_get(result, source))
            if kind == "move":
                result = _remove(result, source)
            result = _add(result, tokens, value)
        elif kind == "test":
            if _get(result, tokens) != op.get("value"):
                raise errors.Invalid(f"testing value {op['path']} failed")
        else:
            raise errors.BadRequest(f"unknown JSON patch operation {kind!r}")
    return result


def apply_patch(live: dict[str, Any] | None, applied: dict[str, Any]) -> dict[str, Any]:
    """Server-side apply without field ownership: the applied configuration merged into ``live``."""
    if live is None:
        return copy.deepcopy(applied)
    return dict(merge_patch(live, _drop_nulls(applied)))


def _drop_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value
