"""A private Dovecot 2.3 instance (IMAP, IMAPS, POP3, POP3S) on 127.0.0.1.

Everything lives in one short directory (``/tmp/ik-dovecot-XXXX``, mode 0755):

    dovecot.conf        self-contained config (never reads /etc/dovecot)
    passwd/<user>       one passwd-file per user, plain password
                        (with require_tls: passwd.TLS/, passwd.secured/, passwd./)
    run/                base_dir: the instance's unix sockets, master.pid
    state/              state_dir
    home/<user>/Maildir/{cur,new,tmp}   INBOX, owned by 65534 (nobody)
    dovecot.log         everything Dovecot logs (and its stdout/stderr)

The master runs as our foreground child (``dovecot -F -c dovecot.conf``);
``stop()`` sends SIGTERM to that PID (Dovecot then takes ~1 s to exit).

require_tls
-----------
Dovecot 2.3 treats every connection whose local IP equals its remote IP as
"secured" (login-common: ``secured = trusted || remote_ip == local_ip``), and
both ``disable_plaintext_auth = yes`` and ``ssl = required`` only refuse
*unsecured* connections.  On 127.0.0.1 -> 127.0.0.1 they refuse nothing
(test_peers.py proves it).  With ``require_tls=True`` this class keeps those
two settings (what a real server uses) and adds the part that bites on
loopback: the passdb path is ``passwd.%{secured}/%u``, and the auth process
expands ``%{secured}`` to ``TLS`` only on a TLS connection (IMAPS/POP3S, or
after STARTTLS/STLS) but to ``secured`` on plaintext loopback.  The entries
in ``passwd.secured/`` carry ``nologin reason=...``, so a plaintext login
with the right password gets

    IMAP:  NO [CONTACTADMIN] Plaintext authentication disallowed before STARTTLS/STLS ...
    POP3:  -ERR [AUTH] Plaintext authentication disallowed before STARTTLS/STLS ...

(a wrong password still gets the usual authentication failure).  Unlike a
real remote client, the pre-STARTTLS CAPABILITY does not list LOGINDISABLED.
"""

from __future__ import annotations

import base64
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .certs import CertBundle
from .ports import ManagedProcess, free_ports

__all__ = ["Dovecot", "OAuth2Settings", "MAIL_UID", "MAIL_GID"]

MAIL_UID = 65534  # nobody: Dovecot refuses to run mail processes as root
MAIL_GID = 65534

PLAINTEXT_REFUSED = "Plaintext authentication disallowed before STARTTLS/STLS (test peer require_tls)"


@dataclass(frozen=True)
class OAuth2Settings:
    """Token introspection settings for Dovecot's oauth2 passdb."""

    introspection_url: str
    username_attribute: str = "email"
    active_attribute: str = "active"
    active_value: str = "true"
    mode: str = "post"  # introspection_mode: auth | get | post | local


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


class Dovecot(ManagedProcess):
    """Private Dovecot; see the module docstring.  ``start()`` returns self."""

    kind = "dovecot"
    # The master exits ~1 s after SIGTERM (it waits for its log process);
    # anything slower is a hung child: SIGKILL the group then.
    stop_timeout = 5.0
    # With require_tls, also refuse plaintext logins on loopback (see the
    # module docstring).  Only test_peers.py turns this off, to show that
    # Dovecot's own settings alone do not refuse them.
    tls_gate_on_loopback = True

    def __init__(self, users: dict[str, str] | None = None, certs: CertBundle | None = None,
                 require_tls: bool = False, oauth2: OAuth2Settings | None = None) -> None:
        if certs is None:
            raise TypeError("Dovecot() needs certs=make_certificates(...)")
        super().__init__()
        self.host = "127.0.0.1"
        self.certs = certs
        self.require_tls = require_tls
        self.oauth2 = oauth2
        self._gate = require_tls and self.tls_gate_on_loopback
        self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port = free_ports(4)
        self.instance_name = f"intake-test-{self.dir.name}"
        self.config_path = self.dir / "dovecot.conf"
        self.base_dir = self.dir / "run"
        self.state_dir = self.dir / "state"
        self.home_root = self.dir / "home"
        self.home_root.mkdir(mode=0o755)
        if os.geteuid() == 0:
            os.chown(self.home_root, MAIL_UID, MAIL_GID)
        self._users: dict[str, str] = {}
        self._seq = itertools.count()
        self._hostname = socket.gethostname().replace("/", "_").replace(":", "_") or "localhost"
        for name, password in (users or {}).items():
            self._users[self._norm(name)] = password
        self._write_users()
        self._write_config()

    # -- users --------------------------------------------------------------
    @staticmethod
    def _norm(name: str) -> str:
        # auth_username_format = %Lu: logins are case-insensitive, and the
        # home directory is named after the lower-cased user.
        if not name or any(c in name for c in ":/\n\r\t\0") or name in (".", ".."):
            raise ValueError(f"unusable Dovecot user name {name!r}")
        return name.lower()

    @property
    def users(self) -> dict[str, str]:
        return dict(self._users)

    def add_user(self, name: str, password: str) -> None:
        """Add a user, or change a user's password, while Dovecot runs.

        Every user has a passwd-file of its own (the passdb path ends in
        ``%u``), so a *new* user is visible to the very next login.  Dovecot
        re-checks a file it has already read at most once per second,
        so *changing* an existing user's password waits for the next
        wall-clock second (<= 1 s) before returning.
        """
        user = self._norm(name)
        existed = user in self._users
        self._users[user] = password
        self._write_user(user)
        if existed:
            self._wait_next_second()

    def remove_user(self, name: str) -> None:
        """Remove a user (waits <= 1 s, like changing a password)."""
        user = self._norm(name)
        if self._users.pop(user, None) is None:
            return
        for directory in self._passwd_dirs().values():
            try:
                os.unlink(directory / user)
            except FileNotFoundError:
                pass
        self._wait_next_second()

    def home(self, user: str) -> Path:
        return self.home_root / self._norm(user)

    def maildir(self, user: str) -> Path:
        return self.home(user) / "Maildir"

    def _passwd_dirs(self) -> dict[str, Path]:
        """Which passwd-file directory serves which kind of connection."""
        if self._gate:
            # The passdb path is passwd.%{secured}/%u: %{secured} is "TLS" on
            # TLS connections, "secured" on plaintext loopback, "" otherwise.
            return {
                "ok": self.dir / "passwd.TLS",
                "refused": self.dir / "passwd.secured",
                "refused-nonlocal": self.dir / "passwd.",
            }
        return {"ok": self.dir / "passwd"}

    def _write_user(self, user: str) -> None:
        # {PLAIN.b64}: the plain password base64-encoded, so ':' and other
        # odd characters in a test password cannot break the line.
        pw = base64.b64encode(self._users[user].encode("utf-8")).decode("ascii")
        entry = f"{user}:{{PLAIN.b64}}{pw}:{MAIL_UID}:{MAIL_GID}::{self.home_root / user}::"
        for kind, directory in self._passwd_dirs().items():
            directory.mkdir(mode=0o755, exist_ok=True)
            extra = "" if kind == "ok" else "nologin reason=%{env:INTAKE_TLS_REQUIRED_REASON}"
            path = directory / user
            # A rewrite must change the mtime (seconds) for Dovecot to notice.
            try:
                stamp = max(int(time.time()), int(os.stat(path).st_mtime) + 1)
            except FileNotFoundError:
                stamp = int(time.time())
            tmp = directory / f".{user}.tmp"
            tmp.write_text(entry + extra + "\n", encoding="utf-8")
            os.chmod(tmp, 0o644)
            os.utime(tmp, (stamp, stamp))
            os.replace(tmp, path)

    def _write_users(self) -> None:
        for user in self._users:
            self._write_user(user)
        for directory in self._passwd_dirs().values():
            directory.mkdir(mode=0o755, exist_ok=True)

    def _wait_next_second(self) -> None:
        if self.alive():
            time.sleep(max(0.0, int(time.time()) + 1.01 - time.time()))

    # -- configuration ------------------------------------------------------
    def _write_config(self) -> None:
        d = self.dir
        if self._gate:
            passdb_file = f"{self.dir}/passwd.%{{secured}}/%u"
        else:
            passdb_file = f"{self.dir}/passwd/%u"
        auth_mechs = "plain login"
        passdb_mechs = ""
        oauth2_block = ""
        if self.oauth2 is not None:
            auth_mechs = "plain login xoauth2 oauthbearer"
            # The passwd-file only answers password mechanisms; tokens go to oauth2.
            passdb_mechs = "  mechanisms = plain login\n"
            oauth_conf = d / "dovecot-oauth2.conf.ext"
            o = self.oauth2
            oauth_conf.write_text(
                f"introspection_mode = {o.mode}\n"
                f"introspection_url = {o.introspection_url}\n"
                f"username_attribute = {o.username_attribute}\n"
                f"active_attribute = {o.active_attribute}\n"
                f"active_value = {o.active_value}\n",
                encoding="utf-8",
            )
            oauth2_block = (
                "# Bearer tokens (XOAUTH2 / OAUTHBEARER) are checked by token introspection.\n"
                "passdb {\n"
                "  driver = oauth2\n"
                "  mechanisms = xoauth2 oauthbearer\n"
                f"  args = {oauth_conf}\n"
                "}\n"
            )
        gate_comment = ""
        if self._gate:
            gate_comment = (
                "# require_tls gate: %{secured} is \"TLS\" only on TLS connections and\n"
                "# \"secured\" on plaintext loopback, whose passwd.secured/ entries carry\n"
                "# nologin + reason, so a plaintext login is refused even on 127.0.0.1.\n"
            )
        login_user = "dovenull" if _user_exists("dovenull") else "nobody"
        internal_user = "dovecot" if _user_exists("dovecot") else "nobody"

        conf = f"""\
# Generated by tests/peers/dovecot.py - a private, throwaway test instance.

# --- a self-contained instance: nothing from /etc/dovecot, nothing shared ---
# Name shown in ps / log lines; tells parallel test instances apart.
instance_name = {self.instance_name}
# Runtime dir (unix sockets, master.pid); short, since socket paths must stay < 108 bytes.
base_dir = {self.base_dir}
state_dir = {self.state_dir}
# Every log line goes to one file in our dir (never to syslog or a pipe).
log_path = {self.log_path}
info_log_path = {self.log_path}
debug_log_path = {self.log_path}
# Microsecond timestamps: lets a failing test line up log lines with its steps.
log_timestamp = "%Y-%m-%d %H:%M:%S.%{{usecs}} "
# No stats-writer clients: nothing here reads Dovecot's stats, and a login
# process that was still waiting for the stats handshake held up shutdown by
# 5 s when stop() came right after start().
stats_writer_socket_path =
# Unprivileged users for login/internal processes (Debian creates both).
default_login_user = {login_user}
default_internal_user = {internal_user}

# --- network: loopback only, ports picked at random by the harness ---
protocols = imap pop3
listen = {self.host}

# Login processes in "high-performance mode": one long-lived process per
# protocol serves every connection (instead of a fresh fork per connection).
# Faster, and no half-initialised login process is ever being spawned when
# stop() arrives (such a process blocks ~5 s before it can exit).
service imap-login {{
  service_count = 0
  process_min_avail = 1
  inet_listener imap {{
    address = {self.host}
    port = {self.imap_port}
  }}
  inet_listener imaps {{
    address = {self.host}
    port = {self.imaps_port}
    ssl = yes
  }}
}}
service pop3-login {{
  service_count = 0
  process_min_avail = 1
  inet_listener pop3 {{
    address = {self.host}
    port = {self.pop3_port}
  }}
  inet_listener pop3s {{
    address = {self.host}
    port = {self.pop3s_port}
    ssl = yes
  }}
}}
# --- TLS: implicit on imaps/pop3s, STARTTLS/STLS offered on the plain ports ---
# "required" (with require_tls) refuses auth on connections Dovecot does not
# consider secured; "yes" offers TLS but allows plaintext login.
ssl = {"required" if self.require_tls else "yes"}
ssl_cert = <{self.certs.cert}
ssl_key = <{self.certs.key}
ssl_min_protocol = TLSv1.2

# --- authentication ---
# Pass the harness's refusal text (it has spaces, which passwd-file extra
# fields cannot hold) from the master's environment to the auth process.
import_environment = TZ CORE_OUTOFMEM CORE_ERROR LISTEN_PID LISTEN_FDS INTAKE_TLS_REQUIRED_REASON
# yes: LOGIN/USER+PASS/AUTH PLAIN refused on connections that are not secured
# (note: Dovecot counts 127.0.0.1 -> 127.0.0.1 as secured, see the module doc).
disable_plaintext_auth = {"yes" if self.require_tls else "no"}
auth_mechanisms = {auth_mechs}
# Failed logins are not held back for 2 s. (2.3.19 still answers them on the
# next tick of its 500 ms failure-queue timer, so a failure takes <= 0.5 s;
# the "nodelay" passdb field does not change that for password mismatches.)
auth_failure_delay = 0
# Logins are case-insensitive; home dirs use the lower-cased name.
auth_username_format = %Lu
# Log failed logins with their reason: handy when a test fails.
auth_verbose = yes
# The harness changes passwd-files at run time (add_user): never cache.
auth_cache_size = 0

# Plain passwords, one passwd-file per user ({{PLAIN.b64}} entries): a user
# added at run time is a file Dovecot has never read, so it is seen at once.
{gate_comment}passdb {{
  driver = passwd-file
{passdb_mechs}  args = scheme=PLAIN username_format=%u {passdb_file}
}}
{oauth2_block}
# Every user gets uid/gid 65534 and a home under our dir; a static userdb
# also serves users who only log in by OAuth2 token.
userdb {{
  driver = static
  args = uid={MAIL_UID} gid={MAIL_GID} home={self.home_root}/%u allow_all_users=yes
}}

# Disable the anvil auth penalty (otherwise repeated failures from one IP
# get up to 15 s of delay): nobody may talk to the penalty socket.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}

# --- mail storage ---
mail_location = maildir:~/Maildir
# Mail processes run as nobody (root is refused); allow that low uid.
mail_uid = {MAIL_UID}
mail_gid = {MAIL_GID}
first_valid_uid = {MAIL_UID}
last_valid_uid = {MAIL_UID}
first_valid_gid = {MAIL_GID}
last_valid_gid = {MAIL_GID}
# Throwaway data: skip fsync for speed.
mail_fsync = never
# Tests open many parallel sessions for one user from 127.0.0.1 (default 10).
mail_max_userip_connections = 1000
# Stable POP3 UIDLs: IMAP UID + UIDVALIDITY as hex (the usual Dovecot choice).
pop3_uidl_format = %08Xu%08Xv

protocol imap {{
  # UIDPLUS (RFC 4315: UID EXPUNGE, APPENDUID/COPYUID) is always in the
  # post-login CAPABILITY; "+" adds it to the pre-login greeting as well,
  # which is the list clients such as imaplib keep using after LOGIN.
  imap_capability = +UIDPLUS
}}
# POP3 CAPA advertises PIPELINING by default (test_peers.py checks it).
"""
        self.config_path.write_text(conf, encoding="utf-8")

    # -- lifecycle ----------------------------------------------------------
    def start(self, timeout: float = 10.0) -> "Dovecot":
        if self.alive():
            return self
        dovecot = shutil.which("dovecot") or "/usr/sbin/dovecot"
        env = dict(os.environ)
        env["INTAKE_TLS_REQUIRED_REASON"] = PLAINTEXT_REFUSED
        self._spawn([dovecot, "-F", "-c", str(self.config_path)], cwd=self.dir, env=env)
        deadline = time.monotonic() + timeout
        for port in (self.imap_port, self.imaps_port, self.pop3_port, self.pop3s_port):
            self._wait_port(self.host, port, max(0.1, deadline - time.monotonic()))
        # An open port only means the master listens.  Wait for real greetings
        # (sent once a login process runs and is connected to auth): a stop()
        # that lands while Dovecot's children are still initialising makes
        # them block ~5 s in a settings read before they exit.
        self._wait_greeting(self.imap_port, b"* OK", deadline)
        self._wait_greeting(self.pop3_port, b"+OK", deadline)
        return self

    def _wait_greeting(self, port: int, expected: bytes, deadline: float) -> None:
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((self.host, port), timeout=max(0.1, deadline - time.monotonic())) as sock:
                    line = sock.makefile("rb").readline(200)
                if line.startswith(expected):
                    return
                last_error = RuntimeError(f"unexpected greeting {line!r}")
            except OSError as exc:
                last_error = exc
            if not self.alive():
                break
            time.sleep(0.02)
        tail = self.log_tail()
        self._terminate()
        raise RuntimeError(f"Dovecot on port {port} sent no {expected!r} greeting: {last_error}\n{tail}")

    def doveadm(self, *args: str, timeout: float = 30.0, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``doveadm -c dovecot.conf ARGS`` (a short-lived tool: output captured)."""
        doveadm = shutil.which("doveadm") or "/usr/bin/doveadm"
        res = subprocess.run([doveadm, "-c", str(self.config_path), *args],
                             stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
        if check and res.returncode != 0:
            raise RuntimeError(f"doveadm {' '.join(args)} failed ({res.returncode}): {res.stderr.strip()}")
        return res

    # -- mailbox contents -----------------------------------------------------
    def _ensure_maildir(self, user: str) -> Path:
        home = self.home(user)
        maildir = home / "Maildir"
        chown = os.geteuid() == 0
        for path in (home, maildir, maildir / "cur", maildir / "new", maildir / "tmp"):
            try:
                path.mkdir(mode=0o700)
            except FileExistsError:
                continue
            if chown:
                os.chown(path, MAIL_UID, MAIL_GID)
        return maildir

    def deliver(self, user: str, messages: Iterable[bytes]) -> int:
        """Drop messages into the user's INBOX (Maildir/new); returns how many.

        Maildir protocol: each file is written in tmp/ and renamed into new/
        (so Dovecot never sees half a message), owned by 65534, with a unique
        name.  5,000-20,000 messages/s (the first thousands into a fresh
        directory are the slow ones).  Dovecot picks them up at its next sync
        (any SELECT/NOOP/POP3 login), so a running session sees them too.
        """
        maildir = self._ensure_maildir(user)
        tmp_dir, new_dir = maildir / "tmp", maildir / "new"
        chown = os.geteuid() == 0
        pid = os.getpid()
        now = int(time.time())
        count = 0
        for message in messages:
            if isinstance(message, str):
                raise TypeError("deliver() wants bytes messages")
            name = f"{now}.M{next(self._seq)}P{pid}.{self._hostname}"
            tmp_path = tmp_dir / name
            fd = os.open(tmp_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                view = memoryview(message)
                while view:
                    view = view[os.write(fd, view):]
                if chown:
                    os.fchown(fd, MAIL_UID, MAIL_GID)
            finally:
                os.close(fd)
            os.rename(tmp_path, new_dir / name)
            count += 1
        return count

    def _message_files(self, user: str) -> list[Path]:
        maildir = self.maildir(user)
        files = []
        for sub in ("new", "cur"):
            try:
                with os.scandir(maildir / sub) as it:
                    files.extend(Path(e.path) for e in it if e.is_file() and not e.name.startswith("."))
            except FileNotFoundError:
                pass
        return files

    def mailbox_count(self, user: str) -> int:
        """Message files in INBOX (new + cur).

        Counts files, so a message that is only flagged \\Deleted (not yet
        expunged) still counts; POP3 DELE + QUIT and IMAP EXPUNGE remove the
        file.  Dovecot moves files from new/ to cur/ when it first sees them.
        """
        return len(self._message_files(user))

    def clear(self, user: str) -> int:
        """Remove every message from the user's INBOX; returns how many were removed.

        Deletes the message files directly (a Maildir-legal external
        expunge): instant, works whether Dovecot runs or not, and Dovecot
        notices at its next sync.  IMAP UIDs keep increasing (the
        dovecot-uidlist stays), so UIDVALIDITY and POP3 UIDLs of later
        messages stay unique.  Sessions still open on that mailbox see the
        messages as expunged.
        """
        removed = 0
        for path in self._message_files(user):
            try:
                path.unlink()
                removed += 1
            except FileNotFoundError:
                pass
        tmp_dir = self.maildir(user) / "tmp"
        if tmp_dir.is_dir():
            for entry in os.scandir(tmp_dir):
                try:
                    os.unlink(entry.path)
                except OSError:
                    pass
        return removed
