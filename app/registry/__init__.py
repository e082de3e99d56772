"""Per-kind API behaviour (strategies) and the generic REST store that applies them.

Layering (sample-apiserver style): ``app.aggregated`` (HTTP) → ``app.registry`` → ``app.storage``
→ ``kubebind.apis``. Nothing here imports an HTTP framework.
"""
