"""Where a login may send the browser back to (reference §10.3.3, fixed).

* CLI (``client_type=cli``): only a loopback ``http`` URL — ``127.0.0.1``, ``[::1]`` or
  ``localhost`` with an explicit port — because the bearer token travels in its query string;
* UI: only the backend's own pages — a path (``/…``, never ``//host``) or an absolute URL on the
  backend's own origin, returned as a path.

Anything else is refused with 400 before any state is created.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit, urlunsplit

__all__ = ["RedirectError", "cli_redirect", "ui_redirect"]


class RedirectError(ValueError):
    pass


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cli_redirect(url: str) -> str:
    if len(url) > 2048:
        raise RedirectError("redirect_url is too long")
    parts = urlsplit(url)
    if parts.scheme != "http" or parts.username is not None or parts.password is not None:
        raise RedirectError("redirect_url must be an http://127.0.0.1:<port>/… loopback URL")
    try:
        port = parts.port
    except ValueError as exc:
        raise RedirectError("redirect_url has an invalid port") from exc
    if not parts.hostname or not _is_loopback(parts.hostname) or port is None:
        raise RedirectError("redirect_url must be a loopback URL (127.0.0.1, [::1] or localhost) with a port")
    return url


def ui_redirect(url: str, own_origin: str) -> str:
    if len(url) > 4096:
        raise RedirectError("redirect_url is too long")
    if not url:
        return "/"
    if "\\" in url or any(ord(c) < 0x20 for c in url):
        raise RedirectError("redirect_url contains forbidden characters")
    parts = urlsplit(url)
    if not parts.scheme and not parts.netloc:
        if not url.startswith("/") or url.startswith("//"):
            raise RedirectError("redirect_url must be a path on this backend")
        return url
    origin = urlsplit(own_origin)
    if (parts.scheme, parts.netloc) != (origin.scheme, origin.netloc):
        raise RedirectError("redirect_url must point to this backend")
    return urlunsplit(("", "", parts.path or "/", parts.query, ""))
