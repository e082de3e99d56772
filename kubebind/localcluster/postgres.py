"""A throw-away Postgres server from Debian's binaries, on a free 127.0.0.1 port.

``initdb`` refuses to run as root, so as root the cluster is created and run as the ``postgres``
system user (created by Debian's package) in a directory it owns. ``fsync=off`` and friends make
it fast; the data is gone when :meth:`Postgres.stop` removes the directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from kubebind.localcluster.ports import free_port
from kubebind.localcluster.process import ManagedProcess, ProcessError

INSTALL_HINT = "install Debian's PostgreSQL server: `apt-get install -y postgresql` (or run .ci/run)"


def find_pg_bin() -> Path:
    env = os.environ.get("KUBE_BIND_PG_BIN")
    candidates = [env] if env else sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    for cand in candidates:
        if cand and (Path(cand) / "initdb").is_file() and (Path(cand) / "postgres").is_file():
            return Path(cand)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise ProcessError(f"no PostgreSQL server binaries (initdb, postgres) found: {INSTALL_HINT}")


class Postgres:
    def __init__(self, workdir: Path | None = None, *, user: str = "kubebind", database: str = "kubebind"):
        self.bin = find_pg_bin()
        self.workdir = workdir or Path(tempfile.mkdtemp(prefix="kube-bind-pg-"))
        self.port = free_port()
        self.user = user
        self.database = database
        self.password = os.urandom(12).hex()
        self.process: ManagedProcess | None = None
        self._run_as = "postgres" if os.geteuid() == 0 else None

    @property
    def url(self) -> str:
        """SQLAlchemy async URL (asyncpg)."""
        return f"postgresql+asyncpg://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def dsn(self, database: str | None = None) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database or self.database}"

    def _chown(self, path: Path) -> None:
        if self._run_as:
            entry = pwd.getpwnam(self._run_as)
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def start(self, timeout: float = 30.0) -> Postgres:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.workdir.chmod(0o755)
        data = self.workdir / "data"
        data.mkdir(exist_ok=True)
        self._chown(data)
        pwfile = self.workdir / "pwfile"
        pwfile.write_text(self.password + "\n")
        self._chown(pwfile)
        init = subprocess.run(
            [
                str(self.bin / "initdb"),
                "-D",
                str(data),
                "-U",
                self.user,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            capture_output=True,
            text=True,
            user=self._run_as,
        )
        pwfile.unlink()
        if init.returncode != 0:
            raise ProcessError(f"initdb failed: {init.stderr[-2000:]}")
        argv = [
            str(self.bin / "postgres"),
            "-D",
            str(data),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            str(data),
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=200",
        ]
        self.process = ManagedProcess("postgres", argv, self.workdir / "postgres.log", user=self._run_as)
        logfile = self.workdir / "postgres.log"
        logfile.touch()
        self._chown(self.workdir)
        self.process.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.process.check_alive()
            ready = subprocess.run(
                [str(self.bin / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
                capture_output=True,
            )
            if ready.returncode == 0:
                self.create_database(self.database)
                return self
            time.sleep(0.1)
        raise ProcessError(f"postgres not ready after {timeout}s:\n{self.process.log_tail()}")

    def create_database(self, name: str) -> str:
        """A fresh database on this server (one per test keeps tests apart); returns its URL."""
        psql = self.bin / "psql"
        env = dict(os.environ, PGPASSWORD=self.password)
        subprocess.run(
            [
                str(psql) if psql.exists() else "psql",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-c",
                f'CREATE DATABASE "{name}"',
            ],
            check=True,
            capture_output=True,
            env=env,
        )
        return f"postgresql+asyncpg://{self.user}:{self.password}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.process:
            self.process.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> Postgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
