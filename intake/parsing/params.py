"""Structured header values with parameters: Content-Type and
Content-Disposition, including RFC 2231 continuations and charsets.

Values come in as latin-1 strings (a lossless view of the raw bytes) so
raw 8-bit parameter values can be decoded properly later (decode_8bit).
"""
from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from . import charsets
from .charsets import Note
from .headers import read_quoted
from .rfc2047 import decode_words

_TOKEN = r"[!#$%&'*+.^_`|~0-9A-Za-z-]+"
_MIME_TYPE = re.compile(rf"\s*({_TOKEN})\s*/\s*({_TOKEN})")
_SECTION = re.compile(r"^(.*?)\*(\d+)(\*?)$")


def split_params(text: str) -> tuple[str, list[tuple[str, str]]]:
    """'value; a=b; c="d;e"' -> ('value', [('a','b'), ('c','d;e')]), leniently."""
    n = len(text)
    semi = _find_unquoted(text, 0, ";")
    value = text[:semi].strip()
    pos = semi + 1
    params: list[tuple[str, str]] = []
    while pos < n:
        end = _find_unquoted(text, pos, ";=")
        name = text[pos:end].strip().lower()
        if end < n and text[end] == "=":
            pos = end + 1
            while pos < n and text[pos] in " \t":
                pos += 1
            if pos < n and text[pos] == '"':
                val, pos = read_quoted(text, pos)
                stop = _find_unquoted(text, pos, ";")  # skip junk after the quotes
                pos = stop
            else:
                stop = _find_unquoted(text, pos, ";")
                val = text[pos:stop].strip()
                pos = stop
        else:
            val = ""
            pos = end
        pos += 1
        if name:
            params.append((name, val))
    return value, params


def _find_unquoted(text: str, pos: int, chars: str) -> int:
    quoted = False
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch == '"':
            quoted = not quoted
        elif ch == "\\" and quoted:
            pos += 1
        elif not quoted and ch in chars:
            return pos
        pos += 1
    return n


def decode_8bit(value: str, hint: str | None, note: Note | None, what: str) -> str:
    """Re-decode a latin-1 view of raw bytes with charset detection."""
    if value.isascii():
        return value
    raw = value.encode("latin-1", "replace")
    return charsets.decode(raw, None, hint=hint, note=note, what=what)


def parse(text: str, *, hint: str | None = None, note: Note | None = None,
          what: str = "header") -> tuple[str, dict[str, str]]:
    """Value (lowercased) and parameters (names lowercased, values decoded).

    RFC 2231 forms (name*=, name*0=, name*0*=...) win over plain ones; plain
    'name' and 'filename' values are also RFC 2047-decoded (common, though
    not allowed by the RFC).
    """
    value, raw = split_params(text)
    plain: dict[str, str] = {}
    sections: dict[str, dict[int, tuple[str, bool]]] = {}
    for name, val in raw:
        match = _SECTION.match(name)
        if match:
            base, index, star = match.group(1), int(match.group(2)), bool(match.group(3))
            sections.setdefault(base, {}).setdefault(index, (val, star))
        elif name.endswith("*"):
            sections.setdefault(name[:-1], {}).setdefault(0, (val, True))
        else:
            plain.setdefault(name, val)
    result = {}
    for name, val in plain.items():
        if name in ("name", "filename"):
            val = decode_words(decode_8bit(val, hint, note, what), note=note, what=what)
        result[name] = val
    for base, parts in sections.items():
        decoded = _join_2231(parts, hint, note, what)
        if decoded is not None:
            result[base] = decoded
    return value.lower(), result


def _join_2231(parts: dict[int, tuple[str, bool]], hint: str | None, note: Note | None,
               what: str) -> str | None:
    charset = None
    data = bytearray()
    expected = 0
    for index in sorted(parts):
        if index != expected and note:
            note(f"{what}: RFC 2231 parameter sections out of sequence")
        expected = index + 1
        val, encoded = parts[index]
        if encoded:
            if index == sorted(parts)[0] and val.count("'") >= 2:
                charset, _lang, val = val.split("'", 2)
            data += unquote_to_bytes(val)
        else:
            data += val.encode("latin-1", "replace")
    if not charset:
        return decode_8bit(bytes(data).decode("latin-1"), hint, note, what)
    return charsets.decode(bytes(data), charset, note=note, what=what, hint=hint)


def mime_type(value: str, default: str = "text/plain") -> tuple[str, bool]:
    """Normalised 'type/subtype' and whether the value was valid."""
    match = _MIME_TYPE.match(value)
    if match:
        return f"{match.group(1).lower()}/{match.group(2).lower()}", True
    word = value.strip().lower()
    if word == "text":
        return "text/plain", False
    if word == "multipart":
        return "multipart/mixed", False
    return default, not word
