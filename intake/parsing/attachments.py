"""Attachments: names, types, content ids and payloads of non-body parts.

Naming, in order: Content-Disposition filename, Content-Type name (both in
RFC 2231 and RFC 2047 forms, raw 8-bit decoded like headers); for an
attached message its subject + ".eml"; for an unnamed calendar part
"invite.ics"; for unnamed TNEF "winmail.dat"; else "attachment-N" plus an
extension for the content type (N counts attachments from 1).  Names are reduced to their last path
component and stripped of control characters: a name is never a path.

The type tables here are fixed (not the machine's mimetypes database), so
results are the same everywhere.
"""
from __future__ import annotations

import hashlib
import re

from . import headers, params
from .limits import Budget, ParseLimits
from .mime import Entity
from .model import ParsedAttachment

EXTENSIONS = {
    "text/plain": ".txt", "text/html": ".html", "text/calendar": ".ics", "text/csv": ".csv",
    "text/xml": ".xml", "text/x-vcard": ".vcf", "text/vcard": ".vcf", "text/rtf": ".rtf",
    "text/enriched": ".txt", "text/rfc822-headers": ".txt", "message/rfc822": ".eml",
    "message/delivery-status": ".txt", "message/disposition-notification": ".txt",
    "application/pdf": ".pdf", "application/zip": ".zip", "application/gzip": ".gz",
    "application/json": ".json", "application/xml": ".xml", "application/rtf": ".rtf",
    "application/msword": ".doc", "application/vnd.ms-excel": ".xls",
    "application/vnd.ms-powerpoint": ".ppt", "application/ms-tnef": ".dat",
    "application/vnd.ms-tnef": ".dat", "application/pgp-signature": ".asc",
    "application/pgp-encrypted": ".asc", "application/pgp-keys": ".asc",
    "application/pkcs7-signature": ".p7s", "application/x-pkcs7-signature": ".p7s",
    "application/pkcs7-mime": ".p7m", "application/x-pkcs7-mime": ".p7m",
    "application/ics": ".ics",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": ".pptx",
    "image/png": ".png", "image/jpeg": ".jpg", "image/jpg": ".jpg", "image/pjpeg": ".jpg",
    "image/gif": ".gif", "image/bmp": ".bmp", "image/webp": ".webp", "image/tiff": ".tif",
    "image/svg+xml": ".svg", "image/heic": ".heic", "audio/mpeg": ".mp3", "audio/wav": ".wav",
    "video/mp4": ".mp4",
}
_BY_EXTENSION = {ext: ctype for ctype, ext in EXTENSIONS.items() if not ctype.startswith(
    ("text/enriched", "text/rfc822", "message/d", "image/jpg", "image/pj", "application/x-",
     "application/ics", "application/pgp-e", "application/pgp-k", "application/ms-tnef"))}
_BY_EXTENSION.update({".jpeg": "image/jpeg", ".htm": "text/html", ".tiff": "image/tiff",
                      ".txt": "text/plain", ".eml": "message/rfc822", ".msg":
                      "application/vnd.ms-outlook", ".7z": "application/x-7z-compressed"})
CALENDAR_TYPES = {"text/calendar", "application/ics"}
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
_UNSAFE = re.compile(r"[\x00-\x1f\x7f]+")
_FILENAME_SPECIALS = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]+')
MAX_NAME = 255


def type_for_name(filename: str) -> str:
    """Content type for a file name's extension (application/octet-stream)."""
    dot = filename.rfind(".")
    return _BY_EXTENSION.get(filename[dot:].lower(), "application/octet-stream") if dot >= 0 \
        else "application/octet-stream"


def safe_name(name: str) -> str:
    """Last path component, no control characters, at most 255 characters."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE.sub("", name).strip()
    if name in (".", ".."):
        return ""
    if len(name) > MAX_NAME:
        dot = name.rfind(".")
        ext = name[dot:] if dot > 0 and len(name) - dot <= 16 else ""
        name = name[:MAX_NAME - len(ext)] + ext
    return name


def given_name(entity: Entity, hint: str | None, budget: Budget) -> str:
    """The filename the sender gave (decoded), or ''."""
    for source, what in ((entity.dparams, "Content-Disposition"), (entity.params, "Content-Type")):
        key = "filename" if source is entity.dparams else "name"
        if source.get(key):
            raw = entity.header(what.lower())
            if raw is not None and not raw.isascii():  # re-parse with the charset hint
                _, source = params.parse(headers.latin1(raw), hint=hint, note=budget.problem,
                                         what=f"{what} filename")
            return safe_name(source.get(key, ""))
    return ""


def content_id(entity: Entity) -> str | None:
    raw = entity.header("content-id")
    if raw is None:
        return None
    value = headers.latin1(raw).strip()
    if value.startswith("<"):
        value = value[1:].split(">", 1)[0]
    value = "".join(value.split())
    return value or None


def message_subject(data: bytes, hint: str | None) -> str:
    """Subject of an attached message (for naming it), '' if none."""
    head = data[:256 * 1024].replace(b"\r\n", b"\n")
    fields, _ = headers.read_block(head, 0, len(head), Budget(ParseLimits()), root=True)
    raw = headers.first(fields, "subject")
    if raw is None:
        return ""
    subject = headers.display(raw, hint=hint)
    return " ".join(_FILENAME_SPECIALS.sub(" ", subject).split())[:100].strip(" .")


def make(entity: Entity, data: bytes, filename: str, index: int, *,
         hint: str | None) -> ParsedAttachment:
    """Build the attachment for `entity` with decoded `data`."""
    ctype = entity.ctype
    if not filename and ctype in ("message/rfc822", "message/global"):
        subject = message_subject(data, hint)
        filename = safe_name(subject + ".eml") if subject else ""
    if not filename and ctype in CALENDAR_TYPES:
        filename = "invite.ics"
    if not filename and ctype in TNEF_TYPES:
        filename = "winmail.dat"
    if not filename:
        filename = f"attachment-{index}{EXTENSIONS.get(ctype, '.bin')}"
    return ParsedAttachment(
        filename=filename,
        content_type=ctype,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        inline=entity.disposition == "inline",
        content_id=content_id(entity),
        data=data,
    )


def from_bytes(filename: str, data: bytes, index: int) -> ParsedAttachment:
    """An attachment that did not come from a MIME part (e.g. out of TNEF)."""
    filename = safe_name(filename) or f"attachment-{index}.bin"
    return ParsedAttachment(filename=filename, content_type=type_for_name(filename),
                            size=len(data), sha256=hashlib.sha256(data).hexdigest(),
                            inline=False, content_id=None, data=data)
