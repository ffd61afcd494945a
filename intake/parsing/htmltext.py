"""HTML to plain text, for bodies that have no text/plain part.

An nh3 cleaner does the hard part (a real HTML5 parse; script, style and
head dropped; output well-formed and serialised), then regular expressions
turn block elements into line breaks, list items into "- ", images into
their [alt] text and links into "text <url>".
"""
from __future__ import annotations

import html as html_lib
import re

import nh3

from .html import CLEAN_CONTENT, as_text_html, too_complex

_BLOCK = {"p", "div", "table", "tr", "ul", "ol", "dl", "h1", "h2", "h3", "h4", "h5", "h6",
          "blockquote", "pre", "address", "section", "article", "header", "footer", "hr",
          "center", "dt", "dd", "figure", "figcaption", "caption", "details", "summary", "nav",
          "aside", "tbody", "thead", "tfoot"}
_PARAGRAPH = {"p", "blockquote", "table", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "pre"}
# A cleaner that keeps only what the text conversion looks at.
_TEXT_CLEANER = nh3.Cleaner(
    tags=_BLOCK | {"br", "li", "a", "img", "td", "th"},
    clean_content_tags=CLEAN_CONTENT | {"head"},
    attributes={"a": {"href"}, "img": {"alt"}},
    strip_comments=True,
    link_rel=None,
    url_schemes={"http", "https"},
)
_PRE = re.compile(r"(<pre\b[^>]*>.*?</pre>)", re.S)
_ANCHOR = re.compile(r"<a\b([^>]*)>(.*?)</a>", re.S)
_HREF = re.compile(r'href="(https?:[^"]*)"', re.I)
_ALT = re.compile(r'alt="([^"]*)"')
_SPACES = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_WHITESPACE = re.compile(r"\s+")
_OPEN, _CLOSE = "\ue000", "\ue001"  # stand-ins for the <> around URLs until tags are gone


def _tags(names: set[str]) -> str:
    return "|".join(sorted(names, key=len, reverse=True))


# Tag rewriting, in this order, each one pass over the text.
_REWRITES = [
    (re.compile(r"<br\b[^>]*>"), "\n"),
    (re.compile(r"<li\b[^>]*>"), "\n- "),
    (re.compile(r"</?t[dh]\b[^>]*>"), " "),
    (re.compile(rf"</?(?:{_tags(_PARAGRAPH)})\b[^>]*>"), "\n\n"),
    (re.compile(rf"</?(?:{_tags(_BLOCK - _PARAGRAPH)})\b[^>]*>"), "\n"),
]
_IMG = re.compile(r"<img\b([^>]*)>")
_ANY_TAG = re.compile(r"<[^>]*>")


def html_to_text(html: str) -> str:
    """Readable plain text of an HTML document (links as 'text <url>')."""
    if not html:
        return ""
    html = html.replace("\x00", "")
    if too_complex(html):
        return text_of_clean_html(as_text_html(html))
    return text_of_clean_html(_TEXT_CLEANER.clean(html))


def text_of_clean_html(clean: str) -> str:
    """html_to_text for HTML already put through an nh3 cleaner.

    Such HTML is well-formed and serialised (lowercase names, quoted
    attributes, '<' escaped in text), so regular expressions can read it.
    """
    parts = _PRE.split(clean)
    for i in range(0, len(parts), 2):
        parts[i] = _WHITESPACE.sub(" ", parts[i])
    for i in range(1, len(parts), 2):
        parts[i] = parts[i].replace("\n", "<br>")
    text = _tags_to_text(_ANCHOR.sub(_anchor, "".join(parts)))
    text = _unescape(text).replace("\xa0", " ").replace(_OPEN, "<").replace(_CLOSE, ">")
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANK_LINES.sub("\n\n", text).strip()


def _tags_to_text(text: str) -> str:
    for pattern, replacement in _REWRITES:
        text = pattern.sub(replacement, text)
    text = _IMG.sub(_img, text)
    return _ANY_TAG.sub("", text)


def _img(match: re.Match) -> str:
    alt = _ALT.search(match.group(1))
    return f"[{alt.group(1).strip()}]" if alt and alt.group(1).strip() else ""


def _anchor(match: re.Match) -> str:
    inner = _tags_to_text(match.group(2))
    href = _HREF.search(match.group(1))
    if not href:
        return inner
    url = _unescape(href.group(1))
    label = _unescape(inner).strip()
    if not label:
        return f"{_OPEN}{url}{_CLOSE}"  # an image-only link
    return inner if url in label else f"{inner} {_OPEN}{url}{_CLOSE}"


def _unescape(text: str) -> str:
    if "&" in text:
        return html_lib.unescape(text)
    return text
