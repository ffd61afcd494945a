"""A private, throwaway redis-server on 127.0.0.1 (no persistence)."""

from __future__ import annotations

import shutil

from .ports import ManagedProcess, free_port

__all__ = ["RedisServer"]


class RedisServer(ManagedProcess):
    """``redis-server --bind 127.0.0.1 --port N --save '' --appendonly no --dir D``.

    Run in the foreground as our child (``--daemonize no``); its log goes to
    ``log_path``.  ``url`` is ``redis://127.0.0.1:N/0``.
    """

    kind = "redis"

    def __init__(self, port: int | None = None, executable: str | None = None) -> None:
        super().__init__()
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.executable = executable or shutil.which("redis-server") or "/usr/bin/redis-server"

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def url_for(self, db: int = 0) -> str:
        return f"redis://{self.host}:{self.port}/{db}"

    def start(self, timeout: float = 10.0) -> "RedisServer":
        if self.alive():
            return self
        self._spawn([
            self.executable,
            "--bind", self.host,
            "--port", str(self.port),
            "--save", "",             # no RDB snapshots
            "--appendonly", "no",     # no AOF
            "--dir", str(self.dir),
            "--daemonize", "no",      # stay our child so stop() can signal the PID
            "--logfile", "",          # log to stdout = our log file
            "--databases", "16",
        ], cwd=self.dir)
        self._wait_port(self.host, self.port, timeout)
        return self

    def flushall(self) -> None:
        """Empty every database (between tests)."""
        import redis

        with redis.Redis.from_url(self.url) as client:
            client.flushall()
