"""``kubectl bind dev up|down|status``: the one-command local provider+consumer setup.

``up`` starts a detached supervisor (``kubectl_bind.dev.supervisor``) that runs the control
planes, the backend and — with ``--bind TEMPLATE`` — the binding and the konnector, waits with
progress until it reports ``Ready`` (or fails with the reason and the log file), prints how to use
the environment and returns. ``--foreground`` runs the supervisor in this process (Ctrl-C stops
everything). ``down`` stops exactly the PIDs recorded in the state file; ``status`` shows them.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from kubectl_bind import progress
from kubectl_bind.dev import state
from kubectl_bind.errors import CLIError, UsageError


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "dev",
        help="run a local provider+consumer kube-bind setup (up, down, status)",
        description="Run a complete kube-bind setup on this machine: two local control planes, the backend "
        "(SQLite, embedded OIDC) and, with --bind, a binding and the konnector. No container runtime needed.",
    )
    dev_sub = p.add_subparsers(dest="dev_verb", metavar="COMMAND", required=True, parser_class=type(p))

    def workdir_flag(q: argparse.ArgumentParser) -> None:
        q.add_argument(
            "--workdir",
            default="",
            help=f"state directory (default $KUBE_BIND_DEV_DIR or {state.default_workdir()})",
        )

    up = dev_sub.add_parser(
        "up",
        help="start everything and wait until it is ready",
        description="Start the local "
        "control planes and the backend, export the Cowboys example; --bind binds it too.",
    )
    workdir_flag(up)
    up.add_argument(
        "--bind",
        default="",
        metavar="TEMPLATE",
        help="also bind this template (e.g. cowboys) and start the konnector",
    )
    up.add_argument(
        "--foreground", action="store_true", help="run in the foreground (Ctrl-C stops everything)"
    )
    up.add_argument(
        "--timeout",
        type=float,
        default=1200.0,
        help="seconds to wait for readiness, incl. first builds (default 1200)",
    )
    up.set_defaults(func=run_up)

    down = dev_sub.add_parser(
        "down",
        help="stop everything `dev up` started",
        description="Stop every process `kubectl bind dev up` started (by PID).",
    )
    workdir_flag(down)
    down.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for a clean stop (default 60)"
    )
    down.set_defaults(func=run_down)

    status = dev_sub.add_parser(
        "status",
        help="show the running dev environment",
        description="Show the dev environment's processes, URLs and kubeconfigs.",
    )
    workdir_flag(status)
    status.add_argument("-o", "--output", default="text", choices=("text", "json"), help="output format")
    status.set_defaults(func=run_status)

    sup = dev_sub.add_parser(
        "supervise", help=argparse.SUPPRESS, description="internal: the detached supervisor"
    )
    workdir_flag(sup)
    sup.add_argument("--bind", default="")
    sup.set_defaults(func=run_supervise)
    dev_sub._choices_actions = [a for a in dev_sub._choices_actions if a.dest != "supervise"]


def _workdir(args: argparse.Namespace) -> Path:
    return (Path(args.workdir).expanduser() if args.workdir else state.default_workdir()).resolve()


def _running(current: dict[str, Any] | None) -> bool:
    return bool(current) and state.pid_alive((current or {}).get("supervisorPid"))


def _summary(current: dict[str, Any]) -> str:
    clusters = current.get("clusters") or {}
    backend = current.get("backend") or {}
    provider = (clusters.get("provider") or {}).get("kubeconfig", "?")
    consumer = (clusters.get("consumer") or {}).get("kubeconfig", "?")
    url = backend.get("url", "?")
    lines = [
        f"kube-bind dev environment is ready (state in {current.get('workdir')})",
        f"  provider cluster: {(clusters.get('provider') or {}).get('url', '?')}  kubeconfig {provider}",
        f"  consumer cluster: {(clusters.get('consumer') or {}).get('url', '?')}  kubeconfig {consumer}",
        f"  backend:          {url}  (embedded OIDC issuer; CA {backend.get('caFile', '?')})",
        f"  exported:         {', '.join(current.get('examples') or []) or '-'}",
    ]
    if current.get("bindings"):
        lines += [
            f"  bound:            {', '.join(current['bindings'])}",
            f"  konnector log:    {(current.get('konnector') or {}).get('log')}",
            "",
            "Try it:",
            f"  kubectl --kubeconfig {consumer} apply -f examples/billy-the-kid.yaml",
            f"  kubectl --kubeconfig {consumer} get cowboys -A",
            f"  kubectl --kubeconfig {provider} get cowboys -A",
        ]
    else:
        lines += [
            "",
            "Bind the Cowboys service into the consumer:",
            f"  export KUBECONFIG={consumer}",
            f"  kubectl bind login {url} --certificate-authority {backend.get('caFile', '?')}",
            "  kubectl bind        # pick 'cowboys' in the browser",
            "  # or without a browser: kubectl bind apiservice --template-name cowboys",
        ]
    lines += ["", "Stop everything with: kubectl bind dev down"]
    return "\n".join(lines) + "\n"


def run_up(args: argparse.Namespace) -> int:
    if args.timeout <= 0:
        raise UsageError("--timeout must be positive")
    workdir = _workdir(args)
    current = state.read(workdir)
    if _running(current):
        assert current is not None
        if current.get("phase") == "Ready":
            sys.stdout.write(_summary(current))
            progress.info("already running")
            return 0
        raise CLIError(
            f"a dev environment is still starting from {workdir} (pid {current.get('supervisorPid')})"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    if args.foreground:
        from kubectl_bind.dev.supervisor import DevOptions, Supervisor

        logging.getLogger("kubectl_bind.dev").setLevel(logging.INFO)
        logging.getLogger().setLevel(logging.INFO)
        return Supervisor(DevOptions(workdir=workdir, bind=args.bind)).run()
    state.remove(workdir)
    log_path = workdir / "dev.log"
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "kubectl_bind.main",
                "dev",
                "supervise",
                "--workdir",
                str(workdir),
                "--bind",
                args.bind,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=str(workdir),
        )
    deadline = time.monotonic() + args.timeout
    with progress.waiting("starting the kube-bind dev environment") as p:
        while True:
            current = state.read(workdir) or {}
            if current.get("phase") == "Ready":
                break
            if current.get("phase") == "Failed":
                raise CLIError(f"dev up failed: {current.get('error')} (log: {log_path})")
            if proc.poll() is not None:
                raise CLIError(f"the dev supervisor exited with code {proc.returncode} (log: {log_path})")
            if time.monotonic() > deadline:
                state.terminate(proc.pid)
                raise CLIError(
                    f"the dev environment was not ready after {args.timeout:.0f}s (log: {log_path})"
                )
            p.update(str(current.get("step") or "starting"))
            time.sleep(0.3)
    sys.stdout.write(_summary(current))
    return 0


def run_supervise(args: argparse.Namespace) -> int:
    from kubectl_bind.dev.supervisor import DevOptions, Supervisor

    logging.getLogger().setLevel(logging.INFO)
    return Supervisor(DevOptions(workdir=_workdir(args), bind=args.bind)).run()


def _recorded_pids(current: dict[str, Any]) -> list[int]:
    pids: list[int] = []
    for key in ("konnector", "backend"):
        pid = (current.get(key) or {}).get("pid")
        if pid:
            pids.append(int(pid))
    for cluster in (current.get("clusters") or {}).values():
        for key in ("kube-controller-manager", "kube-apiserver"):
            if cluster.get(key):
                pids.append(int(cluster[key]))
    if current.get("etcdPid"):
        pids.append(int(current["etcdPid"]))
    return pids


def run_down(args: argparse.Namespace) -> int:
    workdir = _workdir(args)
    current = state.read(workdir)
    if current is None:
        progress.info(f"no dev environment recorded in {workdir}")
        return 0
    supervisor = current.get("supervisorPid")
    if supervisor and state.pid_alive(int(supervisor)):
        state.terminate(int(supervisor))
        deadline = time.monotonic() + args.timeout
        with progress.waiting("stopping the kube-bind dev environment"):
            while state.pid_alive(int(supervisor)) and time.monotonic() < deadline:
                time.sleep(0.2)
    leftovers = [pid for pid in _recorded_pids(current) if state.pid_alive(pid)]
    for pid in leftovers:  # only if the supervisor could not stop them (killed, crashed)
        state.terminate(pid, 9)
    state.remove(workdir)
    progress.info("stopped" + (f" (killed leftover pids {leftovers})" if leftovers else ""))
    return 0


def run_status(args: argparse.Namespace) -> int:
    workdir = _workdir(args)
    current = state.read(workdir)
    if current is None or not _running(current):
        if args.output == "json":
            sys.stdout.write(
                json.dumps({"running": False, "workdir": str(workdir), **(current or {})}, indent=2) + "\n"
            )
        else:
            msg = f"no dev environment running from {workdir}"
            if current and current.get("phase") == "Failed":
                msg += f" (last start failed: {current.get('error')})"
            progress.info(msg)
        return 1
    if args.output == "json":
        alive = {str(pid): state.pid_alive(pid) for pid in _recorded_pids(current)}
        sys.stdout.write(json.dumps({"running": True, **current, "alive": alive}, indent=2) + "\n")
    elif current.get("phase") == "Ready":
        sys.stdout.write(_summary(current))
    else:
        sys.stdout.write(f"starting: {current.get('step')}\n")
    return 0 if current.get("phase") == "Ready" else 1
