"""Turning bytes of a declared (often wrongly declared) charset into text.

Order of attempts, for any bytes:

1. pure ASCII is ASCII (unless the declared charset is a 7-bit one such as
   UTF-7 or ISO-2022-JP, which look like ASCII);
2. the declared charset's usual superset (gb2312 -> gb18030, iso-8859-1 ->
   cp1252, shift_jis -> cp932, ks_c_5601 -> cp949, ...), then the declared
   charset itself, strictly.  For single-byte charsets, which accept any
   byte, valid UTF-8 is preferred first: it is almost never an accident, and
   mislabelled UTF-8 is the commonest defect of real mail;
3. strict UTF-8, then the caller's hint (e.g. the charset of the body when a
   header has raw 8-bit bytes), strictly;
4. charset detection (detection.py, charset-normalizer based);
5. cp1252 with replacement characters.  Nothing here raises.

NUL characters are removed from every result (they are never meaningful in
mail text and break databases); lone surrogates (UTF-7 can make them) become
U+FFFD.
"""
from __future__ import annotations

import codecs
import re
from collections.abc import Callable

from . import detection

Note = Callable[[str], None]

# Labels Python does not know, or knows under a narrower meaning.
_ALIASES = {
    "x-gbk": "gb18030", "gb_2312-80": "gb18030", "gb_2312": "gb18030", "chinese": "gb18030",
    "x-sjis": "cp932", "windows-31j": "cp932", "ms_kanji": "cp932", "x-ms-cp932": "cp932",
    "x-euc-jp": "euc_jp", "windows-874": "cp874", "x-windows-874": "cp874",
    "iso-8859-8-i": "iso8859-8", "iso-8859-8-e": "iso8859-8", "iso-8859-6-i": "iso8859-6",
    "x-mac-roman": "mac-roman", "cp-850": "cp850", "latin-9": "iso8859-15",
    "x-cp1250": "cp1250", "x-cp1251": "cp1251", "x-cp1252": "cp1252", "ansi": "cp1252",
    "x-user-defined": None, "x-unknown": None, "unknown-8bit": None, "unknown": None,
    "default": None, "8bit": None, "none": None, "charset": None, "us-ascii'": "ascii",
}
# Codecs that decode any bytes as text but are not mail charsets.
_REFUSED = {"unicode-escape", "raw-unicode-escape", "idna", "punycode", "undefined",
            "mbcs", "oem", "utf-8-sig"}
# Declared (canonical Python name) -> charsets to try first, in order.
_SUPERSETS = {
    "gb2312": ("gb18030",), "gbk": ("gb18030",), "hz": ("hz", "gb18030"),
    "ascii": ("cp1252",), "iso8859-1": ("cp1252",), "iso8859-9": ("cp1254",),
    "iso8859-11": ("cp874",), "tis-620": ("cp874",),
    "shift_jis": ("cp932", "shift_jis_2004"), "euc_jp": ("euc_jp", "euc_jis_2004"),
    "euc_kr": ("cp949",), "big5": ("big5hkscs", "cp950"), "cp950": ("big5hkscs",),
    "iso2022_jp": ("iso2022_jp", "iso2022_jp_2", "iso2022_jp_ext", "iso2022_jp_3"),
    "iso2022_kr": ("iso2022_kr", "cp949"), "ks_c_5601": ("cp949",),
}
# Charsets in which a valid UTF-8 byte string is a plausible genuine text.
_MULTIBYTE = {
    "gb18030", "gb2312", "gbk", "hz", "big5", "big5hkscs", "cp950", "cp932", "shift_jis",
    "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004", "euc_jisx0213",
    "euc_kr", "cp949", "johab", "utf-16", "utf-16-le", "utf-16-be", "utf-32",
    "utf-32-le", "utf-32-be", "utf-7", "utf-8",
}
_SEVEN_BIT = ("utf-7", "iso2022", "hz")
_SURROGATE = re.compile("[\ud800-\udfff]")
_ASCII = bytes(range(128))

def canonical(label: str | None) -> str | None:
    """Python codec name for a MIME charset label; None if unknown or absent."""
    if not label:
        return None
    label = label.strip().strip("\"'").strip().lower()
    if "*" in label:  # RFC 2231 language suffix: utf-8*en
        label = label.split("*", 1)[0]
    if label in _ALIASES:
        return _ALIASES[label]
    try:
        name = codecs.lookup(label).name
    except (LookupError, ValueError, TypeError):
        return None
    if name in _REFUSED:
        return None
    return name


def _strict(data: bytes, charset: str) -> str | None:
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError, ValueError, TypeError):
        return None


def _mostly(data: bytes, charset: str) -> str | None:
    """`data` in `charset` with replacements, if at most 10% of its 8-bit bytes are bad."""
    try:
        text = data.decode(charset, "replace")
    except (LookupError, ValueError, TypeError):
        return None
    bad = text.count("\ufffd")
    high = len(data.translate(None, _ASCII))
    return text if bad * 10 <= high else None


def scrub(text: str, note: Note | None = None, what: str = "text") -> str:
    """Remove NULs and lone surrogates from decoded text."""
    if "\x00" in text:
        text = text.replace("\x00", "")
        if note:
            note(f"{what}: NUL characters removed")
    if _SURROGATE.search(text):
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return text


def decode(data: bytes, declared: str | None = None, *, note: Note | None = None,
           what: str = "text", hint: str | None = None) -> str:
    """Decode `data` as text, as well as the bytes allow. Never raises."""
    label = (declared or "").strip().strip("\"'").strip()
    name = canonical(label)
    if label and name is None and label.lower() not in _ALIASES and note:
        note(f"{what}: unknown charset {label!r}")
    seven_bit = name is not None and name.startswith(_SEVEN_BIT)
    if not seven_bit and data.isascii():
        return scrub(data.decode("ascii"), note, what)

    candidates: list[str] = []
    if name:
        if name not in _MULTIBYTE and not seven_bit:
            candidates.append("utf-8")  # valid UTF-8 beats any single-byte label
        candidates.extend(_SUPERSETS.get(name, ()))
        candidates.append(name)
    for charset in candidates:
        text = _strict(data, charset)
        if text is not None:
            if name and charset == "utf-8" and name != "utf-8" and note:
                note(f"{what}: declared charset {label!r} but content is UTF-8")
            return scrub(text, note, what)

    if name and candidates:
        text = _mostly(data, (_SUPERSETS.get(name) or (name,))[0])
        if text is not None:
            if note:
                note(f"{what}: invalid bytes for charset {label!r} replaced")
            return scrub(text, note, what)

    fallbacks = ["utf-8"]
    hinted = canonical(hint)
    if hinted:
        fallbacks.extend(_SUPERSETS.get(hinted, ()))
        fallbacks.append(hinted)
    for charset in fallbacks:
        if charset in candidates:
            continue
        text = _strict(data, charset)
        if text is not None:
            if name and note:
                note(f"{what}: content is not valid {label!r}; decoded as {charset}")
            elif charset != "utf-8" and note:
                note(f"{what}: undeclared 8-bit text decoded as {charset}")
            return scrub(text, note, what)

    guess = detection.detect(data)  # None also when the message's detections ran out
    how = "detected" if guess else "fallback"
    guess = guess or "cp1252"
    if note:
        if name:
            note(f"{what}: content is not valid {label!r}; decoded as {guess} ({how})")
        else:
            note(f"{what}: undeclared 8-bit text decoded as {guess} ({how})")
    try:
        text = data.decode(guess, "replace")
    except (LookupError, ValueError, TypeError):
        text = data.decode("cp1252", "replace")
    return scrub(text, note, what)
