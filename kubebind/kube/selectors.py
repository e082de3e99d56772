"""Label selectors: parse the query-string syntax and ``metav1.LabelSelector``, match labels locally.

Why here: the server filters list/watch with ``labelSelector=...``, and listers filter cached
objects the same way, so both must agree on one implementation. Supported syntax (as the
apiserver's): ``k=v``, ``k==v``, ``k!=v``, ``k in (a,b)``, ``k notin (a,b)``, ``k`` (exists) and
``!k`` (does not exist), comma-separated and ANDed. ``str(selector)`` renders the canonical
query-string form, so a selector built from a ``LabelSelector`` dict can be sent to the server.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["LabelSelector", "Requirement", "parse_label_selector"]

_OPS = {"=", "==", "!=", "in", "notin", "exists", "!"}
_KEY = r"[A-Za-z0-9][-A-Za-z0-9_./]*"
_VALUE = r"[-A-Za-z0-9_.]*"


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # one of "=", "!=", "in", "notin", "exists", "!"
    values: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.operator in ("in", "notin"):
            object.__setattr__(self, "values", tuple(sorted(set(self.values))))

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "exists":
            return present
        if self.operator == "!":
            return not present
        if self.operator in ("=", "in"):
            return present and labels[self.key] in self.values
        # "!=" and "notin" match objects without the label, as the apiserver does.
        return not present or labels[self.key] not in self.values

    def __str__(self) -> str:
        if self.operator == "exists":
            return self.key
        if self.operator == "!":
            return f"!{self.key}"
        if self.operator in ("=", "!="):
            return f"{self.key}{self.operator}{self.values[0]}"
        return f"{self.key} {self.operator} ({','.join(self.values)})"


@dataclass(frozen=True)
class LabelSelector:
    """A conjunction of requirements; the empty selector matches everything."""

    requirements: tuple[Requirement, ...] = field(default_factory=tuple)

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        labels = labels or {}
        return all(req.matches(labels) for req in self.requirements)

    def empty(self) -> bool:
        return not self.requirements

    def __str__(self) -> str:
        return ",".join(str(req) for req in self.requirements)

    @classmethod
    def parse(cls, text: str) -> LabelSelector:
        return parse_label_selector(text)

    @classmethod
    def from_dict(cls, selector: Mapping[str, Any] | None) -> LabelSelector:
        """From a ``metav1.LabelSelector`` (``matchLabels`` + ``matchExpressions``)."""
        if not selector:
            return cls()
        reqs: list[Requirement] = [
            Requirement(str(k), "=", (str(v),))
            for k, v in sorted((selector.get("matchLabels") or {}).items())
        ]
        for expr in selector.get("matchExpressions") or []:
            op = str(expr.get("operator", ""))
            key = str(expr.get("key", ""))
            values = tuple(str(v) for v in expr.get("values") or ())
            if op == "In":
                reqs.append(Requirement(key, "in", values))
            elif op == "NotIn":
                reqs.append(Requirement(key, "notin", values))
            elif op == "Exists":
                reqs.append(Requirement(key, "exists"))
            elif op == "DoesNotExist":
                reqs.append(Requirement(key, "!"))
            else:
                raise ValueError(f"invalid label selector operator {op!r}")
            if op in ("In", "NotIn") and not values:
                raise ValueError(f"operator {op} needs values for key {key!r}")
        return cls(tuple(reqs))

    @classmethod
    def from_labels(cls, labels: Mapping[str, str]) -> LabelSelector:
        return cls(tuple(Requirement(k, "=", (v,)) for k, v in sorted(labels.items())))


_TOKEN = re.compile(
    rf"""\s*(?:
        (?P<set>(?P<skey>{_KEY})\s+(?P<sop>in|notin)\s*\((?P<svals>[^)]*)\))
      | (?P<cmp>(?P<ckey>{_KEY})\s*(?P<cop>==|!=|=)\s*(?P<cval>{_VALUE}))
      | (?P<notexists>!\s*(?P<nkey>{_KEY}))
      | (?P<exists>(?P<ekey>{_KEY}))
    )\s*(?:,|$)""",
    re.VERBOSE,
)


def parse_label_selector(text: str) -> LabelSelector:
    """Parse the query-string form; raises ``ValueError`` on malformed input."""
    text = text.strip()
    reqs: list[Requirement] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            raise ValueError(f"invalid label selector {text!r} at {pos}")
        if m.group("set"):
            values = tuple(v.strip() for v in m.group("svals").split(",") if v.strip())
            if not values:
                raise ValueError(f"empty value set in label selector {text!r}")
            reqs.append(Requirement(m.group("skey"), m.group("sop"), values))
        elif m.group("cmp"):
            op = m.group("cop")
            reqs.append(Requirement(m.group("ckey"), "=" if op == "==" else op, (m.group("cval"),)))
        elif m.group("notexists"):
            reqs.append(Requirement(m.group("nkey"), "!"))
        else:
            reqs.append(Requirement(m.group("ekey"), "exists"))
        pos = m.end()
        if text[m.end() - 1 : m.end()] == "," and pos >= len(text):
            raise ValueError(f"trailing comma in label selector {text!r}")
    return LabelSelector(tuple(reqs))
