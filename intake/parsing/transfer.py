"""Content-Transfer-Encoding: base64, quoted-printable, uuencode, identity.

Decoders are lenient and report what was wrong instead of raising.
"""
from __future__ import annotations

import binascii
import re

from .charsets import Note

_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
_NOT_B64 = bytes(c for c in range(256) if c not in _ALPHABET)
_WS = b" \t\r\n\v\f"
_PADDING = re.compile(rb"=+")
IDENTITY = {"", "7bit", "8bit", "binary", "7-bit", "8-bit", "none"}


def b64decode(raw: bytes) -> tuple[bytes, str | None]:
    """Decode base64; returns (data, description of defects or None)."""
    compact = raw.translate(None, _WS)
    try:
        return binascii.a2b_base64(compact, strict_mode=True), None
    except (binascii.Error, ValueError):
        pass
    out: list[bytes] = []
    junk = 0
    truncated = False
    for segment in _PADDING.split(compact):
        if not segment:
            continue
        cleaned = segment.translate(None, _NOT_B64)
        junk += len(segment) - len(cleaned)
        if len(cleaned) % 4 == 1:
            cleaned = cleaned[:-1]
            truncated = True
        cleaned += b"=" * (-len(cleaned) % 4)
        try:
            out.append(binascii.a2b_base64(cleaned))
        except (binascii.Error, ValueError):  # pragma: no cover - cleaned is valid
            truncated = True
    defects = []
    if junk:
        defects.append(f"{junk} invalid characters")
    if truncated:
        defects.append("a truncated final group")
    problem = "invalid base64 (" + ", ".join(defects) + ")" if defects else None
    return b"".join(out), problem


def _looks_like_text(raw: bytes) -> bool:
    """True when 'base64' content is clearly not base64 (mislabelled text)."""
    compact = raw.translate(None, _WS + b"=")
    junk = len(compact.translate(None, _ALPHABET))
    return junk >= 3 and junk * 20 > len(compact)


def uudecode(raw: bytes) -> tuple[bytes, str | None]:
    out: list[bytes] = []
    problem = None
    started = False
    for line in raw.split(b"\n"):
        if not started:
            started = line.startswith(b"begin ")
            continue
        if line.strip() in (b"end", b"`", b""):
            if line.strip() == b"end":
                break
            continue
        try:
            out.append(binascii.a2b_uu(line))
        except (binascii.Error, ValueError):
            problem = "invalid uuencoded line"
    if not started:
        problem = "uuencoded data without a begin line"
    return b"".join(out), problem


def decode(raw: bytes, cte: str, *, note: Note | None = None, what: str = "part") -> bytes:
    """Undo the transfer encoding `cte` (already lowercased, may be '')."""
    if cte in IDENTITY:
        return raw
    if cte == "base64":
        if _looks_like_text(raw):
            if note:
                note(f"{what}: declared base64 but is not; used as is")
            return raw
        data, problem = b64decode(raw)
    elif cte == "quoted-printable":
        return binascii.a2b_qp(raw)
    elif cte in ("x-uuencode", "uuencode", "x-uue", "uue"):
        data, problem = uudecode(raw)
    else:
        if note:
            note(f"{what}: unknown Content-Transfer-Encoding {cte!r}; used as is")
        return raw
    if problem and note:
        note(f"{what}: {problem}")
    return data


def normalize_cte(value: str | None) -> str:
    if not value:
        return ""
    token = value.strip().strip("\"'").split(";", 1)[0].split(None, 1)
    return token[0].lower().strip("\"'") if token else ""
