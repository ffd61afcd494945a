"""Resource limits for parsing untrusted mail, and the per-parse bookkeeping.

Every limit is a named field of :class:`ParseLimits` with a documented
default.  When a limit is hit the parser stops doing the expensive thing,
records a human-readable problem and sets ``limit_exceeded``; it never
raises.
"""
from __future__ import annotations

from dataclasses import dataclass

#: Largest message (in bytes) that is parsed at all; bytes past it are ignored.
MAX_SIZE = 50 * 1024 * 1024
#: Most MIME entities (root, containers and leaves) that are looked at.
MAX_PARTS = 1000
#: Deepest multipart nesting that is descended into (the root is depth 0).
MAX_DEPTH = 20
#: Largest header block (of the message or of any one part), in bytes.
MAX_HEADER_BYTES = 1024 * 1024
#: Most bytes produced by decoding payloads (base64, quoted-printable, TNEF
#: unpacking) over the whole message: the decompression-bomb guard.
MAX_DECODED_BYTES = 100 * 1024 * 1024
#: Most problems kept on one message; further ones are counted, not listed.
MAX_PROBLEMS = 50
#: Most charset detections (charset-normalizer runs, a few ms each) per
#: message; past it undeclared 8-bit text is read as cp1252.  Guards against
#: messages made of many small parts of undeclared text.
MAX_DETECTIONS = 25
#: Deepest HTML element nesting handed to the HTML parser, and the most
#: "tags x depth" work allowed: html5ever's cost grows with both (100,000
#: nested <div> take minutes), so HTML beyond either is shown as text only.
MAX_HTML_DEPTH = 200
MAX_HTML_WORK = 50_000_000
#: Nesting depth never descended past, whatever max_depth says: keeps the
#: recursive body walk far from Python's recursion limit.
HARD_MAX_DEPTH = 200


@dataclass(frozen=True)
class ParseLimits:
    """Upper bounds applied to every parsed message (see module constants)."""

    max_size: int = MAX_SIZE
    max_parts: int = MAX_PARTS
    max_depth: int = MAX_DEPTH
    max_header_bytes: int = MAX_HEADER_BYTES
    max_decoded_bytes: int = MAX_DECODED_BYTES


DEFAULT_LIMITS = ParseLimits()


class Budget:
    """Mutable state of one parse: limits consumed and problems recorded."""

    __slots__ = ("limits", "parts", "decoded", "problems", "dropped", "limit_exceeded", "_seen")

    def __init__(self, limits: ParseLimits) -> None:
        self.limits = limits
        self.parts = 0
        self.decoded = 0
        self.problems: list[str] = []
        self.dropped = 0
        self.limit_exceeded = False
        self._seen: set[str] = set()

    def problem(self, text: str) -> None:
        """Record a defect once; past MAX_PROBLEMS only count it."""
        if text in self._seen:
            return
        self._seen.add(text)
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(text)
        else:
            self.dropped += 1

    def exceeded(self, text: str) -> None:
        """Record that a limit was hit."""
        self.limit_exceeded = True
        self.problem("limit exceeded: " + text)

    def take_part(self) -> bool:
        """Count one more MIME entity; False once max_parts is reached."""
        if self.parts >= self.limits.max_parts:
            self.exceeded(f"more than {self.limits.max_parts} MIME parts; the rest were not read")
            return False
        self.parts += 1
        return True

    def take_decoded(self, size: int, what: str) -> bool:
        """Account for `size` decoded bytes; False (and nothing taken) if over budget."""
        if self.decoded + size > self.limits.max_decoded_bytes:
            self.exceeded(
                f"decoded content over {self.limits.max_decoded_bytes} bytes; {what} was skipped"
            )
            return False
        self.decoded += size
        return True

    def final_problems(self) -> list[str]:
        out = list(self.problems)
        if self.dropped:
            out.append(f"{self.dropped} further problems not listed")
        return out
