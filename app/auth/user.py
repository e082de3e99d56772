"""The authenticated caller of a request (``user.Info`` in Kubernetes terms)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class UserInfo:
    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
    extra: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: How the caller was authenticated: "front-proxy" or "token".
    via: str = ""

    def cache_key(self) -> tuple[object, ...]:
        return (self.name, self.uid, self.groups, tuple(sorted(self.extra.items())))
