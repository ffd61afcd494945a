"""A throwaway PostgreSQL cluster on 127.0.0.1 (fsync off, trust auth).

As root, initdb and the postmaster run as the ``postgres`` system user (the
server refuses to run as root); the cluster directory is chown'ed to it.
The postmaster is started directly as our foreground child (not through
``pg_ctl start``), so we know and own its PID; ``stop()`` sends it SIGQUIT,
which is exactly what ``pg_ctl stop -m immediate`` does - no checkpoint, the
cluster is thrown away anyway.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

from .ports import ManagedProcess, free_port

__all__ = ["PostgresCluster", "find_pg_bindir"]

_IDENT = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


def find_pg_bindir() -> Path:
    """The bin dir of the highest installed PostgreSQL (Debian layout), else PATH."""
    candidates = []
    for bindir in glob.glob("/usr/lib/postgresql/*/bin"):
        version = Path(bindir).parent.name
        if os.path.exists(os.path.join(bindir, "initdb")):
            try:
                key = tuple(int(p) for p in version.split("."))
            except ValueError:
                continue
            candidates.append((key, Path(bindir)))
    if candidates:
        return max(candidates)[1]
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise FileNotFoundError("no PostgreSQL server binaries (initdb) found")


def _quote_ident(name: str) -> str:
    if not _IDENT.match(name):
        raise ValueError(f"refusing unusual database name {name!r}")
    return '"' + name.replace('"', '""') + '"'


class PostgresCluster(ManagedProcess):
    """Throwaway cluster; ``url(dbname)`` gives a SQLAlchemy URL for psycopg 3."""

    kind = "pg"
    stop_signal = signal.SIGQUIT  # what `pg_ctl stop -m immediate` sends

    def __init__(self, port: int | None = None, bindir: str | os.PathLike | None = None) -> None:
        super().__init__()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.bindir = Path(bindir) if bindir else find_pg_bindir()
        self.data_dir = self.dir / "data"
        self.socket_dir = self.dir  # unix socket: DIR/.s.PGSQL.PORT
        self.user = "postgres"      # the database superuser name
        if os.geteuid() == 0:
            self._os_user: str | None = "postgres"
            pw = pwd.getpwnam("postgres")
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        else:
            self._os_user = None

    # -- URLs -------------------------------------------------------------
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL, e.g. postgresql+psycopg://postgres@127.0.0.1:PORT/DBNAME."""
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{dbname}"

    def dsn(self, dbname: str = "postgres") -> str:
        """libpq URL for psycopg.connect()."""
        return f"postgresql://{self.user}@{self.host}:{self.port}/{dbname}"

    # -- lifecycle --------------------------------------------------------
    def _run_tool(self, argv: list[str], timeout: float = 60.0) -> None:
        with open(self.log_path, "ab") as log:
            res = subprocess.run(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=self.dir, user=self._os_user, group=self._os_user,
                extra_groups=[] if self._os_user else None, timeout=timeout,
            )
        if res.returncode != 0:
            raise RuntimeError(f"{argv[0]} failed with {res.returncode}\n{self.log_tail()}")

    def start(self, timeout: float = 10.0) -> "PostgresCluster":
        if self.alive():
            return self
        self._register_atexit()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run_tool([
                str(self.bindir / "initdb"), "-D", str(self.data_dir),
                "-U", self.user, "-A", "trust", "-E", "UTF8", "--locale=C",
                "--no-sync",  # throwaway: do not fsync the new cluster
            ])
        self._spawn([
            str(self.bindir / "postgres"), "-D", str(self.data_dir),
            "-p", str(self.port),
            "-k", str(self.socket_dir),
            "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off",                # throwaway data: speed over durability
            "-c", "synchronous_commit=off",
            "-c", "full_page_writes=off",
            "-c", "logging_collector=off",    # log to stderr = our log file
            "-c", "max_connections=200",
        ], cwd=self.dir, user=self._os_user, group=self._os_user)
        self._wait_port(self.host, self.port, timeout)
        self._wait_ready(timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        """The port opens before recovery ends; wait until a query works."""
        import psycopg

        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(self.dsn(), connect_timeout=2) as conn:
                    conn.execute("SELECT 1")
                return
            except psycopg.OperationalError as exc:
                if not self.alive() or time.monotonic() >= deadline:
                    tail = self.log_tail()
                    self._terminate()
                    raise RuntimeError(f"PostgreSQL not ready: {exc}\n{tail}") from exc
                time.sleep(0.05)

    # -- databases --------------------------------------------------------
    def _admin(self):
        import psycopg

        return psycopg.connect(self.dsn("postgres"), autocommit=True, connect_timeout=5)

    @staticmethod
    def _terminate_sessions(conn, name: str) -> None:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = %s AND pid <> pg_backend_pid()",
            (name,),
        )

    def create_database(self, name: str, template: str | None = None) -> str:
        """CREATE DATABASE name [TEMPLATE template]; returns url(name).

        Sessions still connected to *template* are terminated first (CREATE
        DATABASE ... TEMPLATE fails while anyone is connected to it).
        """
        with self._admin() as conn:
            sql = f"CREATE DATABASE {_quote_ident(name)}"
            if template is not None:
                self._terminate_sessions(conn, template)
                sql += f" TEMPLATE {_quote_ident(template)}"
            conn.execute(sql)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Terminate every session on *name*, then DROP DATABASE IF EXISTS ... WITH (FORCE)."""
        with self._admin() as conn:
            self._terminate_sessions(conn, name)
            # WITH (FORCE) (PostgreSQL >= 13) also kills sessions that raced in.
            conn.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def database_exists(self, name: str) -> bool:
        with self._admin() as conn:
            return self._exists(conn, name)

    @staticmethod
    def _exists(conn, name: str) -> bool:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None
