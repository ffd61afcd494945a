"""RFC 2047 encoded words (=?charset?B|Q?text?=), decoded leniently.

Deliberately more forgiving than the RFC, because real mail is:
encoded words are recognised anywhere (also inside quoted strings and glued
to other text), whitespace between adjacent encoded words is dropped, and
adjacent words in the same charset are joined *before* decoding so a
multi-byte character split across two words survives.  The bytes are then
decoded by charsets.decode, which copes with wrong charset labels.
"""
from __future__ import annotations

import binascii
import re

from . import charsets
from .charsets import Note
from .transfer import b64decode

_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?]*)\?=")


def _word_bytes(encoding: str, text: str, note: Note | None, what: str) -> bytes:
    raw = text.encode("utf-8", "replace")
    if encoding in "bB":
        data, problem = b64decode(raw)
        if problem and note:
            note(f"{what}: encoded word has {problem}")
        return data
    return binascii.a2b_qp(raw, header=True)


def decode_words(text: str, *, note: Note | None = None, what: str = "header") -> str:
    """Replace every encoded word in `text` by its decoded text."""
    if "=?" not in text:
        return text
    out: list[str] = []
    pending: bytearray | None = None  # bytes of a run of same-charset words
    pending_charset = ""
    pos = 0
    gap_after_word = False
    for match in _WORD.finditer(text):
        gap = text[pos:match.start()]
        charset = match.group(1)
        joinable = pending is not None and (gap == "" or gap.isspace())
        if joinable and charset.lower() == pending_charset.lower():
            pending += _word_bytes(match.group(2), match.group(3), note, what)
        else:
            if pending is not None:
                out.append(charsets.decode(bytes(pending), pending_charset, note=note, what=what))
            if not (gap_after_word and (gap == "" or gap.isspace())):
                out.append(gap)
            pending = bytearray(_word_bytes(match.group(2), match.group(3), note, what))
            pending_charset = charset
        gap_after_word = True
        pos = match.end()
    if pending is None:
        return text
    out.append(charsets.decode(bytes(pending), pending_charset, note=note, what=what))
    out.append(text[pos:])
    return "".join(out)
