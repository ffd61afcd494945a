"""Loopback ports, and the child-process plumbing shared by the test peers."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["free_port", "free_ports", "wait_for_port", "port_is_open", "PortTimeout", "ManagedProcess", "make_peer_dir"]


class PortTimeout(TimeoutError):
    """A peer did not start accepting connections in time."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on *host* that was free a moment ago.

    The kernel picks it (bind to port 0); there is an unavoidable race until
    the peer binds it, which is harmless in practice on a test machine.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """*count* distinct free ports (all held open while choosing)."""
    socks = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            socks.append(sock)
            sock.bind((host, 0))
        return [s.getsockname()[1] for s in socks]
    finally:
        for sock in socks:
            sock.close()


def port_is_open(host: str, port: int, timeout: float = 0.2) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, timeout: float = 10.0, *,
                  alive=None, describe=None) -> None:
    """Poll until ``host:port`` accepts a TCP connection.

    ``alive`` (optional callable -> bool) is checked on every round so a peer
    that dies during start-up fails at once instead of after *timeout*.
    ``describe`` (optional callable -> str) is appended to the error message,
    typically the tail of the peer's log.
    Raises PortTimeout (a TimeoutError) or RuntimeError (peer died).
    """
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if port_is_open(host, port):
            return
        extra = ""
        if alive is not None and not alive():
            if describe is not None:
                extra = "\n" + describe()
            raise RuntimeError(f"peer exited before {host}:{port} accepted connections{extra}")
        if time.monotonic() >= deadline:
            if describe is not None:
                extra = "\n" + describe()
            raise PortTimeout(f"{host}:{port} did not accept connections within {timeout:g} s{extra}")
        time.sleep(delay)
        delay = min(delay * 1.5, 0.1)


# ---------------------------------------------------------------------------
# Child-process management shared by the peers (Dovecot, Redis, PostgreSQL).
# ---------------------------------------------------------------------------


_PR_SET_PDEATHSIG = 1
try:
    _libc = ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None
    _prctl = _libc.prctl if _libc is not None else None
except (OSError, AttributeError):  # pragma: no cover - non-Linux
    _prctl = None


def _die_with_parent(sig: int):
    def preexec() -> None:  # runs in the forked child, before exec
        # If the test process dies without running atexit (SIGKILL, OOM),
        # the kernel sends *sig* to the peer, so nothing is left listening.
        _prctl(_PR_SET_PDEATHSIG, int(sig), 0, 0, 0)
    return preexec


def make_peer_dir(kind: str) -> Path:
    """A short, world-traversable directory like /tmp/ik-dovecot-abc123 (mode 0755)."""
    path = Path(tempfile.mkdtemp(prefix=f"ik-{kind}-", dir="/tmp"))
    os.chmod(path, 0o755)
    return path


class ManagedProcess:
    """Base class: one daemon run as a foreground child in its own session.

    * stdout/stderr go to ``log_path`` (never a pipe);
    * ``stop()`` signals only that PID (SIGTERM by default), waits, and on
      timeout SIGKILLs the process group the child leads (that is, the child
      and the workers it forked itself - nothing else);
    * an atexit hook stops it if the test run ends without calling stop();
    * the child gets PR_SET_PDEATHSIG=stop_signal when started from the main
      thread, so even a SIGKILLed test run leaves no daemon running (its
      directory stays in /tmp then);
    * its directory is removed by stop() unless INTAKE_KEEP_PEER_DIRS=1
      (or ``stop(remove_dir=False)``, after which ``start()`` works again).
    """

    kind = "peer"
    stop_signal = signal.SIGTERM
    stop_timeout = 10.0

    def __init__(self) -> None:
        self.dir: Path = make_peer_dir(self.kind)
        self.log_path: Path = self.dir / f"{self.kind}.log"
        self.proc: subprocess.Popen | None = None
        self._atexit_registered = False
        self.keep_dir = os.environ.get("INTAKE_KEEP_PEER_DIRS") == "1"
        self._register_atexit()  # the dir exists from now on: clean it up at exit

    # -- context manager --------------------------------------------------
    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- helpers for subclasses -------------------------------------------
    def _register_atexit(self) -> None:
        if not self._atexit_registered:
            atexit.register(self._atexit_stop)
            self._atexit_registered = True

    def _atexit_stop(self) -> None:
        try:
            self.stop()
        except Exception:  # noqa: BLE001 - interpreter is exiting
            pass

    def _spawn(self, argv: list[str], *, cwd: str | os.PathLike | None = None,
               env: dict[str, str] | None = None, user: str | int | None = None,
               group: str | int | None = None) -> subprocess.Popen:
        self._register_atexit()
        preexec = None
        if _prctl is not None and threading.current_thread() is threading.main_thread():
            preexec = _die_with_parent(self.stop_signal)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                cwd=cwd, env=env, start_new_session=True, close_fds=True,
                user=user, group=group, extra_groups=[] if user is not None else None,
                preexec_fn=preexec,
            )
        return self.proc

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None else None

    def log_tail(self, lines: int = 40) -> str:
        try:
            data = self.log_path.read_bytes()
        except OSError as exc:
            return f"(no log at {self.log_path}: {exc})"
        text = data[-20000:].decode("utf-8", "replace")
        tail = "\n".join(text.splitlines()[-lines:])
        return f"--- last lines of {self.log_path} ---\n{tail}"

    def _wait_port(self, host: str, port: int, timeout: float) -> None:
        try:
            wait_for_port(host, port, timeout, alive=self.alive, describe=self.log_tail)
        except BaseException:
            self._terminate()
            raise

    def _terminate(self, sig: int | None = None, timeout: float | None = None) -> None:
        """Signal our child by PID, wait bounded, then SIGKILL its process group."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        sig = self.stop_signal if sig is None else sig
        timeout = self.stop_timeout if timeout is None else timeout
        if proc.returncode is None:
            # Our child is not reaped yet, so neither its PID nor the process
            # group id it leads can have been reused: both name only processes
            # we started.  (Popen.send_signal is avoided: it may reap first.)
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, sig)
            _wait_nowait(proc.pid, timeout)  # exited (or timed out), still unreaped
            # Sweep whatever it forked and left behind (usually nothing), or
            # the whole hung group after the timeout.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def stop(self, remove_dir: bool = True) -> None:
        """Stop the daemon (idempotent).

        By default its directory is removed too (unless INTAKE_KEEP_PEER_DIRS=1)
        and the object is finished.  ``stop(remove_dir=False)`` keeps the data
        so that ``start()`` can bring the same server back (same ports, same
        mailboxes/databases), e.g. to test what happens while a server is down.
        """
        self._terminate()
        if not remove_dir:
            return
        if self._atexit_registered:
            atexit.unregister(self._atexit_stop)
            self._atexit_registered = False
        if not self.keep_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


def _wait_nowait(pid: int, timeout: float) -> bool:
    """Wait until *pid* (our child) has exited, without reaping it."""
    deadline = time.monotonic() + timeout
    delay = 0.005
    while True:
        try:
            info = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            return True
        if info is not None and info.si_pid == pid:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


class AuthorizationServerProcess(ManagedProcess):
    """Base of the test OAuth2 servers: an HTTP peer on 127.0.0.1 with registered clients and introspection."""

    def __init__(self, clients: dict[str, str | None]):
        super().__init__()
        self.host = "127.0.0.1"
        self.port = free_port()
        self.clients = clients

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def introspection_url(self) -> str:
        return f"{self.url}/introspect"
