"""TLS client contexts for talking to the local control planes."""

from __future__ import annotations

import ssl
from pathlib import Path


def client_context(ca_file: Path | str, cert: tuple[Path, Path] | None = None) -> ssl.SSLContext:
    """Verify the server against ``ca_file``; present ``cert`` (cert, key) when given."""
    ctx = ssl.create_default_context(cafile=str(ca_file))
    if cert is not None:
        ctx.load_cert_chain(str(cert[0]), str(cert[1]))
    return ctx
