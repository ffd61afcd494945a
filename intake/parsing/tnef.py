"""winmail.dat (TNEF, application/ms-tnef) unpacking with tnefparse.

Decision: when the TNEF blob unpacks into at least one attachment, those
attachments *replace* winmail.dat (agents cannot open it, and it only
duplicates them).  When it cannot be read, or holds no attachments (only an
RTF body, say), the original winmail.dat is kept as an ordinary attachment
so nothing is lost.  A plain-text or HTML body found inside is offered to
the caller, which uses it only when the message has no body of its own.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

TNEF_SIGNATURE = b"\x78\x9f\x3e\x22"

# tnefparse logs every oddity of the (often odd) blobs it reads at WARNING
# and above; keep them off stderr when the application configured no logging.
logging.getLogger("tnefparse").addHandler(logging.NullHandler())


@dataclass
class Unpacked:
    files: list[tuple[str, bytes]] = field(default_factory=list)
    text: str = ""
    html: str = ""
    problem: str | None = None


def is_tnef(ctype: str, filename: str, data: bytes) -> bool:
    return data.startswith(TNEF_SIGNATURE) and (
        ctype in ("application/ms-tnef", "application/vnd.ms-tnef")
        or filename.lower() == "winmail.dat"
        or ctype == "application/octet-stream")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        for charset in ("utf-8", "cp1252"):
            try:
                return value.decode(charset).strip("\x00")
            except UnicodeDecodeError:
                continue
    return value.strip("\x00") if isinstance(value, str) else ""


def unpack(data: bytes) -> Unpacked:
    """Attachments and body of a TNEF blob; never raises."""
    try:
        from tnefparse import TNEF
    except ImportError:  # pragma: no cover - tnefparse is a dependency
        return Unpacked(problem="winmail.dat not unpacked: tnefparse is not installed")
    try:
        tnef = TNEF(data, do_checksum=False)
        result = Unpacked()
        for index, attachment in enumerate(tnef.attachments, 1):
            payload = attachment.data if isinstance(attachment.data, bytes) else b""
            try:
                name = _text(attachment.long_filename()) or _text(attachment.name)
            except Exception:
                name = ""
            result.files.append((name or f"tnef-attachment-{index}.bin", payload))
        result.text = _text(tnef.body)
        result.html = _text(tnef.htmlbody)
        return result
    except Exception as exc:  # tnefparse raises many kinds on bad input
        return Unpacked(problem=f"winmail.dat could not be unpacked ({type(exc).__name__})")
