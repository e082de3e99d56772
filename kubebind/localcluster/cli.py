"""``kube-bind-localcluster``: build the binaries, run a provider+consumer pair, show or stop it.

``up`` runs in the foreground and keeps the control planes alive until interrupted (Ctrl-C or
``down``); every child dies with it. ``--workdir`` makes the state reusable by ``status``/``down``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
from pathlib import Path

from kubebind.localcluster import build
from kubebind.localcluster.cluster import STATE_FILE, ClusterPair, read_state
from kubebind.localcluster.process import ProcessError

DEFAULT_WORKDIR = Path(".kube-bind-dev") / "clusters"


def _up(args: argparse.Namespace) -> int:
    build.ensure_binaries()
    workdir = Path(args.workdir).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    pair = ClusterPair(workdir)
    try:
        pair.start()
    except (ProcessError, build.BuildError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    state = read_state(workdir)
    state["supervisorPid"] = os.getpid()
    (workdir / STATE_FILE).write_text(json.dumps(state, indent=2))
    print(f"control planes ready in {pair.startup_seconds:.1f}s")
    for name, cluster in pair.clusters.items():
        print(f"  {name:9s} {cluster.url}  kubectl --kubeconfig {cluster.kubeconfig} get ns")
    print("Ctrl-C (or `kube-bind-localcluster down`) stops them.", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        while not stop.wait(1.0):
            for cluster in pair.clusters.values():
                if cluster.apiserver.process is not None:
                    cluster.apiserver.process.check_alive()
    except ProcessError as exc:
        print(f"error: {exc}", file=sys.stderr)
        pair.stop()
        return 1
    pair.stop()
    (workdir / STATE_FILE).unlink(missing_ok=True)
    print("stopped")
    return 0


def _status(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir).resolve()
    if not (workdir / STATE_FILE).exists():
        print(f"no local clusters running from {workdir}")
        return 1
    print(json.dumps(read_state(workdir), indent=2))
    return 0


def _down(args: argparse.Namespace) -> int:
    workdir = Path(args.workdir).resolve()
    if not (workdir / STATE_FILE).exists():
        print(f"no local clusters running from {workdir}")
        return 0
    pid = read_state(workdir).get("supervisorPid")
    if pid:
        try:
            os.kill(int(pid), signal.SIGTERM)
        except ProcessLookupError:
            pass
    print("stopping")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="kube-bind-localcluster",
        description="Real local provider and consumer control planes (etcd, kube-apiserver, "
        "kube-controller-manager built from Go modules).",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_build = sub.add_parser("build", help="build and cache the binaries (etcd, kubernetes, helm, dex)")
    p_build.add_argument("tools", nargs="*", default=list(build.DEFAULT_TOOLS))
    for name, helptext in (
        ("up", "start the pair in the foreground"),
        ("status", "show the running pair"),
        ("down", "stop a pair started with `up`"),
    ):
        p = sub.add_parser(name, help=helptext)
        p.add_argument(
            "--workdir", default=str(DEFAULT_WORKDIR), help="state directory (default %(default)s)"
        )
    args = parser.parse_args(argv)
    if args.command == "build":
        return build.main(args.tools)
    handlers = {"up": _up, "status": _status, "down": _down}
    return handlers[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
