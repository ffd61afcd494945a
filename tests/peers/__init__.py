"""Real servers for the test suite, run as private throwaway child processes.

Plain helper classes (no pytest fixtures here; conftest.py wraps them):

* ``ports``        - ``free_port()``, ``wait_for_port()``, and ``ManagedProcess``,
                     the start/stop/atexit plumbing every peer shares;
* ``certs``        - ``make_certificates(dir) -> CertBundle``;
* ``dovecot``      - ``Dovecot`` (IMAP/IMAPS/POP3/POP3S), ``OAuth2Settings``;
* ``redis_server`` - ``RedisServer``;
* ``postgres``     - ``PostgresCluster``.

Every peer listens on 127.0.0.1 only, lives in its own ``/tmp/ik-*`` dir,
logs to a file there, and is stopped by PID (``stop()``, the context
manager, or at interpreter exit).
"""

from .certs import CertBundle, make_certificates
from .dovecot import Dovecot, OAuth2Settings
from .ports import ManagedProcess, free_port, wait_for_port
from .postgres import PostgresCluster
from .redis_server import RedisServer

__all__ = [
    "CertBundle",
    "Dovecot",
    "ManagedProcess",
    "OAuth2Settings",
    "PostgresCluster",
    "RedisServer",
    "free_port",
    "make_certificates",
    "wait_for_port",
]
