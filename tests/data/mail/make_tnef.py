"""Writes a small TNEF (winmail.dat) blob for the golden case 024-tnef.eml.

tnefparse can only read TNEF, so this minimal writer (MS-OXTNEF: signature,
key, then level/id/type/length/data/checksum attributes) made the blob that
is base64-encoded inside 024-tnef.eml.  Kept for provenance; run
`python tests/data/mail/make_tnef.py` to print the base64 again.
"""
from __future__ import annotations

import base64
import struct

SIGNATURE = 0x223E9F78
LVL_MESSAGE, LVL_ATTACHMENT = 1, 2


def attribute(level: int, ident: int, kind: int, data: bytes) -> bytes:
    checksum = sum(data) & 0xFFFF
    return struct.pack("<BHHI", level, ident, kind, len(data)) + data + struct.pack("<H", checksum)


def long_filename(name: str) -> bytes:
    """MAPI property block holding PR_ATTACH_LONG_FILENAME (unicode)."""
    text = name.encode("utf-16-le") + b"\x00\x00"
    text += b"\x00" * (-len(text) % 4)
    return struct.pack("<IHHII", 1, 0x001F, 0x3707, 1, len(name) * 2 + 2) + text


def build(files: list[tuple[str, str, bytes]], body: str) -> bytes:
    out = struct.pack("<IH", SIGNATURE, 0x4D2E)
    out += attribute(LVL_MESSAGE, 0x9006, 0x0008, struct.pack("<I", 0x10000))
    out += attribute(LVL_MESSAGE, 0x9007, 0x0006, struct.pack("<II", 1252, 0))
    out += attribute(LVL_MESSAGE, 0x8008, 0x0007, b"IPM.Microsoft Mail.Note\x00")
    out += attribute(LVL_MESSAGE, 0x800C, 0x0002, body.encode("cp1252"))
    for short, long, data in files:
        out += attribute(LVL_ATTACHMENT, 0x9002, 0x0006, b"\x01\x00\xff\xff\xff\xff" + b"\x00" * 8)
        out += attribute(LVL_ATTACHMENT, 0x8010, 0x0001, short.encode("cp1252") + b"\x00")
        out += attribute(LVL_ATTACHMENT, 0x800F, 0x0006, data)
        out += attribute(LVL_ATTACHMENT, 0x9005, 0x0006, long_filename(long))
    return out


BLOB = build(
    [("REPORT~1.TXT", "Quarterly report.txt", b"Revenue: up\r\nCosts: down\r\n"),
     ("DIAGRA~1.CSV", "Diagram data \u00e9t\u00e9.csv", b"x,y\r\n1,2\r\n3,4\r\n")],
    "Please see the attached files.",
)

if __name__ == "__main__":
    print(base64.encodebytes(BLOB).decode("ascii"), end="")
