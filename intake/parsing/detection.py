"""Guessing the charset of undeclared or wrongly declared 8-bit text.

The guess is charset-normalizer's, restricted to the charsets mail is
actually written in, with corrections learnt from real mail:

* isolated 8-bit bytes cannot be CJK text ('M\\xfcller' is not Big5);
* long runs of 8-bit bytes read as a Latin charset are CJK if a CJK
  reading exists;
* among Latin readings without language evidence, cp1252 wins (it is what
  undeclared Western mail is written in; '\\xa3' is '£', not 'Ł');
* a tie such as cp1251 / koi8-r (the same letters, case swapped) goes to
  the reading with fewer capitals inside words;
* data with a broken or binary tail is judged on its longest decodable
  prefix.
"""
from __future__ import annotations

import re
from contextvars import ContextVar

from .limits import MAX_DETECTIONS

# Detections left for the message being parsed (set by parse_message).
remaining: ContextVar[int] = ContextVar("remaining_detections", default=MAX_DETECTIONS)

_DETECT_BYTES = 16 * 1024
_HIGH_RUNS = re.compile(rb"[\x80-\xff]+")
# What detection may answer: the charsets mail is actually written in.
_DETECTABLE = [
    "utf_8", "cp1252", "cp1250", "cp1251", "cp1253", "cp1254", "cp1255", "cp1256",
    "cp1257", "cp1258", "iso8859_2", "iso8859_5", "iso8859_7", "iso8859_15", "koi8_r",
    "koi8_u", "cp866", "mac_roman", "cp874", "gb18030", "big5hkscs", "big5", "cp932",
    "shift_jis", "euc_jp", "iso2022_jp", "cp949", "euc_kr",
]
_CJK = {"gb18030", "big5hkscs", "big5", "cp932", "shift_jis", "euc_jp", "iso2022_jp",
        "cp949", "euc_kr"}
_LATIN = {"cp1250", "cp1252", "cp1254", "cp1257", "cp1258", "iso8859-2", "iso8859-15",
          "mac-roman"}
_NO_EVIDENCE = {"Unknown", "English", ""}
_PREFIX_PROBES = ("gb18030", "cp949", "big5hkscs", "cp932", "euc_jp", "cp1252")


def _canonical(label: str) -> str | None:
    from .charsets import canonical  # charsets imports this module

    return canonical(label)


def _strict(data: bytes, charset: str) -> bool:
    try:
        data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        return False
    return True


def detect(data: bytes) -> str | None:
    """Best guess for the charset of `data` (a codec name), or None.

    Never raises; see the module docstring for how the guess is made.
    """
    left = remaining.get()
    if left <= 0:
        return None
    remaining.set(left - 1)
    sample = data[:_DETECT_BYTES]
    if len(data) > _DETECT_BYTES and b"\n" in sample:
        sample = sample[:sample.rfind(b"\n")]
    found = _candidates(sample)
    if not found:
        found = _candidates(_decodable_prefix(sample))
    if not found:
        return None
    runs = _HIGH_RUNS.findall(sample)
    average_run = sum(map(len, runs)) / len(runs) if runs else 0
    top, same_output, _ = found[0]
    any_cp1252 = any("cp1252" in same for _, same, _ in found)
    if average_run < 2 and top in _CJK:
        # isolated 8-bit bytes cannot be CJK text: 'M\xfcller' is not Big5
        for name, _, language in found:
            if name not in _CJK:
                return "cp1252" if any_cp1252 and language in _NO_EVIDENCE else name
        return "cp1252" if _strict(sample, "cp1252") else top
    if average_run >= 3 and top in _LATIN:
        for name, _, _ in found:
            if name in _CJK:
                return name
    if "cp1252" in same_output or (top in _LATIN and any_cp1252):
        return "cp1252"  # among Latin readings, the one mail is written in
    return top


def _candidates(sample: bytes) -> list[tuple[str, set[str], str]]:
    """(codec, codecs giving the same text, language) for each match, best first."""
    if not sample:
        return []
    try:
        from charset_normalizer import from_bytes

        matches = list(from_bytes(sample, cp_isolation=_DETECTABLE))
        found = []
        for match in matches:
            name = _canonical(match.encoding)
            if name:
                same = {_canonical(alias) for alias in match.could_be_from_charset}
                found.append((name, {n for n in same if n} | {name}, match))
        if len(found) > 1 and abs(found[0][2].chaos - found[1][2].chaos) < 0.01:
            # A tie such as cp1251 vs koi8-r (the same letters with the case
            # swapped): real text has few capitals inside words.
            found[:2] = sorted(found[:2], key=lambda item: _inner_capitals(str(item[2])))
        if found and found[0][0] in _LATIN and (found[0][2].language or "") in _NO_EVIDENCE:
            # no language evidence for the Central-European reading: take cp1252
            if _strict(sample, "cp1252"):
                found.insert(0, ("cp1252", {"cp1252"}, found[0][2]))
        return [(name, same, match.language or "Unknown") for name, same, match in found]
    except Exception:  # detection is advisory; any failure means "no idea"
        return []


def _inner_capitals(text: str) -> float:
    letters = inner = 0
    previous_alpha = False
    for ch in text[:4000]:
        alpha = ch.isalpha()
        if alpha:
            letters += 1
            if previous_alpha and ch.isupper():
                inner += 1
        previous_alpha = alpha
    return inner / letters if letters else 0.0


def _decodable_prefix(sample: bytes) -> bytes:
    longest = 0
    for charset in _PREFIX_PROBES:
        try:
            sample.decode(charset)
            return sample
        except UnicodeDecodeError as exc:
            longest = max(longest, exc.start)
    prefix = sample[:longest]
    return prefix[:prefix.rfind(b"\n")] if b"\n" in prefix else prefix
