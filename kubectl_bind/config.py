"""``~/.kube-bind/config``: where ``kubectl bind login`` keeps backend URLs and bearer tokens.

The file format is the Go CLI's (reference §7.2), so either CLI can read what the other wrote::

    {"apiVersion": "v1", "kind": "Config",
     "servers": {"<key>": {"url": "https://host[:port]", "cluster": "<id>", "accessToken": "<jwt>",
                           "tokenType": "Bearer", "expiresAt": "<RFC3339>", "username": ""}},
     "current": "<key>"}

The key is the URL, or ``<cluster>@<url>`` when a backend cluster id is set. The file holds bearer
tokens, so it is written with mode 0600 (directory 0700), atomically (temp file + rename) so an
interrupted write never leaves a half-written file, and a group/world-readable file is tightened.
A token is treated as expired 5 minutes before ``expiresAt``, as the Go CLI does.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kubectl_bind.errors import CLIError, UsageError

__all__ = [
    "EXPIRY_SLACK",
    "Config",
    "Server",
    "default_path",
    "normalize_url",
    "server_key",
    "split_server",
]

EXPIRY_SLACK = timedelta(minutes=5)


def default_path() -> Path:
    """``$KUBE_BIND_CONFIG`` or ``~/.kube-bind/config``."""
    env = os.environ.get("KUBE_BIND_CONFIG")
    return Path(env).expanduser() if env else Path("~/.kube-bind/config").expanduser()


def normalize_url(url: str) -> str:
    """``scheme://host[:port]`` (path, query and trailing slash dropped); rejects non-http(s)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"invalid server URL {url!r}: must be http(s)://host[:port]")
    return f"{parts.scheme}://{parts.netloc}"


def split_server(value: str) -> tuple[str, str]:
    """``--server`` value → (url, cluster). Accepts ``url`` and the Go form ``url@cluster``."""
    # Only an '@' after the scheme's host part separates a cluster (user-info is not supported).
    head, sep, tail = value.rpartition("@")
    if sep and "://" in head and "/" not in tail:
        return normalize_url(head), tail
    return normalize_url(value), ""


def server_key(url: str, cluster: str = "") -> str:
    return f"{cluster}@{url}" if cluster else url


def _parse_time(value: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _format_time(value: datetime) -> str:
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Server:
    url: str
    cluster: str = ""
    access_token: str = ""
    token_type: str = "Bearer"
    expires_at: datetime | None = None
    username: str = ""
    #: Extension of the Go format: PEM file to trust for the backend's TLS (dev CA, private PKI).
    certificate_authority: str = ""

    @property
    def key(self) -> str:
        return server_key(self.url, self.cluster)

    def token_valid(self, now: datetime | None = None) -> bool:
        if not self.access_token:
            return False
        if self.expires_at is None:
            return True
        return (now or datetime.now(UTC)) + EXPIRY_SLACK < self.expires_at

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"url": self.url}
        if self.cluster:
            out["cluster"] = self.cluster
        out["accessToken"] = self.access_token
        out["tokenType"] = self.token_type or "Bearer"
        if self.expires_at is not None:
            out["expiresAt"] = _format_time(self.expires_at)
        out["username"] = self.username
        if self.certificate_authority:
            out["certificateAuthority"] = self.certificate_authority
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Server:
        return cls(
            url=str(data.get("url") or ""),
            cluster=str(data.get("cluster") or ""),
            access_token=str(data.get("accessToken") or ""),
            token_type=str(data.get("tokenType") or "Bearer"),
            expires_at=_parse_time(str(data.get("expiresAt") or "")),
            username=str(data.get("username") or ""),
            certificate_authority=str(data.get("certificateAuthority") or ""),
        )


@dataclass
class Config:
    path: Path
    servers: dict[str, Server] = field(default_factory=dict)
    current: str = ""

    @classmethod
    def load(cls, path: Path | None = None) -> Config:
        """Read the file; a missing file is an empty config. A malformed one is a clear error."""
        path = path or default_path()
        try:
            text = path.read_text()
        except FileNotFoundError:
            return cls(path)
        except OSError as exc:
            raise CLIError(f"cannot read {path}: {exc.strerror}") from exc
        if not text.strip():
            return cls(path)
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CLIError(
                f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); fix or remove it"
            ) from exc
        servers_raw = data.get("servers") if isinstance(data, dict) else None
        if not isinstance(data, dict) or not isinstance(servers_raw if servers_raw is not None else {}, dict):
            raise CLIError(f"{path} is not a kube-bind config file; fix or remove it")
        servers = {
            str(key): Server.from_json(value)
            for key, value in (data.get("servers") or {}).items()
            if isinstance(value, dict)
        }
        return cls(path, servers, str(data.get("current") or ""))

    def to_json(self) -> dict[str, Any]:
        return {
            "apiVersion": "v1",
            "kind": "Config",
            "servers": {key: server.to_json() for key, server in sorted(self.servers.items())},
            "current": self.current,
        }

    def save(self) -> None:
        """Write atomically with mode 0600 in a 0700 directory."""
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        payload = json.dumps(self.to_json(), indent=2) + "\n"
        fd, tmp = tempfile.mkstemp(prefix=".config-", dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        os.chmod(self.path, 0o600)

    def set_server(self, server: Server, *, make_current: bool = True) -> None:
        self.servers[server.key] = server
        if make_current:
            self.current = server.key

    def lookup(self, url: str = "", cluster: str = "") -> Server:
        """The server for ``url``/``cluster``, or the current one. Raises when unknown."""
        if url:
            key = server_key(url, cluster)
            found = self.servers.get(key)
            if found is None:
                raise CLIError(f"not logged in to {key}: run `kubectl bind login {url}` first")
            return found
        if not self.current or self.current not in self.servers:
            raise CLIError("no kube-bind server selected: run `kubectl bind login <url>` or pass --server")
        return self.servers[self.current]

    def remove(self, key: str) -> bool:
        if key not in self.servers:
            return False
        del self.servers[key]
        if self.current == key:
            self.current = ""
        return True


def token_expiry(expires_in: str | int | None, now: datetime | None = None) -> datetime | None:
    """``expires_in`` seconds (as sent on the login callback) → absolute time; None if absent/bad."""
    if expires_in in (None, ""):
        return None
    try:
        seconds = int(str(expires_in))
    except ValueError:
        return None
    return (now or datetime.now(UTC)) + timedelta(seconds=seconds)
