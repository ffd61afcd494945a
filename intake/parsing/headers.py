"""Header blocks: finding them, splitting them into fields, unfolding and
decoding field values (raw 8-bit bytes and RFC 2047 encoded words).

Works on a buffer whose line endings were already normalised to LF.
A field value is kept as raw bytes until the caller decodes it, because the
charset hint for raw 8-bit header bytes (the body's charset) is only known
once the MIME tree has been read.
"""
from __future__ import annotations

import re

from . import charsets
from .charsets import Note
from .limits import Budget
from .rfc2047 import decode_words

RawField = tuple[str, bytes]

# A field name: printable ASCII except colon (RFC 5322 section 2.2); a space
# before the colon is tolerated ("Subject : hi" exists in old mail).
_FIELD = re.compile(rb"([!-9;-~]+)[ \t]*:")
# One field with its continuation lines; the value keeps its inner line breaks.
_FIELD_LINES = re.compile(rb"([!-9;-~]+)[ \t]*:([^\n]*(?:\n[ \t][^\n]*)*)\n?")
_CONTROL = re.compile(r"[\t\r\n\v\f]")


def read_block(buf: bytes, start: int, end: int, budget: Budget, *,
               root: bool = False, what: str = "message") -> tuple[list[RawField], int]:
    """Split the header block at buf[start:end] into fields.

    Returns the fields (name, raw folded value) and the offset where the body
    starts.  A line that is not a header field ends the block early (the
    empty separator line is missing): it is recorded as a problem and that
    line becomes the first line of the body.
    """
    if root and buf.startswith(b"\n", start):
        first = start
        while first < end and buf[first] == 0x0A:
            first += 1
        if _FIELD.match(buf, first, min(end, first + 200)):  # stray empty lines, then headers
            start = first
            budget.problem("empty lines before the header block")
    if root and buf.startswith(b"From ", start):  # mbox envelope line
        nl = buf.find(b"\n", start, end)
        start = end if nl < 0 else nl + 1
    if start >= end:
        return [], end
    if buf[start] == 0x0A:  # empty header block
        return [], start + 1
    sep = buf.find(b"\n\n", start, end)
    block_end = end if sep < 0 else sep + 1
    body_start = end if sep < 0 else sep + 2
    limit = budget.limits.max_header_bytes
    if block_end - start > limit:
        budget.exceeded(f"{what} header block over {limit} bytes; the rest of it was ignored")
        cut = buf.rfind(b"\n", start, start + limit)
        block_end = start if cut < 0 else cut + 1
    fields: list[RawField] = []
    pos = start
    while pos < block_end:
        match = _FIELD_LINES.match(buf, pos, block_end)
        if match is not None:
            fields.append((match.group(1).decode("ascii"), match.group(2)))
            pos = match.end()
            continue
        nl = buf.find(b"\n", pos, block_end)
        line_end = block_end if nl < 0 else nl + 1
        if buf[pos] in (0x20, 0x09):
            budget.problem(f"{what} header block starts with a continuation line")
        elif buf.startswith(b">From ", pos) or (
                root and not fields and buf.startswith(b"From ", pos)):
            pass  # mbox escapes
        else:
            budget.problem(f"{what} header block not ended by an empty line")
            return fields, pos
        pos = line_end
    return fields, body_start


def unfold(value: bytes) -> bytes:
    """RFC 5322 unfolding: drop the line breaks, keep the whitespace."""
    if b"\n" in value:
        value = value.replace(b"\n", b"")
    return value.strip()


def to_text(value: bytes, *, hint: str | None = None, note: Note | None = None,
            what: str = "header") -> str:
    """Unfolded field value as text, raw 8-bit bytes decoded; no RFC 2047."""
    value = unfold(value)
    if value.isascii():
        text = value.decode("ascii")
        if "\x00" in text:
            text = charsets.scrub(text, note, what)
        return text
    return charsets.decode(value, None, note=note, what=what, hint=hint)


def latin1(value: bytes) -> str:
    """Unfolded value as a lossless latin-1 string, for structural parsing."""
    return unfold(value).decode("latin-1")


def display(value: bytes, *, hint: str | None = None, note: Note | None = None,
            what: str = "header") -> str:
    """Fully decoded, single-line value for showing to people."""
    if b"\n" in value:
        value = value.replace(b"\n", b"")
    if value.isascii() and b"=?" not in value and b"\x00" not in value:
        if b"\t" in value:
            value = value.replace(b"\t", b" ")
        if b"\r" in value or b"\v" in value or b"\f" in value:
            return _CONTROL.sub(" ", value.decode("ascii")).strip()
        return value.strip().decode("ascii")
    text = decode_words(to_text(value, hint=hint, note=note, what=what), note=note, what=what)
    if _CONTROL.search(text):
        text = _CONTROL.sub(" ", text)
    return text.strip()


def index(fields: list[RawField]) -> dict[str, list[bytes]]:
    """Field values by lowercased name, each list in message order."""
    result: dict[str, list[bytes]] = {}
    for key, value in fields:
        result.setdefault(key.lower(), []).append(value)
    return result


def find(fields: list[RawField], name: str) -> list[bytes]:
    """Raw values of every field called `name` (case-insensitive)."""
    wanted = name.lower()
    return [value for key, value in fields if key.lower() == wanted]


def first(fields: list[RawField], name: str) -> bytes | None:
    wanted = name.lower()
    for key, value in fields:
        if key.lower() == wanted:
            return value
    return None


def read_quoted(text: str, pos: int) -> tuple[str, int]:
    """An RFC 5322 quoted string starting at text[pos] == '"': (unescaped content, end). Unterminated: to the end."""
    out = []
    pos += 1
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and pos + 1 < len(text):
            out.append(text[pos + 1])
            pos += 2
            continue
        if ch == '"':
            return "".join(out), pos + 1
        out.append(ch)
        pos += 1
    return "".join(out), pos
