"""The handshake API ``/api/*`` (reference §3.1): one router per concern, mounted by ``service``."""
