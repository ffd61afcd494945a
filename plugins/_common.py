"""Small helpers shared by the first-party transports."""
from __future__ import annotations

import base64
import contextlib
import socket
import ssl

from intake.transport import ConnectError, Credentials, TLSVerifyError, TransportSettings


@contextlib.contextmanager
def connect_errors(settings: TransportSettings):
    """Turn socket/TLS failures while connecting into one clear ConnectError."""
    where = f"{settings.host}:{settings.port}"
    try:
        yield
    except ssl.SSLCertVerificationError as exc:
        raise TLSVerifyError(
            f"the certificate of {where} is not trusted ({exc.verify_message}); give the CA file that "
            "signed it, or turn TLS verification off for this account explicitly"
        ) from None
    except ssl.SSLError as exc:
        raise ConnectError(f"TLS with {where} failed: {exc.reason or exc}") from None
    except (socket.timeout, TimeoutError):
        raise ConnectError(f"{where} did not answer within {settings.connect_timeout:g} s") from None
    except ConnectionRefusedError:
        raise ConnectError(f"{where} refused the connection (is the host and port right?)") from None
    except socket.gaierror as exc:
        raise ConnectError(f"the host name {settings.host!r} cannot be resolved ({exc.strerror})") from None
    except OSError as exc:
        raise ConnectError(f"cannot connect to {where}: {exc.strerror or exc}") from None


def sasl_initial_response(mechanism: str, credentials: Credentials, settings: TransportSettings) -> bytes:
    """The client's first SASL message for XOAUTH2 or OAUTHBEARER (RFC 7628), unencoded."""
    user, token = credentials.username, credentials.access_token or ""
    if mechanism == "XOAUTH2":
        return f"user={user}\x01auth=Bearer {token}\x01\x01".encode()
    if mechanism == "OAUTHBEARER":
        return f"n,a={user},\x01host={settings.host}\x01port={settings.port}\x01auth=Bearer {token}\x01\x01".encode()
    raise ValueError(f"unsupported SASL mechanism {mechanism!r} (use XOAUTH2 or OAUTHBEARER)")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def imap_utf7_encode(name: str) -> str:
    """Encode a folder name in IMAP's modified UTF-7 (RFC 3501 §5.1.3)."""
    out, pending = [], []

    def flush():
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)
