"""One module per ``kubectl bind`` verb; each exposes ``register(subparsers)``.

``register`` adds the verb's parser with ``func`` set to an ``async def run(args) -> int``;
``kubectl_bind.main`` dispatches to it. Shared flags and helpers live in ``common``.
"""
