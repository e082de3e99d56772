"""Console entry point ``konnector``: parse flags, set up logging, run until SIGTERM/SIGINT.

On SIGTERM the konnector stops its controllers and releases its Lease so a standby replica takes
over at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import signal
import sys
import time

from konnector import options as options_module
from konnector.konnector import Konnector
from kubebind.runtime.gcpause import GCPauseGuard

__all__ = ["cli", "main"]


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload)


def setup_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)
    logging.getLogger("hpack").setLevel(logging.WARNING)


async def main(opts: options_module.Options) -> None:
    konnector = Konnector(opts)
    loop = asyncio.get_running_loop()
    # Process-wide: the informer caches must not make every full GC a long pause (see gcpause).
    gc_guard = loop.create_task(GCPauseGuard().run(), name="gc-pause-guard")
    task = loop.create_task(konnector.run(), name="konnector")
    for sig in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, task.cancel)
    try:
        await task
    except asyncio.CancelledError:
        pass
    finally:
        gc_guard.cancel()
        await konnector.aclose()


def cli(argv: list[str] | None = None) -> None:
    try:
        opts = options_module.parse(argv)
    except ValueError as exc:
        sys.stderr.write(f"konnector: {exc}\n")
        raise SystemExit(2) from exc
    setup_logging(opts.log_level, opts.log_format)
    try:
        asyncio.run(main(opts))
    except Exception as exc:
        logging.getLogger("konnector").error("konnector failed error=%r", exc)
        raise SystemExit(1) from exc


if __name__ == "__main__":
    cli()
